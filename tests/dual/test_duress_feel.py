# A duress cancel feels like a real cancel (firmware/alarms.py, the "discreet" class of drivers/alert.py): whatever
# the hub answers about a DUR, or about the alarm it cancelled, the motor plays what it plays for a cancel and its
# receipt, never "help has seen you"; an SOS is felt as before. The wearer's gestures go through firmware/gestures.py
# and the hub's answers through firmware/hublink.py, authenticated. Runs on CPython and on MicroPython.
import asyncio
import json

from drivers.alert import encode_ack
from drivers.button import ButtonDecoder
from drivers.gps import GPS
from firmware.alarms import Alarms
from firmware.config import DEFAULTS
from firmware.flashstore import AlarmState
from firmware.gestures import Gestures
from firmware.hublink import HubLink
from firmware.uplink import Uplink
from firmware.vibration import PATTERNS

KEY = b"0123456789abcdef0123456789abcdef"
DEVICE = "ML-0042"


class Flash:
    def __init__(self):
        self.files = {}

    def read(self, name, default):
        return json.loads(self.files[name]) if name in self.files else default

    def write(self, name, value):
        self.files[name] = json.dumps(value)


class Motor:
    def __init__(self):
        self.played = []

    def play(self, name):
        self.played.append(name)

    def pulses(self):
        """What the wearer (and a bystander) feels: the motor's on/off durations, pattern after pattern."""
        return [PATTERNS[name] for name in self.played]


class Power:
    def alarm_raised(self, event):
        pass

    def receipt(self, event):
        pass

    def operator_acted(self, status):
        pass

    def button_held(self, held_ms, now=None):
        pass


class Board:
    button = None


class Wearable:
    """The firmware's alarm path as app.py wires it, on a flash that outlives a reboot."""

    def __init__(self, flash=None):
        self.flash = flash or Flash()
        cfg = dict(DEFAULTS)
        cfg.update({"device_id": DEVICE, "key": KEY, "hub_number": "+22376000001", "wearer": "Awa"})
        self.state = AlarmState(self.flash)
        self.motor = Motor()
        power = Power()
        uplink = Uplink(None, self.state, cfg, lambda hop, **detail: None, self.motor)
        self.link = HubLink(None, self.state, cfg, None)
        self.alarms = Alarms(self.state, cfg, GPS(), self.link, uplink, power, self.motor, lambda: 57)
        self.link.on_ack = self.alarms.hub_answered
        buttons = ButtonDecoder(long_ms=cfg["long_press_ms"], patterns=cfg["patterns"])
        self.gestures = Gestures(Board(), cfg, buttons, self.motor, self.alarms, power)

    def gesture(self, kind):
        """The button decoder's event for a gesture ("sos", "cancel", "duress"); returns the alarm's counter."""
        self.gestures.on_button_event((kind, None))
        return self.state.counter

    def hub_says(self, counter, status):
        hub_counter = self.state.hub_counter + 1
        text = encode_ack(KEY, DEVICE, hub_counter, counter, status)
        asyncio.run(self.link.on_sms({"number": "+22376000001", "text": text}))
        assert self.state.hub_counter == hub_counter  # taken: authenticated and new


def cancelled_and_receipted():
    wearable = Wearable()
    wearable.hub_says(wearable.gesture("cancel"), "RCV")
    return wearable.motor.pulses()


def test_every_answer_about_a_duress_feels_like_the_receipt_of_a_cancel():
    wearable = Wearable()
    duress = wearable.gesture("duress")
    for status in ("RCV", "ACK", "DSP", "RES"):
        wearable.hub_says(duress, status)
    assert wearable.motor.pulses() == cancelled_and_receipted()
    assert wearable.motor.played == ["cancelled", "received"]


def test_an_operator_s_answer_that_overtakes_the_duress_receipt_feels_like_that_receipt():
    wearable = Wearable()
    duress = wearable.gesture("duress")
    wearable.hub_says(duress, "ACK")  # the RCV was lost or is still at the SMS centre
    wearable.hub_says(duress, "DSP")
    wearable.hub_says(duress, "RCV")
    assert wearable.motor.pulses() == cancelled_and_receipted()
    assert wearable.state.pending == []


def test_answers_about_the_sos_a_duress_cancelled_are_not_felt_either():
    cancelled = Wearable()
    sos = cancelled.gesture("sos")
    can = cancelled.gesture("cancel")
    cancelled.hub_says(sos, "RCV")
    cancelled.hub_says(can, "RCV")
    duressed = Wearable()
    sos = duressed.gesture("sos")
    duress = duressed.gesture("duress")
    duressed.hub_says(sos, "RCV")
    duressed.hub_says(duress, "RCV")
    for status in ("ACK", "DSP"):  # the hub escalates the SOS, silently: responders take it and go
        duressed.hub_says(sos, status)
        duressed.hub_says(duress, status)
    assert duressed.motor.pulses() == cancelled.motor.pulses()
    assert duressed.motor.played == ["pressed", "cancelled", "received", "received"]


def test_a_reboot_between_the_duress_and_the_operator_s_answer_keeps_it_discreet():
    wearable = Wearable()
    duress = wearable.gesture("duress")
    wearable.hub_says(duress, "RCV")
    rebooted = Wearable(wearable.flash)
    rebooted.hub_says(duress, "ACK")
    rebooted.hub_says(duress, "DSP")
    assert rebooted.motor.played == []


def test_a_power_cut_before_the_duress_counter_was_kept_still_keeps_it_discreet():
    wearable = Wearable()
    duress = wearable.gesture("duress")
    del wearable.flash.files["discreet.json"]  # the cut came between the alarm's write and this one
    rebooted = Wearable(wearable.flash)
    rebooted.hub_says(duress, "ACK")
    assert rebooted.motor.played == ["received"]  # the pending DUR's first word: as a cancel's receipt


def test_an_sos_is_felt_as_before_also_after_a_duress():
    wearable = Wearable()
    sos = wearable.gesture("sos")
    wearable.hub_says(sos, "RCV")
    wearable.hub_says(sos, "ACK")
    wearable.hub_says(sos, "DSP")
    assert wearable.motor.played == ["pressed", "received", "ack", "dispatched"]
    later = Wearable()
    later.hub_says(later.gesture("duress"), "RCV")
    sos = later.gesture("sos")  # a new call for help, after the threat has gone
    later.hub_says(sos, "ACK")
    assert later.motor.played[-2:] == ["pressed", "ack"]
    assert later.motor.pulses()[-1] == PATTERNS["ack"]
