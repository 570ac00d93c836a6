"""The one record() path (hub/hops.py): each kind of hop reaches exactly its sinks (store hop table, timeline, bus,
log) under its names, what the store commits itself is not written twice, and location never reaches the log nor
the timeline."""
import asyncio
import logging

import pytest

from hub.bus import Bus
from hub.hops import DEVICE_EVENTS, HOP_KINDS, LOCATION_FIELDS, HopKind, Hops
from hub.inbound.ingest import Ingest
from hub.incidents.operator import ACTIONS
from hub.outputs.outbox import OutboxWorker
from hub.store import Store
from hub.timeline import Timeline, read_timeline
from tests.hub.spine_fixtures import W1_PHONE, alert_text, make_config

LAT, LON = 13.43171, -6.21573


class Sinks:
    """A store, a bus and a timeline file behind one Hops, with what reached each."""

    def __init__(self, tmp_path, kinds=HOP_KINDS):
        self.config = make_config(tmp_path)
        self.store = Store(self.config.database).open()
        self.bus = Bus()
        self.events = []
        self.bus.subscribe(self.events.append)
        self.timeline_path = tmp_path / "timeline.jsonl"
        self.hops = Hops(self.store, self.bus, Timeline(self.timeline_path), kinds=kinds)

    def timeline(self):
        return [{k: v for k, v in e.items() if k not in ("t", "source")} for e in read_timeline(self.timeline_path)]

    def store_hops(self, alert_id):
        return [(h["hop"], h["detail"]) for h in self.store.hops(alert_id)]

    def new_alert(self):
        ingest = Ingest(self.store, self.hops, self.config)
        assert ingest.handle_text(alert_text(1), "sms", sender=W1_PHONE) == "new"
        [alert] = self.store.list_alerts()
        self.events.clear()
        self.timeline_path.unlink()
        return alert


@pytest.fixture
def sinks(tmp_path):
    sinks = Sinks(tmp_path)
    yield sinks
    sinks.store.close()


def test_a_sent_sms_goes_to_all_three_sinks_under_their_names(sinks):
    alert = sinks.new_alert()
    sinks.hops.record("hub.sms_sent", alert_id=alert["id"], outbox_id=3, kind="ack", to=W1_PHONE, refs=[7],
                      body="DA1;i=W1")
    detail = {"outbox_id": 3, "kind": "ack", "to": W1_PHONE, "refs": [7], "body": "DA1;i=W1"}
    assert sinks.store_hops(alert["id"])[-1] == ("sms.sent", detail)
    assert sinks.timeline() == [{"hop": "hub.sms_sent", "alert_id": alert["id"], **detail}]
    [event] = sinks.events
    # The event carries the alert as committed, read from the store by its id, and the detail without the id.
    assert event.kind == "outbox.sent" and event.alert["id"] == alert["id"] and event.detail == detail


def test_a_message_for_no_alert_has_no_store_hop_and_its_event_no_alert(sinks):
    sinks.hops.record("hub.sms_sent", alert_id=None, outbox_id=4, kind="contact", to="+1", refs=[], body="x")
    assert sinks.timeline()[0]["alert_id"] is None
    [event] = sinks.events
    assert event.alert is None and "alert_id" not in event.detail


def test_what_the_store_commits_with_its_row_is_not_written_again(sinks):
    alert = sinks.new_alert()
    sinks.hops.record("hub.stored", device="W1", alert=alert, counter=1, alert_id=alert["id"], via="sms")
    sinks.hops.record("console.acknowledge", alert=alert, action="acknowledge", operator="Diallo")
    assert [hop for hop, _ in sinks.store_hops(alert["id"])] == ["hub.stored"]
    assert [e["hop"] for e in sinks.timeline()] == ["hub.stored"]  # an operator's action is not on the timeline
    assert [(e.kind, e.detail) for e in sinks.events] == [
        ("alert.new", {"via": "sms"}), ("alert.updated", {"action": "acknowledge", "operator": "Diallo"})]


def test_an_alert_the_hub_closed_as_it_stored_it_is_not_announced(sinks):
    alert = dict(sinks.new_alert(), state="resolved")
    sinks.hops.record("hub.stored", device="W1", alert=alert, counter=1, alert_id=alert["id"], via="sms")
    assert sinks.events == []
    assert [e["hop"] for e in sinks.timeline()] == ["hub.stored"]


