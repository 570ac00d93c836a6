"""Reports from any phone, without a wearable: an SMS to the hub's number that starts with a keyword (`AIDE`, `SOS`,
`DEME`, `HELP`, `AU SECOURS`; hub/incidents/sms_grammar.py) opens an incident of source "report" from that number.

The incident is an alerts row (hub/store/reports.py) announced as a wearable's new alert is (`hub.stored` ->
alert.new): the console, MQTT and the escalation engine (which routes it by its category and source) see it so.
The sender gets a reply in its language with the incident's code; a further keyword SMS from it while its incident
is open lands in that incident's thread instead of opening another one.

Abuse: a number may have at most `per_hour` keyword SMS taken per hour; beyond, its SMS are kept in the inbox
(kind "rate_limited", never lost) and it gets one "too many reports" answer per hour, then nothing. A number a
supervisor blocked (block_number) gets nothing; its SMS is kept in the inbox (kind "blocked").
"""
import logging
import time

from hub.incidents.responder_text import SMS_SEPTETS, gsm7_safe, septets
from hub.incidents.sms_grammar import parse_keyword_report
from hub.store.incidents import assign_code
from hub.store.reports import (
    add_to_report,
    e164,
    is_blocked,
    keep_in_inbox,
    open_report_of,
    record_report,
    reports_since,
    told_too_many_since,
)
from hub.store.threads import send_message

log = logging.getLogger(__name__)

OUTBOX_KIND = "reporter"
PER_HOUR_DEFAULT = 3
HOUR_S = 3600.0
# Who the reply says is coming: the police for what a person does to another, the emergency services otherwise.
POLICE_CATEGORIES = ("GEN", "AGR", "HAR")
ANSWERS = {
    "fr": {
        "received_police": "Deme: reçu, la police est prévenue. Code {code}. Répondez à ce numéro pour ajouter "
                           "des détails (lieu, ce qui se passe).",
        "received_help": "Deme: reçu, les secours sont prévenus. Code {code}. Répondez à ce numéro pour ajouter "
                         "des détails (lieu, ce qui se passe).",
        "added": "Deme: message ajouté à {code}. Les secours le lisent.",
        "too_many": "Deme: trop de messages de ce numéro en une heure. Ils sont gardés et seront lus.",
    },
    "en": {
        "received_police": "Deme: received, the police are told. Code {code}. Reply to this number to add "
                           "details (place, what is happening).",
        "received_help": "Deme: received, emergency services are told. Code {code}. Reply to this number to add "
                         "details (place, what is happening).",
        "added": "Deme: message added to {code}. Responders read it.",
        "too_many": "Deme: too many messages from this number in an hour. They are kept and will be read.",
    },
}


def answer_text(lang, key, **fields):
    """One answer as one GSM-7 SMS."""
    text = gsm7_safe(ANSWERS[lang if lang in ANSWERS else "fr"][key].format(**fields))
    while septets(text) > SMS_SEPTETS:
        text = text[:-1]
    return text


class KeywordReports:
    def __init__(self, store, plan, hops, wake_outbox=None, clock=time.time, per_hour=PER_HOUR_DEFAULT,
                 is_wearable=None, region=None):
        """plan: the hub's ResponsePlan (its responders are never reporters; None: no plan). hops: the hub's Hops.
        per_hour: keyword SMS taken per number and hour. is_wearable(number) -> bool: whether a number is a
        configured wearable's (its SMS are alerts, never reports). region: the country of numbers a modem gives
        without "+" (the plan's when not given)."""
        self.store = store
        self.plan = plan
        self.hops = hops
        self.wake_outbox = wake_outbox or (lambda: None)
        self.clock = clock
        self.per_hour = per_hour
        self.is_wearable = is_wearable or (lambda number: False)
        self.region = region or getattr(plan, "region", None)

    def handle(self, sender, text, t=None):
        """An SMS from `sender`: True when it was a keyword report from a person's number (it is taken: an incident
        opened or added to, or kept in the inbox), False when it is not one (for the inbox or a thread to take).
        Raises only when the store is down (the caller keeps the SMS)."""
        report = parse_keyword_report(text)
        if report is None:
            return False
        number = e164(sender, self.region)
        if number is None or self.is_wearable(number):
            return False  # an operator's alphanumeric sender, or a wearable: no person to answer
        if self.plan is not None and self.plan.responder_by_phone(number) is not None:
            return False  # a responder's SMS are replies (hub/incidents/replies.py)
        now = t if t is not None else self.clock()
        if is_blocked(self.store, number):
            inbox_id = keep_in_inbox(self.store, number, text, "blocked", {"category": report.category}, t=now)
            self._kept(number, inbox_id, "blocked", now)
            return True
        if reports_since(self.store, number, now - HOUR_S) >= self.per_hour:
            answer = not told_too_many_since(self.store, number, now - HOUR_S, OUTBOX_KIND)
            inbox_id = keep_in_inbox(self.store, number, text, "rate_limited",
                                     {"category": report.category, "answered": answer}, t=now)
            if answer:
                self.store.enqueue(OUTBOX_KIND, number, answer_text(report.lang, "too_many"), t=now)
                self.wake_outbox()
            self._kept(number, inbox_id, "rate_limited", now)
            return True
        open_report = open_report_of(self.store, number)
        if open_report is not None:
            self._add(open_report, number, text, report, now)
        else:
            self._open(number, text, report, now)
        return True

    def _open(self, number, text, report, now):
        alert = record_report(self.store, number, report.category, text, t=now)
        code = assign_code(self.store, alert["id"])
        alert = self.store.get_alert(alert["id"])
        # The store wrote hub.stored with the row; recording it here announces alert.new (console, MQTT, escalation).
        self.hops.record("hub.stored", alert=alert, alert_id=alert["id"], counter=alert["counter"], via="sms",
                         event=alert["event"], category=alert["category"], source="report", t=now)
        key = "received_police" if report.category in POLICE_CATEGORIES else "received_help"
        self._reply(alert["id"], number, answer_text(report.lang, key, code=code), "report.answered", now)

    def _add(self, alert, number, text, report, now):
        message_id = add_to_report(self.store, alert["id"], number, text, t=now)
        self.hops.record("report.followup", alert_id=alert["id"], t=now, message_id=message_id)
        self._reply(alert["id"], number, answer_text(report.lang, "added", code=alert["code"] or "?"),
                    "report.answered", now)

    def _reply(self, alert_id, number, body, hop, now):
        # Part of the incident's thread (the console shows it), queued with its thread row and hop in one transaction.
        message_id, outbox_id = send_message(self.store, alert_id, OUTBOX_KIND, number, body, "operator", "hub",
                                             hop, {"to": number}, t=now)
        self.hops.record(hop, alert_id=alert_id, t=now, message_id=message_id, outbox_id=outbox_id)
        self.wake_outbox()

    def _kept(self, number, inbox_id, kind, now):
        self.hops.record("hub.inbox", t=now, inbox_id=inbox_id, kind=kind, via="sms", sender=number)
