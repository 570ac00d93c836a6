# FallDetector on synthetic signals, on MicroPython and CPython.
from drivers.compat import ticks_add
from drivers.fall import FALL_CANCEL_WINDOW_MS, PREALARM, FallDetector

STEP = 10
STANDING = (0, -1000, 0)  # waist or pendant: gravity along -y
LYING = (0, 0, 1000)  # on the back: gravity along z
SITTING = (0, -940, 340)  # leaning back ~20 degrees


# Signals are generators joined with +, so long ones fit the MicroPython test heap.
class Sig:
    def __init__(self, gen_fn=None, *args):
        self.parts = [(gen_fn, args)] if gen_fn else []

    def __add__(self, other):
        s = Sig()
        s.parts = self.parts + (other.parts if isinstance(other, Sig) else [(_list, (other,))])
        return s

    def __iter__(self):
        for fn, args in self.parts:
            yield from fn(*args)


def _list(values):
    yield from values


def _hold(pose, n, jitter):
    for i in range(n):
        j = jitter if i % 2 else -jitter
        yield (pose[0] + j, pose[1], pose[2] - j)


def _tumble(n, a, b):
    for i in range(n):
        w = i / (n - 1) if n > 1 else 1
        yield (int(a[0] * (1 - w) + b[0] * w), int(a[1] * (1 - w) + b[1] * w), int(a[2] * (1 - w) + b[2] * w))


def _walk(n):
    for i in range(n):
        k = i % 50
        bump = 600 if k < 5 else -300 if k < 25 else 0
        yield (100 if k < 25 else -100, -1000 + bump, 50)


def hold(pose, n, jitter=0):
    return Sig(_hold, pose, n, jitter)


def impact(peak_mg, toward=(1, 0, 0), n=4):
    return Sig(_list, [(peak_mg * toward[0], peak_mg * toward[1], peak_mg * toward[2])] * n)


def tumble(n, a, b):
    """Rotation from pose a to pose b over n samples (a fall or lying down)."""
    return Sig(_tumble, n, a, b)


def walk(n):
    return Sig(_walk, n)


def run(samples, det=None, t0=0):
    det = det or FallDetector()
    hits = []
    t = t0
    for i, (x, y, z) in enumerate(samples):
        r = det.update(x, y, z, t)
        if r is not None:
            hits.append((i * STEP, r))
        t = ticks_add(t, STEP)
    return hits


def fall_signal(peak=4000):
    # stand 3 s, fall over 0.6 s, hit the floor at 3.6 s, lie still 6 s
    return hold(STANDING, 300, 15) + tumble(60, STANDING, LYING) + impact(peak) + hold(LYING, 600, 15)


def test_fall_raises_one_prealarm_with_the_impact_time():
    hits = run(fall_signal())
    assert len(hits) == 1
    at, (kind, impact_t) = hits[0]
    assert kind == PREALARM
    assert 3600 <= impact_t <= 3640
    assert impact_t + 1500 + 2000 <= at <= impact_t + 1500 + 2000 + 100  # settle, then the still window


def test_standing_walking_sitting_gently_are_not_falls():
    assert run(hold(STANDING, 1000, 20)) == []
    assert run(walk(1500)) == []
    assert run(hold(STANDING, 200) + tumble(100, STANDING, SITTING) + hold(SITTING, 600)) == []


def test_lying_down_without_impact_is_not_a_fall():
    assert run(hold(STANDING, 300) + tumble(150, STANDING, LYING) + hold(LYING, 600)) == []


def test_sitting_down_hard_is_not_a_fall():
    # A hard landing on a chair: impact, but the posture changes only ~20 degrees.
    s = hold(STANDING, 300) + tumble(40, STANDING, SITTING) + impact(3500, (0, -1, 0)) + hold(SITTING, 600)
    assert run(s) == []


def test_impact_then_getting_up_and_walking_is_not_a_prealarm():
    s = hold(STANDING, 300) + tumble(60, STANDING, LYING) + impact(4000) + hold(LYING, 100) + tumble(
        50, LYING, STANDING) + walk(500)
    assert run(s) == []


def test_impact_then_moving_on_the_floor_is_not_still():
    moving = Sig(_list, [(600, 300, 1500) if (i // 20) % 2 else LYING for i in range(600)])
    # rolling and pushing on the floor: |a| swings between 1 and 1.6 g
    assert run(hold(STANDING, 300) + tumble(60, STANDING, LYING) + impact(4000) + moving) == []


def test_weak_impact_below_threshold():
    assert run(fall_signal(peak=1700)) == []
    assert len(run(fall_signal(peak=1700), FallDetector(impact_mg=1500))) == 1


def test_bounces_report_the_strongest_impact():
    s = hold(STANDING, 300) + tumble(60, STANDING, LYING) + impact(3000) + hold(LYING, 20) + impact(5000) + hold(
        LYING, 20) + impact(2500) + hold(LYING, 600)
    hits = run(s)
    assert len(hits) == 1
    assert hits[0][1][1] == (360 + 4 + 20) * STEP  # the 5 g hit


def test_two_falls_two_prealarms():
    assert len(run(fall_signal() + tumble(60, LYING, STANDING) + fall_signal())) == 2


def test_ticks_wrap():
    hits = run(fall_signal(), t0=(1 << 30) - 4000)
    assert len(hits) == 1


def test_posture_angle_and_cancel_window_constants():
    assert FALL_CANCEL_WINDOW_MS == 30000
    try:
        FallDetector(posture_deg=47)
    except ValueError as exc:
        assert "posture_deg" in str(exc)
    else:
        raise AssertionError("no ValueError")
    # 40 degrees of change: a fall for posture_deg=35, not for 45
    tilted = (0, -766, 643)
    s = hold(STANDING, 300) + tumble(40, STANDING, tilted) + impact(4000) + hold(tilted, 600)
    assert len(run(s, FallDetector(posture_deg=35))) == 1
    assert run(s, FallDetector(posture_deg=45)) == []


def test_known_upright_axis_rejects_turning_over_in_bed():
    side = (1000, 0, 0)
    turn = hold(LYING, 300, 15) + tumble(60, LYING, side) + impact(2500) + hold(side, 600, 15)
    assert len(run(turn)) == 1  # without knowing how the device is worn: looks like a fall
    assert run(turn, FallDetector(upright=STANDING)) == []
    assert len(run(fall_signal(), FallDetector(upright=STANDING))) == 1


def test_after_the_imu_slept_for_days():
    det = FallDetector()
    half = hold(STANDING, 300, 15) + tumble(60, STANDING, LYING) + impact(4000) + hold(LYING, 50)
    assert run(half, det) == []  # the device slept during the settling time
    woke = ticks_add(4000, 7 * 24 * 3600 * 1000)
    hits = run(hold(LYING, 100) + tumble(60, LYING, STANDING) + fall_signal(), det, t0=woke)
    assert len(hits) == 1 and 5200 <= hits[0][1][1] - woke <= 5300
