"""The post's own panel: a buzzer and LEDs that tell a police post where nobody watches a screen that an incident
waits for acknowledgement and whether the hub's links are up, and a button that acknowledges on the post's behalf.

Wiring (the BCM pins come from [panel] in hub.toml, hub.config.parse_panel; any part may be left out):
  buzzer       an active buzzer (it sounds by itself when powered) switched by an NPN transistor: GPIO -> 1 kOhm
               -> base; buzzer between 5 V and the collector; emitter to GND. High = sounding.
  waiting_led  GPIO -> 330 Ohm -> LED -> GND, and the same for modem_led and broker_led. High = lit.
  button       a push button between the GPIO and GND; the Pi's internal pull-up holds the pin high, a press
               pulls it low (debounced by BUTTON_BOUNCE_S).

What it shows:
  waiting_led  lit while an urgent incident (drivers/alert.py URGENT_EVENTS, or a keyword report) is "new"
  buzzer       WAITING_BEEPS while one is, silent otherwise
  modem_led    lit while the modem's link is up; LINK_DOWN_BLINK while it is down or not up yet (bus: modem.link)
  broker_led   the same for the MQTT broker's link (bus: mqtt.link)
  button       acknowledges the oldest waiting urgent incident, as the operator "panel button (<post>)": the
               wearer's ack SMS and the audit hop follow exactly as for a click on the console

The panel plays its patterns itself, from the injected clock, rather than with gpiozero's blink()/beep(): their
background threads keep wall-clock time, whereas here every edge of every pin is a function of clock(), so a test
that drives the clock reads exact pin histories. One worker thread does all the work (store reads, actions, pins):
a bus publisher or gpiozero's callback thread only hands it an item and never waits for the store.
"""
import logging
import queue
import threading
import time
from dataclasses import dataclass

from drivers.alert import URGENT_EVENTS
from hub.config import PanelPins, parse_panel
from hub.incidents.operator import ActionError

__all__ = ["BUTTON_BOUNCE_S", "LINK_DOWN_BLINK", "WAITING_BEEPS", "Panel", "PanelPins", "Pattern", "parse_panel"]

log = logging.getLogger(__name__)

BUTTON_BOUNCE_S = 0.05  # a push button's contacts bounce for a few ms: one press must acknowledge one incident
# Far more waiting incidents than any post has: the oldest must be among those read.
WAITING_SCAN = 10_000
# The shortest wait of the worker between two renders: a float remainder of a few ns must not spin it.
MIN_WAIT_S = 0.01


@dataclass(frozen=True)
class Pattern:
    """On and off durations in seconds, alternating and starting with on, repeated for as long as it plays."""

    durations: tuple

    def at(self, elapsed):
        """(on, seconds until that changes), `elapsed` seconds after the pattern started."""
        into = elapsed % sum(self.durations)
        on = True
        for duration in self.durations:
            if into < duration:
                return on, duration - into
            into -= duration
            on = not on
        return True, self.durations[0]  # the float remainder fell on the period's end: the next start


# Two short beeps then a pause, every 2 s: unlike a smoke alarm (three) or a phone, and hard to sleep through.
WAITING_BEEPS = Pattern((0.2, 0.2, 0.2, 1.4))
# A link LED that blinks at 1 Hz: down (or never up since the hub started).
LINK_DOWN_BLINK = Pattern((0.5, 0.5))

_LINK_EVENTS = {"modem.link": "modem", "mqtt.link": "broker"}
_INCIDENT_EVENTS = ("alert.new", "alert.updated")
_REFRESH, _PRESS, _STOP = "refresh", "press", "stop"


def is_waiting_urgent(alert):
    """An incident someone may be in danger in, not yet acknowledged by anyone."""
    return alert["state"] == "new" and (alert["event"] in URGENT_EVENTS or alert.get("source") == "report")


