# The firmware's motion task (firmware/motion.py) on the REAL LIS3DH driver over the simulator's chip
# (sim/chips/lis3dh.py): sample times, shake and fall callbacks, FIFO overrun, ticks wrap, a failing bus, and no
# allocation per sample on MicroPython. Runs on CPython and on the MicroPython unix port.
import gc
import math

from drivers.compat import asleep_ms, ticks_add, ticks_diff
from drivers.imu.lis3dh import LIS3DH
from firmware.motion import BURST, MotionTask
from sim.chips.i2c import SimI2C
from sim.chips.lis3dh import SimLIS3DH

UPRIGHT = (0, -1000, 0)


def rig(**kwargs):
    bus = SimI2C()
    chip = bus.attach(SimLIS3DH(0x18))
    imu = LIS3DH(bus, address=0x18, range_g=8, rate_hz=100)
    events = []
    logs = []

    def log(hop, **detail):
        detail["hop"] = hop
        logs.append(detail)

    task = MotionTask(imu, on_shake=lambda t: events.append(("shake", t)),
                      on_fall=lambda t: events.append(("fall", t)), log=log, **kwargs)
    return bus, chip, task, events, logs


def push_rest(chip, n):
    for _ in range(n):
        chip.push(0, -1000, 0)


def rest(n):
    return [UPRIGHT] * n


def shake(seconds=2.0, freq_hz=4.0, amp=2500):
    # A hand shaking along x: alternating half-sine lobes, the first at 60 %.
    out = []
    half = int(round(100 / (2 * freq_hz)))
    sign = 1
    lobe = 0
    while len(out) < int(seconds * 100):
        strength = amp * (6 if lobe == 0 else 10) // 10
        for j in range(half):
            a = int(sign * strength * math.sin(math.pi * (j + 0.5) / half))
            out.append((a, -1000, 0))
        sign = -sign
        lobe += 1
    return out[:int(seconds * 100)]


def fall():
    out = []
    for i in range(40):  # 0.4 s falling, turning from upright to lying on the back
        w = (i + 1) / 40
        g = 1.0 - 0.85 * w
        out.append((0, int(-1000 * g * math.cos(w * math.pi / 2)), int(1000 * g * math.sin(w * math.pi / 2))))
    out += [(1500, 3000, 1500), (1200, 2500, 1800), (900, 1800, 1400), (200, 100, 1500), (0, 0, 900)]
    return out + [(0, 0, 1000)] * 600


def play(chip, task, samples, now, chunk=10):
    """Pushes samples into the chip `chunk` at a time (one chip period each) and polls after each chunk with the
    time advanced by the chunk's duration, as the firmware's task does every 100 ms. Returns the final now."""
    i = 0
    while i < len(samples):
        for x, y, z in samples[i:i + chunk]:
            chip.push(x, y, z)
        i += chunk
        now = ticks_add(now, chunk * 10)
        task.poll(now)
    return now


class Recorder:
    """Stands in for a detector: records the time given with each sample."""

    def __init__(self):
        self.times = []

    def update(self, ax, ay, az, t_ms):
        self.times.append(t_ms)
        return None


def test_shake_calls_back_once_with_the_onset():
    _, chip, task, events, _ = rig()
    task.start()
    now = play(chip, task, rest(300), 5000)
    start_of_shake = now  # the next sample pushed is dated about now + 10 ms
    now = play(chip, task, shake(), now)
    now = play(chip, task, rest(300), now)
    assert [e[0] for e in events] == ["shake"]
    assert 0 <= ticks_diff(events[0][1], start_of_shake) <= 400, events
    assert task.samples == 800


def test_fall_calls_back_with_the_impact_time():
    _, chip, task, events, _ = rig()
    task.start()
    now = play(chip, task, rest(300), 100)
    impact = ticks_add(now, 40 * 10)  # the first impact sample follows the 40 falling ones
    play(chip, task, fall(), now)
    assert [e[0] for e in events] == ["fall"]
    assert -20 <= ticks_diff(events[0][1], impact) <= 60, (events, impact)


def test_rest_walks_and_knocks_call_nothing():
    _, chip, task, events, _ = rig()
    task.start()
    knocks = []
    for _ in range(4):  # knocks on a table: ringing that decays in a few samples
        knocks += [(5000 if k % 2 == 0 else -5000, -1000, 0) for k in range(3)] + rest(97)
    play(chip, task, rest(500) + knocks + rest(500), 0)
    assert events == []


def test_each_sample_gets_its_time_ten_ms_apart_across_bursts():
    _, chip, task, _, _ = rig()
    rec = Recorder()
    task.shake = rec
    task.start()
    push_rest(chip, 25)
    assert task.poll(1000) == 25
    assert rec.times[-1] == 1000  # the newest sample of the first burst is "now"
    assert rec.times[0] == 1000 - 240
    push_rest(chip, 7)
    task.poll(1070)
    assert len(rec.times) == 32
    for i in range(1, 32):
        assert ticks_diff(rec.times[i], rec.times[i - 1]) == 10


