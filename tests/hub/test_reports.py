"""Keyword reports from any phone (hub/incidents/reports.py, hub/store/reports.py) on a real Store: an incident of
source "report" announced as a new alert, the reply with its code, the rate limit, blocked numbers."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.bus import Bus
from hub.hops import Hops
from hub.incidents.reports import ANSWERS, KeywordReports, answer_text
from hub.incidents.responder_text import SMS_SEPTETS, septets
from hub.store import Store
from hub.store.inbox import inbox
from hub.store.reports import block_number, inbox_of, is_blocked, list_blocked, record_report, unblock_number
from hub.store.threads import list_messages
from tests.hub.spine_fixtures import W1_PHONE
from tests.hub.test_replies import DIALLO, plan_config

REPORTER = "+22366000009"
T0 = 1_800_000_000.0
HOUR = 3600.0


class Hub:
    def __init__(self, tmp_path, per_hour=3):
        self.config = plan_config(tmp_path)
        self.store = Store(self.config.database).open()
        self.events = []
        bus = Bus()
        bus.subscribe(self.events.append)
        self.hops = Hops(self.store, bus)
        self.reports = KeywordReports(self.store, self.config.plan, self.hops, clock=lambda: T0, per_hour=per_hour,
                                      is_wearable=lambda number: self.config.device_by_phone(number) is not None)

    def reports_from(self, number):
        return [a for a in self.store.list_alerts(states=("new", "acknowledged", "dispatched", "resolved"))
                if a["device_id"] == number]

    def answers_to(self, number):
        return [m["body"] for m in self.store.outbox() if m["recipient"] == number]


@pytest.fixture
def hub(tmp_path):
    hub = Hub(tmp_path)
    yield hub
    hub.store.close()


def test_a_keyword_report_opens_an_incident_with_its_number_and_text(hub):
    assert hub.reports.handle(REPORTER, "AIDE agression rue 12") is True
    [alert] = hub.reports_from(REPORTER)
    assert (alert["source"], alert["event"], alert["category"], alert["via"], alert["sender"], alert["raw"],
            alert["counter"], alert["state"]) == ("report", "SOS", "AGR", "sms", REPORTER, "AIDE agression rue 12",
                                                  1, "new")
    assert alert["code"]
    # Announced as any new alert: the console, MQTT and the escalation engine hear alert.new with its code.
    [new] = [e for e in hub.events if e.kind == "alert.new"]
    assert (new.alert["id"], new.alert["code"], new.alert["source"]) == (alert["id"], alert["code"], "report")
    assert [h["hop"] for h in hub.store.hops(alert["id"])].count("hub.stored") == 1
    # Never a device: the watchdog and the device list know nothing of it.
    assert hub.store.device_status(REPORTER) is None


def test_the_sender_gets_the_code_in_its_language(hub):
    hub.reports.handle(REPORTER, "AIDE agression rue 12")
    [alert] = hub.reports_from(REPORTER)
    [answer] = hub.answers_to(REPORTER)
    assert answer.startswith(f"Deme: recu, la police est prévenue. Code {alert['code']}.")
    thread = list_messages(hub.store, alert["id"])
    assert [(m["direction"], m["role"], m["text"]) for m in thread] == [
        ("in", "reporter", "AIDE agression rue 12"), ("out", "operator", answer)]


def test_an_english_fire_report_is_told_the_emergency_services_in_english(hub):
    hub.reports.handle(REPORTER, "HELP fire at the market")
    [alert] = hub.reports_from(REPORTER)
    assert alert["category"] == "FIRE"
    assert hub.answers_to(REPORTER)[0].startswith(f"Deme: received, emergency services are told. Code "
                                                  f"{alert['code']}.")


def test_a_further_keyword_sms_while_open_adds_to_the_same_incident(hub):
    hub.reports.handle(REPORTER, "AIDE agression rue 12")
    assert hub.reports.handle(REPORTER, "SOS ils sont trois, devant la pharmacie") is True
    [alert] = hub.reports_from(REPORTER)
    texts = [m["text"] for m in list_messages(hub.store, alert["id"]) if m["direction"] == "in"]
    assert texts == ["AIDE agression rue 12", "SOS ils sont trois, devant la pharmacie"]
    assert hub.answers_to(REPORTER)[-1] == f"Deme: message ajouté à {alert['code']}. Les secours le lisent."


def test_once_closed_a_new_report_opens_a_new_incident(hub):
    hub.reports.handle(REPORTER, "AIDE")
    [first] = hub.reports_from(REPORTER)
    hub.store.transition(first["id"], "resolve", "Sgt. Diallo")
    hub.reports.handle(REPORTER, "AIDE feu")
    assert sorted(a["counter"] for a in hub.reports_from(REPORTER)) == [1, 2]


def test_texts_that_are_no_report_are_left_for_the_inbox(hub):
    for text in ("bonjour", "Il faut de l'aide", "", "OK K7"):
        assert hub.reports.handle(REPORTER, text) is False
    assert hub.reports_from(REPORTER) == [] and hub.answers_to(REPORTER) == []


@pytest.mark.parametrize("sender", [DIALLO, W1_PHONE, "ORANGE", "", None, "12"])
def test_responders_wearables_and_senders_that_are_no_person_open_no_report(hub, sender):
    assert hub.reports.handle(sender, "AIDE agression") is False
    assert hub.store.list_alerts() == []


def test_over_the_hourly_limit_one_answer_then_nothing_and_nothing_lost(tmp_path):
    hub = Hub(tmp_path, per_hour=2)
    try:
        for text in ("AIDE 1", "AIDE 2", "AIDE 3", "AIDE 4", "AIDE 5"):
            assert hub.reports.handle(REPORTER, text) is True
        [alert] = hub.reports_from(REPORTER)
        in_thread = [m["text"] for m in list_messages(hub.store, alert["id"]) if m["direction"] == "in"]
        assert in_thread == ["AIDE 1", "AIDE 2"]
        kept = inbox_of(hub.store, REPORTER)
        assert [(m["kind"], m["text"], m["detail"]["answered"]) for m in kept] == [
            ("rate_limited", "AIDE 3", True), ("rate_limited", "AIDE 4", False), ("rate_limited", "AIDE 5", False)]
        too_many = [a for a in hub.answers_to(REPORTER) if "trop de messages" in a]
        assert len(too_many) == 1
        # An hour later the number is heard again.
        assert hub.reports.handle(REPORTER, "AIDE 6", t=T0 + HOUR + 1) is True
        in_thread = [m["text"] for m in list_messages(hub.store, alert["id"]) if m["direction"] == "in"]
        assert in_thread[-1] == "AIDE 6"
    finally:
        hub.store.close()


def test_the_limit_is_per_number(tmp_path):
    hub = Hub(tmp_path, per_hour=1)
    try:
        hub.reports.handle(REPORTER, "AIDE")
        hub.reports.handle("+22366000008", "AIDE")
        assert len(hub.reports_from(REPORTER)) == len(hub.reports_from("+22366000008")) == 1
        assert inbox_of(hub.store, "+22366000008") == []
    finally:
        hub.store.close()


def test_a_blocked_number_gets_nothing_and_its_sms_is_kept_marked_blocked(hub):
    assert block_number(hub.store, "66 00 00 09", "Cdt. Coulibaly", reason="fausses alertes", region="ML",
                        t=T0) == REPORTER
    assert hub.reports.handle(REPORTER, "AIDE agression rue 12") is True
    assert hub.reports_from(REPORTER) == [] and hub.answers_to(REPORTER) == []
    [kept] = inbox(hub.store, kinds=("blocked",))
    assert (kept["sender"], kept["text"], kept["kind"]) == (REPORTER, "AIDE agression rue 12", "blocked")
    assert any(e.kind == "inbox.new" for e in hub.events)


def test_blocking_and_unblocking_a_number(hub):
    block_number(hub.store, REPORTER, "Cdt. Coulibaly", t=T0)
    block_number(hub.store, "+223 66 00 00 09", "Cne. Traoré", reason="insultes", t=T0 + 1)
    assert list_blocked(hub.store) == [{"number": REPORTER, "blocked_at": T0 + 1, "blocked_by": "Cne. Traoré",
                                        "reason": "insultes"}]
    assert is_blocked(hub.store, REPORTER)
    assert unblock_number(hub.store, "0022366000009", region="ML") is True
    assert unblock_number(hub.store, REPORTER) is False
    assert not is_blocked(hub.store, REPORTER)
    assert hub.reports.handle(REPORTER, "AIDE") is True
    assert len(hub.reports_from(REPORTER)) == 1


@pytest.mark.parametrize("number, by, error", [("hello", "Cdt. Coulibaly", "not a phone number"),
                                               ("+2231", "Cdt. Coulibaly", "not a phone number"),
                                               (REPORTER, " ", "name of the supervisor")])
def test_blocking_refuses_what_it_cannot_block_naming_what_to_fix(hub, number, by, error):
    with pytest.raises(ValueError, match=error):
        block_number(hub.store, number, by)
    assert list_blocked(hub.store) == []


def test_record_report_refuses_an_unknown_category(hub):
    with pytest.raises(ValueError, match="category must be one of"):
        record_report(hub.store, REPORTER, "XYZ", "AIDE", t=T0)


@pytest.mark.parametrize("lang", sorted(ANSWERS))
@pytest.mark.parametrize("key", sorted(ANSWERS["fr"]))
def test_every_answer_fits_one_gsm7_sms(lang, key):
    text = answer_text(lang, key, code="Y999")
    assert septets(text) is not None and septets(text) <= SMS_SEPTETS


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.text(max_size=300), st.text(alphabet="AIDESOSHELPaudecorsmédicalfeu 12!,'", max_size=40)))
def test_any_text_from_any_number_is_taken_or_left_never_raises_and_never_lost(hub, text):
    alerts_before, kept_before = len(hub.store.list_alerts()), len(inbox_of(hub.store, REPORTER))
    report = hub.reports.handle(REPORTER, text)
    alert = (hub.reports_from(REPORTER) or [None])[0]
    thread = list_messages(hub.store, alert["id"]) if alert else []
    if not report:
        assert len(hub.store.list_alerts()) == alerts_before
    else:
        kept = len(inbox_of(hub.store, REPORTER)) > kept_before
        assert kept or any(m["text"] == text[:2000] for m in thread)