class Panel:
    def __init__(self, pins, store, bus, actions, post_name="post", pin_factory=None, clock=time.monotonic):
        """pins: hub.config.PanelPins. store: the hub's Store. bus: the hub's Bus. actions: the hub's
        hub.incidents.operator.OperatorActions. post_name: who the button acts for, in the audit trail.
        pin_factory: gpiozero's (None: the Pi's own). clock: seconds, for the buzzer's and LEDs' patterns."""
        self.pins = pins
        self.store = store
        self.bus = bus
        self.actions = actions
        self.operator = f"panel button ({post_name})"
        self.pin_factory = pin_factory
        self.clock = clock
        self._work = queue.Queue()
        self._refresh_queued = False
        self._lock = threading.Lock()
        self._outputs = {}
        self._button = None
        self._unsubscribe = None
        self._thread = None
        self._waiting = []
        self._waiting_since = None
        self._links = {}  # "modem"/"broker" -> (up, since)

    # -- lifecycle -------------------------------------------------------------------------------------------
    def start(self):
        """Claim the pins and show what the store holds now (an incident may have been waiting across a restart).
        gpiozero raises its own errors (no GPIO on this machine, a pin in use): the caller names [panel]."""
        from gpiozero import LED, Button, Buzzer

        pins = self.pins
        now = self.clock()
        self._links = {"modem": (False, now), "broker": (False, now)}
        try:
            for name, pin, kind in (("buzzer", pins.buzzer, Buzzer), ("waiting_led", pins.waiting_led, LED),
                                    ("modem_led", pins.modem_led, LED), ("broker_led", pins.broker_led, LED)):
                if pin is not None:
                    self._outputs[name] = kind(pin, active_high=True, initial_value=False,
                                               pin_factory=self.pin_factory)
            if pins.button is not None:
                self._button = Button(pins.button, pull_up=True, bounce_time=BUTTON_BOUNCE_S,
                                      pin_factory=self.pin_factory)
                self._button.when_pressed = self._pressed
        except Exception:
            self._close_devices()
            raise
        self._unsubscribe = self.bus.subscribe(self._on_event)
        self._thread = threading.Thread(target=self._run, name="panel", daemon=True)
        self._thread.start()
        self.refresh()
        return self

    def stop(self):
        """Release the pins (LEDs off, buzzer silent) after the work already handed over is done."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._button is not None:
            self._button.when_pressed = None
        if self._thread is not None:
            self._work.put(_STOP)
            self._thread.join()
            self._thread = None
        self._close_devices()

    def refresh(self):
        """Read the waiting incidents again and show the pins for clock() now (the panel also does it on every
        incident event, and at every edge of a pattern)."""
        self._request_refresh()

    def wait_until_idle(self):
        """Return once everything handed to the panel so far (events, presses) has been handled and shown."""
        self._work.join()

    # -- what the panel is told ------------------------------------------------------------------------------
    def _on_event(self, event):
        # The publisher's thread (paho's, the asyncio loop, a console handler): hand over, never read the store here.
        link = _LINK_EVENTS.get(event.kind)
        if link is not None and isinstance(event.detail.get("up"), bool):
            self._work.put(("link", link, event.detail["up"]))
        elif event.kind in _INCIDENT_EVENTS:
            self._request_refresh()

    def _request_refresh(self):
        # A burst of alerts needs one store read, not one per alert.
        with self._lock:
            if self._refresh_queued:
                return
            self._refresh_queued = True
        self._work.put(_REFRESH)

    def _pressed(self):
        self._work.put(_PRESS)  # gpiozero's callback thread

    # -- the worker ------------------------------------------------------------------------------------------
    def _run(self):
        wait = None
        while True:
            try:
                item = self._work.get(timeout=wait)
            except queue.Empty:
                item = None  # time for the next edge of a pattern
            if item == _STOP:
                self._work.task_done()
                return
            try:
                if item is not None:
                    self._handle(item)
                wait = self._show(self.clock())
            except Exception:  # the panel must keep showing whatever one bad read or action did
                log.exception("panel: handling %r failed", item)
            finally:
                if item is not None:
                    self._work.task_done()

    def _handle(self, item):
        if item == _REFRESH:
            with self._lock:
                self._refresh_queued = False
            self._read_waiting()
        elif item == _PRESS:
            self._acknowledge_oldest()
            self._read_waiting()
        else:
            _kind, link, up = item
            if self._links[link][0] != up:
                self._links[link] = (up, self.clock())

    def _read_waiting(self):
        """The waiting urgent incidents, oldest first (the store lists newest first)."""
        alerts = self.store.list_alerts(states=("new",), limit=WAITING_SCAN)
        self._waiting = [alert for alert in reversed(alerts) if is_waiting_urgent(alert)]
        if not self._waiting:
            self._waiting_since = None
        elif self._waiting_since is None:
            self._waiting_since = self.clock()  # the buzzer's pattern starts with a beep
        return self._waiting

    def _acknowledge_oldest(self):
        for alert in self._read_waiting():
            try:
                acknowledged = self.actions.apply(alert["id"], "acknowledge", operator=self.operator)
            except ActionError as exc:  # someone acknowledged it since the read: the next one is what sounds
                log.info("panel button: alert %s: %s", alert["id"], exc)
                continue
            log.info("panel button acknowledged alert %s (%s)", alert["id"], alert["event"])
            return acknowledged
        return None  # nothing waits: the press is a no-op

    def _show(self, now):
        """Set every pin for `now`; returns the seconds until the next edge of a pattern (None: none plays)."""
        waiting = bool(self._waiting)
        wanted = {"waiting_led": (waiting, None),
                  "buzzer": (False, None) if not waiting else WAITING_BEEPS.at(now - self._waiting_since)}
        for link in ("modem", "broker"):
            up, since = self._links[link]
            wanted[f"{link}_led"] = (True, None) if up else LINK_DOWN_BLINK.at(now - since)
        next_edge = None
        for name, device in self._outputs.items():
            on, changes_in = wanted[name]
            if on:
                device.on()
            else:
                device.off()
            if changes_in is not None:
                next_edge = changes_in if next_edge is None else min(next_edge, changes_in)
        return None if next_edge is None else max(next_edge, MIN_WAIT_S)

    def _close_devices(self):
        for device in self._outputs.values():
            device.off()
            device.close()
        self._outputs = {}
        if self._button is not None:
            self._button.close()
            self._button = None
