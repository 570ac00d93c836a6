"""The fall pre-alarm: after a detected fall the wearable buzzes for `window_s` and then raises a FALL alarm, unless a
press cancels it first. The rest of the cancelling press (a cancel hold, a duress tap) is absorbed until the button
has been released for longer than a pattern gap, so that it cannot become an SOS or a CAN; a duress gesture in it
still sends DUR, silently.

    prealarm = FallPrealarm(window_s, buttons, vibrator, raise_alarm)
    prealarm.open(impact_ms)              # False when one is already open
    if prealarm.engaged():                # then after every decoder update:
        event = prealarm.tick(now, event) # the button event still to handle, or None
"""
from drivers.compat import ticks_add, ticks_diff, ticks_ms
from firmware.hoplog import log

REPEAT_MS = 5000  # the pre-alarm buzzes again this often until it is cancelled or sent: a dazed wearer may miss one
RELEASE_MARGIN_MS = 200  # beyond the decoder's pattern gap before the button is the wearer's again


class FallPrealarm:
    def __init__(self, window_s, buttons, vibrator, raise_alarm):
        self.window_s = window_s
        self.buttons = buttons
        self.vibrator = vibrator
        self.raise_alarm = raise_alarm
        self._until = None  # ticks when the FALL goes, while the pre-alarm is open
        self._buzzed = 0  # ticks of the last pre-alarm buzz
        self._absorbing = False  # the cancelling press's gesture is still going on
        self._released = None  # ticks since which the button has been up, while absorbing

    def engaged(self):
        """Open, or absorbing the press that cancelled it: the button is not the wearer's usual one."""
        return self._until is not None or self._absorbing

    def open(self, impact_ms):
        if self._until is not None:
            return False  # one pre-alarm at a time
        log("fw.fall_prealarm", impact_ago_ms=ticks_diff(ticks_ms(), impact_ms), window_s=self.window_s)
        self.vibrator.play("prealarm")
        self._buzzed = ticks_ms()
        self._until = ticks_add(self._buzzed, self.window_s * 1000)
        return True

    def tick(self, now, event):
        if self._until is not None:
            if self.buttons.pressed():
                self._until = None
                self._absorbing = True
                self._released = None
                log("fw.fall_cancelled", how="press")
                self.vibrator.play("cancelled")
            elif ticks_diff(now, self._until) >= 0:
                self._until = None
                log("fw.fall_alarm", window_s=self.window_s)
                self.vibrator.play("pressed")
                self.raise_alarm("FALL", "MED")
            elif ticks_diff(now, self._buzzed) >= REPEAT_MS:
                self._buzzed = now
                self.vibrator.play("prealarm")
        if self._absorbing:
            event = self._absorb(now, event)
        return event

    def _absorb(self, now, event):
        if event is not None:
            log("fw.button", kind=event[0], arg=event[1], absorbed="fall_cancel")
            if event[0] == "duress":
                # Forced to cancel: felt exactly like the cancel (already played), sent silently.
                self.raise_alarm("DUR", "MED")
        if self.buttons.pressed():
            self._released = None
        elif self._released is None:
            self._released = now
        elif ticks_diff(now, self._released) > self.buttons.gap_ms + RELEASE_MARGIN_MS:
            self._absorbing = False
            log("fw.fall_cancel_done")  # the button is back to normal
        return None
