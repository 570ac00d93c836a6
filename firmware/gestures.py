"""The wearer's gestures, turned into alarms: the button's events (long press SOS, press patterns, cancel and duress
cancel), a vigorous shake, and a fall's pre-alarm; the cancel window that follows an SOS.

    gestures = Gestures(board, cfg, buttons, vibrator, alarms, power)
    MotionTask(imu, on_shake=gestures.on_shake, on_fall=gestures.on_fall, ...)
    await gestures.run()                  # the button task: polls the button every BUTTON_POLL_MS
"""
from drivers.compat import asleep_ms, ticks_add, ticks_diff, ticks_ms
from firmware.hoplog import log
from firmware.prealarm import FallPrealarm

BUTTON_POLL_MS = 10


class Gestures:
    def __init__(self, board, cfg, buttons, vibrator, alarms, power):
        self.board = board
        self.cfg = cfg
        self.buttons = buttons
        self.vibrator = vibrator
        self.alarms = alarms
        self.power = power
        self.prealarm = FallPrealarm(cfg["fall_cancel_s"], buttons, vibrator, alarms.raise_alarm)
        self._cancel_until = None  # ticks when the SOS cancel window closes, while it is open

    def busy(self):
        """A gesture, a cancel window or a fall pre-alarm is in progress: the board must stay awake."""
        if self.buttons.busy() or self.board.button.pressed():
            return True
        return self._cancel_until is not None or self.prealarm.engaged()

    def on_button_event(self, event):
        kind = event[0]
        log("fw.button", kind=kind, arg=event[1])
        if kind == "sos":
            self._sos("GEN")
        elif kind == "category":
            self._sos(event[1])
        elif kind in ("cancel", "duress"):
            # Identical feel for both: a bystander must not tell a duress cancel from a real one.
            self.vibrator.play("cancelled")
            self.alarms.raise_alarm("CAN" if kind == "cancel" else "DUR")
            self._close_cancel_window()

    def on_shake(self, onset_ms):
        log("fw.shake", onset_ago_ms=ticks_diff(ticks_ms(), onset_ms))
        self._sos("GEN")

    def on_fall(self, impact_ms):
        if self.prealarm.open(impact_ms):
            self._sync_cancel_window()

    def _sos(self, category):
        self.vibrator.play("pressed")
        self.alarms.raise_alarm("SOS", category)
        self._cancel_until = ticks_add(ticks_ms(), self.cfg["cancel_window_s"] * 1000)
        self.buttons.cancel_window(True)

    def _close_cancel_window(self):
        self._cancel_until = None
        self._sync_cancel_window()

    def _sync_cancel_window(self):
        # The decoder's window stays open while an SOS or a fall pre-alarm can be cancelled, or a fall-cancelling
        # press is still going on (so its hold cannot turn into an SOS).
        self.buttons.cancel_window(self._cancel_until is not None or self.prealarm.engaged())

    def poll(self, now):
        """One look at the button (every BUTTON_POLL_MS)."""
        event = self.buttons.update(self.board.button.pressed(), now)
        if self.prealarm.engaged():
            event = self.prealarm.tick(now, event)
            if not self.prealarm.engaged():
                self._sync_cancel_window()
        if event is not None:
            self.on_button_event(event)
        elif not self.prealarm.engaged():  # a press in a fall's pre-alarm cancels it
            self.power.button_held(self.buttons.held_ms(now), now)  # an SOS may be coming: start the modem
        if self._cancel_until is not None and ticks_diff(now, self._cancel_until) > 0:
            self._close_cancel_window()

    async def run(self):
        while True:
            self.poll(ticks_ms())
            await asleep_ms(BUTTON_POLL_MS)