def test_times_wrap_with_the_ticks():
    _, chip, task, _, _ = rig()
    rec = Recorder()
    task.shake = rec
    task.start()
    now = ticks_add(0, -55)  # 55 ms before the tick counter wraps
    push_rest(chip, 20)
    task.poll(now)
    push_rest(chip, 20)
    task.poll(ticks_add(now, 200))
    for i in range(1, 40):
        assert ticks_diff(rec.times[i], rec.times[i - 1]) == 10
    assert ticks_diff(rec.times[-1], now) == 200
    assert rec.times[-1] < rec.times[0]  # the counter wrapped in between


def test_a_full_fifo_is_drained_in_bursts_and_an_overrun_reanchors_the_times():
    _, chip, task, _, logs = rig()
    rec = Recorder()
    task.shake = rec
    task.start()
    push_rest(chip, 10)
    task.poll(500)
    push_rest(chip, 45)  # the task was late: 45 periods, the FIFO keeps the newest 32
    assert task.poll(950) == 32
    assert task.imu.overflows == 1
    assert [e["hop"] for e in logs] == ["fw.imu_overrun"]
    assert rec.times[-1] == 950  # samples were lost: the burst is dated from now again
    assert ticks_diff(rec.times[10], rec.times[9]) > 10


def test_a_stalled_timeline_is_anchored_again():
    _, chip, task, _, _ = rig()
    rec = Recorder()
    task.shake = rec
    task.start()
    push_rest(chip, 10)
    task.poll(100)
    task.poll(5000)  # nothing came for seconds (the chip was stopped, the world was still)
    push_rest(chip, 10)
    task.poll(5100)
    assert task.resyncs == 1
    assert rec.times[-1] == 5100


def test_no_imu_samples_means_no_work_and_no_error():
    _, _, task, events, logs = rig()
    task.start()
    assert task.poll(0) == 0
    assert events == [] and logs == []


def test_a_failing_callback_is_logged_and_the_detectors_go_on():
    bus, chip, task, events, logs = rig()

    def broken(t):
        raise OSError(28)  # e.g. the flash is full

    task.on_shake = broken
    task.start()
    now = play(chip, task, rest(300) + shake() + rest(200), 0)
    play(chip, task, fall(), now)
    assert [e["hop"] for e in logs] == ["fw.motion_callback_failed"]
    assert logs[0]["trigger"] == "shake"
    assert [e[0] for e in events] == ["fall"]


def test_bus_failures_are_logged_retried_with_backoff_and_recovered():
    import asyncio

    bus, chip, task, events, logs = rig(poll_ms=5)
    task.backoff_min_ms = 1
    bus.fail = 3  # the first three transactions fail: start() twice, then...

    async def scenario():
        runner = asyncio.create_task(task.run())
        for _ in range(400):  # bounded: until the chip answers again and samples flow
            if task.started and task.samples:
                break
            if task.started:
                chip.push(0, -1000, 0)
            await asleep_ms(2)
        bus.fail = 2  # a loose wire while running
        seen = task.errors
        for _ in range(400):
            if task.errors > seen and task.started:
                break
            await asleep_ms(2)
        runner.cancel()
        try:
            await runner
        except asyncio.CancelledError:
            pass

    asyncio.run(scenario())
    hops = [e["hop"] for e in logs]
    assert hops[:4] == ["fw.imu_error", "fw.imu_error", "fw.imu_error", "fw.imu_ready"], hops
    assert [e["retry_ms"] for e in logs[:3]] == [1, 2, 4]
    assert logs[3]["after_failures"] == 3
    assert "LIS3DH" in logs[0]["error"] and "does not answer" in logs[0]["error"]
    assert task.samples > 0
    assert task.errors >= 4 and task.started
    assert hops[-1] == "fw.imu_ready"


def test_no_allocation_per_sample():
    _, chip, task, events, _ = rig()
    task.start()
    push_rest(chip, 20)
    task.poll(0)  # warm up: the first poll anchors the timeline
    counts = []
    for n in (1, BURST - 1):  # 31: the most FIFO_SRC can count without the overrun flag
        for k in range(n):
            chip.push(k, -1000, 0)
        if hasattr(gc, "mem_alloc"):
            gc.collect()
            before = gc.mem_alloc()
            got = task.poll(ticks_add(0, 10 * n))
            counts.append(gc.mem_alloc() - before)
        else:
            got = task.poll(ticks_add(0, 10 * n))
            counts.append(0)
        assert got == n
    # MicroPython: what one burst allocates does not grow with its number of samples.
    assert counts[1] == counts[0], counts
    assert events == []
