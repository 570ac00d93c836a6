"""Receipts of duplicates (issue 11): every identical replay of a recorded genuine alert made the hub send a new RCV
SMS, one SMS out per SMS in. Through ingest and the store: replays get a bounded number of receipts, a genuine
wearable whose receipts are lost still gets one while it resends, before it escalates."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.alert import parse_ack
from firmware.config import DEFAULTS as WEARABLE
from hub.bus import Bus
from hub.hops import Hops
from hub.inbound.ingest import MAX_RECEIPTS, RECEIPT_INTERVAL_S, Ingest
from hub.store import Store
from hub.timeline import Timeline
from tests.hub.spine_fixtures import KEY, W1_PHONE, alert_text, make_config

T0 = 1795430200.0


@pytest.fixture
def hub(tmp_path):
    config = make_config(tmp_path)
    store = Store(config.database).open()
    ingest = Ingest(store, Hops(store, Bus(), Timeline(tmp_path / "timeline.jsonl")), config)
    yield ingest, store
    store.close()


def receipts(store, counter):
    acks = [(m, parse_ack(m["body"], lambda _i: KEY)) for m in store.outbox() if m["kind"] == "ack"]
    return [m for m, ack in acks if ack["status"] == "RCV" and ack["counter"] == counter]


def modem_takes_everything(store, t):
    """What the outbox worker does when the modem takes each message (the SMS then leave the hub)."""
    for message in store.due_messages(now=t, limit=1000):
        store.mark_sent(message["id"], [message["id"] % 256], t=t)


def test_a_hundred_replays_cost_a_bounded_number_of_receipts(hub):
    ingest, store = hub
    text = alert_text(4)
    assert ingest.handle_text(text, "sms", sender=W1_PHONE, received_at=T0) == "new"
    modem_takes_everything(store, T0)
    # A burst: 100 replays within 100 s cost at most one more SMS.
    for i in range(1, 101):
        assert ingest.handle_text(text, "sms", sender="+22379999999", received_at=T0 + i) == "duplicate"
        modem_takes_everything(store, T0 + i)
    assert len(receipts(store, 4)) <= 1 + 100 // RECEIPT_INTERVAL_S + 1
    # A patient replayer, one a minute for 100 minutes: never more than MAX_RECEIPTS in all.
    for i in range(100):
        t = T0 + 200 + 60 * i
        assert ingest.handle_text(text, "sms", sender="+22379999999", received_at=t) == "duplicate"
        modem_takes_everything(store, t)
    assert len(receipts(store, 4)) == MAX_RECEIPTS
    # The device's other alerts are receipted as ever.
    assert ingest.handle_text(alert_text(5), "sms", sender=W1_PHONE, received_at=T0 + 9000) == "new"
    assert len(receipts(store, 5)) == 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(delays=st.lists(st.floats(min_value=0, max_value=30), min_size=WEARABLE["max_tries"] + 3,
                       max_size=WEARABLE["max_tries"] + 3))
def test_a_wearable_whose_receipts_are_lost_gets_one_before_it_escalates_and_while_it_resends(tmp_path_factory,
                                                                                               delays):
    """The firmware (firmware/uplink.py) resends every retry_s up to max_tries, escalates after the last of those
    (the wearer feels "failed", the contacts hear the hub is unreachable), then resends every slow_retry_s. Every
    receipt here is sent and lost; each SMS takes 0 to 30 s through the network."""
    tmp_path = tmp_path_factory.mktemp("rate")
    config = make_config(tmp_path)
    with Store(config.database) as store:
        ingest = Ingest(store, Hops(store, Bus()), config)
        text = alert_text(9)
        fast = [k * WEARABLE["retry_s"] for k in range(WEARABLE["max_tries"])]
        slow = [fast[-1] + k * WEARABLE["slow_retry_s"] for k in range(1, 4)]
        receipted_at = []
        for k, (sent, delay) in enumerate(zip(fast + slow, delays)):
            t = T0 + sent + delay
            before = len(receipts(store, 9))
            ingest.handle_text(text, "sms", sender=W1_PHONE, received_at=t)
            if len(receipts(store, 9)) > before:
                receipted_at.append(k)
            modem_takes_everything(store, t)
        assert receipted_at[0] == 0
        # A second receipt answers a resend before the last fast try, after which the wearable would escalate.
        assert any(0 < k < WEARABLE["max_tries"] - 1 for k in receipted_at), receipted_at
        # Every slow resend is answered too, within the cap.
        assert set(range(WEARABLE["max_tries"], WEARABLE["max_tries"] + 3)) <= set(receipted_at), receipted_at
        assert len(receipted_at) <= MAX_RECEIPTS


def test_a_real_resend_after_the_window_still_gets_its_receipt(hub):
    ingest, store = hub
    text = alert_text(3)
    ingest.handle_text(text, "sms", sender=W1_PHONE, received_at=T0)
    modem_takes_everything(store, T0)
    ingest.handle_text(text, "sms", sender=W1_PHONE, received_at=T0 + RECEIPT_INTERVAL_S / 2)
    assert len(receipts(store, 3)) == 1
    ingest.handle_text(text, "sms", sender=W1_PHONE, received_at=T0 + RECEIPT_INTERVAL_S)
    assert len(receipts(store, 3)) == 2
    [first, second] = receipts(store, 3)
    assert parse_ack(second["body"], lambda _i: KEY)["hub_counter"] > parse_ack(first["body"], lambda _i: KEY)[
        "hub_counter"]
