"""A responder acts from a feature phone (hub/incidents/replies.py), on a real Store with the real OperatorActions:
the wearer's ack goes out as for an operator's click, the first OK wins, the audit names the responder and keeps
the SMS, anyone else gets nothing."""
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.alert import parse_alert
from hub.bus import Bus
from hub.config import parse_config
from hub.hops import Hops
from hub.incidents.operator import OperatorActions
from hub.incidents.replies import ANSWERS, ResponderReplies, answer_text
from hub.incidents.responder_text import SMS_SEPTETS, septets
from hub.store import Store
from hub.store.incidents import assign_code
from hub.store.threads import list_messages
from tests.hub.spine_fixtures import HUB_NUMBER, KEY_HEX, W1_PHONE, alert_text

DIALLO = "+22376100001"  # French
KEITA = "+22376100002"  # English
STRANGER = "+22379999999"
# OperatorActions stamps its changes with the wall clock: the replies read the same one.
T0 = time.time()


def plan_config(tmp_path):
    return parse_config({
        "hub": {"id": "test", "number": HUB_NUMBER, "database": str(tmp_path / "hub.db")},
        "devices": [{"id": "W1", "key": KEY_HEX, "phone": W1_PHONE, "wearer": "Awa Traoré"}],
        "plan": {
            "supervisors": "supervisors",
            "responders": [{"name": "Sgt. Diallo", "phone": DIALLO, "lang": "fr"},
                           {"name": "Cpl. Keita", "phone": KEITA, "lang": "en"},
                           {"name": "Cdt. Coulibaly", "phone": "+22376100003"}],
            "teams": [{"name": "police", "members": ["Sgt. Diallo", "Cpl. Keita"], "rota": "always"},
                      {"name": "supervisors", "members": ["Cdt. Coulibaly"], "rota": "always"}],
            "routes": [{"name": "default", "steps": [{"teams": ["police"]}]}],
        },
    })


class Hub:
    """A store with one open incident from W1, the actions and the replies handler, and what the bus heard."""

    def __init__(self, tmp_path, actions_class=OperatorActions):
        self.config = plan_config(tmp_path)
        self.store = Store(self.config.database).open()
        self.events = []
        bus = Bus()
        bus.subscribe(self.events.append)
        self.hops = Hops(self.store, bus)
        self.actions = actions_class(self.store, self.hops, self.config)
        self.woken = []
        self.replies = ResponderReplies(self.store, self.config.plan, self.actions, self.hops,
                                        wake_outbox=lambda: self.woken.append(True))
        self.alert_id = self.new_incident(1)
        self.code = self.store.get_alert(self.alert_id)["code"]

    def new_incident(self, counter):
        alert = parse_alert(alert_text(counter), self.config.key_for)
        _status, stored = self.store.record_alert(alert, alert_text(counter), "sms", sender=W1_PHONE,
                                                  received_at=T0)
        assign_code(self.store, stored["id"])
        return stored["id"]

    def alert(self):
        return self.store.get_alert(self.alert_id)

    def answers_to(self, number):
        return [m["body"] for m in self.store.outbox() if m["recipient"] == number and m["kind"] == "reply"]

    def acks_to_the_wearable(self):
        return [m["body"].split(";s=")[1][:3] for m in self.store.outbox(self.alert_id) if m["kind"] == "ack"]

    def audit(self):
        return [h["detail"] for h in self.store.hops(self.alert_id) if h["hop"] == "responder.action"]


@pytest.fixture
def hub(tmp_path):
    hub = Hub(tmp_path)
    yield hub
    hub.store.close()


def test_ok_takes_the_incident_and_the_wearer_gets_the_ack_as_for_an_operator(hub):
    assert hub.replies.handle(DIALLO, f"OK {hub.code}") is True
    alert = hub.alert()
    assert (alert["state"], alert["acknowledged_by"]) == ("acknowledged", "Sgt. Diallo")
    assert hub.acks_to_the_wearable() == ["ACK"]
    assert "console.acknowledge" in [h["hop"] for h in hub.store.hops(hub.alert_id)]
    assert any(e.kind == "alert.updated" and e.alert["state"] == "acknowledged" for e in hub.events)
    [answer] = hub.answers_to(DIALLO)
    assert answer.startswith(f"Deme: {hub.code} est à vous")
    assert hub.woken


