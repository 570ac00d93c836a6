# The simulated LIS3DH (sim/chips/lis3dh.py) under the REAL LIS3DH driver, the simulated board's chip simulation
# for each model the firmware drives, and the board's control line that feeds it ("imu x,y,z;..."). Runs on
# CPython and on the MicroPython unix port.
import gc

from drivers.imu import CHIPS, IMUError, build, detect
from drivers.imu.lis3dh import LIS3DH
from sim.chips.i2c import SimI2C
from sim.chips.lis3dh import SimLIS3DH
from sim.device.board import ACCELEROMETERS, _Control, simulated_accelerometer


def started(range_g=8):
    bus = SimI2C()
    chip = bus.attach(SimLIS3DH(0x19))
    return bus, chip, LIS3DH(bus, address=0x19, range_g=range_g).start()


def test_the_real_driver_starts_it_and_reads_a_burst_in_one_transaction():
    bus, chip, imu = started()
    for k in range(10):
        chip.push(100 * k, -1000, 8 - 4 * k)
    before = bus.transactions
    out = [0] * 96
    assert imu.read_fifo(out) == 10
    assert bus.transactions - before == 2  # FIFO_SRC, then one burst
    assert out[:6] == [0, -1000, 8, 100, -1000, 4]
    assert out[27:30] == [900, -1000, -28]
    assert imu.read_fifo(out) == 0


def test_detect_finds_it():
    bus = SimI2C()
    bus.attach(SimLIS3DH(0x18))
    imu = detect(bus)
    assert imu.NAME == "LIS3DH" and imu.address == 0x18


def test_resolution_and_clipping_follow_the_range():
    for range_g, step, top in ((2, 1, 2047), (4, 2, 4094), (8, 4, 8188), (16, 12, 24564)):
        bus, chip, imu = started(range_g)
        chip.push(1001, -30000, 30000)
        out = [0, 0, 0]
        assert imu.read_fifo(out, 1) == 1
        assert out[0] == 1001 // step * step, (range_g, out)
        assert out[1] == -top - step and out[2] == top, (range_g, out)


def test_nothing_is_sampled_before_the_driver_starts_the_chip():
    bus = SimI2C()
    chip = bus.attach(SimLIS3DH(0x18))
    chip.push(5, 5, 5)
    assert chip.pushed == 0
    imu = LIS3DH(bus).start()
    assert imu.fifo_count() == 0
    chip.push(5, -1000, 5)
    assert imu.fifo_count() == 1


def test_stream_mode_keeps_the_newest_32_and_flags_the_overrun():
    bus, chip, imu = started()
    for k in range(40):
        chip.push(k * 4, -1000, 0)
    out = [0] * 96
    assert imu.read_fifo(out) == 32
    assert imu.overflows == 1
    assert out[0] == 8 * 4 and out[93] == 39 * 4  # samples 0-7 were overwritten
    assert chip.dropped == 8
    chip.push(0, -1000, 0)
    assert imu.read_fifo(out) == 1 and imu.overflows == 1


def test_motion_wake_raises_int1_until_read():
    bus, chip, imu = started()
    chip.push(0, -1000, 0)
    imu.enable_motion_wake(threshold_mg=124)
    chip.push(30, -1000, 0)
    assert not chip.int1 and not imu.motion_woke()
    chip.push(400, -1000, 0)
    assert chip.int1
    assert imu.motion_woke()
    assert not chip.int1 and not imu.motion_woke()
    imu.disable_motion_wake()
    chip.push(0, -1000, 0)
    out = [0] * 96
    assert imu.read_fifo(out) == 1


def test_a_loose_wire_is_an_imu_error_naming_the_chip():
    bus, chip, imu = started()
    bus.fail = 1
    try:
        imu.read_fifo([0] * 96)
        raise AssertionError("no error")
    except IMUError as exc:
        assert "LIS3DH at I2C address 0x19 does not answer" in str(exc)
    chip.push(0, -1000, 0)
    assert imu.read_fifo([0] * 96) == 1


