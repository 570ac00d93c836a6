"""Vibration patterns the wearer learns to tell apart, played on the motor by one task.
Durations alternate on, off, on... in ms."""
from drivers.compat import asleep_ms

PATTERNS = {
    "pressed": (120,),                      # the button did something: an alarm is being raised
    "received": (150, 150, 150),            # the hub has stored the alarm
    "ack": (600, 250, 600, 250, 600),       # help has seen you: an operator acknowledged
    "dispatched": (600, 250, 600, 250, 600, 250, 600),
    "cancelled": (80, 80, 80),              # cancel (and, identically, the duress cancel)
    "failed": (100, 100, 100, 100, 100, 100, 100, 100, 100),  # the alarm could not be delivered yet
    "prealarm": (300, 300, 300, 300),       # a fall was detected: press to cancel
}


class Vibrator:
    def __init__(self, motor, on_play=None):
        self.motor = motor
        self.on_play = on_play
        self._queue = []
        self._wake = None
        self._playing = False

    def busy(self):
        return self._playing or bool(self._queue)

    def play(self, name):
        if name in PATTERNS:
            self._queue.append(name)

    async def run(self):
        while True:
            if not self._queue:
                await asleep_ms(20)
                continue
            name = self._queue.pop(0)
            self._playing = True
            if self.on_play is not None:
                self.on_play(name)
            on = True
            for duration in PATTERNS[name]:
                if on:
                    self.motor.on()
                else:
                    self.motor.off()
                await asleep_ms(duration)
                on = not on
            self.motor.off()
            await asleep_ms(400)  # a gap so two patterns in a row are felt as two
            self._playing = False
