"""Heartbeats, liveness and low battery at the hub: an HB is checked and receipted like any alert but is not an
incident; any new message updates the device's status; the watchdog raises "device silent" once and "device back"
on the next message. The clock is injected everywhere: nothing here waits."""
import json
from pathlib import Path

import jsonschema
import pytest

from drivers.alert import encode_alert, parse_ack
from hub.bus import Bus
from hub.config import ConfigError, parse_config
from hub.hops import Hops
from hub.inbound.ingest import RECEIPT_INTERVAL_S, Ingest
from hub.incidents.liveness import Liveness
from hub.outputs import mqtt_out
from hub.store import Store
from hub.timeline import Timeline, read_timeline
from tests.hub.spine_fixtures import CONTACT_PHONE, HUB_NUMBER, KEY, KEY_HEX, W1_PHONE, make_config

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schema"
T0 = 1_795_430_000.0            # the hub starts
HOUR = 3600.0
SILENT_S = (2 * 60 + 15) * 60   # 2 x heartbeat_min (60) + grace (15), the defaults


def message(counter, event="HB", battery=80, position=True, category="GEN"):
    pos = {"lat": 13.4317, "lon": -6.2157, "acc_m": 12, "age_s": 2} if position else None
    return encode_alert(KEY, "W1", counter, event, category, 1795430100, pos, None, battery)


class Hub:
    """Store, bus, ingest and watchdog as the service wires them, with the clock in the test's hands."""

    def __init__(self, tmp_path, **hub):
        self.tmp_path = tmp_path
        self.config = make_config(tmp_path, **hub)
        self.store = Store(self.config.database).open()
        self.bus = Bus()
        self.events = []
        self.bus.subscribe(self.events.append)
        self.timeline_path = tmp_path / "timeline.jsonl"
        self.hops = Hops(self.store, self.bus, Timeline(self.timeline_path))
        self.liveness = Liveness(self.store, self.hops, self.config, started_at=T0).start()
        self.ingest = Ingest(self.store, self.hops, self.config, on_heard=self.liveness.heard)

    def receive(self, text, t, via="sms"):
        sender = W1_PHONE if via == "sms" else "W1"
        return self.ingest.handle_text(text, via, sender=sender, received_at=t)

    def kinds(self):
        return [e.kind for e in self.events]

    def receipts(self):
        return [parse_ack(m["body"], lambda _i: KEY) for m in self.store.outbox() if m["kind"] == "ack"]

    def status(self, now):
        return self.liveness.describe("W1", now=now)

    def close(self):
        self.store.close()


@pytest.fixture
def hub(tmp_path):
    hub = Hub(tmp_path)
    yield hub
    hub.close()


# -- a heartbeat is checked and receipted like an alert, but it is not an incident --------------------------------
def test_a_heartbeat_is_receipted_but_is_not_an_incident(hub):
    assert hub.receive(message(1), T0 + 60, via="mqtt") == "new"
    assert hub.store.list_alerts() == []                        # not on the console, active or all
    assert hub.store.list_alerts(states=["new", "acknowledged", "dispatched"]) == []
    [hb] = hub.store.list_alerts(status_events=True)
    assert hb["event"] == "HB" and hb["state"] == "resolved" and hb["resolved_by"] == "hub"
    assert [h["hop"] for h in hub.store.hops(hb["id"])] == ["hub.stored"]
    [rcv] = hub.receipts()                                      # the wearable may drop it from flash
    assert rcv["status"] == "RCV" and rcv["counter"] == 1
    assert [m for m in hub.store.outbox() if m["kind"] == "contact"] == []  # never to the trusted contacts
    assert "alert.new" not in hub.kinds() and hub.kinds() == ["device.status"]
    # Never republished on MQTT as an alert that "missed" its publication.
    assert hub.store.alerts_missing_hop("mqtt.published") == []


def test_a_repeated_heartbeat_is_receipted_again_without_an_alert_event(hub):
    hub.receive(message(2), T0 + 60)
    [first] = hub.store.outbox()
    hub.store.mark_sent(first["id"], [1], t=T0 + 61)  # sent, then lost: a resend after the interval is receipted
    assert hub.receive(message(2), T0 + 60 + RECEIPT_INTERVAL_S) == "duplicate"
    assert [r["hub_counter"] for r in hub.receipts()] == [1, 2]
    assert "alert.duplicate" not in hub.kinds()


