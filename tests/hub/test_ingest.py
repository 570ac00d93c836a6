"""What the hub does with each message it receives: authenticate, commit, receipt; forged SMS are kept as
unverified and other SMS that are no alert in the inbox; replays and malformed MQTT payloads are rejected with a
reason; nothing crashes anything."""
import pytest

from drivers.alert import MAC_HEX_DIGITS, encode_ack, parse_ack
from hub.bus import Bus
from hub.hops import Hops
from hub.inbound.ingest import RECEIPT_INTERVAL_S, Ingest
from hub.store import Store
from hub.store.inbox import inbox
from hub.timeline import Timeline
from tests.hub.spine_fixtures import KEY, W1_PHONE, alert_text, make_config


@pytest.fixture
def hub(tmp_path):
    config = make_config(tmp_path)
    store = Store(config.database).open()
    bus = Bus()
    events = []
    bus.subscribe(events.append)
    ingest = Ingest(store, Hops(store, bus, Timeline(tmp_path / "timeline.jsonl")), config)
    yield ingest, store, events
    store.close()


def receipts(store):
    return [parse_ack(m["body"], lambda _i: KEY) for m in store.outbox() if m["kind"] == "ack"]


def test_valid_alert_is_stored_published_and_receipted(hub):
    ingest, store, events = hub
    assert ingest.handle_text(alert_text(1), "sms", sender=W1_PHONE) == "new"
    [alert] = store.list_alerts()
    assert alert["device_id"] == "W1" and alert["state"] == "new"
    assert [e.kind for e in events] == ["alert.new"]
    [rcv] = receipts(store)
    assert rcv["status"] == "RCV" and rcv["counter"] == 1 and rcv["hub_counter"] == 1


def test_forged_alert_is_kept_as_unverified_and_never_stored_nor_receipted(hub):
    ingest, store, events = hub
    text = alert_text(1)
    forged = text[:-MAC_HEX_DIGITS] + "f" * MAC_HEX_DIGITS
    assert ingest.handle_text(forged, "sms", sender="+22379999999") == "unverified"
    assert store.list_alerts() == []
    [kept] = inbox(store)
    assert kept["kind"] == "unverified" and kept["text"] == forged and kept["sender"] == "+22379999999"
    assert "bad MAC" in kept["detail"]["reason"]
    assert store.outbox() == []  # no receipt to a forger (and no response plan here: no supervisor to text)
    assert [e.kind for e in events] == ["inbox.new"]


def test_alert_signed_with_a_wrong_key_is_kept_as_unverified(hub):
    ingest, store, _ = hub
    assert ingest.handle_text(alert_text(1, key=b"x" * 32), "sms") == "unverified"
    assert store.list_alerts() == []
    assert [m["kind"] for m in inbox(store)] == ["unverified"]


def test_a_forged_alert_over_mqtt_is_still_rejected(hub):
    ingest, store, _ = hub
    text = alert_text(1)
    assert ingest.handle_text(text[:-MAC_HEX_DIGITS] + "0" * MAC_HEX_DIGITS, "mqtt", sender="W1") == "rejected"
    assert "bad MAC" in store.rejected()[0]["reason"] and inbox(store) == []


def test_replayed_counter_with_other_content_is_rejected(hub):
    ingest, store, events = hub
    ingest.handle_text(alert_text(5), "sms", sender=W1_PHONE)
    assert ingest.handle_text(alert_text(5, category="AGR"), "sms", sender=W1_PHONE) == "replay"
    assert len(store.list_alerts()) == 1
    assert events[-1].kind == "alert.rejected"


def test_repeated_message_is_not_a_second_alert_but_is_receipted_again(hub):
    ingest, store, events = hub
    t0 = 1795430200.0
    ingest.handle_text(alert_text(2), "sms", sender=W1_PHONE, received_at=t0)
    # While its receipt waits in the outbox, a resend adds nothing to it.
    assert ingest.handle_text(alert_text(2), "sms", sender=W1_PHONE, received_at=t0 + 1) == "duplicate"
    assert [r["hub_counter"] for r in receipts(store)] == [1]
    [first] = store.outbox()
    store.mark_sent(first["id"], [1], t=t0 + 2)
    # Sent, then lost: the wearable's next resend after the receipt interval is receipted again.
    later = t0 + RECEIPT_INTERVAL_S
    assert ingest.handle_text(alert_text(2), "sms", sender=W1_PHONE, received_at=later) == "duplicate"
    assert len(store.list_alerts()) == 1
    assert [r["hub_counter"] for r in receipts(store)] == [1, 2]


