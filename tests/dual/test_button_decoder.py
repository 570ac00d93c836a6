# ButtonDecoder against a simulated pin (levels with contact bounce), on MicroPython and CPython.
from drivers.button import CANCEL, DURESS, SOS, ButtonDecoder
from drivers.compat import ticks_add


class BouncyPin:
    """A push button: a script of (pressed, duration_ms); each change bounces for bounce_ms (LCG noise)."""

    def __init__(self, script, bounce_ms=8, seed=1):
        self.changes = []  # (t_ms, level) of the settled level
        t = 0
        for level, duration in script:
            self.changes.append((t, level))
            t += duration
        self.end = t
        self.bounce_ms = bounce_ms
        self.seed = seed

    def _rand(self):
        self.seed = (self.seed * 1103515245 + 12345) & 0x7FFFFFFF
        return self.seed >> 16

    def level(self, t):
        current = False
        since = 0
        for when, level in self.changes:
            if when > t:
                break
            current = level
            since = when
        if since and t - since < self.bounce_ms:
            return bool(self._rand() & 1)  # contacts still chattering
        return current


def run(script, decoder=None, step_ms=10, t0=0, tail_ms=2000, bounce_ms=8, window=None):
    """Polls the pin every step_ms; returns [(t_ms relative, event)]."""
    decoder = decoder or ButtonDecoder()
    if window is not None:
        decoder.cancel_window(window)
    pin = BouncyPin(script, bounce_ms=bounce_ms)
    events = []
    t = 0
    while t <= pin.end + tail_ms:
        event = decoder.update(pin.level(t), ticks_add(t0, t))
        if event is not None:
            events.append((t, event))
        t += step_ms
    return events


def kinds(events):
    return [e for _, e in events]


def presses(n, down=120, up=200):
    script = [(False, 100)]
    for _ in range(n):
        script.append((True, down))
        script.append((False, up))
    return script


def test_long_press_fires_sos_while_still_held():
    events = run([(False, 100), (True, 5000), (False, 100)])
    assert kinds(events) == [SOS]
    t, _ = events[0]
    assert 100 + 2000 <= t <= 100 + 2000 + 60  # fires at long_ms, long before the release at 5100


def test_single_double_triple_presses():
    assert kinds(run(presses(1))) == [("press", 1)]
    assert kinds(run(presses(2))) == [("category", "medical")]
    assert kinds(run(presses(3))) == [("category", "aggression")]
    assert kinds(run(presses(4))) == [("press", 4)]


def test_pattern_reported_after_the_gap():
    events = run(presses(2))
    last_release = 100 + 2 * 320 - 200
    assert last_release + 600 <= events[0][0] <= last_release + 600 + 60


def test_slow_double_press_within_gap_is_one_pattern():
    assert kinds(run(presses(2, down=250, up=500))) == [("category", "medical")]


def test_presses_further_apart_than_gap_are_separate():
    assert kinds(run(presses(2, up=900))) == [("press", 1), ("press", 1)]


def test_bounces_shorter_than_debounce_are_not_presses():
    # Only chatter: 20 ms pulses never settle for 30 ms.
    script = [(False, 100)]
    for _ in range(20):
        script += [(True, 12), (False, 15)]
    assert kinds(run(script, bounce_ms=0)) == []


def test_heavy_bounce_on_every_edge_still_counts_right():
    assert kinds(run(presses(3), bounce_ms=20)) == [("category", "aggression")]


def test_presses_then_long_press_is_only_sos():
    script = presses(2) + [(True, 2500), (False, 100)]
    script[-3] = (False, 200)
    assert kinds(run(script)) == [SOS]


def test_many_presses_are_capped():
    assert kinds(run(presses(15, down=80, up=120))) == [("press", 9)]


def test_cancel_hold_only_when_window_open():
    hold = [(False, 100), (True, 3500), (False, 100)]
    assert kinds(run(hold, window=True)) == [CANCEL]
    assert kinds(run(hold, window=False)) == [SOS]