def test_a_replayed_heartbeat_counter_is_rejected(hub):
    hub.receive(message(3, event="SOS"), T0 + 60)
    # Counter 3 again, now as a heartbeat: a forgery or replay, whatever the event.
    assert hub.receive(message(3), T0 + 120) == "replay"
    assert "replay" in hub.store.rejected()[0]["reason"]
    assert hub.kinds()[-1] == "alert.rejected"
    assert len(hub.receipts()) == 1
    assert hub.status(T0 + 120)["last_heard_at"] == T0 + 60   # a rejected message proves no life
    # And a heartbeat's counter cannot be reused by an alert either.
    hub.receive(message(4), T0 + 180)
    assert hub.receive(message(4, event="SOS"), T0 + 240) == "replay"


def test_a_forged_heartbeat_is_rejected_and_not_receipted(hub):
    text = message(5)
    forged = text[:-20] + "0" * 20
    # Kept in the inbox as unverified (a heartbeat raises no supervisor), never stored as the device's.
    assert hub.receive(forged, T0 + 60) == "unverified"
    assert hub.store.list_alerts(status_events=True) == []
    assert hub.receipts() == []
    assert hub.status(T0 + 60)["last_heard_at"] is None


# -- liveness from any message --------------------------------------------------------------------------------------
def test_any_new_message_updates_last_heard_battery_and_position(hub):
    assert hub.status(T0)["status"] == "unknown"
    hub.receive(message(1, event="SOS", battery=64, category="MED"), T0 + 100)
    status = hub.status(T0 + 100)
    assert status["last_heard_at"] == T0 + 100 and status["last_via"] == "sms" and status["last_event"] == "SOS"
    assert status["battery"] == 64 and status["status"] == "ok"
    assert status["position"]["lat"] == 13.4317 and status["position"]["acc_m"] == 12
    assert status["next_heartbeat_at"] == T0 + 100 + HOUR
    assert status["silent_after"] == T0 + 100 + SILENT_S
    # A heartbeat without a fix keeps the last known position and moves the rest.
    hub.receive(message(2, battery=61, position=False), T0 + 200, via="mqtt")
    status = hub.status(T0 + 200)
    assert status["last_heard_at"] == T0 + 200 and status["last_via"] == "mqtt" and status["last_event"] == "HB"
    assert status["battery"] == 61 and status["position"]["lat"] == 13.4317


def test_a_late_sms_with_an_older_counter_does_not_overwrite_a_newer_reading(hub):
    hub.receive(message(10, battery=40), T0 + 100)
    hub.receive(message(9, event="SOS", battery=90), T0 + 200)  # sent earlier, delivered later
    status = hub.status(T0 + 200)
    assert status["battery"] == 40 and status["last_counter"] == 10
    assert status["last_heard_at"] == T0 + 200               # but it was heard


def test_a_duplicate_does_not_count_as_a_sign_of_life(hub):
    hub.receive(message(1), T0 + 100)
    hub.receive(message(1), T0 + 5000)  # could be a recording played again: it must not hide a dead device
    assert hub.status(T0 + 5000)["last_heard_at"] == T0 + 100


# -- the watchdog -----------------------------------------------------------------------------------------------
def test_the_watchdog_raises_silent_once_and_the_next_message_clears_it(hub):
    hub.receive(message(1), T0 + 100)
    hub.events.clear()
    assert hub.liveness.check(T0 + 100 + SILENT_S) == []     # exactly at the limit: not yet
    assert hub.liveness.check(T0 + 101 + SILENT_S) == [("device.silent", "W1")]
    assert hub.liveness.check(T0 + 200 + SILENT_S) == []     # once, not at every check
    assert hub.liveness.check(T0 + 100 * HOUR) == []
    assert hub.kinds() == ["device.silent"]
    status = hub.status(T0 + 101 + SILENT_S)
    assert status["status"] == "silent" and status["silent_at"] == T0 + 101 + SILENT_S

    assert hub.receive(message(2, battery=50), T0 + 101 * HOUR) == "new"
    assert hub.kinds() == ["device.silent", "device.back"]
    status = hub.status(T0 + 101 * HOUR)
    assert status["status"] == "ok" and status["silent_at"] is None and status["back_at"] == T0 + 101 * HOUR
    assert hub.liveness.check(T0 + 101 * HOUR + 60) == []
    # Silent again after another silence, and again only once.
    assert hub.liveness.check(T0 + 101 * HOUR + SILENT_S + 1) == [("device.silent", "W1")]
    hops = [(e["hop"], e.get("device")) for e in read_timeline(hub.timeline_path) if "device_" in e["hop"]]
    assert hops == [("hub.device_silent", "W1"), ("hub.device_back", "W1"), ("hub.device_silent", "W1")]


