"""The contacts told what happened next (hub/incidents/notices.py): an operator's acknowledgement, dispatch and
resolution reach each trusted contact as the contact asked, in the contact's language, in one GSM-7 SMS, once per
state change even across restarts, and each notice is in the incident's thread."""
import asyncio
import dataclasses
import types

import pytest

from drivers import gsm7
from drivers.alert import MAX_SMS_CHARS
from hub.bus import Bus
from hub.config import Contact
from hub.hops import Hops
from hub.incidents.notices import CATCH_UP_S, ContactNotices, notice_text
from hub.incidents.operator import OperatorActions
from hub.store import Store
from hub.store.threads import list_messages
from tests.hub.spine_fixtures import CONTACT_PHONE, alert_text, make_config

SISTER = "+22366000002"
FRIEND = "+447700900123"


def contact(name, phone, lang="fr", notify=None):
    """A trusted contact with a `notify` setting: hub.config's own once it has the field, else the same shape."""
    if notify is None:
        return Contact(name=name, phone=phone, lang=lang)
    if "notify" in {f.name for f in dataclasses.fields(Contact)}:
        return Contact(name=name, phone=phone, lang=lang, notify=notify)
    return types.SimpleNamespace(name=name, phone=phone, lang=lang, notify=notify)


@pytest.fixture
def hub(tmp_path):
    config = make_config(tmp_path)
    device = config.devices["W1"]
    contacts = (contact("Moussa", CONTACT_PHONE, "fr"),
                contact("Fatou", SISTER, "fr", notify=("resolved",)),
                contact("Jane", FRIEND, "en", notify=("acknowledged", "dispatched")))
    config = dataclasses.replace(config, devices={"W1": dataclasses.replace(device, contacts=contacts)})
    store = Store(config.database).open()
    hops = Hops(store, Bus())
    woken = []
    notices = ContactNotices(store, config, hops, wake_outbox=lambda: woken.append(True))
    actions = OperatorActions(store, hops, config)
    yield store, notices, actions, hops, woken, config
    store.close()


def stored(store, counter=1, event="SOS"):
    _status, alert = store.record_alert(
        {"device_id": "W1", "counter": counter, "event": event, "category": "GEN", "lat": 13.4, "lon": -6.2},
        alert_text(counter, event), "sms")
    return alert


def notices_to(store, alert_id):
    """recipient -> the bodies of the notices queued for it, in order."""
    sent = {}
    for message in store.outbox(alert_id):
        if message["kind"] == "contact":
            sent.setdefault(message["recipient"], []).append(message["body"])
    return sent


def run_notices(notices, during):
    """Run the notices task on a loop, do `during()` from another thread (as the console's handler does), and stop
    once every notice it leads to is queued."""
    async def main():
        task = asyncio.create_task(notices.run())
        await asyncio.sleep(0)  # subscribed
        await asyncio.to_thread(during)
        for _ in range(100):  # the events cross to the loop with call_soon_threadsafe: a few turns of it
            await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    asyncio.run(main())


def test_each_contact_is_told_each_step_it_asked_for_in_its_language(hub):
    store, notices, actions, _hops, woken, _config = hub
    alert = stored(store)

    def operator():
        actions.apply(alert["id"], "acknowledge", "Sgt. Diallo")
        actions.apply(alert["id"], "dispatch", "Sgt. Diallo")
        actions.apply(alert["id"], "resolve", "Sgt. Diallo")

    run_notices(notices, operator)
    sent = notices_to(store, alert["id"])
    assert sent[CONTACT_PHONE] == [  # Moussa: every step (the default)
        "Deme: la police a pris en compte l'alerte d'Awa Traoré. Repondez a ce SMS pour ecrire a la police.",
        "Deme: les secours sont en route pour Awa Traoré. Repondez a ce SMS pour ecrire a la police.",
        "Deme: l'alerte d'Awa Traoré est terminee. Repondez a ce SMS pour ecrire a la police."]
    assert sent[SISTER] == ["Deme: l'alerte d'Awa Traoré est terminee. Repondez a ce SMS pour ecrire a la police."]
    assert sent[FRIEND] == [
        "Deme: the police have seen Awa Traoré's alert. Reply to this SMS to write to the police.",
        "Deme: help is on its way to Awa Traoré. Reply to this SMS to write to the police."]
    assert woken


