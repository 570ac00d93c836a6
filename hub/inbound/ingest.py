"""Everything that arrives at the hub (SMS from the modem, MQTT from the broker) goes through here:
authenticate, commit, then tell everyone. Returning normally means "durably stored": only then does the modem
delete the SMS or the broker get its PUBACK.

A heartbeat (HB) goes through exactly the same checks (MAC, counter, deduplication) and gets its RCV receipt (the
wearable keeps it in flash until then), but it is not an incident: the store closes it at once, and it is never
announced as an alert nor sent to the contacts. Every new message, whatever its event, tells `on_heard` (the
liveness watchdog) that the device is alive.
"""
import logging
import time

from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, StatementError

from drivers.alert import (
    STATUS_EVENTS,
    ProtocolError,
    encode_ack,
    events_in,
    looks_like_ack,
    looks_like_alert,
    parse_alert,
)
from drivers.human import human_alert_text

log = logging.getLogger(__name__)

FOLLOWUP_EVENTS = events_in("followup")

# Receipts of one alert (RCV, per device and counter): each duplicate would cost an SMS out, and anyone can replay a
# recorded alert. A wearable whose receipt was lost resends every retry_s (60 s) up to max_tries (5), then every
# slow_retry_s (600 s) (firmware/config.py): at most one re-receipt per 90 s still answers its second and fourth
# fast retries (~120 s, ~240 s: before it escalates at the fifth) and each slow one, within the cap of 6 in all
# (3 in the fast phase, 3 in the next half hour). An operator's ACK, DSP or RES ends its resending too.
RECEIPT_INTERVAL_S = 90.0
MAX_RECEIPTS = 6


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
                 max_receipts=MAX_RECEIPTS):
        """hops: the hub's hub.hops.Hops. on_heard(device_id, t): called after each new message from a device is
        committed. receipt_interval_s, max_receipts: how often and how many times one alert is receipted."""
        self.receipt_interval_s = receipt_interval_s
        self.max_receipts = max_receipts
        self.store = store
        self.hops = hops
        self.config = config
        self.wake_outbox = wake_outbox or (lambda: None)
        self.on_heard = on_heard or (lambda device_id, t: None)

    def handle_text(self, text, via, sender=None, received_at=None):
        """Returns "new", "duplicate", "replay", "rejected" or "dead_letter". Raises only if the store is down (the
        caller then keeps the message to retry)."""
        received_at = received_at or time.time()
        if not isinstance(text, str) or not looks_like_alert(text):
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

    def store_authenticated(self, alert, raw, via, sender=None, received_at=None):
        """Commit a parsed, authenticated alert, then receipt and announce it. What the store cannot take goes to
        the dead letters ("dead_letter"): kept, and the SMS leaves the SIM instead of being retried for ever."""
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
            # A follow-up's fix moves onto its alarm first, so the follow-up is announced (or not) as it now is.
            moved_onto = self.store.apply_followup(stored["id"]) if alert["event"] in FOLLOWUP_EVENTS else None
            if moved_onto is not None:
                stored = self.store.get_alert(stored["id"])
            self.hops.record("hub.heartbeat" if status_only else "hub.stored", device=alert["device_id"],
                             alert=stored, counter=alert["counter"], alert_id=stored["id"], via=via,
                             event=alert["event"], battery=alert.get("battery"))
            if moved_onto is not None:
                self.hops.record("hub.position_update", alert=moved_onto, alert_id=moved_onto["id"],
                                 counter=alert["counter"])
            if via != "sms" and not status_only:
                # The wearable reached us without SMS: its contacts still hear of it by SMS from the hub.
                for contact in device.contacts:
                    self.store.enqueue("contact", contact.phone, human_alert_text(device.wearer, stored,
                                                                                   contact.lang),
                                       alert_id=stored["id"])
        else:
            self.hops.record("hub.duplicate", device=alert["device_id"], alert=stored, counter=alert["counter"],
                             alert_id=stored["id"], via=via)
        # Receipt (RCV) to the wearable, again for a duplicate (its earlier receipt may have been lost), but not
        # more often than receipt_interval_s nor more than max_receipts times: a replay must not cost an SMS each.
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

    def _reject(self, via, sender, text, reason):
        raw = text if isinstance(text, str) else repr(text)
        self.store.record_rejected(via, _storable(raw[:1000]), reason, sender=sender)
        self.hops.record("hub.rejected", via=via, sender=sender, reason=reason)
