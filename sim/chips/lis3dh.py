"""A simulated STMicroelectronics LIS3DH accelerometer, register by register, for both runtimes and both uses: the
simulated board's live feed (sim/device/board.py: the firmware runs the REAL chip driver drivers/imu/lis3dh.py and
its FIFO bursts on samples streamed by sim/wearable.py) and the tests' register-map replays (`push` one sample
period at a time, then read with the driver). It plugs into the simulated bus of sim/chips/i2c.py.

Allocation-free per sample (the simulated wearable's heap is small): the FIFO is a ring of 32 x 6 bytes made once;
a pushed sample is encoded into it in place. Register behaviour modelled (LIS3DH datasheet DocID17530): WHO_AM_I
0x33; power-down until CTRL_REG1 sets a rate; range and 12-bit high-resolution / 10-bit normal encoding from
CTRL_REG4, clipped at the full scale; BOOT self-clears and keeps the registers; FIFO (CTRL_REG5 FIFO_EN, FIFO_CTRL
bypass/FIFO/stream; bypass empties it) with FIFO_SRC (OVRN, EMPTY, FSS): stream mode overwrites the oldest sample,
FIFO mode stops when full; multi-byte access only with the sub-address MSB, rolling back from OUT_Z_H to OUT_X_L
while the FIFO is on (one burst reads several samples); INT1 on high and low events (INT1_CFG) of the acceleration,
or of its change since REFERENCE was read when HP_IA1 is on, above INT1_THS for longer than INT1_DURATION; latched
until INT1_SRC is read when LIR_INT1 is set, otherwise following the condition.

State the tests and the board read: `regs` (the register map), `int1` / `int_asserted` (the INT1 pin), `pushed`
(samples converted), `dropped` (samples lost to a full FIFO).
"""
_DEPTH = 32
_SENS_HR = (1, 2, 4, 12)  # mg per digit in high-resolution mode, per full scale
_THS_MG = (16, 32, 62, 186)  # mg per INT1_THS LSB, per full scale


def _put(buf, at, d, lim, shift):
    # One axis as the chip's left-justified little-endian two's complement, clipped at its full scale.
    if d > lim:
        d = lim
    elif d < -lim - 1:
        d = -lim - 1
    d = (d << shift) & 0xFFFF
    buf[at] = d & 0xFF
    buf[at + 1] = d >> 8