def test_every_notice_is_an_operator_s_message_of_the_incident_s_thread_with_its_audit(hub):
    store, notices, actions, _hops, _woken, _config = hub
    alert = actions.apply(stored(store)["id"], "acknowledge", "Sgt. Diallo")
    assert notices.tell(alert) == 2  # Moussa and Jane asked for the acknowledgement, Fatou did not
    thread = list_messages(store, alert["id"])
    queued = {m["id"]: m for m in store.outbox(alert["id"]) if m["kind"] == "contact"}
    assert [(m["direction"], m["role"], m["name"], m["number"]) for m in thread] == [
        ("out", "operator", "Sgt. Diallo", CONTACT_PHONE), ("out", "operator", "Sgt. Diallo", FRIEND)]
    assert all(queued[m["outbox_id"]]["body"] == m["text"] for m in thread)
    audit = [h["detail"] for h in store.hops(alert["id"]) if h["hop"] == "contact.notice"]
    assert [(d["notice"], d["to"]) for d in audit] == [("acknowledged", CONTACT_PHONE), ("acknowledged", FRIEND)]


def test_no_second_notice_for_the_same_state_change_even_after_a_restart(hub):
    store, notices, actions, hops, _woken, config = hub
    alert = actions.apply(stored(store)["id"], "acknowledge", "Sgt. Diallo")
    assert notices.tell(alert) == 2
    assert notices.tell(alert) == 0  # the same event twice (a console that retried)
    store.close()
    with Store(config.database) as reopened:
        again = ContactNotices(reopened, config, Hops(reopened, Bus()))
        assert again.catch_up() == 0 and again.tell(reopened.get_alert(alert["id"])) == 0
        assert len([m for m in reopened.outbox(alert["id"]) if m["kind"] == "contact"]) == 2


def test_a_change_the_hub_had_no_time_to_tell_before_it_stopped_is_told_after_the_restart(hub):
    store, notices, actions, _hops, _woken, config = hub
    recent = actions.apply(stored(store, 1)["id"], "dispatch", "Sgt. Diallo")
    stale = stored(store, 2)
    store.transition(stale["id"], "acknowledge", "Sgt. Diallo", t=recent["dispatched_at"] - CATCH_UP_S - 60)
    # The hub stopped before its notices task saw either event.
    assert notices.catch_up() == 2  # Moussa and Jane asked to hear of a dispatch
    assert set(notices_to(store, recent["id"])) == {CONTACT_PHONE, FRIEND}
    assert notices_to(store, stale["id"]) == {}  # stale news by now


def test_heartbeats_follow_ups_and_reports_have_no_notices(hub):
    store, notices, actions, _hops, _woken, _config = hub
    heartbeat = stored(store, 1, "HB")  # closed by the hub as it is stored
    assert notices.tell(heartbeat) == 0
    sos = stored(store, 2)
    follow_up = stored(store, 3, "POS")
    assert store.apply_followup(follow_up["id"]) is not None
    assert notices.tell(store.get_alert(follow_up["id"])) == 0
    lowbat = actions.apply(stored(store, 4, "LOWBAT")["id"], "acknowledge", "Sgt. Diallo")
    assert notices.tell(lowbat) == 0  # the contacts never heard of it
    assert notices.tell(store.get_alert(sos["id"])) == 0  # still new: nothing happened yet
    assert [m for m in store.outbox() if m["kind"] == "contact"] == []


def test_the_notice_names_the_incident_code_and_how_it_ended():
    assert notice_text("Awa", "acknowledged", "fr", code="K7") == (
        "Deme: la police a pris en compte l'alerte d'Awa (K7). Repondez a ce SMS pour ecrire a la police.")
    assert notice_text("Moussa", "resolved", "fr", code="K7", outcome="false_alarm").startswith(
        "Deme: l'alerte de Moussa (K7) est terminee (fausse alerte).")
    assert notice_text("Charles", "resolved", "en", outcome="cancelled").startswith(
        "Deme: Charles' alert is closed (cancelled).")
    assert notice_text("Awa", "dispatched", "bm").startswith("Deme: les secours sont en route pour Awa")


@pytest.mark.parametrize("wearer", ["Awa", "Aïssata Ɛ Dembélé", "X" * 300, "Ñ" * 200])
@pytest.mark.parametrize("state", ["acknowledged", "dispatched", "resolved"])
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_notice_is_one_gsm7_sms(wearer, state, lang):
    text = notice_text(wearer, state, lang, code="K17", outcome="false_alarm")
    septets = gsm7.encode(text)
    assert septets is not None and len(septets) <= MAX_SMS_CHARS
    assert "(K17)" in text
