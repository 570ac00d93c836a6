"""The two-way SMS thread of an incident (hub/incidents/thread.py, hub/store/threads.py): an operator's SMS is
queued, threaded and audited together; what a trusted contact or a keyword reporter texts back lands in the
incident it belongs to, and anyone else's text is left for the inbox."""
import sqlite3

import pytest
from sqlalchemy import update

from hub.bus import Bus
from hub.hops import Hops
from hub.incidents.operator import OperatorActions
from hub.incidents.thread import REPLY_WINDOW_S, ThreadError, Threads
from hub.store import Store
from hub.store.api import outbox_priority
from hub.store.schema import alerts
from tests.hub.spine_fixtures import CONTACT_PHONE, alert_text, make_config

T0 = 1_795_430_100.0
REPORTER = "+22365000009"


@pytest.fixture
def hub(tmp_path):
    config = make_config(tmp_path)
    store = Store(config.database).open()
    bus = Bus()
    events = []
    bus.subscribe(events.append)
    hops = Hops(store, bus)
    woken = []
    threads = Threads(store, config, hops, wake_outbox=lambda: woken.append(True), clock=lambda: T0 + 10)
    yield threads, store, events, woken, hops, config
    store.close()


def sos(store, counter=1, t=T0):
    _status, alert = store.record_alert(
        {"device_id": "W1", "counter": counter, "event": "SOS", "category": "GEN", "lat": 13.4, "lon": -6.2},
        alert_text(counter), "sms", received_at=t)
    return alert


def report(store, number=REPORTER, t=T0):
    """A keyword report as the report helper stores it: an alert whose source is "report", from that number."""
    _status, alert = store.record_alert({"device_id": number, "counter": int(t), "event": "SOS", "category": "AGR"},
                                        "AIDE agression rue 12", "sms", sender=number, received_at=t)
    with store.transaction() as db:
        db.execute(update(alerts).where(alerts.c.id == alert["id"]).values(source="report"))
    return store.get_alert(alert["id"])


def test_an_operator_s_sms_is_queued_threaded_and_audited_in_one_go(hub):
    threads, store, events, woken, _hops, _config = hub
    alert = sos(store)
    message = threads.send(alert["id"], "66 00 00 01", "  Nous arrivons, restez sur place  ", "Sgt. Diallo")
    # The number as a person typed it (Mali's national form) is stored in E.164.
    assert message["number"] == CONTACT_PHONE and message["text"] == "Nous arrivons, restez sur place"
    (queued,) = [m for m in store.outbox(alert["id"]) if m["kind"] == "thread"]
    assert queued["id"] == message["outbox_id"] and queued["recipient"] == CONTACT_PHONE
    assert queued["body"] == "Nous arrivons, restez sur place" and queued["state"] == "pending"
    assert queued["priority"] == outbox_priority("thread")  # the outbox's table places it after calls for help
    assert threads.messages(alert["id"]) == [message]
    assert message["direction"] == "out" and message["role"] == "operator" and message["name"] == "Sgt. Diallo"
    audit = [h for h in store.hops(alert["id"]) if h["hop"] == "thread.out"]
    assert [h["detail"] for h in audit] == [{"message_id": message["id"], "outbox_id": queued["id"],
                                             "by": "Sgt. Diallo", "role": "operator", "to": CONTACT_PHONE}]
    # Once (the store wrote it with the rows), and every live view is told.
    assert [e.detail["message_id"] for e in events if e.kind == "thread.message"] == [message["id"]]
    assert woken == [True]


def test_a_responder_writes_under_his_own_name(hub):
    threads, store, _events, _woken, _hops, _config = hub
    alert = sos(store)
    threads.send(alert["id"], CONTACT_PHONE, "Je suis devant la maison", "Adj. Keita", sender_role="responder",
                 t=T0 + 99)
    (message,) = threads.messages(alert["id"])
    assert (message["role"], message["name"], message["t"]) == ("responder", "Adj. Keita", T0 + 99)


@pytest.mark.parametrize("alert_id, to, text, name, role, why", [
    (None, CONTACT_PHONE, "x", "Sgt. Diallo", "operator", "no incident"),
    ("alert", "not a number", "x", "Sgt. Diallo", "operator", "is not a phone number"),
    ("alert", "+2231", "x", "Sgt. Diallo", "operator", "is not a phone number"),
    ("alert", CONTACT_PHONE, "   ", "Sgt. Diallo", "operator", "empty"),
    ("alert", CONTACT_PHONE, "x", " ", "operator", "name is required"),
    ("alert", CONTACT_PHONE, "x", "Moussa", "contact", "sender_role must be"),
])
def test_what_cannot_be_sent_is_refused_with_what_to_fix_and_nothing_is_queued(hub, alert_id, to, text, name, role,
                                                                               why):
    threads, store, _events, woken, _hops, _config = hub
    alert = sos(store)
    with pytest.raises(ThreadError, match=why):
        threads.send(alert["id"] if alert_id == "alert" else 999, to, text, name, sender_role=role)
    assert store.outbox() == [] and threads.messages(alert["id"]) == [] and woken == []


