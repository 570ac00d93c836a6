"""machine.I2C's memory interface over Linux i2c-dev (smbus2), so drivers/imu runs unchanged on a Raspberry Pi.

Reads use one combined write-then-read transfer (I2C_RDWR, repeated start) like machine.I2C.readfrom_mem, and are
not limited to SMBus's 32-byte blocks, so FIFO bursts work. Errors stay OSError, as on MicroPython.
"""


class SMBusI2C:
    def __init__(self, bus=1, smbus=None):
        self.bus_number = bus
        self._bus = smbus  # an smbus2.SMBus-like object (tests pass a simulated one)

    def start(self):
        if self._bus is None:
            from smbus2 import SMBus

            self._bus = SMBus(self.bus_number)
        return self

    def stop(self):
        if self._bus is not None and hasattr(self._bus, "close"):
            self._bus.close()
        self._bus = None

    def scan(self):
        found = []
        for addr in range(0x08, 0x78):
            try:
                self._bus.read_byte(addr)
            except OSError:
                continue
            found.append(addr)
        return found

    def readfrom_mem(self, addr, reg, n):
        from smbus2 import i2c_msg

        write = i2c_msg.write(addr, [reg & 0xFF])
        read = i2c_msg.read(addr, n)
        self._bus.i2c_rdwr(write, read)
        return bytes(read)

    def readfrom_mem_into(self, addr, reg, buf):
        buf[:] = self.readfrom_mem(addr, reg, len(buf))

    def writeto_mem(self, addr, reg, data):
        from smbus2 import i2c_msg

        self._bus.i2c_rdwr(i2c_msg.write(addr, bytes([reg & 0xFF]) + bytes(data)))
