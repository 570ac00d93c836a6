"""STMicroelectronics LIS3DH accelerometer, in 12-bit high-resolution mode.

Register facts used (LIS3DH datasheet DocID17530, AN3308): WHO_AM_I 0x0F = 0x33; CTRL_REG1 0x20 (ODR bits 7:4:
1, 10, 25, 50, 100, 200, 400 Hz -> 1..7; LPen bit 3; X/Y/Z enable bits 2:0); CTRL_REG2 0x21 (HP_IA1 bit 0:
high-pass on interrupt 1); CTRL_REG3 0x22 (I1_IA1 bit 6: IA1 on the INT1 pin); CTRL_REG4 0x23 (BDU bit 7, FS
bits 5:4 +-2/4/8/16 g, HR bit 3: 1/2/4/12 mg per 12-bit digit, left-justified); CTRL_REG5 0x24 (BOOT bit 7, FIFO_EN
bit 6, LIR_INT1 bit 3); REFERENCE 0x26 (reading it resets the high-pass); OUT_X_L 0x28..OUT_Z_H 0x2D (little-
endian); FIFO_CTRL_REG 0x2E (mode bits 7:6: bypass 0, FIFO 1, stream 2); FIFO_SRC_REG 0x2F (OVRN bit 6, EMPTY
bit 5, FSS bits 4:0); INT1_CFG 0x30 (ZHIE/YHIE/XHIE 0x2A = OR of high events); INT1_SRC 0x31 (read clears a latched
interrupt); INT1_THS 0x32 (16/32/62/186 mg per LSB at 2/4/8/16 g); INT1_DURATION 0x33 (1/ODR per LSB).
Multi-byte I2C access needs the MSB of the sub-address set (auto-increment); with the FIFO on, reading past
OUT_Z_H rolls back to OUT_X_L, so one burst reads several samples.
"""
from drivers.compat import const, sleep_ms
from drivers.imu import IMUError, RegisterChip

_WHO_AM_I = const(0x0F)
_CTRL_REG1 = const(0x20)
_CTRL_REG2 = const(0x21)
_CTRL_REG3 = const(0x22)
_CTRL_REG4 = const(0x23)
_CTRL_REG5 = const(0x24)
_REFERENCE = const(0x26)
_OUT_X_L = const(0x28)
_FIFO_CTRL = const(0x2E)
_FIFO_SRC = const(0x2F)
_INT1_CFG = const(0x30)
_INT1_SRC = const(0x31)
_INT1_THS = const(0x32)
_INT1_DURATION = const(0x33)
_AUTO_INC = const(0x80)

WHO_AM_I_VALUE = const(0x33)
RANGES_G = (2, 4, 8, 16)
_MG_PER_DIGIT = (1, 2, 4, 12)
_THS_MG = (16, 32, 62, 186)
_ODR = ((1, 1), (10, 2), (25, 3), (50, 4), (100, 5), (200, 6), (400, 7))
FIFO_DEPTH = const(32)


