"""The store's companion for the two-way SMS thread of each incident (table thread_messages, migration 0004):
operators and responders writing to the contacts or a keyword reporter, and what those write back.

A message the hub sends is written in the same transaction as its outbox row and its audit hop (`send_message`),
so the thread never shows a message that will not go, nor does a queued SMS miss its place in the thread.
"""
import json
import time

from sqlalchemy import insert, select

from hub.store.api import _insert_hop, _insert_outbox
from hub.store.schema import hops, thread_messages

DIRECTIONS = ("in", "out")
ROLES = ("operator", "responder", "contact", "reporter")
MESSAGE_COLUMNS = tuple(column.name for column in thread_messages.columns)

_INSERT_MESSAGE = insert(thread_messages)


def _check(direction, role):
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, not {direction!r}")
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")


def _insert_message(db, alert_id, t, direction, role, name, number, text, outbox_id):
    return db.execute(_INSERT_MESSAGE, {
        "alert_id": alert_id, "t": t, "direction": direction, "role": role, "name": name, "number": number,
        "text": text, "outbox_id": outbox_id}).inserted_primary_key[0]


def add_message(store, alert_id, direction, role, text, name=None, number=None, outbox_id=None, t=None,
                hop=None, hop_detail=None):
    """One message of an incident's thread, with its audit hop (`hop`, `hop_detail`) in the same transaction when
    given. Returns the message's id."""
    _check(direction, role)
    now = t if t is not None else time.time()
    with store.transaction() as db:
        message_id = _insert_message(db, alert_id, now, direction, role, name, number, text, outbox_id)
        if hop is not None:
            _insert_hop(db, alert_id, now, hop, {"message_id": message_id, **(hop_detail or {})})
        return message_id


def send_message(store, alert_id, kind, to_number, text, role, name, hop, hop_detail=None, t=None, once=False):
    """An SMS from the hub to `to_number` that belongs to the thread: its outbox row (of `kind`: the outbox's
    priority follows the kind), the thread row ("out", sent by `role`/`name`) and the audit hop, in one transaction.
    Returns (message id, outbox id).

    once: send nothing, and return None, when the alert already has a hop `hop` whose detail holds every item of
    hop_detail. Checked in the write transaction itself, so neither two threads nor a restart send it twice."""
    _check("out", role)
    now = t if t is not None else time.time()
    with store.transaction() as db:
        if once and _has_hop(db, alert_id, hop, hop_detail or {}):
            return None
        outbox_id = _insert_outbox(db, alert_id, kind, to_number, text, now)
        message_id = _insert_message(db, alert_id, now, "out", role, name, to_number, text, outbox_id)
        _insert_hop(db, alert_id, now, hop, {"message_id": message_id, "outbox_id": outbox_id,
                                             **(hop_detail or {})})
        return message_id, outbox_id


def list_messages(store, alert_id):
    """The thread of one incident, oldest first, as dicts of MESSAGE_COLUMNS."""
    query = (select(thread_messages).where(thread_messages.c.alert_id == alert_id)
             .order_by(thread_messages.c.t, thread_messages.c.id))
    with store.reading() as db:
        rows = db.execute(query).mappings().fetchall()
    return [{name: row[name] for name in MESSAGE_COLUMNS} for row in rows]


def _has_hop(db, alert_id, hop, items):
    query = select(hops.c.detail).where(hops.c.alert_id == alert_id, hops.c.hop == hop)
    for row in db.execute(query):
        detail = json.loads(row.detail or "{}")
        if all(detail.get(key) == value for key, value in items.items()):
            return True
    return False
