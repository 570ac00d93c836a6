"""The wearer's trusted contacts told what happened next: when help has acknowledged the alert, when it is on its
way, and when it is resolved, each as the contact's `notify` setting asks, in the contact's language, in one GSM-7
SMS ("Deme: la police a pris en compte l'alerte d'Awa (K7)").

    notices = ContactNotices(store, config, hops, wake_outbox)
    asyncio.create_task(notices.run())    # follows the bus; catches up on what changed before a restart

Each notice is a message of the incident's thread (an operator's, to the contact) and has an audit hop
("contact.notice", with the state and the number) committed with its outbox row; a notice whose hop is there is
never sent again, neither for a repeated event nor after a restart.
"""
import asyncio
import logging
import time

from drivers import gsm7
from drivers.alert import CONTACT_EVENTS, events_in
from drivers.alert import MAX_SMS_CHARS as ONE_SMS_CHARS
from hub.store.threads import send_message

log = logging.getLogger(__name__)

OUTBOX_KIND = "contact"
NOTICE_HOP = "contact.notice"
# The states a contact may be told of, in the order an incident goes through them (hub.config Contact.notify).
NOTICE_STATES = ("acknowledged", "dispatched", "resolved")
DEFAULT_NOTIFY = NOTICE_STATES
# The events the contacts were told of in the first place (the wearable texts them): a heartbeat, a low battery
# or a follow-up has no story to follow.
NOTICE_EVENTS = tuple(e for e in CONTACT_EVENTS if e not in events_in("followup"))
# After a restart: a state change this recent whose notice is missing is told now; an older one is stale news.
CATCH_UP_S = 3600.0

# In the style of drivers/human.py: plain words a feature phone shows, no accent beyond GSM-7's, the incident code
# the contact can quote to the police. {of} is the wearer's name after "de"/"d'" (fr) or with "'s" (en).
TEXTS = {
    "fr": {"acknowledged": "Deme: la police a pris en compte l'alerte {of}{code}.",
           "dispatched": "Deme: les secours sont en route pour {name}{code}.",
           "resolved": "Deme: l'alerte {of}{code} est terminee{outcome}.",
           "reply": " Repondez a ce SMS pour ecrire a la police."},
    "en": {"acknowledged": "Deme: the police have seen {of} alert{code}.",
           "dispatched": "Deme: help is on its way to {name}{code}.",
           "resolved": "Deme: {of} alert{code} is closed{outcome}.",
           "reply": " Reply to this SMS to write to the police."},
}
OUTCOMES = {
    "fr": {"false_alarm": "fausse alerte", "test": "test", "cancelled": "annulee"},
    "en": {"false_alarm": "false alarm", "test": "test", "cancelled": "cancelled"},
}
_VOWELS = "aeiouyhàâäéèêëîïôöùûü"


def notice_text(wearer, state, lang="fr", code=None, outcome=None):
    """The notice of one state change, in one GSM-7 SMS: a wearer's name too long for it is shortened, a character
    outside GSM-7 replaced, and the invitation to reply left out when it does not fit."""
    lang = lang if lang in TEXTS else "fr"  # Bambara (bm) reads French until a native speaker has checked it
    words = TEXTS[lang]
    name = _gsm7(wearer.strip()) or "?"
    outcome_word = OUTCOMES[lang].get(outcome or "")
    outcome_text = ((" (" + outcome_word + ")") if outcome_word else "")
    code_text = (" (" + code + ")") if code else ""
    text = ""
    for keep in range(len(name), 0, -1):
        short = name[:keep] if keep == len(name) else name[:keep - 1].rstrip() + "."
        text = words[state].format(name=short, of=_of(short, lang), code=code_text, outcome=outcome_text)
        if _septets(text) <= ONE_SMS_CHARS:
            break
    if _septets(text + words["reply"]) <= ONE_SMS_CHARS:
        text += words["reply"]
    return text


def _of(name, lang):
    if lang == "en":
        return name + ("'" if name.endswith("s") else "'s")
    return ("d'" if name[0].lower() in _VOWELS else "de ") + name


def _gsm7(text):
    return "".join(ch if gsm7.char_septets(ch) else "?" for ch in text)


def _septets(text):
    return sum(gsm7.char_septets(ch) for ch in text)


class ContactNotices:
    def __init__(self, store, config, hops, wake_outbox=None, clock=time.time):
        """hops: the hub's hub.hops.Hops; its bus carries the events this follows."""
        self.store = store
        self.config = config
        self.hops = hops
        self.wake_outbox = wake_outbox or (lambda: None)
        self.clock = clock

    async def run(self):
        """Follow the bus until cancelled. A subscriber must not block the publisher (an operator's click, paho's
        thread): the bus only hands the event to this loop."""
        loop = asyncio.get_running_loop()
        queue = asyncio.Queue()

        def offer(event):
            if event.kind == "alert.updated" and event.alert is not None:
                loop.call_soon_threadsafe(queue.put_nowait, event.alert)

        unsubscribe = self.hops.bus.subscribe(offer)
        try:
            self.catch_up()
            while True:
                alert = await queue.get()
                try:
                    self.tell(alert)
                except Exception:  # one notice that failed (the store) must not end the notices of every later one
                    log.exception("contact notice for alert %s failed", alert.get("id"))
        finally:
            unsubscribe()

    def catch_up(self, limit=200):
        """Tell what changed within CATCH_UP_S before the hub stopped and was not told yet. Returns the count."""
        now = self.clock()
        sent = 0
        for alert in self.store.list_alerts(states=NOTICE_STATES, limit=limit):
            changed_at = alert.get(alert["state"] + "_at")
            if changed_at is not None and now - changed_at <= CATCH_UP_S:
                sent += self.tell(alert)
        return sent

    def tell(self, alert):
        """Text each contact of the alert's device the notice of the state the alert is in, unless told already
        or not wanted. `alert` as the store gives it (the event's copy: the state that event announced).
        Returns how many notices were queued."""
        state = alert.get("state")
        if state not in NOTICE_STATES or alert.get("event") not in NOTICE_EVENTS:
            return 0
        if alert.get("source", "wearable") != "wearable" or alert.get(state + "_by") == "hub":
            return 0  # a keyword reporter has no contacts; what the hub closed itself is no news
        device = self.config.devices.get(alert["device_id"])
        if device is None:
            return 0
        by = alert.get(state + "_by")
        sent = 0
        for contact in device.contacts:
            if state not in getattr(contact, "notify", DEFAULT_NOTIFY):
                continue
            text = notice_text(device.wearer, state, contact.lang, alert.get("code"), alert.get("outcome"))
            done = send_message(self.store, alert["id"], OUTBOX_KIND, contact.phone, text, "operator", by,
                                NOTICE_HOP, {"notice": state, "to": contact.phone}, t=self.clock(), once=True)
            if done is None:
                continue
            message_id, outbox_id = done
            self.hops.record(NOTICE_HOP, alert_id=alert["id"], message_id=message_id, outbox_id=outbox_id,
                             notice=state, to=contact.phone, contact=contact.name)
            sent += 1
        if sent:
            self.wake_outbox()
        return sent
