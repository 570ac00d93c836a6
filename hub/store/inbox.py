"""The inbox (table inbox_messages, migration 0004): every SMS that is neither a valid alert, a responder's reply, a
keyword report nor a contact's reply, and every alert-shaped SMS that failed authentication, with its sender and
text, until someone has handled it. Nothing that arrives at the hub is lost: what no other part takes lands here.

Kinds: "unknown" (any other text), "unverified" (alert-shaped, not authenticated: raised to the supervisors),
"blocked" (a keyword report from a number a supervisor blocked), "rate_limited" (a keyword report over the
sender's hourly limit: kept, not opened as an incident).
"""
import json
import time

from sqlalchemy import insert, select, update

from hub.store.api import insert_outbox_row, outbox_priority
from hub.store.schema import inbox_messages

INBOX_KINDS = ("unknown", "unverified", "blocked", "rate_limited")


def record_inbox(store, via, sender, text, kind, detail=None, t=None):
    """Keep one message (committed on return). Returns its inbox id."""
    if kind not in INBOX_KINDS:
        raise ValueError("unknown inbox kind %r" % kind)
    with store.transaction() as db:
        return _insert(db, via, sender, text, kind, detail, t if t is not None else time.time())


def raise_unverified(store, via, sender, text, detail, messages, interval_s, t=None):
    """Keep an unverified alert and queue `messages` ([(kind, recipient, body)], the supervisors' SMS) unless this
    sender's unverified alerts were raised less than interval_s ago: a forger must not be able to flood the
    supervisors. Decided, kept and queued in one transaction, so the limit holds across threads and restarts and a
    kept message that was raised always has its SMS queued. Returns (inbox id, [outbox id])."""
    now = t if t is not None else time.time()
    with store.transaction() as db:
        raised = _raised_since(db, sender, now - interval_s)
        # Someone may be pressing for help on a wearable the hub cannot authenticate: as urgent as a responder's.
        outbox_ids = [] if raised else [insert_outbox_row(db, None, kind, recipient, body, now,
                                                          priority=outbox_priority("supervisor"))
                                        for kind, recipient, body in messages]
        inbox_id = _insert(db, via, sender, text, "unverified",
                           {**(detail or {}), "raised": bool(outbox_ids), "outbox_ids": outbox_ids}, now)
        return inbox_id, outbox_ids


def inbox(store, limit=100, kinds=None, unhandled_only=False):
    """The inbox, newest first, each message's detail as a dict."""
    query = select(inbox_messages)
    if kinds:
        query = query.where(inbox_messages.c.kind.in_(kinds))
    if unhandled_only:
        query = query.where(inbox_messages.c.handled_at.is_(None))
    query = query.order_by(inbox_messages.c.id.desc()).limit(limit)
    with store.reading() as db:
        rows = db.execute(query).mappings().fetchall()
    return [_message(row) for row in rows]


def mark_handled(store, inbox_id, by, t=None):
    """Someone has dealt with the message. Returns False when it does not exist or was handled already (the first
    one to handle it is kept)."""
    if not by or not str(by).strip():
        raise ValueError("the name of whoever handled it is required")
    with store.transaction() as db:
        result = db.execute(update(inbox_messages).where(
            inbox_messages.c.id == inbox_id, inbox_messages.c.handled_at.is_(None),
        ).values(handled_at=t if t is not None else time.time(), handled_by=str(by)))
        return result.rowcount == 1


def _raised_since(db, sender, since):
    sender_is = inbox_messages.c.sender.is_(None) if sender is None else inbox_messages.c.sender == sender
    rows = db.execute(select(inbox_messages.c.detail).where(
        inbox_messages.c.kind == "unverified", sender_is, inbox_messages.c.t > since)).fetchall()
    return any(json.loads(row.detail or "{}").get("raised") for row in rows)


def _insert(db, via, sender, text, kind, detail, now):
    return db.execute(insert(inbox_messages).values(
        t=now, via=via, sender=sender, text=text, kind=kind,
        detail=json.dumps(detail) if detail is not None else None)).inserted_primary_key[0]


def _message(row):
    message = dict(row)
    message["detail"] = json.loads(message["detail"]) if message["detail"] else {}
    return message
