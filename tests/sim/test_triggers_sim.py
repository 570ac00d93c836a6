"""The IMU simulation: recordings to the device grid, and a recording replayed through a simulated chip, its
driver and the detector (the firmware's path)."""
import random

from drivers.imu.lis3dh import LIS3DH
from drivers.imu.mpu6050 import MPU6050
from drivers.shake import ShakeDetector
from hub.recordings import to_device
from sim.chips.i2c import SimI2C
from sim.chips.lis3dh import SimLIS3DH
from sim.chips.mpu6050 import SimMPU6050
from sim.motion import replay, synthetic_shake


def test_to_device_resamples_and_clips():
    ts = [0, 20, 40, 60]
    out = to_device(ts, [0, 100, 200, 300], [0, 0, 0, 0], [9000, -9000, 0, 0], rate_hz=100, range_g=8)
    assert [s[0] for s in out] == [0, 10, 20, 30, 40, 50, 60]
    assert [s[1] for s in out] == [0, 50, 100, 150, 200, 250, 300]
    assert out[0][3] == 8000 and out[2][3] == -8000  # clipped to +-8 g
    assert out[1][3] == 0  # interpolated between +9000 and -9000 before clipping


def test_on_grid_recording_is_copied():
    ts = [i * 10 for i in range(100)]
    xs = [i for i in range(100)]
    out = to_device(ts, xs, xs, xs)
    assert [s[1] for s in out] == xs


def test_synthetic_model_is_deterministic_and_documented():
    a = synthetic_shake(random.Random(7))
    b = synthetic_shake(random.Random(7))
    assert a == b
    samples, onset, params = a
    assert set(params) == {"freq_hz", "amp_g", "duration_s", "position"}
    assert 2.0 <= params["freq_hz"] <= 7.0 and 1.5 <= params["amp_g"] <= 6.0 and 1.0 <= params["duration_s"] <= 3.0
    assert onset == 2000 and samples[0][0] == 0


def _through_chip(chip, driver, samples):
    det = ShakeDetector()
    out = [0] * 96
    hits = []
    t = 0
    for i, _ in enumerate(replay(chip, samples)):
        if i % 10 == 9:  # the firmware wakes every 100 ms and drains the FIFO
            n = driver.read_fifo(out)
            for k in range(n):
                r = det.update(out[3 * k], out[3 * k + 1], out[3 * k + 2], t)
                if r is not None:
                    hits.append((t, r))
                t += 10
    return hits


def test_recording_replayed_through_each_chip_and_driver():
    samples, onset, _ = synthetic_shake(random.Random(11), freq_hz=5.0, amp_g=4.0, duration_s=2.0,
                                        position="wrist")
    for chip, cls in ((SimMPU6050(), MPU6050), (SimLIS3DH(), LIS3DH)):
        driver = cls(SimI2C(chip), range_g=8).start()
        hits = _through_chip(chip, driver, samples)
        assert len(hits) == 1, cls
        assert abs(hits[0][1] - onset) <= 150
        assert driver.overflows == 0