class LIS3DH(RegisterChip):
    ADDRESSES = (0x18, 0x19)
    NAME = "LIS3DH"

    def __init__(self, i2c, address=0x18, range_g=8, rate_hz=100):
        if range_g not in RANGES_G:
            raise IMUError("LIS3DH range must be one of 2, 4, 8, 16 g, got %r" % (range_g,))
        odr = None
        for hz, code in _ODR:
            if hz == rate_hz:
                odr = code
        if odr is None:
            raise IMUError("LIS3DH rate must be one of 1, 10, 25, 50, 100, 200, 400 Hz, got %r" % (rate_hz,))
        self.i2c = i2c
        self.address = address
        self.range_g = range_g
        self.rate_hz = rate_hz
        self.overflows = 0
        self._odr = odr
        self._fs = RANGES_G.index(range_g)
        self._mg_per_digit = _MG_PER_DIGIT[self._fs]
        self._one = bytearray(1)
        self._six = bytearray(6)
        self._fifo = bytearray(6 * FIFO_DEPTH)
        mv = memoryview(self._fifo)
        self._views = [mv[: 6 * n] for n in range(FIFO_DEPTH + 1)]  # made once: slicing allocates

    def _into(self, reg, buf):
        self._read_into(reg | _AUTO_INC, buf)

    def check_who_am_i(self):
        who = self._r(_WHO_AM_I)
        if who != WHO_AM_I_VALUE:
            raise IMUError("LIS3DH expected at 0x%02x: WHO_AM_I (0x0F) read 0x%02x, expected 0x33; another chip "
                           "answers at this address" % (self.address, who))
        return who

    def start(self):
        self.check_who_am_i()
        self._w(_CTRL_REG5, 0x80)  # BOOT: reload calibration
        sleep_ms(5)
        self._w(_CTRL_REG1, (self._odr << 4) | 0x07)  # rate, normal power, X/Y/Z on
        self._w(_CTRL_REG2, 0x00)
        self._w(_CTRL_REG3, 0x00)
        self._w(_CTRL_REG4, 0x80 | (self._fs << 4) | 0x08)  # BDU, range, high resolution
        self.reset_fifo()
        return self

    def stop(self):
        self._w(_CTRL_REG1, 0x00)  # power-down

    def reset_fifo(self):
        self._w(_FIFO_CTRL, 0x00)  # bypass empties it
        self._w(_CTRL_REG5, 0x40)  # FIFO on
        self._w(_FIFO_CTRL, 0x80)  # stream mode: keeps the newest 32 samples

    def _mg(self, lo, hi):
        v = (hi << 8) | lo
        if v & 0x8000:
            v -= 0x10000
        return (v >> 4) * self._mg_per_digit

    def read_mg(self, out):
        """The latest sample into out[0:3] (milli-g). With the FIFO on this pops the oldest queued sample."""
        b = self._six
        self._into(_OUT_X_L, b)
        out[0] = self._mg(b[0], b[1])
        out[1] = self._mg(b[2], b[3])
        out[2] = self._mg(b[4], b[5])
        return out

    def fifo_count(self):
        src = self._r(_FIFO_SRC)
        if src & 0x20:
            return 0
        return FIFO_DEPTH if src & 0x40 else src & 0x1F

    def read_fifo(self, out, max_samples=FIFO_DEPTH):
        """Reads queued samples into out as x, y, z triples; returns the count. An overrun (samples were lost) is
        counted in `overflows`; the stream mode keeps the newest samples, which are still returned."""
        src = self._r(_FIFO_SRC)
        if src & 0x20:
            return 0
        if src & 0x40:
            self.overflows += 1
            n = FIFO_DEPTH
        else:
            n = src & 0x1F
        return self._burst(_OUT_X_L, n, out, max_samples, FIFO_DEPTH)

    def enable_motion_wake(self, threshold_mg=64, duration_ms=0):
        """INT1 (active high, latched until INT1_SRC is read) when any axis moves by more than threshold_mg either
        way, with the interrupt high-pass on so gravity does not count; 10 Hz low-power mode while waiting (~6 uA)."""
        self._w(_CTRL_REG1, 0x2F)  # 10 Hz, low-power, X/Y/Z
        self._w(_CTRL_REG2, 0x01)  # HP_IA1
        self._w(_CTRL_REG3, 0x40)  # I1_IA1
        self._w(_CTRL_REG4, 0x80 | (self._fs << 4))
        self._w(_CTRL_REG5, 0x48)  # FIFO kept on, LIR_INT1 latch
        ths = threshold_mg // _THS_MG[self._fs]
        self._w(_INT1_THS, 1 if ths < 1 else 127 if ths > 127 else ths)
        dur = duration_ms * 10 // 1000  # 1/ODR per LSB at 10 Hz
        self._w(_INT1_DURATION, 127 if dur > 127 else dur)
        self._r(_REFERENCE)  # resets the high-pass to the current attitude
        # X/Y/Z high AND low events, OR: a fall starts with free fall, a drop of up to 1 g along gravity, which on
        # an axis reading +1 g at rest is a low event only; waking on it gives the board the impact that follows
        self._w(_INT1_CFG, 0x3F)
        self._r(_INT1_SRC)

    def motion_woke(self):
        """True when INT1 fired (reading INT1_SRC clears it and releases the pin)."""
        return bool(self._r(_INT1_SRC) & 0x40)

    def disable_motion_wake(self):
        self._w(_INT1_CFG, 0x00)
        self._w(_CTRL_REG3, 0x00)
        self._w(_CTRL_REG2, 0x00)
        self._w(_CTRL_REG1, (self._odr << 4) | 0x07)
        self._w(_CTRL_REG4, 0x80 | (self._fs << 4) | 0x08)
        self.reset_fifo()
