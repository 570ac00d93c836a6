"""The simulated I2C bus: the machine.I2C memory interface (scan, readfrom_mem, readfrom_mem_into, writeto_mem)
over simulated chips (sim/chips/lis3dh.py, mpu6050.py, pcf8563.py). One bus for both runtimes and both uses: the
simulated board's live feed (sim/device/board.py) and the tests' register-map replays.

A chip is any object with `address`, `read(reg, buf)` and `write(reg, data)`; the bus indexes chips by address and
raises OSError(ENODEV), as machine.I2C does, when nobody acknowledges.

    bus = SimI2C(SimLIS3DH(0x18), SimPCF8563())    # or bus.attach(chip), which returns the chip
    imu = LIS3DH(bus).start()

`before` (optional) is called at every transaction: the simulated board pulls pending samples from its control
line there, as a real chip would have sampled them by the time it is read. `fail` > 0 makes the next `fail`
transactions raise OSError (a loose wire), for tests and fault drills. `transactions` counts them all.
"""
ENODEV = 19  # what machine.I2C raises (OSError) when no device acknowledges the address
EIO = 5


class SimI2C:
    def __init__(self, *devices, before=None):
        self.devices = {}
        self.before = before
        self.fail = 0
        self.transactions = 0
        for device in devices:
            self.attach(device)

    def attach(self, device):
        self.devices[device.address] = device
        return device

    def scan(self):
        return sorted(self.devices)

    def _device(self, addr):
        self.transactions += 1
        if self.before is not None:
            self.before()
        if self.fail > 0:
            self.fail -= 1
            raise OSError(ENODEV)
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
