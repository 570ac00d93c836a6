"""The store's companion for keyword reports from any phone (hub/incidents/reports.py): the incident a report opens,
the SMS kept in the inbox when it opens none (a blocked number, one over its hourly limit), and the numbers a
supervisor blocked.

A report is an alerts row like a wearable's alarm, so that the console, MQTT and the escalation engine handle it
the same way: device_id is the sender's E.164 number, counter the next one of that number, event SOS, via sms,
raw the SMS as typed, source "report". It is never a device: no device_status row is written for it.
"""
import json
import time

import phonenumbers
from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from drivers.alert import CATEGORIES
from hub.store.api import ALERT_COLUMNS, insert_hop_row
from hub.store.inbox import record_inbox
from hub.store.schema import alerts, blocked_numbers, hops, inbox_messages, outbox, thread_messages

REPORT_SOURCE = "report"
REPORT_EVENT = "SOS"
FOLLOWUP_HOP = "report.followup"
REPORT_INBOX_KINDS = ("blocked", "rate_limited")  # of hub.store.inbox.INBOX_KINDS
MAX_TEXT_CHARS = 2000  # what is kept of one SMS: a concatenated one is a few hundred characters


def e164(raw, region=None):
    """The E.164 form of a number as a modem or a supervisor gave it ("+22376000001"), or None when it is no valid
    phone number (an operator's alphanumeric sender such as "ORANGE", garbage)."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _alert_dict(row):
    alert = {name: row[name] for name in ALERT_COLUMNS}
    alert["cell"] = json.loads(alert["cell"]) if alert["cell"] else None
    return alert


def record_report(store, sender, category, text, t=None):
    """Open the incident of a keyword report from `sender` (E.164) and return its alert dict. Written in one
    transaction: the alerts row, its `hub.stored` hop (as the store writes it for a wearable's alert: the caller
    then records "hub.stored" on the hops recorder, which announces alert.new) and the reporter's message as the
    first of the incident's thread."""
    if category not in CATEGORIES:
        raise ValueError(f"category must be one of {', '.join(CATEGORIES)}, not {category!r}")
    now = t if t is not None else time.time()
    raw = text[:MAX_TEXT_CHARS]
    with store.transaction() as db:
        last = db.execute(select(func.max(alerts.c.counter)).where(alerts.c.device_id == sender)).scalar()
        alert_id = db.execute(insert(alerts).values(
            device_id=sender, counter=(last or 0) + 1, event=REPORT_EVENT, category=category, via="sms",
            sender=sender, raw=raw, received_at=now, source=REPORT_SOURCE)).inserted_primary_key[0]
        insert_hop_row(db, alert_id, now, "hub.stored", {"via": "sms", "sender": sender, "source": REPORT_SOURCE})
        db.execute(insert(thread_messages).values(alert_id=alert_id, t=now, direction="in", role="reporter",
                                                  number=sender, text=raw))
        row = db.execute(select(alerts).where(alerts.c.id == alert_id)).mappings().fetchone()
        return _alert_dict(row)


def open_report_of(store, sender):
    """The newest open incident this number reported, or None."""
    query = (select(alerts).where(alerts.c.source == REPORT_SOURCE, alerts.c.device_id == sender,
                                  alerts.c.state != "resolved")
             .order_by(alerts.c.id.desc()).limit(1))
    with store.reading() as db:
        row = db.execute(query).mappings().fetchone()
    return _alert_dict(row) if row is not None else None


def add_to_report(store, alert_id, sender, text, t=None):
    """A further keyword SMS from the reporter of an open incident: a message of its thread, with its
    `report.followup` hop, in one transaction. Returns the message id."""
    now = t if t is not None else time.time()
    with store.transaction() as db:
        message_id = db.execute(insert(thread_messages).values(
            alert_id=alert_id, t=now, direction="in", role="reporter", number=sender,
            text=text[:MAX_TEXT_CHARS])).inserted_primary_key[0]
        insert_hop_row(db, alert_id, now, FOLLOWUP_HOP, {"message_id": message_id, "sender": sender})
        return message_id


