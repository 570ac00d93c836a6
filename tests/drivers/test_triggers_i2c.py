"""hub/platform/i2c.py drives the real IMU drivers through smbus2's own i2c_msg structures, on a simulated i2c-dev bus
whose chips are the register-level simulations of sim/chips/."""
import ctypes

import pytest
from smbus2 import i2c_msg

from drivers.imu import IMUError, detect
from drivers.imu.lis3dh import LIS3DH
from drivers.imu.mpu6050 import MPU6050
from hub.platform.i2c import SMBusI2C
from sim.chips.i2c import ENODEV, SimI2C
from sim.chips.lis3dh import SimLIS3DH
from sim.chips.mpu6050 import SimMPU6050

I2C_M_RD = 0x0001


class SimulatedI2CDev:
    """What the kernel does with I2C_RDWR: a write message sets the register, a read message (repeated start)
    fills its buffer; no acknowledge -> OSError(ENXIO-like)."""

    def __init__(self, *chips):
        self.bus = SimI2C(*chips)
        self.transfers = []
        self.closed = False

    def i2c_rdwr(self, *msgs):
        self.transfers.append([(m.addr, m.flags, m.len) for m in msgs])
        reg = None
        for m in msgs:
            if m.flags & I2C_M_RD:
                data = self.bus.readfrom_mem(m.addr, reg, m.len)
                ctypes.memmove(m.buf, data, m.len)
            else:
                raw = bytes(m)
                if len(raw) == 1:
                    reg = raw[0]
                else:
                    self.bus.writeto_mem(m.addr, raw[0], raw[1:])

    def read_byte(self, addr):
        if addr not in self.bus.devices:
            raise OSError(ENODEV, "no ack")
        return 0

    def close(self):
        self.closed = True


def test_mpu_through_smbus_adapter():
    chip = SimMPU6050()
    dev = SimulatedI2CDev(chip)
    i2c = SMBusI2C(smbus=dev).start()
    imu = MPU6050(i2c, range_g=4).start()
    assert chip.regs[0x1C] == 0x08
    for i in range(40):
        chip.push(i * 25, 0, 1000)
    out = [0] * 96
    assert imu.read_fifo(out) == 32  # 192 bytes in one transfer: more than SMBus's 32-byte block limit
    assert out[3 * 31] == 775
    assert dev.transfers[-1] == [(0x68, 0, 1), (0x68, I2C_M_RD, 192)]
    i2c.stop()
    assert dev.closed


def test_lis3dh_and_scan_through_smbus_adapter():
    chip = SimLIS3DH(address=0x19)
    i2c = SMBusI2C(smbus=SimulatedI2CDev(chip, SimMPU6050(address=0x69))).start()
    assert i2c.scan() == [0x19, 0x69]
    imu = LIS3DH(i2c, address=0x19, range_g=2).start()
    chip.push(-300, 50, 990)
    out = [0] * 3
    assert imu.read_fifo(out) == 1
    assert out == [-300, 50, 990]
    assert isinstance(detect(i2c), MPU6050)


def test_missing_device_is_imu_error():
    i2c = SMBusI2C(smbus=SimulatedI2CDev()).start()
    with pytest.raises(IMUError, match="0x68"):
        MPU6050(i2c).start()


def test_readfrom_mem_into_memoryview():
    chip = SimMPU6050()
    i2c = SMBusI2C(smbus=SimulatedI2CDev(chip)).start()
    buf = bytearray(4)
    i2c.readfrom_mem_into(0x68, 0x75, memoryview(buf)[:1])
    assert buf[0] == 0x68
    assert isinstance(i2c_msg.read(0x68, 1), i2c_msg)
