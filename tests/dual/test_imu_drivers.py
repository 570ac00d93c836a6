# MPU-6050/6500 and LIS3DH drivers against the register-level chip simulations (sim/chips/) on the simulated bus.
from drivers.imu import IMUError, detect
from drivers.imu.lis3dh import LIS3DH
from drivers.imu.mpu6050 import MPU6050
from sim.chips.i2c import SimI2C
from sim.chips.lis3dh import SimLIS3DH
from sim.chips.mpu6050 import SimMPU6050
from tests.dual.fake_i2c import FlakyI2C


def raises(fn, *words):
    try:
        fn()
    except IMUError as exc:
        text = str(exc)
        for w in words:
            assert w in text, text
        return text
    raise AssertionError("no IMUError")


def near(a, b, tol):
    return abs(a - b) <= tol


def test_mpu_start_configures_range_rate_fifo():
    chip = SimMPU6050()
    imu = MPU6050(SimI2C(chip), range_g=8, rate_hz=100).start()
    assert imu.model == "MPU-6050"
    assert chip.resets == 1
    assert chip.regs[0x6B] == 0x01 and chip.regs[0x6C] == 0x07
    assert chip.regs[0x1C] == 0x10  # +-8 g
    assert chip.regs[0x19] == 9  # 1 kHz / 10
    assert chip.regs[0x1A] == 0x03
    assert chip.regs[0x6A] & 0x40 and chip.regs[0x23] == 0x08


def test_mpu_reads_milli_g_in_every_range():
    for rng, tol in ((2, 1), (4, 1), (8, 1), (16, 1)):
        chip = SimMPU6050()
        imu = MPU6050(SimI2C(chip), range_g=rng).start()
        chip.push(250, -1000, 1500 if rng > 2 else 1999)
        out = [0, 0, 0]
        imu.read_mg(out)
        assert near(out[0], 250, tol) and near(out[1], -1000, tol), (rng, out)
        assert near(out[2], 1500 if rng > 2 else 1999, tol)


def test_mpu_clips_at_range():
    chip = SimMPU6050()
    imu = MPU6050(SimI2C(chip), range_g=2).start()
    chip.push(5000, -5000, 0)
    out = imu.read_mg([0, 0, 0])
    assert near(out[0], 2000, 1) and near(out[1], -2000, 1)


def test_mpu_6500_is_accepted():
    chip = SimMPU6050(who_am_i=0x70)
    imu = MPU6050(SimI2C(chip)).start()
    assert imu.model == "MPU-6500"


def test_mpu_wrong_chip_names_chip_and_value():
    chip = SimMPU6050(who_am_i=0x12)
    text = raises(lambda: MPU6050(SimI2C(chip)).start(), "MPU-6050", "0x12", "0x68")
    assert "WHO_AM_I" in text


def test_mpu_missing_chip_is_a_clear_error():
    raises(lambda: MPU6050(SimI2C(), address=0x69).start(), "MPU-6050", "0x69", "wiring")


def test_mpu_bad_range_and_rate():
    raises(lambda: MPU6050(SimI2C(), range_g=3), "2, 4, 8, 16")
    raises(lambda: MPU6050(SimI2C(), rate_hz=5000), "rate")


def test_mpu_fifo_burst_in_order():
    chip = SimMPU6050()
    imu = MPU6050(SimI2C(chip), range_g=8).start()
    for i in range(40):
        chip.push(i * 10, -i * 10, 1000)
    assert imu.fifo_count() == 40
    out = [0] * 96
    n = imu.read_fifo(out)
    assert n == 32
    assert [out[3 * k] for k in range(3)] == [0, 10, 20]
    assert near(out[3 * 31 + 1], -310, 1)
    n = imu.read_fifo(out)
    assert n == 8 and near(out[0], 320, 1)
    assert imu.read_fifo(out) == 0


def test_mpu_fifo_respects_out_size():
    chip = SimMPU6050()
    imu = MPU6050(SimI2C(chip)).start()
    for _ in range(10):
        chip.push(0, 0, 1000)
    out = [0] * 12
    assert imu.read_fifo(out) == 4
    assert imu.fifo_count() == 6


