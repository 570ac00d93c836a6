"""Accelerometer chips on a fake I2C bus, for the tests on both runtimes: FakeI2C, a machine.I2C-like bus whose
devices hold a register map, and FakeMPU6050 / FakeLIS3DH, which behave like the chips (WHO_AM_I, reset, range,
output registers, auto-increment, FIFO with overflow, motion-wake interrupt). Written in the subset MicroPython
also runs (no zip(strict=), no f-strings with '=')."""

ENODEV = 19  # what machine.I2C raises (OSError) when no device acknowledges the address


class FakeI2C:
    """The machine.I2C memory interface over simulated chips, with a transaction count for the tests."""

    def __init__(self, *devices):
        self.devices = {}
        self.transactions = 0
        for d in devices:
            self.attach(d)

    def attach(self, device):
        self.devices[device.address] = device
        return device

    def scan(self):
        return sorted(self.devices)

    def _device(self, addr):
        self.transactions += 1
        dev = self.devices.get(addr)
        if dev is None:
            raise OSError(ENODEV)
        return dev

    def readfrom_mem(self, addr, reg, n):
        buf = bytearray(n)
        self._device(addr).read(reg, buf)
        return bytes(buf)

    def readfrom_mem_into(self, addr, reg, buf):
        self._device(addr).read(reg, buf)

    def writeto_mem(self, addr, reg, data):
        self._device(addr).write(reg, data)


def _clip16(v):
    return 32767 if v > 32767 else -32768 if v < -32768 else v


