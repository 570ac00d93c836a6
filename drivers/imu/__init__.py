"""Accelerometer drivers over an injected bus with the machine.I2C memory interface.

Every driver: `start()` (reset, WHO_AM_I check, range and rate, FIFO on), `read_mg(out)` (one sample into a list
of 3 ints, milli-g), `read_fifo(out)` (FIFO burst into buffers allocated once; returns the number of samples
written as x, y, z triples into `out`), `enable_motion_wake(threshold_mg, duration_ms)` (the chip raises its
interrupt pin on movement so the microcontroller can sleep), `motion_woke()` (reads and clears the cause),
`stop()` (lowest power). Bus errors and wrong chips raise IMUError, naming the chip, address and what to check.
"""


class IMUError(Exception):
    """The accelerometer is missing, is another chip, or the bus failed."""


def bus_error(chip, address, exc):
    return IMUError("%s at I2C address 0x%02x does not answer (%r): check wiring, power and the address pin"
                    % (chip, address, exc))


class RegisterChip:
    """Register access shared by the chip drivers: one-byte scratch buffer made once, bus errors as IMUError.
    Subclasses set NAME and give `self.i2c`, `self.address` and `self._one = bytearray(1)`."""

    NAME = "IMU"

    def _w(self, reg, value):
        self._one[0] = value
        try:
            self.i2c.writeto_mem(self.address, reg, self._one)
        except OSError as exc:
            raise bus_error(self.NAME, self.address, exc) from None

    def _r(self, reg):
        try:
            self.i2c.readfrom_mem_into(self.address, reg, self._one)
        except OSError as exc:
            raise bus_error(self.NAME, self.address, exc) from None
        return self._one[0]

    def _read_into(self, reg, buf):
        try:
            self.i2c.readfrom_mem_into(self.address, reg, buf)
        except OSError as exc:
            raise bus_error(self.NAME, self.address, exc) from None


    def _burst(self, reg, n, out, max_samples, limit):
        """Read n samples (at most max_samples, `limit` and what `out` holds) from `reg` into the buffer made
        once, convert them to milli-g into `out` (x, y, z triples). Subclasses give _views, _fifo and _mg."""
        cap = len(out) // 3
        if max_samples > cap:
            max_samples = cap
        if max_samples > limit:
            max_samples = limit
        if n > max_samples:
            n = max_samples
        if n <= 0:
            return 0
        self._into(reg, self._views[n])
        b = self._fifo
        j = 0
        for i in range(0, 6 * n, 2):
            out[j] = self._mg(b[i], b[i + 1])
            j += 1
        return n


def _lis3dh():
    from drivers.imu.lis3dh import LIS3DH

    return LIS3DH


def _mpu6050():
    from drivers.imu.mpu6050 import MPU6050

    return MPU6050


# The accelerometer chips Deme drives, by the model name the pinouts (hardware/*/pinout.json) use: one row a chip,
# its driver class loaded only when used (the device's heap holds only the driver it needs). The MPU-6500 is
# register-compatible with the MPU-6050 for what Deme reads. `detect` tries them in this order (a tuple: a
# MicroPython dict keeps no order).
CHIPS = (
    ("MPU6050", _mpu6050),
    ("MPU6500", _mpu6050),
    ("LIS3DH", _lis3dh),
)


def _row(model):
    key = (model or "").upper().replace("-", "")
    for row in CHIPS:
        if row[0] == key:
            return row
    raise IMUError("no driver for the accelerometer %r (known: %s)" % (model, ", ".join(n for n, _ in CHIPS)))


def chip_model(model):
    """The CHIPS name of a chip model as a pinout or a person spells it ("LIS3DH", "MPU-6050", "mpu6500"...);
    IMUError for a chip Deme has no driver for. What else keys a table by chip (the simulated board's chip
    simulations) looks models up with it, so both tables spell models alike."""
    return _row(model)[0]


def driver_class(model):
    """The driver class for a chip model name ("LIS3DH", "MPU6050", "MPU-6050"...); IMUError for another."""
    return _row(model)[1]()


def build(i2c, model, address=None, range_g=8, rate_hz=100):
    """The driver (not started) for the chip `model` on `i2c`, at `address` or the chip's first address."""
    cls = driver_class(model)
    return cls(i2c, address=address or cls.ADDRESSES[0], range_g=range_g, rate_hz=rate_hz)


def detect(i2c, range_g=8, rate_hz=100):
    """Finds a supported accelerometer on the bus (by address, confirmed by WHO_AM_I) and returns its driver, not
    yet started; raises IMUError naming what was found instead."""
    try:
        present = i2c.scan()
    except OSError as exc:
        raise IMUError("I2C scan failed (%r): check SDA/SCL wiring and pull-ups" % (exc,)) from None
    errors = []
    classes = []
    for _name, load in CHIPS:
        cls = load()
        if cls not in classes:
            classes.append(cls)
    for cls in classes:
        for addr in cls.ADDRESSES:
            if addr in present:
                imu = cls(i2c, address=addr, range_g=range_g, rate_hz=rate_hz)
                try:
                    imu.check_who_am_i()  # 0x68 is also a DS3231/DS1307 real-time clock's address
                except IMUError as exc:
                    errors.append(str(exc))
                    continue
                return imu
    if errors:
        raise IMUError("; ".join(errors))
    raise IMUError("no %s on the I2C bus; found %s"
                   % (" or ".join("%s (%s)" % (c.NAME, "/".join("0x%02x" % a for a in c.ADDRESSES)) for c in classes),
                      ", ".join("0x%02x" % a for a in present) or "nothing"))
