"""The two-way SMS thread of an incident: operators and responders write to the wearer's trusted contacts or to a
keyword reporter, and what those people text back lands in the same thread.

    threads = Threads(store, config, hops, wake_outbox)
    threads.send(alert_id, "+22376000002", "Nous arrivons", "Sgt. Diallo")   # queued SMS + thread row + audit
    threads.messages(alert_id)                                              # the thread, oldest first
    threads.contact_reply("+22376000002", "Elle est chez sa tante")          # True: it landed in a thread

An SMS goes out through the outbox (kind "thread", whose priority the outbox's table gives); its outbox row, its
thread row and its audit hop (with who sent it) are committed together.
"""
import time

import phonenumbers
from sqlalchemy import and_, or_, select

from drivers.alert import STATUS_EVENTS, events_in
from hub.store.schema import alerts
from hub.store.threads import add_message, list_messages, send_message

OUTBOX_KIND = "thread"
# A contact's or reporter's text belongs to an incident still open, or closed this recently: their answer to a
# question asked just before it was closed must still reach the people who handled it.
REPLY_WINDOW_S = 24 * 3600
SENDER_ROLES = ("operator", "responder")
# Not incidents of their own: a heartbeat, a POS follow-up (it completes its alarm).
_NOT_INCIDENTS = tuple(STATUS_EVENTS) + tuple(events_in("followup"))


class ThreadError(ValueError):
    """A message that cannot be sent (unknown incident, blank text or sender, not a phone number): shown to the
    person who wrote it."""


class Threads:
    def __init__(self, store, config, hops, wake_outbox=None, clock=time.time):
        """hops: the hub's hub.hops.Hops, which tells every live view."""
        self.store = store
        self.config = config
        self.hops = hops
        self.wake_outbox = wake_outbox or (lambda: None)
        self.clock = clock

    def send(self, alert_id, to_number, text, sender_name, sender_role="operator", t=None):
        """Queue an SMS of the incident's thread from `sender_name` (an operator or a responder) to `to_number`.
        Returns the thread message as messages() gives it. Raises ThreadError naming what to fix."""
        if sender_role not in SENDER_ROLES:
            raise ThreadError(f"sender_role must be {' or '.join(SENDER_ROLES)}, not {sender_role!r}")
        if not isinstance(sender_name, str) or not sender_name.strip():
            raise ThreadError("the sender's name is required")
        if not isinstance(text, str) or not text.strip():
            raise ThreadError("the message is empty")
        number = self._number(to_number)
        text = text.strip()
        if number is None:
            raise ThreadError(f"{to_number!r} is not a phone number")
        if self.store.get_alert(alert_id) is None:
            raise ThreadError(f"no incident {alert_id}")
        now = t if t is not None else self.clock()
        name = sender_name.strip()
        message_id, outbox_id = send_message(
            self.store, alert_id, OUTBOX_KIND, number, text, sender_role, name, "thread.out",
            {"by": name, "role": sender_role, "to": number}, t=now)
        self.hops.record("thread.out", alert_id=alert_id, t=now, message_id=message_id, outbox_id=outbox_id,
                         by=name, role=sender_role, to=number)
        self.wake_outbox()
        return {"id": message_id, "alert_id": alert_id, "t": now, "direction": "out", "role": sender_role,
                "name": name, "number": number, "text": text, "outbox_id": outbox_id}

    def messages(self, alert_id):
        """[{id, alert_id, t, direction, role, name, number, text, outbox_id}], oldest first."""
        return list_messages(self.store, alert_id)

    def contact_reply(self, sender, text, t=None):
        """An SMS that is neither an alert, a reply nor a keyword report: True when it came from a trusted contact
        of a device, or from a keyword reporter, with an incident open or closed in the last REPLY_WINDOW_S (then
        it is in that incident's thread, and every live view is told); False when it is for someone else to keep."""
        number = self._number(sender)
        if number is None or not isinstance(text, str):
            return False
        now = t if t is not None else self.clock()
        names = {}  # device id -> the name this number has among that device's contacts
        for device in self.config.devices.values():
            for contact in device.contacts:
                if contact.phone == number:
                    names[device.id] = contact.name
        incident = self._recent_incident(list(names), number, now)
        if incident is None:
            return False
        role = "reporter" if incident["source"] == "report" else "contact"
        name = names.get(incident["device_id"]) if role == "contact" else None
        message_id = add_message(self.store, incident["id"], "in", role, text, name=name, number=number, t=now,
                                 hop="thread.in", hop_detail={"role": role, "name": name, "sender": number})
        self.hops.record("thread.in", alert_id=incident["id"], t=now, message_id=message_id, role=role, name=name,
                         sender=number)
        return True

    # -- helpers ---------------------------------------------------------------------------------------------
    def _number(self, raw):
        """E.164 of what a modem or an operator gave, or None when it is no valid phone number."""
        try:
            parsed = phonenumbers.parse(str(raw), self.config.region)
        except phonenumbers.NumberParseException:
            return None
        if not phonenumbers.is_valid_number(parsed):
            return None
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)

    def _recent_incident(self, device_ids, reporter_number, now):
        """The incident a text from this number belongs to: the newest open one of these devices or reported from
        this number, else the newest one closed within REPLY_WINDOW_S."""
        whose = alerts.c.source == "report"
        whose = and_(whose, alerts.c.device_id == reporter_number)
        if device_ids:
            whose = or_(whose, and_(alerts.c.source != "report", alerts.c.device_id.in_(device_ids)))
        closed_by_the_hub = and_(alerts.c.state == "resolved", alerts.c.resolved_by == "hub")
        query = (select(alerts.c.id, alerts.c.device_id, alerts.c.source, alerts.c.state)
                 .where(whose, alerts.c.event.not_in(_NOT_INCIDENTS), ~closed_by_the_hub,
                        or_(alerts.c.state != "resolved", alerts.c.resolved_at >= now - REPLY_WINDOW_S))
                 .order_by((alerts.c.state == "resolved").asc(), alerts.c.received_at.desc(), alerts.c.id.desc())
                 .limit(1))
        with self.store.reading() as db:
            row = db.execute(query).mappings().fetchone()
        return dict(row) if row is not None else None
