# Register-map fakes of the accelerometer chips for the dual tests (MicroPython and CPython): the simulation lives in
# sim/motion.py, written in the subset both runtimes run, so the demo and the tests drive the same chip models.
from sim.chips.fakes import ENODEV, FakeI2C, FakeLIS3DH, FakeMPU6050  # noqa: F401


class FlakyI2C(FakeI2C):
    """A bus whose device stops acknowledging after `ok` transactions (a loose wire)."""

    def __init__(self, ok, *devices):
        FakeI2C.__init__(self, *devices)
        self.ok = ok

    def _device(self, addr):
        if self.transactions >= self.ok:
            self.transactions += 1
            raise OSError(ENODEV)
        return FakeI2C._device(self, addr)
