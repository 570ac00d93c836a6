"""The incident groups what belongs together (hub/store/grouping.py through Ingest, with a real store): a wearer's
cancel closes its alarm as cancelled and the responders already texted are told; a repeated press joins the open
incident without a new ladder; a duress stays an incident of its own, linked to the alarm it answered; every alert
still gets its receipt."""
import pytest

from drivers.alert import parse_ack
from hub.bus import Bus
from hub.hops import Hops
from hub.inbound.ingest import Ingest
from hub.incidents.plan import Responder
from hub.store import Store
from tests.hub.spine_fixtures import KEY, W1_PHONE, alert_text, make_config

T0 = 1_795_430_000.0
OFFICER = Responder("Sgt Diarra", "+22377000001", "en")


class Escalation:
    def __init__(self):
        self.closed_ids = []

    def closed(self, alert_id):
        self.closed_ids.append(alert_id)


class Plan:
    def supervisors(self, t):
        return []

    def responder_by_phone(self, phone):
        return OFFICER if phone == OFFICER.phone else None


@pytest.fixture
def hub(tmp_path):
    config = make_config(tmp_path)
    store = Store(config.database).open()
    bus = Bus()
    events = []
    bus.subscribe(events.append)
    escalation = Escalation()
    ingest = Ingest(store, Hops(store, bus), config, escalation=escalation, plan=Plan())
    yield ingest, store, events, escalation
    store.close()


def receive(ingest, counter, event, t, **kw):
    return ingest.handle_text(alert_text(counter, event=event, **kw), "sms", sender=W1_PHONE, received_at=t)


def receipted_counters(store):
    return sorted(parse_ack(m["body"], lambda _i: KEY)["counter"] for m in store.outbox() if m["kind"] == "ack")


def by_counter(store, counter):
    return store.find_alert("W1", counter)


def test_a_cancel_closes_the_alarm_as_cancelled_by_the_wearer_and_tells_the_responders(hub):
    ingest, store, events, escalation = hub
    receive(ingest, 1, "SOS", T0)
    sos = by_counter(store, 1)
    store.add_hop(sos["id"], "responder.texted", {"responder": OFFICER.name, "to": OFFICER.phone}, t=T0 + 1)
    store.add_hop(sos["id"], "responder.texted", {"responder": "Cpl Keita", "to": "+22377000002"}, t=T0 + 2)
    store.add_hop(sos["id"], "responder.texted", {"responder": OFFICER.name, "to": OFFICER.phone}, t=T0 + 61)
    events.clear()
    assert receive(ingest, 2, "CAN", T0 + 90) == "new"
    cancelled = by_counter(store, 1)
    assert (cancelled["state"], cancelled["outcome"], cancelled["resolved_by"]) == ("resolved", "cancelled", "wearer")
    cancel = by_counter(store, 2)
    assert cancel["state"] == "resolved" and cancel["resolved_by"] == "hub"  # not an incident of its own
    assert escalation.closed_ids == [sos["id"]]
    told = {m["recipient"]: m["body"] for m in store.outbox() if m["kind"] == "responder"}
    assert set(told) == {OFFICER.phone, "+22377000002"}  # each once
    assert "cancelled by the wearer" in told[OFFICER.phone] and "annulee" in told["+22377000002"]
    assert "incident.cancelled" in [h["hop"] for h in store.hops(sos["id"])]
    # The cancel is not announced as an incident; the alarm is, as updated.
    assert [(e.kind, e.alert["id"]) for e in events if e.kind.startswith("alert.")] == [("alert.updated", sos["id"])]
    assert receipted_counters(store) == [1, 2]


def test_an_operator_may_still_follow_up_a_cancelled_incident(hub):
    ingest, store, _, _ = hub
    receive(ingest, 1, "SOS", T0)
    receive(ingest, 2, "CAN", T0 + 30)
    sos = by_counter(store, 1)
    assert sos in store.list_alerts(states=["resolved"])  # still visible
    assert store.hops(sos["id"])[-1]["detail"]["cancel_alert_id"] == by_counter(store, 2)["id"]