def test_device_hops_carry_the_device_and_the_injected_time_on_the_bus(sinks):
    sinks.hops.record("hub.device_silent", device="W1", t=1000.0, last_heard_at=None, battery=40,
                      silent_after=900.0)
    [event] = sinks.events
    assert (event.kind, event.alert, event.detail, event.t) == ("device.silent", None, {"device_id": "W1"}, 1000.0)
    [entry] = sinks.timeline()
    assert entry == {"hop": "hub.device_silent", "device": "W1", "last_heard_at": None, "battery": 40,
                     "silent_after": 900.0}


def test_an_unknown_hop_fails_loudly(sinks):
    with pytest.raises(KeyError):
        sinks.hops.record("hub.stord", alert_id=1)


def test_location_never_reaches_the_log_nor_the_timeline(sinks, caplog):
    position = {"lat": LAT, "lon": LON, "acc_m": 12}
    cell = {"mcc": 610, "mnc": 1, "lac": 0x1F4, "cell_id": 0x2A3B}
    with caplog.at_level(logging.DEBUG, logger="hub.hops"):
        sinks.hops.record("hub.rejected", via="sms", sender="+1", reason="bad MAC", lat=LAT, lon=LON,
                          position=position, cell=cell)
        sinks.hops.record("hub.device_silent", device="W1", last_heard_at=None, battery=40, silent_after=1.0,
                          lat=LAT, lon=LON)
    assert len(caplog.records) == 2
    text = "\n".join(record.getMessage() for record in caplog.records) + sinks.timeline_path.read_text()
    for secret in (str(LAT), str(LON), "13.43", "6.215", "cell_id", str(0x2A3B)):
        assert secret not in text
    assert "rejected message via sms from +1: bad MAC" in text  # the rest of the hop is still there
    assert all(not LOCATION_FIELDS & entry.keys() for entry in sinks.timeline())


def test_location_is_withheld_even_from_a_log_line_that_prints_every_field(tmp_path, caplog):
    """The guard is the recorder's, not each message's: a careless log line still cannot leak a position."""
    careless = {"hub.test": HopKind(log_level=logging.WARNING, log_message=repr)}
    sinks = Sinks(tmp_path, kinds=careless)
    try:
        with caplog.at_level(logging.WARNING, logger="hub.hops"):
            sinks.hops.record("hub.test", device="W1", lat=LAT, lon=LON, position={"lat": LAT}, battery=55)
        [record] = caplog.records
        assert "W1" in record.getMessage() and "55" in record.getMessage()
        assert str(LAT) not in record.getMessage() and str(LON) not in record.getMessage()
    finally:
        sinks.store.close()


def test_the_outbox_escalates_through_the_recorder_after_its_last_attempt(sinks, caplog):
    alert = sinks.new_alert()

    async def no_modem(recipient, body):
        raise RuntimeError("modem not ready")

    worker = OutboxWorker(sinks.store, sinks.hops, no_modem, max_attempts=2, retry_s=0.0)
    with caplog.at_level(logging.ERROR, logger="hub.hops"):
        asyncio.run(worker.process_due())
        asyncio.run(worker.process_due())
    assert [hop for hop, _ in sinks.store_hops(alert["id"])][-2:] == ["outbox.retry", "outbox.failed"]
    assert [e["hop"] for e in sinks.timeline()] == ["hub.outbox_retry", "hub.outbox_failed"]
    assert [e.kind for e in sinks.events] == ["outbox.failed"]
    assert [r.getMessage() for r in caplog.records] == [f"gave up sending ack to {W1_PHONE} after 2 attempts"]


def test_the_table_covers_every_operator_action_and_names_only_known_device_events():
    assert {f"console.{action}" for action in ACTIONS} <= HOP_KINDS.keys()
    device_events = {kind.event for kind in HOP_KINDS.values() if (kind.event or "").startswith("device.")}
    assert device_events == set(DEVICE_EVENTS)
    assert all(kind.log_message is not None for kind in HOP_KINDS.values() if kind.log_level is not None)


def test_the_modem_link_event_tells_the_console_whether_the_link_is_up(sinks):
    from types import SimpleNamespace

    from hub.service import HubService

    service = SimpleNamespace(hops=sinks.hops)
    HubService._on_modem_event(service, "link down", "no reply to AT")
    HubService._on_modem_event(service, "link up", "SIMCOM_SIM800L")
    HubService._on_modem_event(service, "registered", 1)
    down, up, registered = [event.detail for event in sinks.events]
    assert down == {"kind": "link down", "detail": "no reply to AT", "up": False}
    assert up == {"kind": "link up", "detail": "SIMCOM_SIM800L", "up": True}
    assert registered == {"kind": "registered", "detail": "1"}  # the badge keeps what it showed