def test_mpu_fifo_overflow_resets_and_counts():
    chip = SimMPU6050()
    imu = MPU6050(SimI2C(chip)).start()
    for _ in range(200):  # 1200 bytes > 1024
        chip.push(0, 0, 1000)
    out = [0] * 96
    assert imu.read_fifo(out) == 0
    assert imu.overflows == 1
    assert imu.fifo_count() == 0
    chip.push(100, 0, 1000)
    assert imu.read_fifo(out) == 1 and near(out[0], 100, 1)


def test_mpu_burst_is_one_transaction():
    chip = SimMPU6050()
    bus = SimI2C(chip)
    imu = MPU6050(bus).start()
    for _ in range(32):
        chip.push(0, 0, 1000)
    before = bus.transactions
    imu.read_fifo([0] * 96)
    assert bus.transactions - before == 3  # INT_STATUS, FIFO_COUNT, one 192-byte burst


def test_mpu_motion_wake():
    chip = SimMPU6050()
    imu = MPU6050(SimI2C(chip)).start()
    imu.enable_motion_wake(threshold_mg=100, duration_ms=1)
    assert chip.regs[0x1F] == 50 and chip.regs[0x38] == 0x40 and chip.regs[0x6B] & 0x20
    for _ in range(5):
        chip.push(0, 0, 1000)
    assert not chip.int_pin and not imu.motion_woke()
    chip.push(300, 0, 1000)
    assert chip.int_pin
    assert imu.motion_woke()
    assert not chip.int_pin  # reading INT_STATUS released the pin
    imu.disable_motion_wake()
    assert chip.regs[0x38] == 0 and chip.regs[0x6B] == 0x01


def test_mpu_6500_wake_on_motion_registers():
    chip = SimMPU6050(who_am_i=0x70)
    imu = MPU6050(SimI2C(chip)).start()
    imu.enable_motion_wake(threshold_mg=100)
    assert chip.regs[0x69] == 0xC0 and chip.regs[0x1F] == 25 and chip.regs[0x1E] == 0x06


def test_mpu_bus_failure_mid_run_is_imu_error():
    chip = SimMPU6050()
    bus = FlakyI2C(12, chip)
    imu = MPU6050(bus)
    raises(lambda: [imu.start(), imu.read_mg([0, 0, 0]), imu.read_mg([0, 0, 0])], "MPU-6050", "0x68")


def test_lis3dh_start_and_read():
    chip = SimLIS3DH()
    imu = LIS3DH(SimI2C(chip), range_g=8, rate_hz=100).start()
    assert chip.regs[0x20] == 0x57
    assert chip.regs[0x23] == 0x80 | 0x20 | 0x08
    assert chip.regs[0x24] & 0x40 and chip.regs[0x2E] >> 6 == 2
    chip.regs[0x2E] = 0  # read the output registers directly (bypass)
    chip.regs[0x24] = 0
    chip.push(1000, -500, 250)
    out = imu.read_mg([0, 0, 0])
    assert near(out[0], 1000, 4) and near(out[1], -500, 4) and near(out[2], 250, 4), out


def test_lis3dh_ranges():
    for rng, step in ((2, 1), (4, 2), (8, 4), (16, 12)):
        chip = SimLIS3DH()
        imu = LIS3DH(SimI2C(chip), range_g=rng).start()
        chip.push(-1234, 567, 1000)
        out = [0] * 3
        assert imu.read_fifo(out) == 1
        assert near(out[0], -1234, step) and near(out[1], 567, step) and near(out[2], 1000, step), (rng, out)


def test_lis3dh_wrong_chip():
    chip = SimLIS3DH()
    chip.regs[0x0F] = 0x44
    raises(lambda: LIS3DH(SimI2C(chip)).start(), "LIS3DH", "0x44", "0x33")


def test_lis3dh_bad_rate():
    raises(lambda: LIS3DH(SimI2C(), rate_hz=99), "LIS3DH", "100")