def test_the_first_ok_wins_and_the_others_are_told_who_has_it(hub):
    hub.replies.handle(DIALLO, f"ok {hub.code.lower()}")
    assert hub.replies.handle(KEITA, f"OK {hub.code}") is True
    assert hub.alert()["acknowledged_by"] == "Sgt. Diallo"
    assert hub.answers_to(KEITA) == [f"Deme: {hub.code} already taken by Sgt. Diallo."]
    assert hub.acks_to_the_wearable() == ["ACK"]
    assert hub.audit()[-1]["result"] == "already_taken"


def test_ok_again_from_the_one_who_has_it_says_so(hub):
    hub.replies.handle(DIALLO, f"OK {hub.code}")
    hub.replies.handle(DIALLO, f"OK {hub.code}")
    assert hub.answers_to(DIALLO)[-1].startswith(f"Deme: {hub.code} est déjà à vous")


class RacingActions(OperatorActions):
    """Another responder's OK commits between the reply's read of the incident and its own action."""

    def apply(self, alert_id, action, operator, note=None, unit=None):
        if operator == "Cpl. Keita":
            super().apply(alert_id, "acknowledge", "Sgt. Diallo")
        return super().apply(alert_id, action, operator, note=note, unit=unit)


def test_two_oks_at_once_the_one_committed_first_wins(tmp_path):
    hub = Hub(tmp_path, actions_class=RacingActions)
    try:
        assert hub.replies.handle(KEITA, f"OK {hub.code}") is True
        assert hub.alert()["acknowledged_by"] == "Sgt. Diallo"
        assert hub.answers_to(KEITA) == [f"Deme: {hub.code} already taken by Sgt. Diallo."]
    finally:
        hub.store.close()


def test_on_my_way_dispatches_and_done_resolves_with_the_outcome(hub):
    hub.replies.handle(DIALLO, f"OK {hub.code}")
    hub.replies.handle(DIALLO, f"PARS {hub.code}")
    assert (hub.alert()["state"], hub.alert()["dispatched_by"]) == ("dispatched", "Sgt. Diallo")
    hub.replies.handle(DIALLO, f"FIN {hub.code} réel, suspect remis à la gendarmerie")
    alert = hub.alert()
    assert (alert["state"], alert["resolved_by"], alert["outcome"]) == ("resolved", "Sgt. Diallo", "real")
    assert alert["note"] == "suspect remis à la gendarmerie"
    assert hub.acks_to_the_wearable() == ["ACK", "DSP", "RES"]
    assert hub.answers_to(DIALLO)[-1] == f"Deme: {hub.code} clos (réel). Merci."


@pytest.mark.parametrize("typed, outcome", [("DONE {} false alarm", "false_alarm"), ("fin {} FA", "false_alarm"),
                                            ("DONE {} test", "test"), ("FIN {} fausse alerte", "false_alarm")])
def test_every_outcome_is_stored(hub, typed, outcome):
    hub.replies.handle(KEITA, typed.format(hub.code))
    assert (hub.alert()["state"], hub.alert()["outcome"]) == ("resolved", outcome)


def test_go_on_a_new_incident_takes_and_dispatches_it(hub):
    hub.replies.handle(KEITA, f"GO {hub.code}")
    alert = hub.alert()
    assert (alert["state"], alert["acknowledged_by"], alert["dispatched_by"]) == ("dispatched", "Cpl. Keita",
                                                                                  "Cpl. Keita")
    assert hub.answers_to(KEITA) == [f"Deme: {hub.code} on the way, noted. DONE {hub.code} REAL/FALSE/TEST at the "
                                     "end."]


def test_the_audit_names_the_responder_and_keeps_the_sms(hub):
    hub.replies.handle(DIALLO, f"d'accord {hub.code}")
    hub.replies.handle(DIALLO, f"FIN {hub.code} test exercice du lundi")
    take, done = hub.audit()
    assert take == {"responder": "Sgt. Diallo", "number": DIALLO, "sms": f"d'accord {hub.code}",
                    "command": "take", "code": hub.code, "result": "done", "outcome": None}
    assert (done["sms"], done["command"], done["outcome"]) == (f"FIN {hub.code} test exercice du lundi", "done",
                                                               "test")


def test_a_note_lands_in_the_incident_thread(hub):
    assert hub.replies.handle(DIALLO, f"{hub.code} la victime est chez sa tante") is True
    [message] = list_messages(hub.store, hub.alert_id)
    assert (message["direction"], message["role"], message["name"], message["number"], message["text"]) == (
        "in", "responder", "Sgt. Diallo", DIALLO, "la victime est chez sa tante")
    assert hub.alert()["state"] == "new"  # a note takes nothing
    assert hub.answers_to(DIALLO) == [f"Deme: note ajoutée à {hub.code}."]
    assert any(e.kind == "thread.message" for e in hub.events)


