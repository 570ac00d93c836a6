"""A responder acts from a feature phone: `OK K7`, `PARS K7`, `FIN K7 REEL`, `K7 texte` (hub/incidents/sms_grammar.py,
docs/response-plan.md "Replies by SMS").

Only the numbers of the plan's responders are obeyed; for anyone else handle() returns False and says nothing, so
that nothing reveals an incident to a stranger (the SMS then goes on to the contacts' threads or the inbox).
A responder's take, dispatch and resolve go through OperatorActions exactly as an operator's click: the same state
change, the same authenticated ack SMS to the wearable in the same transaction (the wearer feels a responder's OK
as an operator's), the same console.<action> hop and event. Each reply that names an incident adds a
`responder.action` hop to it (who, from which number, the SMS as typed, what came of it). Every SMS from a
responder gets one answer, one GSM-7 SMS in the language the reply was typed in, else the responder's own.
"""
import logging
import time

from hub.incidents.operator import ActionError
from hub.incidents.responder_text import SMS_SEPTETS, gsm7_safe, septets
from hub.incidents.sms_grammar import NotUnderstood, parse_reply
from hub.incidents.thread import REPLY_WINDOW_S
from hub.store.incidents import last_by_code, open_by_code
from hub.store.replies import record_responder_action
from hub.store.threads import add_message

log = logging.getLogger(__name__)

OUTBOX_KIND = "reply"
LANGUAGES = ("fr", "en")
# The operator action each command is, and the word the answers use for each outcome.
ACTION_OF = {"take": "acknowledge", "on_my_way": "dispatch", "done": "resolve"}
OUTCOME_WORDS = {
    "fr": {"real": "réel", "false_alarm": "fausse alerte", "test": "test"},
    "en": {"real": "real", "false_alarm": "false alarm", "test": "test"},
}
# Every answer, one GSM-7 SMS each (tests/hub/test_replies.py checks them with the longest name a plan allows).
ANSWERS = {
    "fr": {
        "help": "Deme: OK K7 = je prends, PARS K7 = en route, FIN K7 REEL/FAUSSE/TEST = fini, K7 texte = note. "
                "K7 = le code de l'alerte recue.",
        "no_code": "Deme: il manque le code de l'alerte, par ex. OK K7, PARS K7, FIN K7 REEL.",
        "no_outcome": "Deme: comment {code} a fini? FIN {code} REEL, FIN {code} FAUSSE ou FIN {code} TEST "
                      "(+ texte).",
        "taken": "Deme: {code} est à vous. PARS {code} quand vous partez, FIN {code} REEL/FAUSSE/TEST à la fin.",
        "already_yours": "Deme: {code} est déjà à vous. PARS {code} quand vous partez.",
        "already_taken": "Deme: {code} déjà pris par {name}.",
        "on_my_way": "Deme: {code} en route, noté. FIN {code} REEL/FAUSSE/TEST à la fin.",
        "already_on_the_way": "Deme: {code} déjà en route: {name}.",
        "done": "Deme: {code} clos ({outcome}). Merci.",
        "note": "Deme: note ajoutée à {code}.",
        "note_closed": "Deme: note ajoutée à {code} (clos).",
        "closed": "Deme: {code} est déjà clos ({name}).",
        "unknown_code": "Deme: aucun incident {code} en cours. Vérifiez le code dans l'alerte recue.",
        "refused": "Deme: {code}: impossible maintenant ({state}).",
    },
    "en": {
        "help": "Deme: OK K7 = I take it, GO K7 = on my way, DONE K7 REAL/FALSE/TEST = closed, K7 text = note. "
                "K7 = the code in the alert.",
        "no_code": "Deme: the alert's code is missing, e.g. OK K7, GO K7, DONE K7 REAL.",
        "no_outcome": "Deme: how did {code} end? DONE {code} REAL, DONE {code} FALSE or DONE {code} TEST "
                      "(+ text).",
        "taken": "Deme: {code} is yours. GO {code} when you leave, DONE {code} REAL/FALSE/TEST at the end.",
        "already_yours": "Deme: {code} is already yours. GO {code} when you leave.",
        "already_taken": "Deme: {code} already taken by {name}.",
        "on_my_way": "Deme: {code} on the way, noted. DONE {code} REAL/FALSE/TEST at the end.",
        "already_on_the_way": "Deme: {code} already on the way: {name}.",
        "done": "Deme: {code} closed ({outcome}). Thank you.",
        "note": "Deme: note added to {code}.",
        "note_closed": "Deme: note added to {code} (closed).",
        "closed": "Deme: {code} is already closed ({name}).",
        "unknown_code": "Deme: no open incident {code}. Check the code in the alert you got.",
        "refused": "Deme: {code}: not possible now ({state}).",
    },
}
STATE_WORDS = {
    "fr": {"new": "nouveau", "acknowledged": "pris", "dispatched": "en route", "resolved": "clos"},
    "en": {"new": "new", "acknowledged": "taken", "dispatched": "on the way", "resolved": "closed"},
}