def test_a_device_never_heard_is_measured_from_when_the_hub_started(hub):
    assert hub.liveness.check(T0 + SILENT_S - 1) == []
    assert hub.liveness.check(T0 + SILENT_S + 1) == [("device.silent", "W1")]
    assert hub.status(T0 + SILENT_S + 1)["status"] == "silent"


def test_silence_survives_a_restart_without_being_raised_again(tmp_path):
    first = Hub(tmp_path)
    first.receive(message(1), T0 + 100)
    assert first.liveness.check(T0 + 101 + SILENT_S) == [("device.silent", "W1")]
    first.close()
    # The hub restarts later: the device is still silent, and staff were already told.
    second = Hub(tmp_path)
    second.liveness = Liveness(second.store, Hops(second.store, second.bus), second.config,
                               started_at=T0 + 10 * HOUR).start()
    second.ingest.on_heard = second.liveness.heard
    assert second.liveness.check(T0 + 10 * HOUR + 60) == []
    assert second.status(T0 + 10 * HOUR + 60)["status"] == "silent"
    # A restart does not reset the baseline of a device never heard either: it is the first start's.
    assert second.store.device_status("W1")["tracked_since"] == T0
    second.receive(message(2), T0 + 11 * HOUR)
    assert second.kinds() == ["device.back"]
    second.close()


def test_a_message_committed_before_a_crash_clears_the_silence_at_the_next_check(hub):
    hub.receive(message(1), T0 + 100)
    hub.liveness.check(T0 + 101 + SILENT_S)
    hub.ingest.on_heard = lambda device_id, t: None  # the hub stops between the commit and the "back"
    hub.receive(message(2), T0 + 5 * HOUR)
    assert hub.status(T0 + 5 * HOUR)["status"] == "silent"
    assert hub.liveness.check(T0 + 5 * HOUR + 30) == [("device.back", "W1")]


def test_a_per_device_heartbeat_period_sets_its_own_limit(tmp_path):
    config = parse_config({
        "hub": {"id": "t", "number": HUB_NUMBER, "database": str(tmp_path / "h.db"), "heartbeat_min": 30,
                "heartbeat_grace_min": 5},
        "devices": [{"id": "W1", "key": KEY_HEX, "phone": W1_PHONE, "wearer": "A"},
                    {"id": "W2", "key": "22" * 32, "phone": "+22376000002", "wearer": "B", "heartbeat_min": 240}],
    })
    assert config.devices["W1"].heartbeat_min == 30 and config.devices["W2"].heartbeat_min == 240
    store = Store(config.database).open()
    try:
        liveness = Liveness(store, Hops(store, Bus()), config, started_at=T0).start()
        assert liveness.check(T0 + 66 * 60) == [("device.silent", "W1")]     # 2 x 30 + 5 min
        assert liveness.check(T0 + 484 * 60) == []                           # W2: 2 x 240 + 5 min, not yet
        assert liveness.check(T0 + 486 * 60) == [("device.silent", "W2")]
        assert [d["id"] for d in liveness.describe_all(T0 + 486 * 60)] == ["W1", "W2"]
    finally:
        store.close()


# -- low battery ------------------------------------------------------------------------------------------------
def test_lowbat_is_a_low_priority_incident_and_the_battery_warns_on_the_device_list(hub):
    assert hub.receive(message(1, event="LOWBAT", battery=12), T0 + 60, via="mqtt") == "new"
    [alert] = hub.store.list_alerts(states=["new"])
    assert alert["event"] == "LOWBAT" and alert["battery"] == 12
    assert hub.kinds() == ["alert.new", "device.status"]
    [contact] = [m for m in hub.store.outbox() if m["kind"] == "contact"]
    assert contact["recipient"] == CONTACT_PHONE
    status = hub.status(T0 + 60)
    assert status["low_battery"] is True and status["status"] == "low_battery"


