# The wearable's uplink (firmware/uplink.py) with a simulated modem that takes or refuses SMS: alarms are resent until
# the hub's receipt and escalate after max_tries; a heartbeat is done once the modem took it and dropped after
# max_tries without escalating; nothing is sent (or counted) while the power manager holds the modem.
# Runs on CPython and on MicroPython.
import asyncio
import json

from drivers.compat import asleep_ms
from firmware.config import DEFAULTS
from firmware.flashstore import AlarmState
from firmware.uplink import Uplink

HUB = "+22376000001"
CONTACT = "+22376000002"


class Flash:
    """The flash as the AlarmState sees it: named JSON documents (written whole, read back as written)."""

    def __init__(self):
        self.files = {}

    def read(self, name, default):
        return json.loads(self.files[name]) if name in self.files else default

    def write(self, name, value):
        self.files[name] = json.dumps(value)


class SimModem:
    def __init__(self):
        self.working = True
        self.sent = []

    async def send_sms(self, number, text):
        if not self.working:
            raise OSError("+CMS ERROR: 331")  # no network service
        self.sent.append((number, text))
        return [len(self.sent)]


class Motor:
    def __init__(self):
        self.played = []

    def play(self, name):
        self.played.append(name)


def rig(**cfg):
    config = dict(DEFAULTS)
    config.update({"hub_number": HUB, "wearer": "Awa", "lang": "en",
                   "contacts": [{"name": "Moussa", "phone": CONTACT, "lang": "en"}], "max_tries": 3})
    config.update(cfg)
    state = AlarmState(Flash())
    modem = SimModem()
    vibrator = Motor()
    logs = []

    def log(hop, **detail):
        detail["hop"] = hop
        logs.append(detail)

    uplink = Uplink(modem, state, config, log, vibrator)
    return uplink, state, modem, vibrator, logs


def alarm(state, event, n=None):
    n = n or state.next_counter()
    state.add({"n": n, "e": event, "text": "DM1;d=W1;n=%d;e=%s" % (n, event), "tries": 0,
               "a": {"event": event, "category": "GEN", "cell": None, "lat": None, "lon": None}})
    return n


def service_all(uplink, state):
    """One round of the uplink's loop, as if every retry were due now."""
    uplink._due.clear()
    for item in list(state.pending):
        asyncio.run(uplink._service(item))


def test_an_alarm_is_resent_until_receipted_and_the_contacts_hear_of_it_once():
    uplink, state, modem, vibrator, logs = rig()
    n = alarm(state, "SOS")
    service_all(uplink, state)
    service_all(uplink, state)
    to_hub = [m for m in modem.sent if m[0] == HUB]
    to_contact = [m for m in modem.sent if m[0] == CONTACT]
    assert len(to_hub) == 2 and len(to_contact) == 1
    assert state.find(n)["tries"] == 2
    assert uplink.receipt(n)["n"] == n and state.pending == []


def test_an_alarm_the_hub_never_receipts_escalates_and_is_still_kept():
    uplink, state, modem, vibrator, logs = rig()
    n = alarm(state, "SOS")
    for _ in range(4):
        service_all(uplink, state)
    assert vibrator.played == ["failed"]  # once
    assert any("(hub unreachable)" in text for number, text in modem.sent if number == CONTACT)
    assert state.find(n) is not None  # never dropped


def test_a_heartbeat_is_done_once_the_modem_took_it():
    uplink, state, modem, vibrator, logs = rig()
    went = []
    uplink.on_sent = went.append
    n = alarm(state, "HB")
    service_all(uplink, state)
    assert state.pending == [] and [a["n"] for a in went] == [n]
    assert modem.sent == [(HUB, "DM1;d=W1;n=%d;e=HB" % n)]  # to the hub only, never to the contacts


def test_a_heartbeat_that_cannot_go_is_dropped_after_max_tries_without_escalating():
    uplink, state, modem, vibrator, logs = rig()
    modem.working = False
    alarm(state, "HB")
    for _ in range(3):
        service_all(uplink, state)
    assert state.pending == [] and vibrator.played == [] and modem.sent == []
    assert [e["hop"] for e in logs if e["hop"] == "fw.telemetry_dropped"] == ["fw.telemetry_dropped"]
    assert not [e for e in logs if e["hop"] == "fw.escalate"]


def test_nothing_is_sent_or_counted_while_the_modem_is_held():
    uplink, state, modem, vibrator, logs = rig()
    held = [True]
    uplink.hold = lambda: held[0]
    n = alarm(state, "SOS")

    async def one_round():
        task = asyncio.create_task(uplink.run())
        await asleep_ms(50)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass

    asyncio.run(one_round())
    assert modem.sent == [] and state.find(n)["tries"] == 0
    held[0] = False
    asyncio.run(one_round())
    assert modem.sent and state.find(n)["tries"] == 1