class SimLIS3DH:
    FIFO_DEPTH = _DEPTH

    def __init__(self, address=0x18):
        self.address = address
        self.regs = bytearray(64)
        self._ring = bytearray(6 * _DEPTH)
        self.pushed = 0  # samples offered by the world
        self.dropped = 0  # samples lost to a full FIFO (stream mode drops the oldest, FIFO mode the newest)
        self.reset()

    def reset(self):
        r = self.regs
        for i in range(len(r)):
            r[i] = 0
        r[0x0F] = 0x33
        r[0x20] = 0x07  # power-down, X/Y/Z enabled
        self._head = 0  # index of the oldest sample in the ring
        self._count = 0
        self._ovrn = False
        self._out_index = 0
        self._ref0 = self._ref1 = self._ref2 = 0
        self._last0 = self._last1 = self._last2 = 0
        self._dur = 0
        self.int1 = False

    @property
    def int_asserted(self):
        """The INT1 pin's level (active high), as the board's wake logic reads every chip's interrupt."""
        return self.int1

    # -- the world's side ---------------------------------------------------------------------------------------
    def push(self, x_mg, y_mg, z_mg):
        """One sample period of the chip with this acceleration (milli-g)."""
        r = self.regs
        self._last0 = x_mg
        self._last1 = y_mg
        self._last2 = z_mg
        if not r[0x20] >> 4:
            return  # powered down: no conversion
        self.pushed += 1
        mode = r[0x2E] >> 6
        if r[0x24] & 0x40 and mode:
            if self._count < _DEPTH:
                slot = (self._head + self._count) % _DEPTH
                self._count += 1
            else:
                self._ovrn = True
                self.dropped += 1
                if mode != 2:
                    self._motion(x_mg, y_mg, z_mg)
                    return  # FIFO mode: stops when full
                slot = self._head  # stream mode: the oldest is overwritten
                self._head = (self._head + 1) % _DEPTH
            self._encode_into(self._ring, 6 * slot, x_mg, y_mg, z_mg)
        else:
            self._encode_into(r, 0x28, x_mg, y_mg, z_mg)
        self._motion(x_mg, y_mg, z_mg)

    def _encode_into(self, buf, at, x, y, z):
        c4 = self.regs[0x23]
        sens = _SENS_HR[(c4 >> 4) & 3]
        if c4 & 0x08:
            shift = 4
        else:
            sens *= 4  # normal mode: 10 bits, left-justified
            shift = 6
        lim = (1 << (15 - shift)) - 1
        _put(buf, at, x // sens, lim, shift)
        _put(buf, at + 2, y // sens, lim, shift)
        _put(buf, at + 4, z // sens, lim, shift)

    def _motion(self, x, y, z):
        r = self.regs
        cfg = r[0x30]
        if not cfg & 0x3F:
            return
        thr = (r[0x32] & 0x7F) * _THS_MG[(r[0x23] >> 4) & 3]
        if r[0x21] & 0x01:
            x -= self._ref0
            y -= self._ref1
            z -= self._ref2
        hit = ((cfg & 0x02 and x > thr) or (cfg & 0x01 and x < -thr) or (cfg & 0x08 and y > thr)
               or (cfg & 0x04 and y < -thr) or (cfg & 0x20 and z > thr) or (cfg & 0x10 and z < -thr))
        self._dur = self._dur + 1 if hit else 0
        if hit and self._dur > (r[0x33] & 0x7F):
            r[0x31] = 0x40 | 0x2A
            if r[0x22] & 0x40:
                self.int1 = True
        elif not hit and not r[0x24] & 0x08:
            r[0x31] = 0
            self.int1 = False

    # -- the bus side -------------------------------------------------------------------------------------------
    def _fifo_on(self):
        return self.regs[0x24] & 0x40 and self.regs[0x2E] >> 6

    def read(self, reg, buf):
        r = self.regs
        inc = reg & 0x80
        a = reg & 0x7F
        fifo_on = self._fifo_on()
        for i in range(len(buf)):
            if 0x28 <= a <= 0x2D and fifo_on:
                if self._out_index == 0 and self._count:
                    at = 6 * self._head
                    r[0x28] = self._ring[at]
                    r[0x29] = self._ring[at + 1]
                    r[0x2A] = self._ring[at + 2]
                    r[0x2B] = self._ring[at + 3]
                    r[0x2C] = self._ring[at + 4]
                    r[0x2D] = self._ring[at + 5]
                    self._head = (self._head + 1) % _DEPTH
                    self._count -= 1
                    self._ovrn = False
                buf[i] = r[a]
                self._out_index = (self._out_index + 1) % 6
            elif a == 0x2F:
                n = self._count
                v = 0x40 if self._ovrn else 0
                if n == 0:
                    v |= 0x20
                buf[i] = v | (n if n < 32 else 31)
            elif a == 0x31:
                buf[i] = r[0x31]
                r[0x31] = 0  # reading INT1_SRC clears a latched interrupt
                self.int1 = False
            elif a == 0x26:
                buf[i] = r[a]
                self._ref0 = self._last0  # reading REFERENCE resets the high-pass to the current attitude
                self._ref1 = self._last1
                self._ref2 = self._last2
            else:
                buf[i] = r[a]
            if inc:
                a += 1
                if a == 0x2E and fifo_on:
                    a = 0x28
        if not fifo_on:
            self._out_index = 0

    def write(self, reg, data):
        r = self.regs
        a = reg & 0x7F
        for i in range(len(data)):
            v = data[i]
            if a == 0x24 and v & 0x80:
                v &= 0x7F  # BOOT reloads the trimming and self-clears; registers keep their values
            if a == 0x2E and not v >> 6:
                self._count = 0  # bypass mode empties the FIFO
                self._ovrn = False
                self._out_index = 0
            if a == 0x30:
                self._dur = 0
            if a not in (0x0F, 0x27, 0x2F, 0x31):
                r[a] = v
            if reg & 0x80:
                a += 1