def test_words_after_on_my_way_are_a_note(hub):
    hub.replies.handle(DIALLO, f"EN ROUTE {hub.code} avec 2 agents")
    assert [m["text"] for m in list_messages(hub.store, hub.alert_id)] == ["avec 2 agents"]


def test_an_unknown_code_gets_a_clear_answer_and_changes_nothing(hub):
    assert hub.replies.handle(DIALLO, "OK Y99") is True
    assert hub.answers_to(DIALLO) == ["Deme: aucun incident Y99 en cours. Vérifiez le code dans l'alerte recue."]
    assert hub.alert()["state"] == "new"


def test_a_closed_code_says_it_is_closed_and_by_whom(hub):
    hub.actions.apply(hub.alert_id, "resolve", "Opératrice Sow")
    hub.replies.handle(KEITA, f"OK {hub.code}")
    assert hub.answers_to(KEITA) == [f"Deme: {hub.code} is already closed (Opératrice Sow)."]
    assert hub.audit()[-1]["result"] == "closed"


def test_a_note_on_a_just_closed_incident_still_reaches_it(hub):
    hub.replies.handle(DIALLO, f"FIN {hub.code} reel")
    hub.replies.handle(DIALLO, f"{hub.code} suspect remis à la gendarmerie")
    assert [m["text"] for m in list_messages(hub.store, hub.alert_id)] == ["suspect remis à la gendarmerie"]
    assert hub.answers_to(DIALLO)[-1] == f"Deme: note ajoutée à {hub.code} (clos)."


def test_a_stranger_gets_nothing_and_the_sms_is_not_taken(hub):
    for text in (f"OK {hub.code}", f"FIN {hub.code} reel", f"{hub.code} note", "bonjour"):
        assert hub.replies.handle(STRANGER, text) is False
    assert [m for m in hub.store.outbox() if m["recipient"] == STRANGER] == []
    assert hub.alert()["state"] == "new"
    assert hub.audit() == []


def test_a_responder_is_known_by_any_spelling_of_the_number(hub):
    assert hub.replies.handle("0022376100001", f"OK {hub.code}") is True
    assert hub.alert()["acknowledged_by"] == "Sgt. Diallo"


def test_without_a_plan_nobody_is_obeyed(hub):
    replies = ResponderReplies(hub.store, None, hub.actions, hub.hops)
    assert replies.handle(DIALLO, f"OK {hub.code}") is False


@pytest.mark.parametrize("number, typed, answer", [
    (KEITA, "hello", "Deme: OK K7 = I take it, GO K7 = on my way"),
    (DIALLO, "bonjour", "Deme: OK K7 = je prends, PARS K7 = en route"),
    (DIALLO, "OK", "Deme: il manque le code"),
    (KEITA, "DONE {code}", "Deme: how did {code} end? DONE {code} REAL"),
    (DIALLO, "FIN {code}", "Deme: comment {code} a fini? FIN {code} REEL"),
    (KEITA, "FIN {code}", "Deme: comment {code} a fini?"),  # typed in French: answered in French
])
def test_a_text_that_is_no_reply_gets_a_short_help_in_the_right_language(hub, number, typed, answer):
    assert hub.replies.handle(number, typed.format(code=hub.code)) is True
    [body] = hub.answers_to(number)
    assert body.startswith(answer.format(code=hub.code))
    assert hub.alert()["state"] == "new"


LONGEST_NAME = "Adjudant-chef Ousmane Ould Sidi Mohamed Ag Intallah dit Le Grand Ô"


@pytest.mark.parametrize("lang", sorted(ANSWERS))
@pytest.mark.parametrize("key", sorted(ANSWERS["fr"]))
def test_every_answer_fits_one_gsm7_sms(lang, key):
    text = answer_text(lang, key, code="Y999", name=LONGEST_NAME * 3, outcome="fausse alerte", state="en route")
    assert septets(text) is not None and septets(text) <= SMS_SEPTETS


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300))
def test_any_text_from_a_responder_gets_exactly_one_answer_and_never_raises(hub, text):
    before = len(hub.answers_to(KEITA))
    assert hub.replies.handle(KEITA, text) is True
    answers = hub.answers_to(KEITA)
    assert len(answers) == before + 1
    assert septets(answers[-1]) <= SMS_SEPTETS
