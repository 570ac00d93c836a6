"""InvenSense MPU-6050 / MPU-6500 accelerometer (the gyroscope is left in standby: it costs ~3 mA).

Register facts used (MPU-6000/6050 register map rev 4.2; MPU-6500 register map rev 2.1):
WHO_AM_I 0x75 = 0x68 (6050) / 0x70 (6500) / 0x71 (9250, accepted: same accelerometer), PWR_MGMT_1 0x6B
(bit 7 reset, bit 6 sleep, bit 5 cycle), PWR_MGMT_2 0x6C (standby bits, 6050 LP_WAKE_CTRL bits 7:6),
SMPLRT_DIV 0x19 (rate = 1 kHz / (1 + div) with the DLPF on), CONFIG 0x1A (DLPF_CFG 3: ~44 Hz), ACCEL_CONFIG 0x1C
(AFS_SEL bits 4:3 -> 16384/8192/4096/2048 LSB/g; 6050 ACCEL_HPF bits 2:0), ACCEL_XOUT_H 0x3B (big-endian int16 x3),
FIFO_EN 0x23 (bit 3 accel), USER_CTRL 0x6A (bit 6 FIFO on, bit 2 FIFO reset), FIFO_COUNT 0x72/0x73, FIFO_R_W 0x74,
INT_STATUS 0x3A (bit 6 motion, bit 4 FIFO overflow; cleared on read), INT_ENABLE 0x38 (bit 6 motion/WOM),
INT_PIN_CFG 0x37, MOT_THR 0x1F (6050: 2 mg/LSB; 6500 WOM_THR: 4 mg/LSB), MOT_DUR 0x20 (6050: 1 ms/LSB),
ACCEL_INTEL_CTRL 0x69 and LP_ACCEL_ODR 0x1E (6500 wake-on-motion).
"""
from drivers.compat import const, sleep_ms
from drivers.imu import IMUError, RegisterChip

_SMPLRT_DIV = const(0x19)
_CONFIG = const(0x1A)
_ACCEL_CONFIG = const(0x1C)
_LP_ACCEL_ODR = const(0x1E)
_MOT_THR = const(0x1F)
_MOT_DUR = const(0x20)
_FIFO_EN = const(0x23)
_INT_PIN_CFG = const(0x37)
_INT_ENABLE = const(0x38)
_INT_STATUS = const(0x3A)
_ACCEL_XOUT_H = const(0x3B)
_ACCEL_INTEL_CTRL = const(0x69)
_USER_CTRL = const(0x6A)
_PWR_MGMT_1 = const(0x6B)
_PWR_MGMT_2 = const(0x6C)
_FIFO_COUNTH = const(0x72)
_FIFO_R_W = const(0x74)
_WHO_AM_I = const(0x75)

WHO_AM_I_VALUES = {0x68: "MPU-6050", 0x70: "MPU-6500", 0x71: "MPU-9250"}
RANGES_G = (2, 4, 8, 16)
FIFO_BURST = const(32)  # samples per burst read: 192 bytes, well under the 1024-byte FIFO
_RESET_POLLS = const(50)


