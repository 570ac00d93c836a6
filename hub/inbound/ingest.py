"""Everything that arrives at the hub (SMS from the modem, MQTT from the broker) goes through here:
authenticate, commit, then tell everyone. Returning normally means "durably stored": only then does the modem
delete the SMS or the broker get its PUBACK.

Every SMS lands somewhere, in this order: an alert-shaped SMS is an alert (or, failing authentication, an
unverified alert in the inbox, raised to the supervisors; a replay is only logged); otherwise a responder's reply,
a keyword report, a trusted contact's reply in its incident's thread; what none of them takes goes to the inbox
(hub/store/inbox.py), shown on the console with its sender and text. `rejected` keeps what no person sent: MQTT
payloads that are no alert, a genuine device's message with a field out of range, replays.

A new alert is grouped into its incident (hub/store/grouping.py): a POS follow-up moves its fix onto its alarm, a
cancel (CAN) closes the alarm it cancels, a repeated press joins the incident already open, a duress (DUR) stays an
incident of its own (escalated by its own route) linked to the alarm it answered. Every one gets its receipt.

A heartbeat (HB) goes through exactly the same checks (MAC, counter, deduplication) and gets its RCV receipt (the
wearable keeps it in flash until then), but it is not an incident: the store closes it at once, and it is never
announced as an alert nor sent to the contacts. Every new message, whatever its event, tells `on_heard` (the
liveness watchdog) that the device is alive.
"""
import hmac
import logging
import time

from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, SQLAlchemyError, StatementError

from drivers.alert import (
    STATUS_EVENTS,
    ProtocolError,
    encode_ack,
    events_in,
    looks_like_ack,
    looks_like_alert,
    mac_hex,
    parse_alert,
    read_unverified,
)
from drivers.human import human_alert_text
from hub.store.grouping import (
    CANCEL_EVENT,
    DURESS_EVENT,
    PRESS_EVENTS,
    attach_repeat,
    cancel_if_already_cancelled,
    cancel_open_alarm,
    link_duress,
    texted_responders,
)
from hub.store.inbox import raise_unverified, record_inbox

log = logging.getLogger(__name__)

FOLLOWUP_EVENTS = events_in("followup")
# What grouping closes as it groups it: done again for a duplicate still open (the hub may have stopped between).
REGROUPED_EVENTS = FOLLOWUP_EVENTS + (CANCEL_EVENT,) + PRESS_EVENTS

# Receipts of one alert (RCV, per device and counter): each duplicate would cost an SMS out, and anyone can replay a
# recorded alert. A wearable whose receipt was lost resends every retry_s (60 s) up to max_tries (5), then every
# slow_retry_s (600 s) (firmware/config.py): at most one re-receipt per 90 s still answers its second and fourth
# fast retries (~120 s, ~240 s: before it escalates at the fifth) and each slow one, within the cap of 6 in all
# (3 in the fast phase, 3 in the next half hour). An operator's ACK, DSP or RES ends its resending too.
RECEIPT_INTERVAL_S = 90.0
MAX_RECEIPTS = 6
# An unverified alert is raised to the supervisors at most once per this long per sender: a forger must not be
# able to flood them, and a mis-provisioned wearable resending its alarm (every 60 s, then 600 s) is told once.
UNVERIFIED_RAISE_INTERVAL_S = 600.0


