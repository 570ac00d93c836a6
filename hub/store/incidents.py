"""The store's companion for incidents on a response plan: the short code responders answer with, and where each
open incident stands on its escalation ladder (table `escalations`, migration 0004).

Everything an escalation step does (its SMS to responders, its hops, the ladder's next position) is written in one
transaction, so that a hub that stops at any moment neither loses a step nor sends it twice when it comes back.
"""
from sqlalchemy import func, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from hub.store.api import insert_hop_row, insert_outbox_row
from hub.store.schema import alerts, escalations

# Letters that cannot be misread on a small screen nor misheard on a bad line, in French or in English: no I/O
# (1/0), no B/D/P/T/V/E/G/C/Z (they rhyme when said aloud), no N (heard as M), no S/F (heard as each other).
CODE_LETTERS = "AHKLMRXY"
# Short codes first (a letter and one digit, 2-9: 1 looks like I or L), then two digits, then three.
CODE_NUMBERS = tuple(range(2, 10)) + tuple(range(10, 100)) + tuple(range(100, 1000))
CODES = tuple(letter + str(number) for number in CODE_NUMBERS for letter in CODE_LETTERS)

ESCALATION_STATES = ("active", "acknowledged", "unanswered", "closed")
_OPEN = alerts.c.state != "resolved"


class CodesExhausted(RuntimeError):
    """Every code is held by an open incident (thousands of them): the plan cannot give one more."""


def normalise_code(text):
    """What a responder typed ("k7", " K 7 ") as codes are stored ("K7"), or None when it cannot be a code."""
    if not isinstance(text, str):
        return None
    code = "".join(text.split()).upper()
    return code if code in _CODE_SET else None


_CODE_SET = frozenset(CODES)


def assign_code(store, alert_id, codes=CODES):
    """The incident's code, given once in one transaction: unique among open incidents. Codes go round in CODES
    order from the last one given, so a code just closed is the last to come back (a late reply naming it then
    finds "closed", not someone else's incident). Returns the code (the one it has already, if any).
    codes: the codes to give, in order (a test gives a few to see them come round)."""
    with store.transaction() as db:
        own = db.execute(select(alerts.c.code).where(alerts.c.id == alert_id)).scalar()
        if own:
            return own
        held = {row.code for row in db.execute(select(alerts.c.code).where(_OPEN, alerts.c.code.is_not(None)))}
        last = db.execute(select(alerts.c.code).where(alerts.c.code.is_not(None))
                          .order_by(alerts.c.id.desc()).limit(1)).scalar()
        start = codes.index(last) + 1 if last in codes else 0
        for offset in range(len(codes)):
            code = codes[(start + offset) % len(codes)]
            if code not in held:
                db.execute(update(alerts).where(alerts.c.id == alert_id).values(code=code))
                return code
        raise CodesExhausted(f"all {len(codes)} incident codes are held by open incidents")


def open_by_code(store, code):
    """The open incident (alert dict) with this code, case- and space-insensitive; None when no open one has it."""
    wanted = normalise_code(code)
    if wanted is None:
        return None
    with store.reading() as db:
        alert_id = db.execute(select(alerts.c.id).where(alerts.c.code == wanted, _OPEN)
                              .order_by(alerts.c.id.desc()).limit(1)).scalar()
    return store.get_alert(alert_id) if alert_id is not None else None


def last_by_code(store, code):
    """The newest incident, open or closed, that had this code (a reply naming a closed code gets told so)."""
    wanted = normalise_code(code)
    if wanted is None:
        return None
    with store.reading() as db:
        alert_id = db.execute(select(alerts.c.id).where(alerts.c.code == wanted)
                              .order_by(alerts.c.id.desc()).limit(1)).scalar()
    return store.get_alert(alert_id) if alert_id is not None else None


# -- escalation ladder ----------------------------------------------------------------------------------------------
def start_escalation(store, alert_id, route, t):
    """Put an incident on its ladder: step 1, its first send (both counted from 1, as Route.schedule()), due at
    once. Returns False when it was on one already (begin() is idempotent: a bus event and a restart's catch-up
    may both ask)."""
    with store.transaction() as db:
        result = db.execute(sqlite_insert(escalations).values(
            alert_id=alert_id, route=route, step=1, repeat=1, next_at=t, state="active", started_at=t, updated_at=t,
        ).on_conflict_do_nothing(index_elements=[escalations.c.alert_id]))
        return result.rowcount == 1