def test_a_contact_s_reply_lands_in_the_open_incident_of_the_wearer(hub):
    threads, store, events, _woken, _hops, _config = hub
    older = sos(store, counter=1, t=T0 - 600)
    store.transition(older["id"], "resolve", "Sgt. Diallo", t=T0 - 300)
    alert = sos(store, counter=2, t=T0)
    assert threads.contact_reply("+223 66 00 00 01", "Elle est chez sa tante, rue 12", t=T0 + 30) is True
    (message,) = threads.messages(alert["id"])
    assert message == {"id": message["id"], "alert_id": alert["id"], "t": T0 + 30, "direction": "in",
                       "role": "contact", "name": "Moussa", "number": CONTACT_PHONE,
                       "text": "Elle est chez sa tante, rue 12", "outbox_id": None}
    assert threads.messages(older["id"]) == []
    (hop,) = [h for h in store.hops(alert["id"]) if h["hop"] == "thread.in"]
    assert hop["detail"] == {"message_id": message["id"], "role": "contact", "name": "Moussa",
                             "sender": CONTACT_PHONE}
    (event,) = [e for e in events if e.kind == "thread.message"]
    assert event.alert["id"] == alert["id"] and event.detail["role"] == "contact"


def test_a_contact_s_reply_reaches_an_incident_closed_less_than_a_day_ago_and_no_older_one(hub):
    threads, store, _events, _woken, _hops, _config = hub
    alert = sos(store, t=T0)
    store.transition(alert["id"], "resolve", "Sgt. Diallo", t=T0 + 60)
    assert threads.contact_reply(CONTACT_PHONE, "Merci", t=T0 + 60 + REPLY_WINDOW_S - 1) is True
    assert threads.contact_reply(CONTACT_PHONE, "Encore merci", t=T0 + 60 + REPLY_WINDOW_S + 1) is False
    assert [m["text"] for m in threads.messages(alert["id"])] == ["Merci"]


def test_a_contact_without_an_incident_and_a_stranger_are_left_for_the_inbox(hub):
    threads, store, _events, _woken, _hops, _config = hub
    assert threads.contact_reply(CONTACT_PHONE, "Bonjour", t=T0) is False  # nothing has happened yet
    alert = sos(store)
    # A heartbeat is not an incident: a reply after one has nowhere to go either.
    store.record_alert({"device_id": "W1", "counter": 5, "event": "HB", "category": "GEN"}, alert_text(5, "HB"),
                       "sms", received_at=T0 + 5)
    assert threads.contact_reply("+22365999999", "K1 c'est moi", t=T0 + 10) is False
    assert threads.contact_reply("garbage", "hello", t=T0 + 10) is False
    assert threads.messages(alert["id"]) == []


def test_a_reporter_s_text_lands_in_the_report_he_opened(hub):
    threads, store, _events, _woken, _hops, _config = hub
    sos(store)  # the wearer's incident is not the reporter's business
    opened = report(store)
    assert threads.contact_reply(REPORTER, "Ils sont partis vers le marche", t=T0 + 20) is True
    (message,) = threads.messages(opened["id"])
    assert (message["role"], message["name"], message["number"]) == ("reporter", None, REPORTER)
    # The operator answers him in the same thread.
    threads.send(opened["id"], REPORTER, "Une patrouille arrive", "Sgt. Diallo", t=T0 + 30)
    assert [(m["direction"], m["role"]) for m in threads.messages(opened["id"])] == [("in", "reporter"),
                                                                                     ("out", "operator")]


def test_an_open_incident_is_preferred_to_a_newer_closed_one(hub):
    threads, store, _events, _woken, _hops, config = hub
    open_one = sos(store, counter=1, t=T0)
    closed = sos(store, counter=2, t=T0 + 100)
    OperatorActions(store, Hops(store, Bus()), config).apply(closed["id"], "resolve", "Sgt. Diallo")
    assert threads.contact_reply(CONTACT_PHONE, "Et maintenant ?", t=T0 + 200) is True
    assert [m["alert_id"] for m in threads.messages(open_one["id"])] == [open_one["id"]]
    assert threads.messages(closed["id"]) == []


def test_the_thread_survives_a_restart(hub, tmp_path):
    threads, store, _events, _woken, _hops, config = hub
    alert = sos(store)
    threads.send(alert["id"], CONTACT_PHONE, "Nous arrivons", "Sgt. Diallo")
    threads.contact_reply(CONTACT_PHONE, "Merci", t=T0 + 20)
    store.close()
    rows = sqlite3.connect(config.database).execute(
        "SELECT direction, role, text FROM thread_messages WHERE alert_id=? ORDER BY t, id", (alert["id"],)).fetchall()
    assert rows == [("out", "operator", "Nous arrivons"), ("in", "contact", "Merci")]
    with Store(config.database) as reopened:
        assert [m["text"] for m in Threads(reopened, config, Hops(reopened, Bus())).messages(alert["id"])] == [
            "Nous arrivons", "Merci"]