def _storable(text):
    """The text as the store can hold it: a lone surrogate (CPython, from an MQTT payload's JSON) has no UTF-8."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _refused_by_the_store(exc):
    """The store is up but cannot take this message's values (a number beyond SQLite's INTEGER, a constraint),
    as opposed to a store that is down (locked, disk full, I/O error): that message must be retried, never dropped.
    Returns the reason to keep, without the values (a position must not reach the log), or None."""
    cause = exc
    if isinstance(exc, StatementError):
        if not isinstance(exc, (IntegrityError, DataError, InterfaceError)) and not isinstance(
                exc.orig, (OverflowError, TypeError, ValueError, UnicodeError)):
            return None
        cause = exc.orig if exc.orig is not None else exc
    elif not isinstance(exc, (OverflowError, TypeError, ValueError, UnicodeError)):
        return None
    return ("the store could not take it: %s: %s" % (type(cause).__name__, cause))[:300]


class Ingest:
    def __init__(self, store, hops, config, wake_outbox=None, on_heard=None, receipt_interval_s=RECEIPT_INTERVAL_S,
                 max_receipts=MAX_RECEIPTS, replies=None, reports=None, threads=None, escalation=None, plan=None,
                 unverified_interval_s=UNVERIFIED_RAISE_INTERVAL_S):
        """hops: the hub's hub.hops.Hops. on_heard(device_id, t): called after each new message from a device is
        committed. receipt_interval_s, max_receipts: how often and how many times one alert is receipted.

        The SMS that are not alerts, in the order they are offered (each None: that part is not running, the SMS
        goes on to the next): replies (hub.incidents.replies.ResponderReplies), reports
        (hub.incidents.reports.KeywordReports), threads (hub.incidents.thread.Threads); what none takes lands in
        the inbox. escalation (hub.incidents.escalation.Escalation): told when a wearer's cancel closes an
        incident. plan (hub.incidents.plan.ResponsePlan; config.plan when None): whom to tell of an unverified
        alert, at most once per unverified_interval_s per sender."""
        self.receipt_interval_s = receipt_interval_s
        self.max_receipts = max_receipts
        self.store = store
        self.hops = hops
        self.config = config
        self.wake_outbox = wake_outbox or (lambda: None)
        self.on_heard = on_heard or (lambda device_id, t: None)
        self.replies = replies
        self.reports = reports
        self.threads = threads
        self.escalation = escalation
        self.plan = plan
        self.unverified_interval_s = unverified_interval_s

    def handle_text(self, text, via, sender=None, received_at=None):
        """Returns what became of the message: "new", "duplicate", "replay", "rejected" or "dead_letter" for an
        alert-shaped message; for an SMS that is not a Deme alert, "reply", "report", "thread", "inbox", or
        "unverified" (alert-shaped, failed authentication). Raises only if the store is down (the caller then keeps
        the message to retry)."""
        received_at = received_at or time.time()
        if via == "sms":
            return self._handle_sms(text, sender, received_at)
        if not isinstance(text, str) or not looks_like_alert(text):
            # Only SMS come from people; anything else that is no alert is a malformed payload.
            if isinstance(text, str) and looks_like_ack(text):
                reason = "an ack sent to the hub (loop or spoof)"
            else:
                reason = "not a Deme alert"
            self._reject(via, sender, text, reason)
            return "rejected"
        try:
            alert = parse_alert(text, self.config.key_for)
        except ProtocolError as exc:
            self._reject(via, sender, text, str(exc))
            return "rejected"
        return self.store_authenticated(alert, text.strip(), via, sender=sender, received_at=received_at)

    # -- SMS: each lands where it belongs; what nothing takes, in the inbox ------------------------------------------
    def _handle_sms(self, text, sender, received_at):
        text = text if isinstance(text, str) else repr(text)
        sender = _storable(sender) if isinstance(sender, str) else sender
        if looks_like_alert(text):
            try:
                alert = parse_alert(text, self.config.key_for)
            except ProtocolError as exc:
                if self._authentic(text):
                    # A genuine device's message with a field out of its range: a fault of that device, kept.
                    self._reject("sms", sender, text, str(exc))
                    return "rejected"
                return self._unverified(text, sender, str(exc), received_at)
            return self.store_authenticated(alert, text.strip(), "sms", sender=sender, received_at=received_at)
        if looks_like_ack(text):
            return self._to_inbox(text, sender, received_at, {"reason": "an ack sent to the hub (loop or spoof)"})
        for outcome, part, method in (("reply", self.replies, "handle"), ("report", self.reports, "handle"),
                                      ("thread", self.threads, "contact_reply")):
            if part is None:
                continue
            try:
                taken = getattr(part, method)(sender, text, t=received_at)
            except SQLAlchemyError:
                raise  # the store is down: the modem keeps the SMS and it comes again
            except Exception as exc:
                # A fault of that part must not lose the SMS: it lands in the inbox, where someone reads it.
                log.exception("the %s handler failed on an SMS from %s", outcome, sender)
                return self._to_inbox(text, sender, received_at,
                                      {"reason": "the %s handler failed (%s)" % (outcome, type(exc).__name__)})
            if taken:
                return outcome
        return self._to_inbox(text, sender, received_at, None)

    def _to_inbox(self, text, sender, received_at, detail):
        inbox_id = record_inbox(self.store, "sms", sender, _storable(text), "unknown", detail=detail, t=received_at)
        self.hops.record("hub.inbox", inbox_id=inbox_id, kind="unknown", via="sms", sender=sender, chars=len(text),
                         t=received_at)
        return "inbox"

    def _authentic(self, text):
        """The MAC verifies under the claimed device's key: what parse_alert refused is then the device's own
        fault (a field out of range, a malformed field), not a failed authentication. Read as loosely as the MAC
        allows, so that a genuine message is recognised however malformed its fields are."""
        stripped = text.strip()
        cut = stripped.rfind(";m=")
        if cut < 0:
            return False
        body, mac = stripped[:cut], stripped[cut + 3:]
        claimed = [item[2:] for item in body.split(";") if item.startswith("i=")]
        key = self.config.key_for(claimed[0]) if len(claimed) == 1 else None
        try:
            return key is not None and hmac.compare_digest(mac.lower().encode(), mac_hex(key, body).encode())
        except UnicodeError:  # a lone surrogate: no wearable can have signed it
            return False

    def _unverified(self, text, sender, reason, received_at):
        """An alert-shaped SMS that failed authentication: a mis-provisioned wearable whose wearer is pressing for
        help, or a forgery. Kept in the inbox as unverified and raised to the supervisors (at most once per
        unverified_interval_s per sender); a replay of a known counter is only logged."""
        reading = read_unverified(text)
        replayed = self._replayed_counter(reading)
        if replayed is not None:
            self._reject("sms", sender, text, "unverified (%s), %s" % (reason, replayed))
            return "replay"
        messages = []
        # A heartbeat asks nothing of anyone, and a text without a readable event is no wearer pressing for help.
        if reading["event"] is not None and reading["event"] not in STATUS_EVENTS:
            messages = [("supervisor", responder.phone, unverified_alert_text(reading, sender, responder.lang))
                        for responder in self._supervisors(received_at)]
        detail = {"reason": reason, "claimed": reading}
        inbox_id, outbox_ids = raise_unverified(self.store, "sms", sender, _storable(text), detail, messages,
                                                self.unverified_interval_s, t=received_at)
        self.hops.record("hub.unverified", inbox_id=inbox_id, kind="unverified", via="sms", sender=sender,
                         reason=reason, claimed_device=reading["device_id"], event=reading["event"],
                         supervisors_texted=len(outbox_ids), t=received_at)
        if outbox_ids:
            self.wake_outbox()
        return "unverified"

    def _replayed_counter(self, reading):
        """Why an unverified message is a replay (a counter the claimed, known device has used, or one older than
        its last), or None."""
        device_id, counter = reading["device_id"], reading["counter"]
        if device_id is None or counter is None or self.config.key_for(device_id) is None:
            return None
        if self.store.find_alert(device_id, counter) is not None:
            return "replay: counter %d of device %s already used" % (counter, device_id)
        status = self.store.device_status(device_id)
        if status is not None and status["last_counter"] is not None and counter < status["last_counter"]:
            return "replay: counter %d of device %s is older than its last" % (counter, device_id)
        return None

    def _plan(self):
        return self.plan if self.plan is not None else getattr(self.config, "plan", None)

    def _supervisors(self, t):
        plan = self._plan()
        return list(plan.supervisors(t)) if plan is not None else []

    # -- authenticated alerts ---------------------------------------------------------------------------------------
    def store_authenticated(self, alert, raw, via, sender=None, received_at=None):
        """Commit a parsed, authenticated alert, then group it into its incident, receipt and announce it. What the
        store cannot take goes to the dead letters ("dead_letter"): kept, and the SMS leaves the SIM instead of
        being retried for ever."""
        received_at = received_at or time.time()
        # The store writes the hop of what it decided (hub.stored, hub.duplicate, the replay as rejected) in the
        # same transaction as the alert.
        try:
            status, stored = self.store.record_alert(alert, raw, via, sender=sender, received_at=received_at)
        except Exception as exc:
            reason = _refused_by_the_store(exc)
            if reason is None:
                raise
            self.store.record_dead_letter(via, _storable(raw), reason, sender=sender, device_id=alert["device_id"],
                                          counter=alert["counter"], received_at=received_at)
            self.hops.record("hub.rejected", via=via, sender=sender, reason="dead letter: " + reason)
            return "dead_letter"
        if status == "replay":
            reason = f"replayed counter {alert['counter']} for device {alert['device_id']}"
            self.hops.record("hub.rejected", via=via, sender=sender, reason=reason)
            return "replay"
        device = self.config.devices[alert["device_id"]]
        if sender and via == "sms" and sender != device.phone:
            self.hops.record("hub.sender_mismatch", alert_id=stored["id"], sender=sender, expected=device.phone)
        status_only = alert["event"] in STATUS_EVENTS
        if status == "new":
            grouped = self._group(stored, received_at)
            if grouped:
                stored = self.store.get_alert(stored["id"])
            self.hops.record("hub.heartbeat" if status_only else "hub.stored", device=alert["device_id"],
                             alert=stored, counter=alert["counter"], alert_id=stored["id"], via=via,
                             event=alert["event"], battery=alert.get("battery"))
            self._announce_grouping(grouped, stored)
            if via != "sms" and not status_only:
                # The wearable reached us without SMS: its contacts still hear of it by SMS from the hub.
                for contact in device.contacts:
                    self.store.enqueue("contact", contact.phone, human_alert_text(device.wearer, stored,
                                                                                   contact.lang),
                                       alert_id=stored["id"])
        else:
            self.hops.record("hub.duplicate", device=alert["device_id"], alert=stored, counter=alert["counter"],
                             alert_id=stored["id"], via=via)
            if stored["state"] == "new" and stored["event"] in REGROUPED_EVENTS:
                # The hub may have stopped between storing it and grouping it. Grouping closes each of these
                # events as it groups it, so doing it again for one still open cannot group it twice.
                self._announce_grouping(self._group(stored, received_at), stored)
        # Receipt (RCV) to the wearable, again for a duplicate (its earlier receipt may have been lost), but not
        # more often than receipt_interval_s nor more than max_receipts times: a replay must not cost an SMS each.
        # Every alert gets its own, whatever its incident became: the wearable resends until it has it.
        queued = self.store.enqueue_receipt(
            device.id,
            lambda hub_counter: encode_ack(device.key, device.id, hub_counter, alert["counter"], "RCV"),
            device.phone, stored["id"], t=received_at, interval_s=self.receipt_interval_s,
            max_receipts=self.max_receipts)
        if queued is not None:
            self.wake_outbox()
        if status == "new":
            try:
                self.on_heard(device.id, received_at)
            except Exception:  # the message is stored and receipted: liveness must never make it fail
                log.exception("liveness update for %s failed", device.id)
        return status

    def _group(self, stored, t):
        """Put a new alert into its incident. Returns [(hop, incident)]: what changed, to announce once the alert
        itself has been."""
        event = stored["event"]
        if event in FOLLOWUP_EVENTS:
            # A follow-up's fix moves onto its alarm first, so the follow-up is announced (or not) as it now is.
            moved_onto = self.store.apply_followup(stored["id"])
            return [("hub.position_update", moved_onto)] if moved_onto is not None else []
        if event == CANCEL_EVENT:
            cancelled = cancel_open_alarm(self.store, stored["id"], t=t)
            return [("incident.cancelled", cancelled)] if cancelled is not None else []
        if event == DURESS_EVENT:
            # Escalated as duress through its own route (the escalation engine reads the event on alert.new).
            linked = link_duress(self.store, stored["id"], t=t)
            return [("incident.duress", linked)] if linked is not None else []
        if event in PRESS_EVENTS:
            joined = attach_repeat(self.store, stored["id"], t=t)
            if joined is not None:
                return [("incident.repeat", joined)]
            cancelled = cancel_if_already_cancelled(self.store, stored["id"], t=t)
            return [("incident.cancelled", cancelled)] if cancelled is not None else []
        return []

    def _announce_grouping(self, grouped, alert):
        """Tell everyone what grouping `alert` changed on its incident (the store has written each hop)."""
        for hop, incident in grouped:
            self.hops.record(hop, alert=incident, alert_id=incident["id"], counter=alert["counter"],
                             from_alert_id=alert["id"])
            if hop == "incident.cancelled":
                self._tell_cancelled(incident)

    def _tell_cancelled(self, incident):
        """The wearer cancelled: the ladder stops, and each responder already texted hears that it is over."""
        if self.escalation is not None:
            try:
                self.escalation.closed(incident["id"])
            except SQLAlchemyError:
                raise
            except Exception:  # the cancel is committed: a fault of the ladder must not make the SMS come again
                log.exception("escalation could not close alert %s", incident["id"])
        queued = False
        plan = self._plan()
        for texted in texted_responders(self.store, incident["id"]):
            responder = plan.responder_by_phone(texted["phone"]) if plan is not None else None
            lang = responder.lang if responder is not None else "fr"
            self.store.enqueue("responder", texted["phone"], cancelled_text(incident, lang), alert_id=incident["id"])
            queued = True
        if queued:
            self.wake_outbox()

    def _reject(self, via, sender, text, reason):
        raw = text if isinstance(text, str) else repr(text)
        self.store.record_rejected(via, _storable(raw[:1000]), reason, sender=sender)
        self.hops.record("hub.rejected", via=via, sender=sender, reason=reason)


# -- the SMS the hub writes here, in the reader's language (fr when it has none of these) ----------------------------
UNVERIFIED_WORDS = {
    "fr": ("DEME NON VERIFIE: SMS d'alerte non authentifie de %s: %s, appareil %s, compteur %s, position %s "
           "(telle qu'envoyee). Bracelet mal configure ou faux: verifier.", "inconnue", "?"),
    "en": ("DEME UNVERIFIED: alert SMS that failed authentication from %s: %s, device %s, counter %s, position %s "
           "(as sent). Mis-provisioned wearable or forgery: check.", "unknown", "?"),
}
CANCELLED_WORDS = {
    "fr": "DEME %s: alerte annulee par le porteur du bracelet. Rien a faire sauf nouvel avis.",
    "en": "DEME %s: alert cancelled by the wearer. Nothing to do unless told again.",
}


def unverified_alert_text(reading, sender, lang):
    """The supervisors' SMS about an unverified alert: its sender, event and position as sent, marked unverified."""
    template, no_position, unknown = UNVERIFIED_WORDS.get(lang, UNVERIFIED_WORDS["fr"])
    if reading["lat"] is not None:
        position = "%.5f,%.5f" % (reading["lat"], reading["lon"])
        if reading["acc_m"] is not None:
            position += " (%d m)" % reading["acc_m"]
    else:
        position = no_position
    what = (reading["event"] or unknown) + ("/" + reading["category"] if reading["category"] else "")
    counter = "%d" % reading["counter"] if reading["counter"] is not None else unknown
    return template % (sender or unknown, what, reading["device_id"] or unknown, counter, position)


def cancelled_text(incident, lang):
    return CANCELLED_WORDS.get(lang, CANCELLED_WORDS["fr"]) % (incident.get("code") or "#%d" % incident["id"])