def test_the_battery_of_a_heartbeat_alone_sets_the_warning_at_the_configured_level(tmp_path):
    hub = Hub(tmp_path, low_battery_pct=30)
    try:
        hub.receive(message(1, battery=30), T0 + 60)
        assert hub.status(T0 + 60)["status"] == "ok"
        hub.receive(message(2, battery=29), T0 + 120)
        assert hub.status(T0 + 120)["status"] == "low_battery"
        assert hub.store.list_alerts() == []   # a low reading is a warning, not an incident
        # Silent outranks low battery: it is worse.
        hub.liveness.check(T0 + 121 + SILENT_S)
        assert hub.status(T0 + 121 + SILENT_S)["status"] == "silent"
    finally:
        hub.close()


def test_default_low_battery_level_is_15(hub):
    hub.receive(message(1, battery=15), T0 + 60)
    assert hub.status(T0 + 60)["low_battery"] is False
    hub.receive(message(2, battery=14), T0 + 120)
    assert hub.status(T0 + 120)["low_battery"] is True


# -- MQTT status payload, retention -----------------------------------------------------------------------------
def test_the_status_payload_follows_its_schema_and_carries_no_position(hub):
    schema = json.loads((SCHEMAS / "device-status.schema.json").read_text())
    assert mqtt_out.device_status_topic("W1") == "deme/v1/devices/W1/status"
    never = json.loads(mqtt_out.device_status_payload("test", hub.status(T0), T0))
    jsonschema.validate(never, schema)
    assert never["device"]["status"] == "unknown" and never["device"]["last_heard_at"] is None
    hub.receive(message(1, battery=9), T0 + 60)
    hub.liveness.check(T0 + 61 + SILENT_S)
    payload = json.loads(mqtt_out.device_status_payload("test", hub.status(T0 + 61 + SILENT_S), T0 + 61 + SILENT_S))
    jsonschema.validate(payload, schema)
    assert payload["hub"] == "test" and payload["device"]["status"] == "silent"
    assert payload["device"]["battery"] == 9 and payload["device"]["low_battery"] is True
    assert "position" not in payload["device"] and "lat" not in json.dumps(payload)


def test_retention_erases_the_last_known_position_too(hub):
    hub.receive(message(1), T0 + 60)
    hub.store.purge_locations(older_than_s=30 * 86400, now=T0 + 31 * 86400)
    status = hub.status(T0 + 31 * 86400)
    assert status["position"] is None and status["last_heard_at"] == T0 + 60 and status["battery"] == 80


# -- configuration errors name what to fix ----------------------------------------------------------------------
@pytest.mark.parametrize("hub_keys, device_keys, words", [
    ({"heartbeat_min": 0}, {}, "[hub]: 'heartbeat_min' must be a number of minutes from 1 to 1440"),
    ({"heartbeat_min": "60"}, {}, "'heartbeat_min' must be a number of minutes"),
    ({"heartbeat_min": True}, {}, "'heartbeat_min'"),
    ({"heartbeat_min": 2000}, {}, "not 2000"),
    ({"heartbeat_grace_min": -1}, {}, "'heartbeat_grace_min' must be a number of minutes from 0"),
    ({"low_battery_pct": 0}, {}, "'low_battery_pct' must be a whole percentage from 1 to 99"),
    ({"low_battery_pct": 15.5}, {}, "'low_battery_pct'"),
    ({"low_battery_pct": 100}, {}, "not 100"),
    ({}, {"heartbeat_min": -5}, "device W1: 'heartbeat_min' must be a number of minutes"),
    ({}, {"heartbeat_min": "hourly"}, "device W1: 'heartbeat_min'"),
])
def test_bad_liveness_settings_are_refused_with_a_clear_error(tmp_path, hub_keys, device_keys, words):
    data = {
        "hub": {"id": "t", "number": HUB_NUMBER, "database": str(tmp_path / "h.db"), **hub_keys},
        "devices": [{"id": "W1", "key": KEY_HEX, "phone": W1_PHONE, "wearer": "A", **device_keys}],
    }
    with pytest.raises(ConfigError) as error:
        parse_config(data)
    assert words in str(error.value)


def test_liveness_defaults(tmp_path):
    config = make_config(tmp_path)
    assert (config.heartbeat_min, config.heartbeat_grace_min, config.low_battery_pct) == (60, 15, 15)
    assert config.devices["W1"].heartbeat_min == 60
    assert config.silent_after_s("W1") == SILENT_S