def test_garbage_and_acks_by_sms_land_in_the_inbox_with_their_sender_and_text(hub):
    ingest, store, _ = hub
    ack = encode_ack(KEY, "W1", 1, 1, "ACK")
    outcomes = {text: ingest.handle_text(text, "sms", sender="+22379999999")
                for text in ["", "Bonjour", "DM1;i=W1;n=1;m=zz", "DM1;" + "x" * 5000, "\x00\x1a\x1b", ack]}
    assert outcomes == {"": "inbox", "Bonjour": "inbox", "DM1;i=W1;n=1;m=zz": "unverified",
                        "DM1;" + "x" * 5000: "unverified", "\x00\x1a\x1b": "inbox", ack: "inbox"}
    assert store.list_alerts() == [] and store.rejected() == []
    kept = {m["text"]: m for m in inbox(store)}
    assert set(kept) == set(outcomes) and {m["sender"] for m in kept.values()} == {"+22379999999"}
    assert "ack sent to the hub" in kept[ack]["detail"]["reason"]


def test_garbage_and_acks_by_mqtt_are_rejected_with_a_reason(hub):
    ingest, store, _ = hub
    for text in ["", "Bonjour", "DM1;i=W1;n=1;m=zz", "DM1;" + "x" * 5000, "\x00\x1a\x1b",
                 encode_ack(KEY, "W1", 1, 1, "ACK")]:
        assert ingest.handle_text(text, "mqtt", sender="W1") == "rejected"
    assert store.list_alerts() == []
    assert len(store.rejected()) == 6 and inbox(store) == []


def test_sender_number_mismatch_keeps_the_alert_and_notes_it(hub):
    ingest, store, _ = hub
    assert ingest.handle_text(alert_text(1), "sms", sender="+22379999999") == "new"
    [alert] = store.list_alerts()
    assert "hub.sender_mismatch" in [h["hop"] for h in store.hops(alert["id"])]


def test_an_mqtt_alert_is_bridged_to_the_contacts_by_sms(hub):
    ingest, store, _ = hub
    assert ingest.handle_text(alert_text(9, category="MED"), "mqtt", sender="W1") == "new"
    contact = [m for m in store.outbox() if m["kind"] == "contact"]
    assert len(contact) == 1
    assert contact[0]["recipient"] == "+22366000001"
    assert "Awa Traoré" in contact[0]["body"] and "osm.org" in contact[0]["body"]


def test_a_position_follow_up_completes_the_open_alert_and_is_not_a_new_call(hub):
    ingest, store, events = hub
    ingest.handle_text(alert_text(1, position=False), "sms", sender=W1_PHONE)
    assert ingest.handle_text(alert_text(2, event="POS"), "sms", sender=W1_PHONE) == "new"
    [sos] = store.list_alerts(states=["new"])
    assert sos["counter"] == 1 and sos["lat"] == 13.4317 and sos["acc_m"] == 12
    assert "hub.position_update" in [h["hop"] for h in store.hops(sos["id"])]
    [follow] = store.list_alerts(states=["resolved"])
    assert follow["counter"] == 2 and follow["resolved_by"] == "hub"
    assert [e.kind for e in events] == ["alert.new", "alert.updated"]
    # Both were receipted, so the wearable stops resending either.
    assert sorted(r["counter"] for r in receipts(store)) == [1, 2]


def test_a_position_follow_up_without_an_open_alert_stays_visible(hub):
    ingest, store, events = hub
    ingest.handle_text(alert_text(3, event="POS"), "sms", sender=W1_PHONE)
    [only] = store.list_alerts()
    assert only["event"] == "POS" and only["state"] == "new"
    assert [e.kind for e in events] == ["alert.new"]
