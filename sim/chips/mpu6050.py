"""A simulated InvenSense MPU-6050 (WHO_AM_I 0x68) or MPU-6500 (who_am_i=0x70), its accelerometer part register by
register, for both runtimes and both uses: the tests' register-map replays under the REAL driver
(drivers/imu/mpu6050.py) and the simulated board's live feed (sim/device/board.py). It plugs into the simulated bus
of sim/chips/i2c.py.

Allocation-free per sample (the simulated wearable's heap is small): the 1024-byte FIFO is a ring made once.
Behaviour modelled (MPU-6000/6050 register map rev 4.2): asleep after power-on and after DEVICE_RESET (PWR_MGMT_1
bit 7, self-clearing; `resets` counts them); no conversion while asleep unless CYCLE is set; ACCEL_CONFIG's range
(16384 >> AFS_SEL LSB/g), big-endian outputs clipped at the full scale; FIFO of accelerometer samples while
USER_CTRL.FIFO_EN and FIFO_EN.ACCEL are set, the oldest bytes overwritten when full with FIFO_OFLOW_INT flagged;
FIFO_RESET self-clears; FIFO_R_W does not auto-increment (each byte read pops the FIFO, 0xFF when empty);
FIFO_COUNT; INT_STATUS cleared on read; the motion interrupt (INT_ENABLE.MOT_EN) when an axis changes by more than
MOT_THR x 2 mg from the previous sample for MOT_DUR samples (the chip's high-pass modelled as that change), latched
on the INT pin until INT_STATUS is read.

State the tests and the board read: `regs` (the register map), `int_pin` / `int_asserted` (the INT pin), `resets`.
"""
_FIFO_SIZE = 1024


def _clip16(v):
    return 32767 if v > 32767 else -32768 if v < -32768 else v


class SimMPU6050:
    FIFO_SIZE = _FIFO_SIZE

    def __init__(self, address=0x68, who_am_i=0x68):
        self.address = address
        self.who_am_i = who_am_i
        self.regs = bytearray(128)
        self._ring = bytearray(_FIFO_SIZE)
        self.resets = -1  # the power-on reset below is not one the driver asked for
        self.reset()

    def reset(self):
        r = self.regs
        for i in range(len(r)):
            r[i] = 0
        r[0x6B] = 0x40  # PWR_MGMT_1: asleep after power-on/reset
        r[0x75] = self.who_am_i
        self._head = 0  # ring index of the oldest FIFO byte
        self._count = 0  # bytes in the FIFO
        self._has_prev = False
        self._prev0 = self._prev1 = self._prev2 = 0
        self._mot_count = 0
        self.int_pin = False
        self.resets += 1

    @property
    def int_asserted(self):
        """The INT pin's level (active high), as the board's wake logic reads every chip's interrupt."""
        return self.int_pin

    # -- the world's side ---------------------------------------------------------------------------------------
    def push(self, x_mg, y_mg, z_mg):
        """One sample period of the chip with this acceleration (milli-g)."""
        r = self.regs
        if r[0x6B] & 0x40 and not r[0x6B] & 0x20:
            return  # asleep (and not cycling): no conversion
        lsb = 16384 >> ((r[0x1C] >> 3) & 3)
        self._out(0x3B, x_mg, lsb)
        self._out(0x3D, y_mg, lsb)
        self._out(0x3F, z_mg, lsb)
        if r[0x6A] & 0x40 and r[0x23] & 0x08:  # USER_CTRL.FIFO_EN and FIFO_EN.ACCEL
            for a in range(0x3B, 0x41):
                self._fifo_put(r[a])
        if r[0x38] & 0x40 and self._has_prev:  # INT_ENABLE.MOT_EN
            thr = r[0x1F] * 2
            moved = abs(x_mg - self._prev0) > thr or abs(y_mg - self._prev1) > thr or abs(z_mg - self._prev2) > thr
            self._mot_count = self._mot_count + 1 if moved else 0
            if moved and self._mot_count >= (r[0x20] or 1):
                r[0x3A] |= 0x40  # MOT_INT
                self.int_pin = True
        self._prev0 = x_mg
        self._prev1 = y_mg
        self._prev2 = z_mg
        self._has_prev = True

    def _out(self, at, mg, lsb):
        v = _clip16(mg * lsb // 1000) & 0xFFFF
        self.regs[at] = v >> 8
        self.regs[at + 1] = v & 0xFF

    def _fifo_put(self, byte):
        if self._count < _FIFO_SIZE:
            self._ring[(self._head + self._count) % _FIFO_SIZE] = byte
            self._count += 1
        else:  # full: the oldest byte is overwritten
            self._ring[self._head] = byte
            self._head = (self._head + 1) % _FIFO_SIZE
            self.regs[0x3A] |= 0x10  # FIFO_OFLOW_INT

    def _fifo_pop(self):
        if not self._count:
            return 0xFF
        byte = self._ring[self._head]
        self._head = (self._head + 1) % _FIFO_SIZE
        self._count -= 1
        return byte

    # -- the bus side -------------------------------------------------------------------------------------------
    def read(self, reg, buf):
        r = self.regs
        for i in range(len(buf)):
            if reg == 0x74:  # FIFO_R_W does not auto-increment: each byte pops the FIFO
                buf[i] = self._fifo_pop()
                continue
            a = reg + i
            if a == 0x72:
                buf[i] = (self._count >> 8) & 0xFF
            elif a == 0x73:
                buf[i] = self._count & 0xFF
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
                self._head = self._count = 0
                v &= ~0x04
            if a in (0x75, 0x3A, 0x72, 0x73):
                continue  # read-only
            self.regs[a] = v
