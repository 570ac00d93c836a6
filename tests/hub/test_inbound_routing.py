"""Where each SMS lands (hub/inbound/ingest.py, with a real store): an alert is stored; a responder's reply, a
keyword report and a contact's reply go to their parts, in that order; anything else goes to the inbox with its
sender and text; an alert-shaped SMS that fails authentication is kept as unverified and raised to the supervisors
once per sender and 10 minutes; a replay of it is only logged. Nothing that arrives is lost."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.exc import OperationalError

from drivers.alert import MAC_HEX_DIGITS, encode_alert, read_unverified
from hub.bus import Bus
from hub.hops import Hops
from hub.inbound.ingest import UNVERIFIED_RAISE_INTERVAL_S, Ingest
from hub.incidents.plan import Responder
from hub.store import Store
from hub.store.inbox import inbox, mark_handled
from hub.timeline import Timeline
from tests.hub.spine_fixtures import W1_PHONE, alert_text, make_config

T0 = 1_795_430_000.0
RESPONDER = "+22377000001"
REPORTER = "+22378000001"
CONTACT = "+22366000001"
FORGER = "+22379999999"
SUPERVISORS = [Responder("Kone", "+22377000009", "fr"), Responder("Smith", "+22377000008", "en")]


class TakesFrom:
    """A part of the hub that takes the SMS of some numbers (as ResponderReplies, KeywordReports, Threads do)."""

    def __init__(self, numbers):
        self.numbers = numbers
        self.taken = []

    def __call__(self, sender, text, t=None):
        if sender in self.numbers:
            self.taken.append((sender, text, t))
            return True
        return False

    handle = contact_reply = __call__


class Plan:
    def supervisors(self, t):
        return SUPERVISORS

    def responder_by_phone(self, phone):
        return next((r for r in SUPERVISORS if r.phone == phone), None)


class Hub:
    def __init__(self, tmp_path, plan=None):
        self.config = make_config(tmp_path)
        self.store = Store(self.config.database).open()
        self.events = []
        bus = Bus()
        bus.subscribe(self.events.append)
        self.replies = TakesFrom({RESPONDER})
        # A responder's number that also sends a keyword: the reply comes first.
        self.reports = TakesFrom({REPORTER, RESPONDER})
        self.threads = TakesFrom({CONTACT, REPORTER, RESPONDER})
        self.ingest = Ingest(self.store, Hops(self.store, bus, Timeline(tmp_path / "timeline.jsonl")), self.config,
                             replies=self.replies, reports=self.reports, threads=self.threads, plan=plan)

    def supervisor_sms(self):
        return [m for m in self.store.outbox() if m["kind"] == "supervisor"]


@pytest.fixture
def hub(tmp_path):
    hub = Hub(tmp_path, plan=Plan())
    yield hub
    hub.store.close()


def forged(counter, device="W1", event="SOS"):
    text = alert_text(counter, event=event, device=device)
    return text[:-MAC_HEX_DIGITS] + "0" * MAC_HEX_DIGITS


def test_each_kind_of_sms_lands_where_it_belongs(hub):
    assert hub.ingest.handle_text(alert_text(1), "sms", sender=W1_PHONE, received_at=T0) == "new"
    assert hub.ingest.handle_text("OK K7", "sms", sender=RESPONDER, received_at=T0 + 1) == "reply"
    assert hub.ingest.handle_text("AIDE agression rue 12", "sms", sender=REPORTER, received_at=T0 + 2) == "report"
    assert hub.ingest.handle_text("Elle est chez moi", "sms", sender=CONTACT, received_at=T0 + 3) == "thread"
    assert hub.ingest.handle_text("Bonjour, qui est-ce ?", "sms", sender="+22370001234", received_at=T0 + 4) == \
        "inbox"
    assert [a["counter"] for a in hub.store.list_alerts()] == [1]
    assert hub.replies.taken == [(RESPONDER, "OK K7", T0 + 1)]
    assert hub.reports.taken == [(REPORTER, "AIDE agression rue 12", T0 + 2)]
    assert hub.threads.taken == [(CONTACT, "Elle est chez moi", T0 + 3)]
    [kept] = inbox(hub.store)
    assert (kept["sender"], kept["text"], kept["kind"], kept["t"]) == ("+22370001234", "Bonjour, qui est-ce ?",
                                                                       "unknown", T0 + 4)
    assert hub.store.rejected() == []
    inbox_events = [e for e in hub.events if e.kind == "inbox.new"]
    assert [e.detail for e in inbox_events] == [{"inbox_id": kept["id"], "kind": "unknown", "via": "sms",
                                                 "sender": "+22370001234"}]


def test_without_its_parts_every_text_goes_to_the_inbox(tmp_path):
    hub = Hub(tmp_path)
    hub.ingest.replies = hub.ingest.reports = hub.ingest.threads = None
    try:
        for sender in (RESPONDER, REPORTER, CONTACT):
            assert hub.ingest.handle_text("OK K7", "sms", sender=sender) == "inbox"
        assert [m["sender"] for m in inbox(hub.store)] == [CONTACT, REPORTER, RESPONDER]
    finally:
        hub.store.close()


def test_a_part_that_fails_does_not_lose_the_sms(hub):
    def broken(sender, text, t=None):
        raise KeyError("bug")
    hub.ingest.replies.handle = broken
    assert hub.ingest.handle_text("OK K7", "sms", sender=RESPONDER) == "inbox"
    [kept] = inbox(hub.store)
    assert kept["text"] == "OK K7" and "reply handler failed (KeyError)" in kept["detail"]["reason"]


def test_a_store_failure_in_a_part_is_raised_so_the_modem_keeps_the_sms(hub):
    def store_down(sender, text, t=None):
        raise OperationalError("INSERT", {}, Exception("disk I/O error"))
    hub.ingest.reports.handle = store_down
    with pytest.raises(OperationalError):
        hub.ingest.handle_text("AIDE", "sms", sender=REPORTER)
    assert inbox(hub.store) == []


def test_an_inbox_message_is_handled_once(hub):
    hub.ingest.handle_text("allo", "sms", sender="+22370001234")
    [kept] = inbox(hub.store)
    assert mark_handled(hub.store, kept["id"], "Diallo", t=T0) is True
    assert mark_handled(hub.store, kept["id"], "Traore", t=T0 + 1) is False
    [handled] = inbox(hub.store)
    assert (handled["handled_by"], handled["handled_at"]) == ("Diallo", T0)
    assert inbox(hub.store, unhandled_only=True) == []


# -- unverified alerts ------------------------------------------------------------------------------------------
def test_an_unverified_alert_is_kept_and_raised_to_the_supervisors_with_what_it_claims(hub):
    text = forged(7)
    assert hub.ingest.handle_text(text, "sms", sender=FORGER, received_at=T0) == "unverified"
    assert hub.store.list_alerts() == [] and not [m for m in hub.store.outbox() if m["kind"] == "ack"]
    [kept] = inbox(hub.store)
    assert kept["kind"] == "unverified" and kept["sender"] == FORGER and kept["text"] == text
    assert kept["detail"]["claimed"]["event"] == "SOS" and kept["detail"]["claimed"]["lat"] == 13.4317
    fr, en = hub.supervisor_sms()
    assert (fr["recipient"], en["recipient"]) == ("+22377000009", "+22377000008")
    assert "NON VERIFIE" in fr["body"] and "UNVERIFIED" in en["body"]
    for sms in (fr, en):
        assert FORGER in sms["body"] and "SOS" in sms["body"] and "W1" in sms["body"]
        assert "13.43170,-6.21570" in sms["body"] and sms["priority"] == 0
    [event] = [e for e in hub.events if e.kind == "inbox.new"]
    assert event.detail["kind"] == "unverified" and event.detail["supervisors_texted"] == 2


def test_an_unknown_device_is_raised_too(hub):
    text = encode_alert(b"k" * 32, "W9", 1, "FALL", "GEN", 0, None, None, 50)
    assert hub.ingest.handle_text(text, "sms", sender="+22370005555") == "unverified"
    assert all("FALL" in m["body"] and "W9" in m["body"] for m in hub.supervisor_sms())
    assert len(hub.supervisor_sms()) == 2


def test_the_supervisors_hear_of_one_sender_once_per_ten_minutes(hub):
    for i in range(5):  # a wearable resending its alarm, or a forger flooding
        assert hub.ingest.handle_text(forged(10 + i), "sms", sender=FORGER, received_at=T0 + 60 * i) == "unverified"
    assert len(hub.supervisor_sms()) == 2
    assert len(inbox(hub.store, kinds=["unverified"])) == 5  # every one is kept all the same
    # Another sender is raised at once; the first again once the interval has passed.
    hub.ingest.handle_text(forged(20), "sms", sender="+22370004444", received_at=T0 + 300)
    assert len(hub.supervisor_sms()) == 4
    hub.ingest.handle_text(forged(21), "sms", sender=FORGER, received_at=T0 + UNVERIFIED_RAISE_INTERVAL_S + 1)
    assert len(hub.supervisor_sms()) == 6


def test_a_replayed_counter_with_a_bad_mac_is_only_logged(hub, caplog):
    hub.ingest.handle_text(alert_text(5), "sms", sender=W1_PHONE, received_at=T0)
    # The same counter again (a recorded alert altered), then one older than the device's last.
    assert hub.ingest.handle_text(forged(5), "sms", sender=FORGER, received_at=T0 + 1) == "replay"
    assert hub.ingest.handle_text(forged(3), "sms", sender=FORGER, received_at=T0 + 2) == "replay"
    assert hub.supervisor_sms() == [] and inbox(hub.store) == []
    reasons = [r["reason"] for r in hub.store.rejected()]
    assert len(reasons) == 2 and all("replay" in reason for reason in reasons)
    assert "rejected message via sms from %s" % FORGER in caplog.text
    assert "13.43" not in caplog.text  # location never in logs


def test_a_forged_heartbeat_raises_nobody(hub):
    assert hub.ingest.handle_text(forged(9, event="HB"), "sms", sender=FORGER) == "unverified"
    assert hub.supervisor_sms() == []
    assert [m["kind"] for m in inbox(hub.store)] == ["unverified"]


def test_without_a_plan_an_unverified_alert_is_still_kept(tmp_path):
    hub = Hub(tmp_path)
    try:
        assert hub.ingest.handle_text(forged(1), "sms", sender=FORGER) == "unverified"
        assert hub.supervisor_sms() == [] and len(inbox(hub.store)) == 1
    finally:
        hub.store.close()


# -- read_unverified: total, reads what the text claims -----------------------------------------------------------
def test_read_unverified_reads_the_claimed_fields():
    reading = read_unverified(forged(42))
    assert reading == {"device_id": "W1", "counter": 42, "event": "SOS", "category": "GEN", "lat": 13.4317,
                       "lon": -6.2157, "acc_m": 12, "battery": 80}
    assert read_unverified("DM1;i=W1;n=x;e=NOPE;p=99,1;m=0")["counter"] is None
    assert set(read_unverified("garbage").values()) == {None}


@given(st.one_of(st.text(), st.builds(lambda s: "DM1;" + s, st.text())))
def test_read_unverified_is_total(text):
    reading = read_unverified(text)
    assert set(reading) == {"device_id", "counter", "event", "category", "lat", "lon", "acc_m", "battery"}


# -- nothing is lost --------------------------------------------------------------------------------------------
def counts(hub):
    store = hub.store
    return (len(store.list_alerts(status_events=True, limit=10 ** 6)), len(store.dead_letters(limit=10 ** 6)),
            len(store.rejected(limit=10 ** 6)), len(inbox(store, limit=10 ** 6)),
            len(hub.replies.taken) + len(hub.reports.taken) + len(hub.threads.taken))


SENDERS = st.one_of(st.none(), st.sampled_from([W1_PHONE, RESPONDER, REPORTER, CONTACT, FORGER]),
                    st.text(max_size=20))
TEXTS = st.one_of(st.text(st.characters(codec=None, categories=None), max_size=300),
                  st.builds(lambda n: alert_text(n), st.integers(0, 50)),
                  st.builds(lambda n: forged(n), st.integers(0, 50)),
                  st.builds(lambda s: "DM1;i=W1;" + s, st.text(max_size=80)))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXTS, sender=SENDERS)
def test_any_sms_from_anyone_is_kept_somewhere_and_never_raises(hub, text, sender):
    before = counts(hub)
    outcome = hub.ingest.handle_text(text, "sms", sender=sender, received_at=T0)
    after = counts(hub)
    if outcome == "duplicate":  # the same alert again: kept once, receipted again
        assert after == before
        return
    assert outcome in {"new", "replay", "rejected", "dead_letter", "reply", "report", "thread", "inbox",
                       "unverified"}
    assert sum(after) == sum(before) + 1