def reports_since(store, sender, since):
    """How many keyword SMS from this number were taken since `since`: incidents it opened, and additions to them."""
    opened = select(func.count()).select_from(alerts).where(
        alerts.c.source == REPORT_SOURCE, alerts.c.device_id == sender, alerts.c.received_at > since)
    added = (select(func.count()).select_from(hops.join(alerts, hops.c.alert_id == alerts.c.id))
             .where(hops.c.hop == FOLLOWUP_HOP, hops.c.t > since, alerts.c.source == REPORT_SOURCE,
                    alerts.c.device_id == sender))
    with store.reading() as db:
        return db.execute(opened).scalar() + db.execute(added).scalar()


def told_too_many_since(store, sender, since, kind):
    """Whether this number was sent its "too many reports" answer since `since`: those answers are the outbox rows
    of `kind` to it that belong to no incident (every other answer to a reporter belongs to its incident)."""
    query = select(outbox.c.id).where(outbox.c.kind == kind, outbox.c.recipient == sender,
                                      outbox.c.alert_id.is_(None), outbox.c.created_at > since).limit(1)
    with store.reading() as db:
        return db.execute(query).first() is not None


def keep_in_inbox(store, sender, text, kind, detail=None, t=None):
    """A keyword report that opened nothing (kind "blocked" or "rate_limited"), kept in the inbox for the console
    with its sender and text. Returns its id."""
    if kind not in REPORT_INBOX_KINDS:
        raise ValueError(f"kind must be one of {', '.join(REPORT_INBOX_KINDS)}, not {kind!r}")
    return record_inbox(store, "sms", sender, text[:MAX_TEXT_CHARS], kind, detail or {}, t=t)


# -- blocked numbers (a supervisor's action) --------------------------------------------------------------------
def block_number(store, number, blocked_by, reason=None, region=None, t=None):
    """Block a number from opening keyword reports. number: any form phonenumbers reads (with `region` for a
    national one). Returns the E.164 number blocked. Raises ValueError naming what to fix: not a phone number, no
    supervisor name. Blocking it again updates who and why."""
    normalised = e164(number, region)
    if normalised is None:
        raise ValueError(f"{number!r} is not a phone number: give it with its country code, e.g. +22376000001")
    if not isinstance(blocked_by, str) or not blocked_by.strip():
        raise ValueError("the name of the supervisor who blocks the number is required")
    now = t if t is not None else time.time()
    values = {"number": normalised, "blocked_at": now, "blocked_by": blocked_by.strip(), "reason": reason}
    statement = sqlite_insert(blocked_numbers).values(values)
    with store.transaction() as db:
        db.execute(statement.on_conflict_do_update(
            index_elements=[blocked_numbers.c.number],
            set_={"blocked_at": now, "blocked_by": values["blocked_by"], "reason": reason}))
    return normalised


def unblock_number(store, number, region=None):
    """Let a blocked number report again. Returns True when it was blocked."""
    normalised = e164(number, region)
    if normalised is None:
        return False
    with store.transaction() as db:
        return db.execute(delete(blocked_numbers).where(blocked_numbers.c.number == normalised)).rowcount == 1


def is_blocked(store, number):
    with store.reading() as db:
        return db.execute(select(blocked_numbers.c.number).where(blocked_numbers.c.number == number)).first() \
            is not None


def list_blocked(store):
    """[{number, blocked_at, blocked_by, reason}], the latest blocked first."""
    query = select(blocked_numbers).order_by(blocked_numbers.c.blocked_at.desc(), blocked_numbers.c.number)
    with store.reading() as db:
        return [dict(row) for row in db.execute(query).mappings()]


def inbox_of(store, sender):
    """The inbox rows kept for one number, oldest first, detail decoded (for the console and the tests)."""
    query = select(inbox_messages).where(inbox_messages.c.sender == sender).order_by(inbox_messages.c.id)
    with store.reading() as db:
        rows = [dict(row) for row in db.execute(query).mappings()]
    for row in rows:
        row["detail"] = json.loads(row["detail"] or "{}")
    return rows