def get_escalation(store, alert_id):
    with store.reading() as db:
        row = db.execute(select(escalations).where(escalations.c.alert_id == alert_id)).mappings().fetchone()
    return dict(row) if row else None


def due_escalations(store, now):
    """Active ladders whose next send is due, the earliest first."""
    query = (select(escalations).where(escalations.c.state == "active", escalations.c.next_at <= now)
             .order_by(escalations.c.next_at, escalations.c.alert_id))
    with store.reading() as db:
        return [dict(row) for row in db.execute(query).mappings()]


def next_escalation_at(store):
    with store.reading() as db:
        return db.execute(select(func.min(escalations.c.next_at)).where(escalations.c.state == "active")).scalar()


def active_escalations(store):
    with store.reading() as db:
        return [dict(row) for row in db.execute(select(escalations).where(escalations.c.state == "active"))
                .mappings()]


def advance_escalation(store, alert_id, at, texts, hop, hop_detail, then, t):
    """Do one rung of the ladder in one transaction, if the incident is still waiting for someone there.

    at: the (step, repeat) the caller computed it for: nothing is done when the row has moved on or is no longer
    active (acknowledged meanwhile by the console or a reply). texts: [(name, phone, body, priority)] to enqueue,
    each with its `responder.texted` hop. hop, hop_detail: the rung's own store hop (incident.step or
    incident.unanswered). then: the row's new values (step, repeat, next_at, state).
    Returns the outbox ids, or None when nothing was done because the incident no longer waits."""
    with store.transaction() as db:
        row = db.execute(select(escalations).where(escalations.c.alert_id == alert_id)).mappings().fetchone()
        if row is None or row["state"] != "active" or (row["step"], row["repeat"]) != tuple(at):
            return None
        state = db.execute(select(alerts.c.state).where(alerts.c.id == alert_id)).scalar()
        if state != "new":
            # Someone acted between the caller's read and this write: the ladder stops here, nothing is sent.
            db.execute(update(escalations).where(escalations.c.alert_id == alert_id).values(
                state="closed" if state in (None, "resolved") else "acknowledged", next_at=None, updated_at=t))
            return None
        outbox_ids = []
        for name, phone, body, priority in texts:
            outbox_id = insert_outbox_row(db, alert_id, "responder", phone, body, t, priority=priority)
            outbox_ids.append(outbox_id)
            insert_hop_row(db, alert_id, t, "responder.texted",
                           {"responder": name, "to": phone, "outbox_id": outbox_id, "step": at[0],
                            "repeat": at[1]})
        insert_hop_row(db, alert_id, t, hop, hop_detail)
        db.execute(update(escalations).where(escalations.c.alert_id == alert_id).values(**then, updated_at=t))
        return outbox_ids


def stop_escalation(store, alert_id, state, t):
    """Take an incident off its ladder: "acknowledged" (someone took it) or "closed" (resolved). Only an active or
    unanswered ladder changes (an unanswered incident acknowledged later is acknowledged). Returns True when it
    changed."""
    if state not in ("acknowledged", "closed"):
        raise ValueError(f"an escalation stops as acknowledged or closed, not {state!r}")
    with store.transaction() as db:
        allowed = ("active", "unanswered") if state == "acknowledged" else ("active", "unanswered", "acknowledged")
        result = db.execute(update(escalations).where(
            escalations.c.alert_id == alert_id, escalations.c.state.in_(allowed)).values(
            state=state, next_at=None, updated_at=t))
        return result.rowcount == 1


def hop_details(store, alert_id, hop):
    """The details of one kind of hop of an alert, oldest first (what the ladder did, for the plan's audit)."""
    return [h["detail"] for h in store.hops(alert_id) if h["hop"] == hop]


__all__ = ["CODES", "CODE_LETTERS", "CodesExhausted", "ESCALATION_STATES", "active_escalations",
           "advance_escalation", "assign_code", "due_escalations", "get_escalation", "hop_details", "last_by_code",
           "next_escalation_at", "normalise_code", "open_by_code", "start_escalation", "stop_escalation"]