def test_cancel_is_reported_after_release_and_gap():
    events = run([(False, 100), (True, 3500), (False, 100)], window=True)
    release = 3600
    assert release + 600 <= events[0][0] <= release + 600 + 60


def test_duress_is_hold_then_one_tap():
    script = [(False, 100), (True, 3500), (False, 300), (True, 150), (False, 100)]
    events = run(script, window=True)
    assert kinds(events) == [DURESS]
    assert CANCEL not in kinds(events)


def test_hold_shorter_than_cancel_hold_in_window_is_nothing():
    assert kinds(run([(False, 100), (True, 2500), (False, 100)], window=True)) == []


def test_short_patterns_still_work_with_window_open():
    assert kinds(run(presses(2), window=True)) == [("category", "medical")]


def test_tap_after_the_gap_is_cancel_then_a_press():
    script = [(False, 100), (True, 3500), (False, 900), (True, 150), (False, 100)]
    assert kinds(run(script, window=True)) == [CANCEL, ("press", 1)]


def test_ticks_wrap_is_handled():
    near_wrap = (1 << 30) - 1500  # the press crosses the 2**30 ms wrap of MicroPython ticks
    assert kinds(run([(False, 100), (True, 5000), (False, 100)], t0=near_wrap)) == [SOS]
    assert kinds(run(presses(2), t0=(1 << 30) - 300)) == [("category", "medical")]


def test_interrupt_edges_and_tick():
    d = ButtonDecoder()
    got = []
    for t, level in ((1000, True), (1003, False), (1005, True), (1130, False), (1300, True), (1420, False)):
        e = d.edge(level, t)
        if e:
            got.append(e)
    t = 1420
    while t < 3000:
        e = d.tick(t)
        if e:
            got.append((t, e))
        t += 10
    assert got == [(1420 + 600, ("category", "medical"))]  # release settled at 1420


def test_custom_patterns_and_timings():
    d = ButtonDecoder(long_ms=1000, gap_ms=400, patterns={1: "fire", 4: "medical"})
    assert kinds(run(presses(1), decoder=d)) == [("category", "fire")]
    assert kinds(run(presses(4, up=300), decoder=d)) == [("category", "medical")]
    assert kinds(run([(False, 100), (True, 1200), (False, 100)], decoder=d)) == [SOS]


def test_update_allocates_no_event_objects():
    d = ButtonDecoder()
    a = run(presses(2), decoder=d)[0][1]
    b = run(presses(2), decoder=d)[0][1]
    assert a is b  # the same prebuilt tuple: safe from an interrupt handler


def test_busy_until_the_gesture_is_decided():
    d = ButtonDecoder()
    assert not d.busy()
    d.update(True, 0)
    assert d.busy()  # bouncing or pressed
    d.update(True, 40)
    d.update(False, 150)
    t = 150
    seen_busy = False
    while t < 1000:
        e = d.update(False, t)
        if e is None:
            seen_busy = seen_busy or d.busy()
        else:
            assert e == ("press", 1) and not d.busy()
            break
        t += 10
    assert seen_busy and t >= 150 + 600


def test_held_ms_counts_from_when_the_press_settled_and_is_zero_once_released():
    d = ButtonDecoder()
    pin = BouncyPin([(False, 100), (True, 900), (False, 300)])
    held = {}
    for t in range(0, 1300, 10):
        d.update(pin.level(t), ticks_add(5000, t))
        held[t] = d.held_ms(ticks_add(5000, t))
    assert held[50] == 0  # not pressed yet
    # Dated from the settled edge at 100 ms, give or take the contact bounce and one poll step.
    assert 0 < held[200] <= 100 and abs(held[600] - 500) <= 20 and held[990] > held[600]
    assert held[1100] == 0 and held[1290] == 0  # released: a pattern's gap is not a hold
