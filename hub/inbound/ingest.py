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


class Ingest:
    def __init__(self, store, hops, config, wake_outbox=None, on_heard=None):
        """hops: the hub's hub.hops.Hops. on_heard(device_id, t): called after each new message from a device is
        committed."""
        self.store = store
        self.hops = hops
        self.config = config
        self.wake_outbox = wake_outbox or (lambda: None)
        self.on_heard = on_heard or (lambda device_id, t: None)

    def handle_text(self, text, via, sender=None, received_at=None):
        """Returns "new", "duplicate", "replay", "rejected" or "ignored". Raises only if storing failed (the
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
        # The store writes the hop of what it decided (hub.stored, hub.duplicate, the replay as rejected) in the
        # same transaction as the alert.
        status, stored = self.store.record_alert(alert, text.strip(), via, sender=sender, received_at=received_at)
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
        # Receipt (RCV) to the wearable, again for a duplicate: its earlier receipt may have been lost.
        self.store.enqueue_ack(
            device.id,
            lambda hub_counter: encode_ack(device.key, device.id, hub_counter, alert["counter"], "RCV"),
            device.phone, stored["id"])
        self.wake_outbox()
        if status == "new":
            try:
                self.on_heard(device.id, received_at)
            except Exception:  # the message is stored and receipted: liveness must never make it fail
                log.exception("liveness update for %s failed", device.id)
        return status

    def _reject(self, via, sender, text, reason):
        raw = text if isinstance(text, str) else repr(text)
        self.store.record_rejected(via, raw[:1000], reason, sender=sender)
        self.hops.record("hub.rejected", via=via, sender=sender, reason=reason)