def answer_text(lang, key, **fields):
    """One answer as one GSM-7 SMS: the fields folded into GSM-7 (a name in another alphabet), the name shortened
    when the whole would not fit."""
    lang = lang if lang in LANGUAGES else "fr"
    fields = {name: gsm7_safe(str(value)) for name, value in fields.items()}
    text = gsm7_safe(ANSWERS[lang][key].format(**fields))
    while septets(text) > SMS_SEPTETS and len(fields.get("name", "")) > 1:
        fields["name"] = fields["name"][:-2] + "."
        text = gsm7_safe(ANSWERS[lang][key].format(**fields))
    while septets(text) > SMS_SEPTETS:
        text = text[:-1]
    return text


class ResponderReplies:
    def __init__(self, store, plan, actions, hops, wake_outbox=None, clock=time.time):
        """plan: the hub's hub.incidents.plan.ResponsePlan (None: no plan, so nobody's reply is obeyed). actions:
        the hub's OperatorActions. hops: the hub's hub.hops.Hops."""
        self.store = store
        self.plan = plan
        self.actions = actions
        self.hops = hops
        self.wake_outbox = wake_outbox or (lambda: None)
        self.clock = clock

    def handle(self, sender, text, t=None):
        """An SMS from `sender`: True when it came from a responder (it is taken: obeyed or answered), False for
        anyone else (nothing is done nor sent). Raises only when the store is down (the caller keeps the SMS)."""
        responder = self.plan.responder_by_phone(sender) if self.plan is not None else None
        if responder is None:
            return False
        now = t if t is not None else self.clock()
        text = text if isinstance(text, str) else ""
        reply = parse_reply(text)
        lang = reply.lang if reply.lang in LANGUAGES else (responder.lang if responder.lang in LANGUAGES else "fr")
        if isinstance(reply, NotUnderstood):
            key = {"no_code": "no_code", "no_outcome": "no_outcome"}.get(reply.reason, "help")
            alert = open_by_code(self.store, reply.code) if reply.code else None
            self._answer(responder, None if alert is None else alert["id"], answer_text(lang, key, code=reply.code),
                         now)
            self._timeline(responder, reply.reason, reply.code, "not_understood")
            return True
        if reply.command == "note":
            self._note(responder, reply, text, lang, now)
            return True
        alert = open_by_code(self.store, reply.code)
        if alert is None:
            self._not_open(responder, reply, text, lang, now)
            return True
        key, name, result = self._act(responder, reply, alert, text, now)
        self._answer(responder, alert["id"], answer_text(
            lang, key, code=reply.code, name=name or "", outcome=OUTCOME_WORDS[lang].get(reply.outcome, ""),
            state=STATE_WORDS[lang].get(self._state(alert["id"]), "")), now)
        self._timeline(responder, reply.command, reply.code, result)
        return True

    # -- the commands ----------------------------------------------------------------------------------------
    def _act(self, responder, reply, alert, text, now):
        """take, on_my_way, done on an open incident. Returns (answer key, name for the answer, result)."""
        action = ACTION_OF[reply.command]
        refusal = self._refusal(responder, reply.command, alert)
        if refusal is None:
            note = (reply.text or None) if reply.command == "done" else None
            try:
                alert = self.actions.apply(alert["id"], action, responder.name, note=note)
            except ActionError:
                # Someone else acted between the read and the write (two OKs at once): the first one won.
                alert = self.store.get_alert(alert["id"]) or alert
                refusal = self._refusal(responder, reply.command, alert) or ("refused", None, "refused")
        if refusal is not None:
            key, name, result = refusal
            self._audit(responder, reply, alert, text, result, now, outcome=None)
            return key, name, result
        self._audit(responder, reply, alert, text, "done", now, outcome=reply.outcome)
        if reply.text and reply.command != "done":
            # "EN ROUTE K7 avec 2 agents": the words after the code are a note of the incident's thread.
            self._add_note(responder, alert["id"], reply.text, now)
        key = {"take": "taken", "on_my_way": "on_my_way", "done": "done"}[reply.command]
        return key, responder.name, "done"

    def _refusal(self, responder, command, alert):
        """Why this command cannot change the incident as it stands: (answer key, name, result), or None."""
        state = alert["state"]
        if command == "take" and state != "new":
            if alert["acknowledged_by"] == responder.name:
                return "already_yours", None, "already_yours"
            return "already_taken", alert["acknowledged_by"] or "?", "already_taken"
        if command == "on_my_way" and state == "dispatched":
            return "already_on_the_way", alert["dispatched_by"] or "?", "already_on_the_way"
        if state == "resolved":
            return "closed", alert["resolved_by"] or "?", "closed"
        return None

    def _note(self, responder, reply, text, lang, now):
        alert, closed = open_by_code(self.store, reply.code), False
        if alert is None:
            # A report written after the end ("K7 suspect remis a la gendarmerie") still belongs to the incident,
            # for as long as a contact's late reply does.
            alert = last_by_code(self.store, reply.code)
            if alert is None or alert["state"] != "resolved" or (alert["resolved_at"] or 0) < now - REPLY_WINDOW_S:
                self._not_open(responder, reply, text, lang, now)
                return
            closed = True
        self._add_note(responder, alert["id"], reply.text, now)
        self._audit(responder, reply, alert, text, "noted", now, outcome=None)
        self._answer(responder, alert["id"], answer_text(lang, "note_closed" if closed else "note", code=reply.code),
                     now)
        self._timeline(responder, "note", reply.code, "noted")

    def _not_open(self, responder, reply, text, lang, now):
        """A code no open incident has: "closed" (with who closed it) when the last incident that had it is, else
        "unknown"."""
        last = last_by_code(self.store, reply.code)
        if last is not None and last["state"] == "resolved":
            self._audit(responder, reply, last, text, "closed", now, outcome=None)
            self._answer(responder, last["id"], answer_text(lang, "closed", code=reply.code,
                                                            name=last["resolved_by"] or "?"), now)
            self._timeline(responder, reply.command, reply.code, "closed")
            return
        self._answer(responder, None, answer_text(lang, "unknown_code", code=reply.code), now)
        self._timeline(responder, reply.command, reply.code, "unknown_code")

    # -- what is written ---------------------------------------------------------------------------------------
    def _add_note(self, responder, alert_id, note, now):
        message_id = add_message(self.store, alert_id, "in", "responder", note, name=responder.name,
                                 number=responder.phone, t=now, hop="responder.note",
                                 hop_detail={"responder": responder.name, "number": responder.phone})
        self.hops.record("responder.note", alert_id=alert_id, t=now, message_id=message_id,
                         responder=responder.name, number=responder.phone)

    def _audit(self, responder, reply, alert, text, result, now, outcome):
        detail = {"responder": responder.name, "number": responder.phone, "sms": text, "command": reply.command,
                  "code": reply.code, "result": result}
        record_responder_action(self.store, alert["id"], detail, outcome=outcome, t=now)
        self.hops.record("responder.action", alert_id=alert["id"], t=now, responder=responder.name,
                         command=reply.command, result=result, outcome=outcome)

    def _answer(self, responder, alert_id, body, now):
        self.store.enqueue(OUTBOX_KIND, responder.phone, body, alert_id=alert_id, t=now)
        self.wake_outbox()

    def _timeline(self, responder, command, code, result):
        # For the demo and the end-to-end tests: what was asked and what came of it, never the SMS itself (it may
        # say where someone is).
        self.hops.record("responder.reply", responder=responder.name, command=command, code=code, result=result)

    def _state(self, alert_id):
        alert = self.store.get_alert(alert_id)
        return alert["state"] if alert else None
