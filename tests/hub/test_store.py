import sqlite3

import pytest

from drivers.alert import parse_alert
from hub.store import Store, TransitionError
from tests.hub.spine_fixtures import KEY, alert_text


def parsed(counter, **kw):
    text = alert_text(counter, **kw)
    return parse_alert(text, lambda _i: KEY), text


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "hub.db") as s:
        yield s


def test_store_is_durable_wal_with_full_sync(store, tmp_path):
    mode = store._db.execute("PRAGMA journal_mode").fetchone()[0]
    sync = store._db.execute("PRAGMA synchronous").fetchone()[0]
    assert mode == "wal"
    assert sync == 2  # FULL


def test_a_committed_alert_is_visible_to_another_connection_at_once(store, tmp_path):
    alert, text = parsed(1)
    status, stored = store.record_alert(alert, text, "sms", sender="+22376000001")
    assert status == "new"
    other = sqlite3.connect(tmp_path / "hub.db")
    assert other.execute("SELECT device_id, counter FROM alerts").fetchall() == [("W1", 1)]


def test_same_message_again_is_a_duplicate_not_a_new_alert(store):
    alert, text = parsed(1)
    store.record_alert(alert, text, "sms")
    status, stored = store.record_alert(alert, text, "mqtt")
    assert status == "duplicate"
    assert len(store.list_alerts()) == 1
    assert [h["hop"] for h in store.hops(stored["id"])] == ["hub.stored", "hub.duplicate"]


def test_same_counter_with_other_content_is_a_replay(store):
    alert, text = parsed(1)
    store.record_alert(alert, text, "sms")
    other, other_text = parsed(1, category="MED")
    status, _ = store.record_alert(other, other_text, "sms")
    assert status == "replay"
    assert len(store.list_alerts()) == 1
    assert "replay" in store.rejected()[0]["reason"]


def test_alerts_without_position_are_kept(store):
    alert, text = parsed(3, position=False)
    status, stored = store.record_alert(alert, text, "sms")
    assert status == "new"
    assert stored["lat"] is None
    assert stored["cell"] == {"mcc": 610, "mnc": 1, "lac": 0x1F4, "cell_id": 0x2A3B}


def test_operator_transitions_follow_the_rules(store):
    alert, text = parsed(1)
    _, stored = store.record_alert(alert, text, "sms")
    acked = store.transition(stored["id"], "acknowledge", "Sgt. Diallo")
    assert acked["state"] == "acknowledged"
    assert acked["acknowledged_by"] == "Sgt. Diallo"
    with pytest.raises(TransitionError, match="cannot acknowledge"):
        store.transition(stored["id"], "acknowledge", "Sgt. Diallo")
    dispatched = store.transition(stored["id"], "dispatch", "Sgt. Diallo", unit="Patrouille 3")
    assert dispatched["unit"] == "Patrouille 3"
    resolved = store.transition(stored["id"], "resolve", "Sgt. Diallo", note="fausse alerte")
    assert resolved["state"] == "resolved"
    with pytest.raises(TransitionError):
        store.transition(stored["id"], "dispatch", "x")
    with pytest.raises(TransitionError, match="operator"):
        store.transition(stored["id"], "resolve", " ")


def test_ack_is_enqueued_in_the_same_transaction_with_a_fresh_hub_counter(store):
    alert, text = parsed(1)
    _, stored = store.record_alert(alert, text, "sms")
    store.enqueue_ack("W1", lambda h: f"RCV h={h}", "+22376000001", stored["id"])
    store.transition(stored["id"], "acknowledge", "op", ack=("+22376000001", lambda h: f"ACK h={h}"))
    messages = [(m["body"], m["state"]) for m in store.outbox(stored["id"])]
    # The unsent receipt is superseded: the ACK says it too, and the wearer feels "help has seen you" sooner.
    assert messages == [("RCV h=1", "superseded"), ("ACK h=2", "pending")]


def test_a_failing_ack_builder_rolls_back_the_transition(store):
    alert, text = parsed(1)
    _, stored = store.record_alert(alert, text, "sms")

    def broken(_h):
        raise RuntimeError("key missing")

    with pytest.raises(RuntimeError):
        store.transition(stored["id"], "acknowledge", "op", ack=("+22376000001", broken))
    assert store.get_alert(stored["id"])["state"] == "new"
    assert store.outbox(stored["id"]) == []


def test_outbox_retry_bookkeeping(store):
    message_id = store.enqueue("contact", "+22366000001", "hello", t=100.0)
    assert [m["id"] for m in store.due_messages(now=100.0)] == [message_id]
    store.mark_attempt_failed(message_id, "modem not ready", retry_at=200.0, give_up=False)
    assert store.due_messages(now=150.0) == []
    assert store.next_due_time() == 200.0
    store.mark_attempt_failed(message_id, "modem not ready", retry_at=400.0, give_up=True)
    assert store.due_messages(now=1e12) == []
    assert store.outbox()[0]["state"] == "failed"
    assert store.outbox()[0]["attempts"] == 2


def test_retention_erases_positions_of_old_resolved_alerts_only(store):
    old, old_text = parsed(1)
    new, new_text = parsed(2)
    _, a = store.record_alert(old, old_text, "sms", received_at=1000.0)
    _, b = store.record_alert(new, new_text, "sms", received_at=1000.0)
    store.transition(a["id"], "resolve", "op")
    assert store.purge_locations(older_than_s=3600, now=1000.0 + 7200) == 1
    purged = store.get_alert(a["id"])
    assert purged["lat"] is None and purged["cell"] is None and purged["raw"] == ""
    assert purged["event"] == "SOS"  # statistics keep what happened, not where
    assert store.get_alert(b["id"])["lat"] is not None
    # A retry of the purged alert is still recognised as already stored.
    status, _ = store.record_alert(old, old_text, "sms")
    assert status == "duplicate"


def test_a_position_follow_up_moved_onto_its_alarm_is_never_missing_a_publication(store):
    """The follow-up goes out as its alarm's update: a reconnecting MQTT link must not announce it as new."""
    alarm, text = parsed(1, position=False)
    _, sos = store.record_alert(alarm, text, "sms")
    followup, text = parsed(2, event="POS")
    _, pos = store.record_alert(followup, text, "sms")
    assert [a["id"] for a in store.alerts_missing_hop("mqtt.published")] == [sos["id"], pos["id"]]
    updated = store.apply_followup(pos["id"])
    assert updated["id"] == sos["id"] and updated["lat"] is not None
    assert [a["id"] for a in store.alerts_missing_hop("mqtt.published")] == [sos["id"]]
    # an alert an operator resolved before it was published still is
    store.transition(sos["id"], "acknowledge", "Sgt. Diallo")
    store.transition(sos["id"], "resolve", "Sgt. Diallo", note="false alarm")
    assert [a["id"] for a in store.alerts_missing_hop("mqtt.published")] == [sos["id"]]