class FakeMPU6050:
    """MPU-6050 (WHO_AM_I 0x68) or MPU-6500 (who_am_i=0x70): accelerometer part of the register map.

    push(x_mg, y_mg, z_mg) is one sample period of the chip: output registers, FIFO (1024 bytes, oldest bytes
    overwritten when full, FIFO_OFLOW flagged) and the motion interrupt (|change| > MOT_THR * 2 mg for MOT_DUR
    samples, on any axis; the chip's high-pass is modelled as the change from the previous sample).
    """

    FIFO_SIZE = 1024

    def __init__(self, address=0x68, who_am_i=0x68):
        self.address = address
        self.who_am_i = who_am_i
        self.fifo = []
        self.int_pin = False
        self.reset()

    def reset(self):
        self.regs = bytearray(128)
        self.regs[0x6B] = 0x40  # PWR_MGMT_1: asleep after power-on/reset
        self.regs[0x75] = self.who_am_i
        self.fifo = []  # bytes as ints (MicroPython's bytearray cannot delete items)
        self.int_pin = False
        self._prev = None
        self._mot_count = 0
        self.resets = getattr(self, "resets", -1) + 1

    def _lsb_per_g(self):
        return 16384 >> ((self.regs[0x1C] >> 3) & 3)

    def push(self, x_mg, y_mg, z_mg):
        r = self.regs
        if r[0x6B] & 0x40 and not r[0x6B] & 0x20:
            return  # asleep (and not cycling): no conversion
        lsb = self._lsb_per_g()
        raw = (_clip16(x_mg * lsb // 1000), _clip16(y_mg * lsb // 1000), _clip16(z_mg * lsb // 1000))
        data = bytearray(6)
        for i in range(3):
            v = raw[i] & 0xFFFF
            data[2 * i] = v >> 8
            data[2 * i + 1] = v & 0xFF
        r[0x3B:0x41] = data
        if r[0x6A] & 0x40 and r[0x23] & 0x08:  # USER_CTRL.FIFO_EN and FIFO_EN.ACCEL
            self.fifo.extend(data)
            if len(self.fifo) > self.FIFO_SIZE:
                self.fifo = self.fifo[len(self.fifo) - self.FIFO_SIZE:]
                r[0x3A] |= 0x10  # FIFO_OFLOW_INT
        if r[0x38] & 0x40 and self._prev is not None:  # INT_ENABLE.MOT_EN
            thr = r[0x1F] * 2
            moved = False
            for i in range(3):
                if abs((x_mg, y_mg, z_mg)[i] - self._prev[i]) > thr:
                    moved = True
            self._mot_count = self._mot_count + 1 if moved else 0
            if moved and self._mot_count >= max(1, r[0x20]):
                r[0x3A] |= 0x40  # MOT_INT
                self.int_pin = True
        self._prev = (x_mg, y_mg, z_mg)

    def read(self, reg, buf):
        r = self.regs
        for i in range(len(buf)):
            if reg == 0x74:  # FIFO_R_W does not auto-increment: each byte pops the FIFO
                if self.fifo:
                    buf[i] = self.fifo.pop(0)
                else:
                    buf[i] = 0xFF
                continue
            a = reg + i
            if a == 0x72:
                buf[i] = (len(self.fifo) >> 8) & 0xFF
            elif a == 0x73:
                buf[i] = len(self.fifo) & 0xFF
            else:
                buf[i] = r[a & 0x7F]
            if a == 0x3A:  # INT_STATUS clears on read
                r[0x3A] = 0
                self.int_pin = False

    def write(self, reg, data):
        for i in range(len(data)):
            a = (reg + i) & 0x7F
            v = data[i]
            if a == 0x6B and v & 0x80:
                self.reset()
                continue
            if a == 0x6A and v & 0x04:  # FIFO_RESET self-clears
                self.fifo = []
                v &= ~0x04
            if a in (0x75, 0x3A, 0x72, 0x73):
                continue  # read-only
            self.regs[a] = v


class FakeLIS3DH:
    """LIS3DH (WHO_AM_I 0x33): high-resolution/normal/low-power output, +-2..16 g, FIFO of 32 samples (FIFO and
    stream modes, overrun flag), auto-increment only when the sub-address MSB is set (rolling back from OUT_Z_H to
    OUT_X_L while the FIFO is on), INT1 wake-up on high events with threshold, duration and latch. The interrupt
    high-pass (HP_IA1) is modelled by subtracting the sample at the time INT1_CFG was written.
    """

    FIFO_DEPTH = 32
    _THS_MG = (16, 32, 62, 186)
    _SENS_HR = (1, 2, 4, 12)  # mg/digit in 12-bit high-resolution mode

    def __init__(self, address=0x18):
        self.address = address
        self.reset()

    def reset(self):
        self.regs = bytearray(64)
        self.regs[0x0F] = 0x33
        self.regs[0x20] = 0x07
        self.fifo = []
        self.int1 = False
        self._ref = (0, 0, 0)
        self._last = (0, 0, 0)
        self._dur = 0
        self._out_index = 0

    def _encode(self, mg):
        fs = (self.regs[0x23] >> 4) & 3
        v = _clip16((mg // self._SENS_HR[fs]) << 4) if self.regs[0x23] & 0x08 else _clip16(
            (mg // (self._SENS_HR[fs] * 4)) << 6)
        return v & 0xFFFF

    def push(self, x_mg, y_mg, z_mg):
        r = self.regs
        if (r[0x20] >> 4) == 0:
            return  # power-down
        sample = bytearray(6)
        for i in range(3):
            v = self._encode((x_mg, y_mg, z_mg)[i])
            sample[2 * i] = v & 0xFF
            sample[2 * i + 1] = v >> 8
        r[0x28:0x2E] = sample
        mode = r[0x2E] >> 6
        if r[0x24] & 0x40 and mode:
            if len(self.fifo) >= self.FIFO_DEPTH:
                r[0x2F] |= 0x40  # OVRN_FIFO
                if mode == 2:  # stream: oldest dropped
                    self.fifo.pop(0)
                    self.fifo.append(sample)
            else:
                self.fifo.append(sample)
        self._last = (x_mg, y_mg, z_mg)
        cfg = r[0x30]
        if cfg & 0x3F:
            fs = (r[0x23] >> 4) & 3
            thr = (r[0x32] & 0x7F) * self._THS_MG[fs]
            vals = (x_mg, y_mg, z_mg)
            hit = False
            for i in range(3):
                v = vals[i] - self._ref[i] if r[0x21] & 0x01 else vals[i]
                if cfg & (0x02 << (2 * i)) and v > thr:
                    hit = True
                if cfg & (0x01 << (2 * i)) and v < -thr:
                    hit = True
            self._dur = self._dur + 1 if hit else 0
            if hit and self._dur > (r[0x33] & 0x7F):
                r[0x31] = 0x40 | 0x2A
                if r[0x22] & 0x40:
                    self.int1 = True
            elif not r[0x24] & 0x08:  # not latched: follows the condition
                r[0x31] = 0
                self.int1 = False

    def _fifo_src(self):
        n = len(self.fifo)
        v = self.regs[0x2F] & 0x40
        if n == 0:
            v |= 0x20
        return v | (n if n < 32 else 31)

    def read(self, reg, buf):
        inc = reg & 0x80
        a = reg & 0x7F
        fifo_on = self.regs[0x24] & 0x40 and self.regs[0x2E] >> 6
        for i in range(len(buf)):
            if 0x28 <= a <= 0x2D and fifo_on:
                if self._out_index == 0 and self.fifo:
                    self.regs[0x28:0x2E] = self.fifo.pop(0)
                    if len(self.fifo) < self.FIFO_DEPTH:
                        self.regs[0x2F] &= ~0x40
                buf[i] = self.regs[a]
                self._out_index = (self._out_index + 1) % 6
            elif a == 0x2F:
                buf[i] = self._fifo_src()
            else:
                buf[i] = self.regs[a]
            if a == 0x31:  # INT1_SRC read clears a latched interrupt
                self.regs[0x31] = 0
                self.int1 = False
            if inc:
                a += 1
                if a == 0x2E and fifo_on:
                    a = 0x28  # roll back to OUT_X_L: bursts read several FIFO samples
        if not fifo_on:
            self._out_index = 0

    def write(self, reg, data):
        a = reg & 0x7F
        for i in range(len(data)):
            v = data[i]
            if a == 0x24 and v & 0x80:  # BOOT: reload trimming; registers keep their values
                v &= ~0x80
            if a == 0x2E and (v >> 6) == 0:
                self.fifo = []  # bypass mode empties the FIFO
                self.regs[0x2F] &= ~0x40
            if a == 0x30:
                self._ref = self._last
                self._dur = 0
            if a not in (0x0F, 0x2F, 0x31, 0x27):
                self.regs[a] = v
            if reg & 0x80:
                a += 1


def replay(chip, samples):
    """Pushes (t_ms, ax, ay, az) samples into a fake chip, one sample period each; yields after each push."""
    for t, x, y, z in samples:
        chip.push(x, y, z)
        yield t
