"""Button gestures: long press (SOS), press patterns (category), cancel and duress cancel.

Pure and clock-free: the caller passes the pin level and the time (`now_ms`, ticks that wrap, compared only
with drivers.compat.ticks_diff). No allocation per call: every event is a tuple built once in the constructor, so
`update()` may also be called from an interrupt handler (`edge()`).

Events (tuples `(kind, arg)`):
  ("sos", None)          a press held for long_ms: fires WHILE still held, the wearer feels it at once.
  ("category", name)     N short presses then a pause of gap_ms, N mapped in `patterns` (2: medical, ...).
  ("press", n)           N short presses then a pause, N not mapped.
  ("cancel", None)       while the app has a cancel window open: a hold of cancel_hold_ms, released, then
                         no press for gap_ms.
  ("duress", None)       while the cancel window is open: the same hold, released, then ONE more press
                         within gap_ms. To a bystander it looks like "hold to cancel, tap to confirm"; the app
                         stops the siren/vibration as for a cancel but escalates silently.

Constants and why (see docs/triggers.md):
  long_ms=2000        long enough that a knock or a grab does not call for help, short enough under stress.
  debounce_ms=30      mechanical tact switches bounce for 1-10 ms (up to ~20 ms when worn); 30 ms rejects
                      that and is still far below the ~100 ms of the quickest deliberate press.
  gap_ms=600          people repeat presses 150-400 ms apart; elderly wearers are slower. 600 ms ends a
                      pattern quickly without splitting a slow double press.
  cancel_hold_ms=3000 longer than long_ms so a panicked SOS press never reads as a cancel.
"""
from drivers.compat import ticks_diff

SOS = ("sos", None)
CANCEL = ("cancel", None)
DURESS = ("duress", None)

MAX_PRESSES = 9  # counts above this are reported as 9: a frantic hammering is still "many presses"

_HOLD_NONE = 0
_HOLD_SOS = 1  # long press fired SOS: the release is not a short press
_HOLD_CANCEL = 2  # cancel hold reached: on release wait gap_ms for a duress tap
_HOLD_USED = 3  # press already consumed (it was the duress tap)


class ButtonDecoder:
    def __init__(self, long_ms=2000, debounce_ms=30, gap_ms=600, patterns=None, cancel_hold_ms=3000):
        if patterns is None:
            patterns = {2: "medical", 3: "aggression"}
        self.long_ms = long_ms
        self.debounce_ms = debounce_ms
        self.gap_ms = gap_ms
        self.cancel_hold_ms = cancel_hold_ms
        events = [None]
        for n in range(1, MAX_PRESSES + 1):
            name = patterns.get(n)
            events.append(("category", name) if name is not None else ("press", n))
        self._pattern_events = events
        self._cancel_open = False
        self.reset()

    def reset(self):
        """Forget any press in progress (e.g. after the app handled an alarm)."""
        self._raw = False
        self._raw_t = 0
        self._stable = False
        self._down_t = 0
        self._up_t = 0
        self._count = 0
        self._hold = _HOLD_NONE
        self._cancel_pending = False

    def cancel_window(self, is_open):
        """The app opens this while an alarm may still be cancelled, and closes it after."""
        self._cancel_open = bool(is_open)

    def pressed(self):
        """The debounced level."""
        return self._stable

    def held_ms(self, now_ms):
        """How long the current debounced press has lasted; 0 while released."""
        return ticks_diff(now_ms, self._down_t) if self._stable else 0

    def busy(self):
        """True while a press, a pattern or a cancel is in progress: the firmware must keep calling update()
        (every ~10 ms) and must not deep-sleep until this is False, or the pending gesture's times go stale."""
        return self._stable or self._raw != self._stable or self._count > 0 or self._cancel_pending

    def update(self, pressed, now_ms):
        """Feed the pin level (True = pressed) every ~10 ms; returns an event tuple or None."""
        pressed = bool(pressed)
        if pressed != self._raw:
            # With interrupt edges nobody polled in between: a level that had already settled is accepted
            # before the new edge replaces it.
            event = None
            if self._raw != self._stable and ticks_diff(now_ms, self._raw_t) >= self.debounce_ms:
                event = self._accept()
            self._raw = pressed
            self._raw_t = now_ms
            if event is not None:
                return event
        return self._step(now_ms)

    def edge(self, pressed, now_ms):
        """Feed one interrupt edge. Still call tick() periodically: long press and gaps need the clock."""
        return self.update(pressed, now_ms)

    def tick(self, now_ms):
        """Advance the clock without a new pin reading (interrupt-driven use)."""
        return self._step(now_ms)

    def _step(self, now):
        if self._raw != self._stable and ticks_diff(now, self._raw_t) >= self.debounce_ms:
            event = self._accept()
            if event is not None:
                return event
        if self._stable:
            if self._hold == _HOLD_NONE:
                held = ticks_diff(now, self._down_t)
                if self._cancel_open:
                    if held >= self.cancel_hold_ms:
                        self._hold = _HOLD_CANCEL
                        self._count = 0
                elif held >= self.long_ms:
                    self._hold = _HOLD_SOS
                    self._count = 0
                    return SOS
            return None
        if self._cancel_pending and ticks_diff(now, self._up_t) >= self.gap_ms:
            self._cancel_pending = False
            return CANCEL
        if self._count and ticks_diff(now, self._up_t) >= self.gap_ms:
            return self._end_pattern()
        return None

    def _accept(self):
        # The level has been steady for debounce_ms: accept it, dated from when it settled.
        self._stable = self._raw
        return self._on_press(self._raw_t) if self._stable else self._on_release(self._raw_t)

    def _end_pattern(self):
        n = self._count
        self._count = 0
        return self._pattern_events[n]

    def _on_press(self, t):
        event = None
        if self._cancel_pending:
            self._cancel_pending = False
            if ticks_diff(t, self._up_t) < self.gap_ms:
                self._hold = _HOLD_USED
                self._down_t = t
                return DURESS
            event = CANCEL  # the tap came too late (caller was slow to poll): it was a plain cancel
        elif self._count and ticks_diff(t, self._up_t) >= self.gap_ms:
            event = self._end_pattern()  # late poll: the previous pattern had already ended
        self._down_t = t
        self._hold = _HOLD_NONE
        return event

    def _on_release(self, t):
        self._up_t = t
        hold = self._hold
        self._hold = _HOLD_NONE
        if hold == _HOLD_CANCEL:
            self._cancel_pending = True
        elif hold == _HOLD_NONE and ticks_diff(t, self._down_t) < self.long_ms and self._count < MAX_PRESSES:
            self._count += 1  # a press between long_ms and cancel_hold_ms (window open) counts as nothing
        return None
