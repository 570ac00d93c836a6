# The hub's answers on the wearable: firmware/hublink.py takes only authenticated, never replayed acks, and
# firmware/alarms.py forgets a receipted alarm and plays what the wearer must feel (nothing for silent events).
# Alarms raised without a fix carry the serving cell the link knows. Runs on CPython and on MicroPython.
import asyncio
import json

from drivers.alert import encode_ack
from drivers.gps import GPS
from firmware.alarms import Alarms
from firmware.config import DEFAULTS
from firmware.flashstore import AlarmState
from firmware.hublink import HubLink
from firmware.uplink import Uplink

KEY = b"0123456789abcdef0123456789abcdef"
DEVICE = "ML-0042"
CELL = {"mcc": 610, "mnc": 2, "lac": 4, "cell_id": 77}


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


class Power:
    def __init__(self):
        self.told = []

    def alarm_raised(self, event):
        self.told.append(("raised", event))

    def receipt(self, event):
        self.told.append(("receipt", event))

    def operator_acted(self, status):
        self.told.append(("acted", status))


def rig():
    cfg = dict(DEFAULTS)
    cfg.update({"device_id": DEVICE, "key": KEY, "hub_number": "+22376000001", "wearer": "Awa"})
    state = AlarmState(Flash())
    motor = Motor()
    power = Power()
    uplink = Uplink(None, state, cfg, lambda hop, **detail: None, motor)
    link = HubLink(None, state, cfg, None)
    link.cell = CELL
    alarms = Alarms(state, cfg, GPS(), link, uplink, power, motor, lambda: 57)
    link.on_ack = alarms.hub_answered
    return link, alarms, state, motor, power


def hub_says(link, hub_counter, counter, status, key=KEY):
    asyncio.run(link.on_sms({"number": "+22376000001", "text": encode_ack(key, DEVICE, hub_counter, counter, status)}))


def test_an_alarm_without_a_fix_carries_the_cell_and_waits_for_its_position():
    link, alarms, state, motor, power = rig()
    n = alarms.raise_alarm("SOS", "MED")
    alarm = state.find(n)
    assert alarm["a"]["cell"] == CELL and alarm["a"]["lat"] is None and ";b=57" in alarm["text"]
    assert alarms.awaiting_fix() and power.told == [("raised", "SOS")]
    alarms.raise_alarm("HB")
    assert len(state.pending) == 2


def test_a_receipt_forgets_the_alarm_and_is_felt_except_for_silent_events():
    link, alarms, state, motor, power = rig()
    sos = alarms.raise_alarm("SOS")
    lowbat = alarms.raise_alarm("LOWBAT")
    hub_says(link, 1, sos, "RCV")
    hub_says(link, 2, lowbat, "RCV")
    assert state.pending == [] and motor.played == ["received"]  # the wearer did not raise a LOWBAT: not felt
    assert power.told[-2:] == [("receipt", "SOS"), ("receipt", "LOWBAT")]


def test_an_operator_s_action_is_felt_and_ends_the_alarm_even_without_its_receipt():
    link, alarms, state, motor, power = rig()
    sos = alarms.raise_alarm("SOS")
    hub_says(link, 5, sos, "ACK")
    hub_says(link, 6, sos, "DSP")
    hub_says(link, 7, sos, "RES")
    assert state.pending == [] and motor.played == ["ack", "dispatched"]
    assert [t for t in power.told if t[0] == "acted"] == [("acted", "ACK"), ("acted", "DSP"), ("acted", "RES")]


def test_replayed_forged_and_unrelated_sms_change_nothing():
    link, alarms, state, motor, power = rig()
    sos = alarms.raise_alarm("SOS")
    hub_says(link, 3, sos, "ACK")
    hub_says(link, 3, sos, "DSP")  # the same hub counter again: a replay
    hub_says(link, 4, sos, "DSP", key=b"another key of thirty-two bytes!")
    asyncio.run(link.on_sms({"number": "+33600000000", "text": "Your parcel is on its way"}))
    assert motor.played == ["ack"] and state.hub_counter == 3