def test_lis3dh_fifo_burst_rolls_over_samples():
    chip = SimLIS3DH()
    bus = SimI2C(chip)
    imu = LIS3DH(bus, range_g=8).start()
    for i in range(20):
        chip.push(i * 40, 1000, -i * 40)
    assert imu.fifo_count() == 20
    out = [0] * 96
    before = bus.transactions
    n = imu.read_fifo(out)
    assert bus.transactions - before == 2  # FIFO_SRC, one burst
    assert n == 20
    assert [out[3 * k] for k in range(4)] == [0, 40, 80, 120]
    assert near(out[3 * 19 + 2], -760, 4)
    assert imu.fifo_count() == 0 and imu.read_fifo(out) == 0


def test_lis3dh_fifo_overrun_keeps_newest():
    chip = SimLIS3DH()
    imu = LIS3DH(SimI2C(chip), range_g=16).start()
    for i in range(50):
        chip.push(i * 100, 0, 0)
    out = [0] * 96
    assert imu.read_fifo(out) == 32
    assert imu.overflows == 1
    assert near(out[0], 1800, 12) and near(out[3 * 31], 4900, 12)


def test_lis3dh_motion_wake():
    chip = SimLIS3DH()
    imu = LIS3DH(SimI2C(chip), range_g=2).start()
    for _ in range(3):
        chip.push(0, 0, 1000)
    imu.enable_motion_wake(threshold_mg=80)
    assert chip.regs[0x30] == 0x3F and chip.regs[0x32] == 5 and chip.regs[0x22] == 0x40
    assert chip.regs[0x20] == 0x2F and chip.regs[0x21] & 1 and chip.regs[0x24] & 0x08
    for _ in range(3):
        chip.push(20, 0, 1010)  # gravity is removed by the interrupt high-pass: no wake
    assert not chip.int1 and not imu.motion_woke()
    chip.push(300, 0, 1000)
    chip.push(0, 0, 1000)
    assert chip.int1  # latched
    assert imu.motion_woke()
    assert not chip.int1
    for _ in range(3):
        chip.push(0, 0, 1000)
    chip.push(0, 0, 300)  # the free fall that starts a fall: a drop along gravity wakes it too
    assert chip.int1 and imu.motion_woke()
    imu.disable_motion_wake()
    assert chip.regs[0x30] == 0 and chip.regs[0x20] == 0x57


def test_detect_finds_each_chip():
    assert isinstance(detect(SimI2C(SimMPU6050(address=0x69))), MPU6050)
    imu = detect(SimI2C(SimLIS3DH(address=0x19)))
    assert isinstance(imu, LIS3DH) and imu.address == 0x19
    raises(lambda: detect(SimI2C()), "no MPU-6050", "nothing")


def test_detect_skips_a_clock_at_the_mpu_address():
    rtc = SimMPU6050(address=0x68, who_am_i=0x00)  # a DS3231 real-time clock also answers at 0x68
    imu = detect(SimI2C(rtc, SimLIS3DH(address=0x18)))
    assert isinstance(imu, LIS3DH)
    raises(lambda: detect(SimI2C(rtc)), "0x68", "WHO_AM_I", "0x00")


def test_driver_sample_feeds_detector():
    from drivers.shake import ShakeDetector

    chip = SimMPU6050()
    imu = MPU6050(SimI2C(chip)).start()
    det = ShakeDetector()
    out = [0] * 96
    t = 0
    onset = None
    # A 5 Hz, 2.5 g triangle wave after a still second, sampled at 100 Hz.
    tri = (0, 1000, 2000, 2500, 2000, 1000, 0, -1000, -2000, -2500, -2000, -1000)
    pattern = tri[:5] + tri[6:11]
    for i in range(300):
        x = pattern[i % 10] if i >= 100 else 0
        chip.push(x, 0, 1000)
        if i % 10 == 9:
            n = imu.read_fifo(out)
            for k in range(n):
                r = det.update(out[3 * k], out[3 * k + 1], out[3 * k + 2], t)
                t += 10
                if r is not None and onset is None:
                    onset = r
    assert onset is not None and 1000 <= onset <= 1100, onset
