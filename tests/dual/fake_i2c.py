# A bus fault for the dual tests (MicroPython and CPython), on top of the one simulated I2C bus (sim/chips/i2c.py),
# whose `fail` knob fails a given number of transactions: here the device stops acknowledging for good.
from sim.chips.i2c import ENODEV, SimI2C


class FlakyI2C(SimI2C):
    """A bus whose device stops acknowledging after `ok` transactions (a loose wire)."""

    def __init__(self, ok, *devices):
        SimI2C.__init__(self, *devices)
        self.ok = ok

    def _device(self, addr):
        if self.transactions >= self.ok:
            self.transactions += 1
            raise OSError(ENODEV)
        return SimI2C._device(self, addr)