def test_a_cancel_that_comes_before_its_alarm_still_cancels_it(hub):
    ingest, store, _, escalation = hub
    assert receive(ingest, 2, "CAN", T0) == "new"
    assert by_counter(store, 2)["state"] == "new"  # nothing to cancel yet: kept open, visible
    assert receive(ingest, 1, "SOS", T0 + 3) == "new"
    sos = by_counter(store, 1)
    assert (sos["state"], sos["outcome"]) == ("resolved", "cancelled")
    assert by_counter(store, 2)["state"] == "resolved"
    assert escalation.closed_ids == [sos["id"]]
    assert receipted_counters(store) == [1, 2]


def test_a_repeated_press_joins_the_open_incident(hub):
    ingest, store, events, escalation = hub
    receive(ingest, 1, "SOS", T0, position=False)
    first = by_counter(store, 1)
    events.clear()
    assert receive(ingest, 2, "SOS", T0 + 40) == "new"
    assert receive(ingest, 3, "FALL", T0 + 80) == "new"
    incident = by_counter(store, 1)
    assert incident["state"] == "new" and incident["lat"] == 13.4317  # the repeat's fix, newer, moved onto it
    repeats = [h["detail"] for h in store.hops(first["id"]) if h["hop"] == "incident.repeat"]
    assert [(r["counter"], r["event"]) for r in repeats] == [(2, "SOS"), (3, "FALL")]
    for counter in (2, 3):
        repeat = by_counter(store, counter)
        assert repeat["state"] == "resolved" and repeat["resolved_by"] == "hub"
    # No new incident announced (so no new ladder), only the open one updated.
    assert [e.kind for e in events if e.kind.startswith("alert.")] == ["alert.updated", "alert.updated"]
    assert all(e.alert["id"] == first["id"] for e in events if e.kind == "alert.updated")
    assert escalation.closed_ids == []
    assert len(store.list_alerts(states=["new"])) == 1
    assert receipted_counters(store) == [1, 2, 3]


def test_a_duress_is_an_incident_of_its_own_linked_to_the_alarm_it_answered(hub):
    ingest, store, events, escalation = hub
    receive(ingest, 1, "SOS", T0)
    events.clear()
    assert receive(ingest, 2, "DUR", T0 + 20) == "new"
    duress, sos = by_counter(store, 2), by_counter(store, 1)
    assert duress["state"] == "new" and duress["event"] == "DUR"  # escalated by its own route, on alert.new
    assert sos["state"] == "new" and sos["outcome"] is None  # a duress never cancels
    [link] = [h["detail"] for h in store.hops(sos["id"]) if h["hop"] == "incident.duress"]
    assert link["duress_alert_id"] == duress["id"]
    assert [(e.kind, e.alert["id"]) for e in events if e.kind.startswith("alert.")] == [
        ("alert.new", duress["id"]), ("alert.updated", sos["id"])]
    assert escalation.closed_ids == []
    assert receipted_counters(store) == [1, 2]


def test_nothing_from_the_wearable_closes_a_duress(hub):
    ingest, store, _, _ = hub
    receive(ingest, 1, "DUR", T0)
    receive(ingest, 2, "CAN", T0 + 10)
    receive(ingest, 3, "SOS", T0 + 20)
    duress = by_counter(store, 1)
    assert duress["state"] == "new" and duress["outcome"] is None
    # The later press joins the duress incident rather than opening a normal one.
    assert by_counter(store, 3)["state"] == "resolved"
    assert [h["detail"]["counter"] for h in store.hops(duress["id"]) if h["hop"] == "incident.repeat"] == [3]


def test_a_duplicate_of_a_grouped_alert_is_receipted_again_and_not_grouped_twice(hub):
    ingest, store, _, escalation = hub
    receive(ingest, 1, "SOS", T0)
    receive(ingest, 2, "CAN", T0 + 10)
    [first_rcv] = [m for m in store.outbox() if m["kind"] == "ack" and ";n=2;" in m["body"]]
    store.mark_sent(first_rcv["id"], [1], t=T0 + 11)
    assert receive(ingest, 2, "CAN", T0 + 200) == "duplicate"
    assert receipted_counters(store) == [1, 2, 2]
    assert escalation.closed_ids == [by_counter(store, 1)["id"]]
    assert [h["hop"] for h in store.hops(by_counter(store, 1)["id"])].count("incident.cancelled") == 1