class MPU6050(RegisterChip):
    ADDRESSES = (0x68, 0x69)
    NAME = "MPU-6050"

    def __init__(self, i2c, address=0x68, range_g=8, rate_hz=100):
        if range_g not in RANGES_G:
            raise IMUError("MPU-6050 range must be one of 2, 4, 8, 16 g, got %r" % (range_g,))
        if not 4 <= rate_hz <= 1000:
            raise IMUError("MPU-6050 rate must be 4..1000 Hz, got %r" % (rate_hz,))
        self.i2c = i2c
        self.address = address
        self.range_g = range_g
        self.rate_hz = rate_hz
        self.model = None
        self.overflows = 0
        self._lsb_per_g = 32768 // range_g  # 16384 LSB/g at +-2 g, halved per range step
        self._one = bytearray(1)
        self._two = bytearray(2)
        self._six = bytearray(6)
        self._fifo = bytearray(6 * FIFO_BURST)
        mv = memoryview(self._fifo)
        # One view per burst length, made once: slicing a memoryview allocates, so it must not happen per read.
        self._views = [mv[: 6 * n] for n in range(FIFO_BURST + 1)]

    # -- register access ------------------------------------------------------------------------------------
    def _into(self, reg, buf):
        self._read_into(reg, buf)

    # -- lifecycle ------------------------------------------------------------------------------------------
    def check_who_am_i(self):
        who = self._r(_WHO_AM_I)
        if who not in WHO_AM_I_VALUES:
            raise IMUError("MPU-6050/6500 expected at 0x%02x: WHO_AM_I (0x75) read 0x%02x, expected 0x68, 0x70 "
                           "or 0x71; another chip answers at this address" % (self.address, who))
        self.model = WHO_AM_I_VALUES[who]
        return who

    def start(self):
        self.check_who_am_i()
        self._w(_PWR_MGMT_1, 0x80)  # device reset
        for _ in range(_RESET_POLLS):  # bounded: the reset takes ~100 ms at most
            sleep_ms(2)
            if not self._r(_PWR_MGMT_1) & 0x80:
                break
        else:
            raise IMUError("%s at 0x%02x: reset did not complete" % (self.model, self.address))
        self._w(_PWR_MGMT_1, 0x01)  # awake, clock from the X gyro PLL (datasheet's recommendation)
        self._w(_PWR_MGMT_2, 0x07)  # gyroscope in standby: only the accelerometer runs
        self._w(_CONFIG, 0x03)  # DLPF ~44 Hz: anti-aliasing for 100 Hz, sample clock 1 kHz
        self._w(_SMPLRT_DIV, 1000 // self.rate_hz - 1)
        self._w(_ACCEL_CONFIG, RANGES_G.index(self.range_g) << 3)
        self.reset_fifo()
        return self

    def stop(self):
        self._w(_PWR_MGMT_1, 0x40)  # sleep

    def reset_fifo(self):
        self._w(_USER_CTRL, 0x04)  # FIFO off and reset
        self._w(_FIFO_EN, 0x08)  # accelerometer into the FIFO
        self._w(_USER_CTRL, 0x40)  # FIFO on
        self._r(_INT_STATUS)  # clear a stale overflow flag

    # -- data -----------------------------------------------------------------------------------------------
    def _mg(self, hi, lo):
        v = (hi << 8) | lo
        if v & 0x8000:
            v -= 0x10000
        return (v * 1000 + (self._lsb_per_g >> 1)) // self._lsb_per_g  # rounded to the nearest mg

    def read_mg(self, out):
        """The latest sample into out[0:3] (milli-g)."""
        b = self._six
        self._into(_ACCEL_XOUT_H, b)
        out[0] = self._mg(b[0], b[1])
        out[1] = self._mg(b[2], b[3])
        out[2] = self._mg(b[4], b[5])
        return out

    def fifo_count(self):
        """Whole samples waiting in the FIFO."""
        self._into(_FIFO_COUNTH, self._two)
        return ((self._two[0] << 8) | self._two[1]) // 6

    def read_fifo(self, out, max_samples=FIFO_BURST):
        """Reads up to max_samples (<= len(out)//3) queued samples into out as x, y, z triples; returns the count.

        After an overflow the FIFO is reset (its byte alignment can no longer be trusted), `overflows` counts it,
        and 0 is returned: the caller loses that stretch of samples and knows it.
        """
        if self._r(_INT_STATUS) & 0x10:
            self.overflows += 1
            self.reset_fifo()
            return 0
        nbytes = self._two_read(_FIFO_COUNTH)
        if nbytes % 6:
            self.overflows += 1
            self.reset_fifo()
            return 0
        n = nbytes // 6
        return self._burst(_FIFO_R_W, n, out, max_samples, FIFO_BURST)

    def _two_read(self, reg):
        self._into(reg, self._two)
        return (self._two[0] << 8) | self._two[1]

    # -- motion wake ----------------------------------------------------------------------------------------
    def enable_motion_wake(self, threshold_mg=64, duration_ms=2):
        """Interrupt pin (active high, latched until INT_STATUS is read) on movement above threshold_mg.

        MPU-6050: motion detection (MOT_THR 2 mg/LSB, MOT_DUR 1 ms/LSB, accel high-pass 5 Hz) and low-power
        cycling at 5 Hz. MPU-6500: wake-on-motion (WOM_THR 4 mg/LSB, compares each sample with the previous one)
        at a 15.63 Hz low-power rate. The gyro stays in standby.
        """
        if self.model == "MPU-6050" or self.model is None:
            self._w(_ACCEL_CONFIG, (RANGES_G.index(self.range_g) << 3) | 0x01)  # ACCEL_HPF 5 Hz
            self._w(_MOT_THR, _clamp(threshold_mg // 2, 1, 255))
            self._w(_MOT_DUR, _clamp(duration_ms, 1, 255))
            self._w(_INT_PIN_CFG, 0x20)  # LATCH_INT_EN: level until INT_STATUS is read
            self._w(_INT_ENABLE, 0x40)  # MOT_EN
            self._w(_PWR_MGMT_2, 0x47)  # LP_WAKE_CTRL=1 (5 Hz), gyro standby
            self._w(_PWR_MGMT_1, 0x20)  # CYCLE: sleep between samples
        else:
            self._w(_PWR_MGMT_2, 0x07)
            self._w(_INT_ENABLE, 0x40)  # WOM_INT_EN
            self._w(_ACCEL_INTEL_CTRL, 0xC0)  # ACCEL_INTEL_EN, compare with the previous sample
            self._w(_MOT_THR, _clamp(threshold_mg // 4, 1, 255))  # WOM_THR
            self._w(_LP_ACCEL_ODR, 0x06)  # 15.63 Hz
            self._w(_INT_PIN_CFG, 0x20)
            self._w(_PWR_MGMT_1, 0x20)

    def motion_woke(self):
        """True when the motion interrupt fired (reading clears it and releases the pin)."""
        return bool(self._r(_INT_STATUS) & 0x40)

    def disable_motion_wake(self):
        self._w(_INT_ENABLE, 0x00)
        self._w(_PWR_MGMT_1, 0x01)
        self._w(_PWR_MGMT_2, 0x07)
        self._w(_ACCEL_CONFIG, RANGES_G.index(self.range_g) << 3)
        self.reset_fifo()


def _clamp(v, lo, hi):
    return lo if v < lo else hi if v > hi else v