def test_the_board_simulates_every_chip_the_firmware_drives():
    assert [row[0] for row in ACCELEROMETERS] == [row[0] for row in CHIPS]
    for model in ("LIS3DH", "MPU-6050", "mpu6500"):
        bus = SimI2C()
        chip = bus.attach(simulated_accelerometer(model, 0x19 if model == "LIS3DH" else 0x69))
        imu = build(bus, model, address=chip.address).start()
        assert imu.NAME in ("LIS3DH", "MPU-6050")
        for _ in range(5):
            chip.push(0, -1000, 0)
        out = [0] * 96
        assert imu.read_fifo(out) == 5, model
        assert out[1] == -1000 and out[13] == -1000, (model, out[:15])
        imu.enable_motion_wake(threshold_mg=124)
        chip.push(0, -1000, 0)
        chip.push(900, -1000, 0)
        chip.push(-900, -1000, 0)  # two samples of movement: the MPU-6050's motion duration is 2 ms
        assert chip.int_asserted, model  # what the board's sleep wakes on
        assert imu.motion_woke() and not chip.int_asserted, model
    try:
        simulated_accelerometer("ADXL345", 0x53)
        raise AssertionError("no error")
    except IMUError as exc:
        assert "ADXL345" in str(exc) and "LIS3DH" in str(exc)


class LinesUART:
    """The control pty's read side: hands out the given chunks one read at a time."""

    def __init__(self, *chunks):
        self.chunks = list(chunks)
        self.at = 0

    def readinto(self, buf):
        # One chunk per "moment": a read returns at most the rest of the current chunk (copied without slicing).
        if not self.chunks:
            return None
        data = self.chunks[0]
        n = min(len(buf), len(data) - self.at)
        for i in range(n):
            buf[i] = data[self.at + i]
        self.at += n
        if self.at == len(data):
            self.chunks.pop(0)
            self.at = 0
        return n

    def write(self, data):
        return len(data)


def control(*chunks):
    got = []
    c = _Control(LinesUART(*chunks))
    c.imu_sink = lambda x, y, z: got.append((x, y, z))
    for _ in range(len(chunks)):
        c.pump()
    return c, got


def test_control_line_carries_samples_in_order():
    c, got = control(b"imu 1,-1000,3;-4,5,-6;7,8,9\n")
    assert got == [(1, -1000, 3), (-4, 5, -6), (7, 8, 9)]
    assert c.imu_samples == 3 and c.imu_bad == 0


def test_control_lines_split_across_reads_and_mixed_with_the_button():
    c, got = control(b"imu 1,2,", b"3;4,5,6\nbtn 1\nim", b"u -7,-8,-9;\nbat 42\n")
    assert got == [(1, 2, 3), (4, 5, 6), (-7, -8, -9)]
    assert c.button and c.battery == 42


def test_malformed_samples_are_skipped_and_counted():
    c, got = control(b"imu 1,2;x,1,2;1,2,3,4;--1,2,3;1,,3;9999999,1,2;5,6,7;;\n")
    assert got == [(5, 6, 7)]
    assert c.imu_bad == 7  # the empty sample between ";;" counts, the trailing one does not


def test_a_line_longer_than_the_buffer_is_dropped_whole():
    c, got = control(b"imu " + b"1,2,3;" * 60 + b"\n", b"imu 4,5,6\n")
    assert got == [(4, 5, 6)]
    assert c.long_lines == 1


def test_parsing_a_line_allocates_nothing_per_sample():
    line = b"imu " + b"-8000,1000,8000;" * 10 + b"\n"
    counts = []
    seen = [0]

    def sink(x, y, z):
        seen[0] += 1

    for chunk in (b"imu 1,2,3\n", line):
        c = _Control(LinesUART(chunk))
        seen[0] = 0
        c.imu_sink = sink
        if hasattr(gc, "mem_alloc"):
            gc.collect()
            before = gc.mem_alloc()
            c.pump()
            counts.append(gc.mem_alloc() - before)
        else:
            c.pump()
            counts.append(0)
        assert c.imu_samples == seen[0] and c.imu_bad == 0
    assert counts[0] == counts[1], counts
