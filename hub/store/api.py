"""The hub's durable store: SQLite in WAL mode with synchronous=FULL, through SQLAlchemy Core.

Every alert is committed here before anything acknowledges it (the modem deletes the SMS, Mosquitto gets its
PUBACK, the wearable gets its RCV ack). Deduplication is by (device id, counter), never by position.

A heartbeat (HB) is stored like any alert, so it shares the counter check, the deduplication and the receipt, but
it is closed by the hub in the same transaction: it is not an incident. Every new authenticated message also
updates the device's row in device_status (last heard, battery, last position) in that transaction.

Threads: the console server, paho's network thread and the asyncio loop all use one Store. Its one SQLite
connection is used under one lock; a write holds the lock from BEGIN IMMEDIATE to COMMIT, so whatever a
transaction reads (a counter, an alert's state) is still true when it writes.
"""
import json
import threading
import time
from contextlib import contextmanager

from sqlalchemy import and_, bindparam, exists, func, insert, not_, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from drivers.alert import STATUS_EVENTS, URGENT_EVENTS
from hub.store.engine import sqlite_engine, write_engine
from hub.store.migrate import upgrade_to_head
from hub.store.schema import alerts, dead_letters, device_status, hops, hub_counters, outbox, rejected, sms_parts

STATES = ("new", "acknowledged", "dispatched", "resolved")
# Which operator action is allowed from which state, and where it leads.
TRANSITIONS = {
    "acknowledge": ({"new"}, "acknowledged"),
    "dispatch": ({"new", "acknowledged"}, "dispatched"),
    "resolve": ({"new", "acknowledged", "dispatched"}, "resolved"),
}

# The outbox's order when the modem is the bottleneck (lower goes first; due_messages sorts by priority, then id):
# SMS that call for help, then information, heartbeat receipts last. The one table of it: an enqueue takes its
# priority from here unless told otherwise. "ack.<status>" refines kind "ack" by the status it carries.
OUTBOX_PRIORITIES = {
    "responder": 0,  # a responder (or a supervisor) called to an incident
    "supervisor": 0,  # an alert that failed authentication: perhaps a mis-provisioned wearable's wearer pressing
    "ack.ACK": 0, "ack.DSP": 0,  # the wearer feels that help has seen the alarm, that it is on its way
    "ack.RCV": 1,  # the wearer's alarm reached the hub
    "contact": 3, "reply": 3, "reporter": 3, "thread": 3,  # contacts told, replies to responders and reporters
    "ack.RES": 4,
    "ack.heartbeat": 9,  # the receipt of a heartbeat: nobody waits for it
}
DEFAULT_OUTBOX_PRIORITY = 5  # the column's default, for a kind the table does not name


def outbox_priority(kind):
    return OUTBOX_PRIORITIES.get(kind, DEFAULT_OUTBOX_PRIORITY)


ALERT_COLUMNS = tuple(column.name for column in alerts.columns)
DEVICE_COLUMNS = tuple(column.name for column in device_status.columns)


# The statements of the busiest paths (an alert coming in, its receipt), built once: SQLAlchemy then reuses their
# compiled form without rebuilding a statement on every call.
_ALERT_BY_ID = select(alerts).where(alerts.c.id == bindparam("alert_id"))
_ALERT_BY_COUNTER = select(alerts).where(alerts.c.device_id == bindparam("device_id"),
                                         alerts.c.counter == bindparam("counter"))
_DEVICE_BY_ID = select(device_status).where(device_status.c.device_id == bindparam("device_id"))
_HUB_COUNTER = select(hub_counters.c.value).where(hub_counters.c.device_id == bindparam("device_id"))
# PostgreSQL's insert (sqlalchemy.dialects.postgresql) has the same on_conflict_do_update and excluded.
_counter_insert = sqlite_insert(hub_counters)
_SET_HUB_COUNTER = _counter_insert.on_conflict_do_update(index_elements=[hub_counters.c.device_id],
                                                         set_={"value": _counter_insert.excluded.value})
_INSERT_ALERT, _INSERT_HOP, _INSERT_OUTBOX = insert(alerts), insert(hops), insert(outbox)
_HOPS_OF_ALERT = select(hops).where(hops.c.alert_id == bindparam("alert_id")).order_by(hops.c.t, hops.c.id)


class TransitionError(ValueError):
    """An operator action that the alert's state does not allow (e.g. acknowledging a resolved alert)."""


class Store:
    def __init__(self, path):
        self.path = str(path)
        self._engine = None
        self._writer = None
        self._lock = threading.RLock()
        # The connection of the write transaction under way (only the thread holding the lock sees it set).
        self._in_transaction = None

    # -- lifecycle -------------------------------------------------------------------------------------------
    def open(self):
        """Open the database, creating it or migrating it to this code's schema (hub.store.migrate) in one
        transaction. Raises hub.store.DatabaseTooNewError when a newer hub has migrated it further."""
        engine = sqlite_engine(self.path)
        writer = write_engine(engine)
        try:
            with self._lock, writer.begin() as connection:
                upgrade_to_head(connection)
        except BaseException:
            engine.dispose()
            raise
        self._engine, self._writer = engine, writer
        return self

    def close(self):
        with self._lock:  # after the transaction under way, if any
            if self._engine is not None:
                self._engine.dispose()
                self._engine = self._writer = None

    def __enter__(self):
        return self.open()

    def __exit__(self, *exc):
        self.close()

    @property
    def _db(self):
        """The sqlite3 connection under the engine, for a PRAGMA check by a test or while debugging."""
        with self._lock, self._engine.connect() as connection:
            return connection.connection.dbapi_connection

    @contextmanager
    def _tx(self):
        """A write transaction: BEGIN IMMEDIATE ... COMMIT under the store's lock; ROLLBACK on any exception."""
        with self._lock, self._writer.begin() as connection:
            self._in_transaction = connection
            try:
                yield connection
            finally:
                self._in_transaction = None

    @contextmanager
    def _read(self):
        """A read transaction, or the write transaction this thread is in (a callback given to a write, such as an
        ack body builder, may read the store: it sees what the transaction has written so far)."""
        with self._lock:
            if self._in_transaction is not None:
                yield self._in_transaction
                return
            with self._engine.connect() as connection:
                yield connection

    def transaction(self):
        """For the store's companion modules (hub/store/*.py: one table family each): a write transaction, as every
        method of this class uses (`with store.transaction() as db: db.execute(...)`)."""
        return self._tx()

    def reading(self):
        """For the store's companion modules: a read transaction (or the write this thread is in)."""
        return self._read()

    # -- alerts ----------------------------------------------------------------------------------------------
    def record_alert(self, alert, raw, via, sender=None, received_at=None):
        """Commit an authenticated alert. Returns (status, alert_dict) where status is:
        "new"        stored now;
        "duplicate"  the same message again (a retry): nothing stored, the caller re-acknowledges;
        "replay"     the counter was seen with another content: a replay or forgery, recorded as rejected.
        A heartbeat is stored already resolved. A new message updates device_status in the same transaction; a
        duplicate does not (it cannot be told apart from a recorded message played again, so it proves no life).
        """
        now = received_at if received_at is not None else time.time()
        with self._tx() as db:
            row = db.execute(_ALERT_BY_COUNTER, {"device_id": alert["device_id"],
                                                 "counter": alert["counter"]}).mappings().fetchone()
            if row is not None:
                if row["raw"] == raw or row["location_purged_at"] is not None:
                    _insert_hop(db, row["id"], now, "hub.duplicate", {"via": via})
                    return "duplicate", _alert_dict(row)
                reason = "replay: counter %d already used" % alert["counter"]
                db.execute(insert(rejected).values(t=now, via=via, sender=sender, raw=raw, reason=reason))
                return "replay", _alert_dict(row)
            cell = json.dumps(alert["cell"]) if alert.get("cell") else None
            alert_id = db.execute(_INSERT_ALERT, dict(
                device_id=alert["device_id"], counter=alert["counter"], event=alert["event"],
                category=alert["category"], device_time=alert.get("device_time"), lat=alert.get("lat"),
                lon=alert.get("lon"), acc_m=alert.get("acc_m"), fix_age_s=alert.get("fix_age_s"), cell=cell,
                battery=alert.get("battery"), via=via, sender=sender, raw=raw, received_at=now,
            )).inserted_primary_key[0]
            _insert_hop(db, alert_id, now, "hub.stored", {"via": via, "sender": sender})
            if alert["event"] in STATUS_EVENTS:
                db.execute(update(alerts).where(alerts.c.id == alert_id).values(
                    state="resolved", resolved_at=now, resolved_by="hub", note="heartbeat"))
            _touch_device(db, alert, alert_id, via, cell, now)
            return "new", _alert_dict(_select_alert(db, alert_id))

    def apply_followup(self, followup_id, urgent_events=URGENT_EVENTS, t=None):
        """A POS follow-up carries the fix an earlier alarm lacked: move its position onto the device's latest
        alert that is still open, and close the follow-up itself (it is not a new call for help).
        Returns the updated open alert, or None when there is none (the follow-up then stays as it is)."""
        now = t or time.time()
        with self._tx() as db:
            followup = _select_alert(db, followup_id)
            if followup is None or followup["lat"] is None:
                return None
            target = db.execute(
                select(alerts)
                .where(alerts.c.device_id == followup["device_id"], alerts.c.state != "resolved",
                       alerts.c.id < followup_id, alerts.c.event.in_(urgent_events))
                .order_by(alerts.c.counter.desc()).limit(1)).mappings().fetchone()
            if target is None:
                return None
            db.execute(update(alerts).where(alerts.c.id == target["id"]).values(
                lat=followup["lat"], lon=followup["lon"], acc_m=followup["acc_m"], fix_age_s=followup["fix_age_s"]))
            _insert_hop(db, target["id"], now, "hub.position_update",
                        {"counter": followup["counter"], "acc_m": followup["acc_m"]})
            db.execute(update(alerts).where(alerts.c.id == followup_id).values(
                state="resolved", resolved_at=now, resolved_by="hub",
                note="position follow-up of alert %d" % target["id"]))
            return _alert_dict(_select_alert(db, target["id"]))

    def record_rejected(self, via, raw, reason, sender=None, t=None):
        with self._tx() as db:
            db.execute(insert(rejected).values(t=t or time.time(), via=via, sender=sender, raw=raw, reason=reason))

    def rejected(self, limit=100):
        with self._read() as db:
            rows = db.execute(select(rejected).order_by(rejected.c.id.desc()).limit(limit)).mappings().fetchall()
        return [dict(r) for r in rows]

    def record_dead_letter(self, via, raw, reason, sender=None, device_id=None, counter=None, received_at=None):
        """Keep an authenticated message the store could not take (docs/hub-store.md), so that it can leave the SIM.
        The same message again (the wearable resending it) is kept once. Returns True when it was new."""
        if counter is not None and not -(1 << 63) <= counter < 1 << 63:
            counter = None  # what could not be stored may be the counter itself
        with self._tx() as db:
            seen = db.execute(select(dead_letters.c.id).where(
                dead_letters.c.raw == raw, dead_letters.c.device_id.is_(None) if device_id is None
                else dead_letters.c.device_id == device_id).limit(1)).fetchone()
            if seen is not None:
                return False
            db.execute(insert(dead_letters).values(
                via=via, sender=sender, raw=raw, device_id=device_id, counter=counter, reason=reason,
                received_at=received_at if received_at is not None else time.time()))
            return True

    def dead_letters(self, limit=100):
        with self._read() as db:
            query = select(dead_letters).order_by(dead_letters.c.id.desc()).limit(limit)
            rows = db.execute(query).mappings().fetchall()
        return [dict(r) for r in rows]

    def get_alert(self, alert_id):
        with self._read() as db:
            row = _select_alert(db, alert_id)
        return _alert_dict(row) if row else None

    def find_alert(self, device_id, counter):
        with self._read() as db:
            row = db.execute(_ALERT_BY_COUNTER, {"device_id": device_id, "counter": counter}).mappings().fetchone()
        return _alert_dict(row) if row else None

    def list_alerts(self, states=None, limit=200, status_events=False):
        """Alerts newest first. Heartbeats are left out unless status_events=True: they are not incidents."""
        query = select(alerts)
        if states:
            query = query.where(alerts.c.state.in_(states))
        if not status_events:
            query = query.where(alerts.c.event.not_in(STATUS_EVENTS))
        query = query.order_by(alerts.c.received_at.desc(), alerts.c.id.desc()).limit(limit)
        with self._read() as db:
            rows = db.execute(query).mappings().fetchall()
        return [_alert_dict(r) for r in rows]

    def transition(self, alert_id, action, operator, note=None, unit=None, t=None, ack=None):
        """Apply an operator action (acknowledge, dispatch, resolve) and commit it with its hop.

        `ack` = (recipient, build_body): the ack SMS to the wearable is enqueued in the same transaction, so a
        committed acknowledgement always reaches the outbox. Returns the updated alert.
        Raises TransitionError when the state does not allow the action."""
        if action not in TRANSITIONS:
            raise TransitionError("unknown action %r" % action)
        if not operator or not str(operator).strip():
            raise TransitionError("an operator name is required")
        allowed, target = TRANSITIONS[action]
        now = t or time.time()
        with self._tx() as db:
            row = _select_alert(db, alert_id)
            if row is None:
                raise TransitionError("no alert %s" % alert_id)
            if row["state"] not in allowed:
                raise TransitionError("cannot %s an alert that is %s" % (action, row["state"]))
            values = {"state": target, f"{target}_at": now, f"{target}_by": operator}
            # Dispatching or resolving implies the alert was seen: keep the acknowledgement time honest.
            if row["acknowledged_at"] is None and target != "acknowledged":
                values.update(acknowledged_at=now, acknowledged_by=operator)
            if unit is not None:
                values["unit"] = unit
            if note is not None:
                values["note"] = note
            db.execute(update(alerts).where(alerts.c.id == alert_id).values(values))
            _insert_hop(db, alert_id, now, "console." + action, {"operator": operator, "unit": unit, "note": note})
            if ack is not None:
                recipient, build_body = ack
                # A newer status says everything an unsent older one would (ACK implies RCV): send only the
                # newest, so "help has seen you" is not queued behind a receipt on a slow modem.
                db.execute(update(outbox).where(outbox.c.alert_id == alert_id, outbox.c.kind == "ack",
                                                outbox.c.state == "pending").values(state="superseded"))
                _enqueue_ack(db, row["device_id"], recipient, build_body, alert_id, now)
            return _alert_dict(_select_alert(db, alert_id))

    # -- devices: liveness, battery, last position --------------------------------------------------------------
    def track_devices(self, device_ids, t=None):
        """Give every configured device a status row, so one that never reports is measured from now (the first
        start of a hub that knows it) and not from the last restart."""
        now = t if t is not None else time.time()
        with self._tx() as db:
            for device_id in device_ids:
                # PostgreSQL's insert (sqlalchemy.dialects.postgresql) has the same on_conflict_do_nothing.
                db.execute(sqlite_insert(device_status).values(device_id=device_id, tracked_since=now)
                           .on_conflict_do_nothing(index_elements=[device_status.c.device_id]))

    def device_status(self, device_id):
        with self._read() as db:
            row = db.execute(_DEVICE_BY_ID, {"device_id": device_id}).mappings().fetchone()
        return _device_dict(row) if row else None

    def device_statuses(self):
        with self._read() as db:
            rows = db.execute(select(device_status).order_by(device_status.c.device_id)).mappings().fetchall()
        return {row["device_id"]: _device_dict(row) for row in rows}

    def mark_silent(self, device_id, cutoff, t=None):
        """The watchdog's "device silent": set only if the device is not already silent and nothing newer than
        `cutoff` was heard (checked in the same statement, so a message committed meanwhile wins).
        Returns True when this call raised it."""
        now = t if t is not None else time.time()
        with self._tx() as db:
            result = db.execute(update(device_status).where(
                device_status.c.device_id == device_id, device_status.c.silent_at.is_(None),
                func.coalesce(device_status.c.last_heard_at, device_status.c.tracked_since) < cutoff,
            ).values(silent_at=now))
            return result.rowcount == 1

    def mark_back(self, device_id, t=None):
        """Clear "silent" once a message newer than the alarm was heard. Returns True when this call cleared it."""
        now = t if t is not None else time.time()
        with self._tx() as db:
            result = db.execute(update(device_status).where(
                device_status.c.device_id == device_id, device_status.c.silent_at.is_not(None),
                device_status.c.last_heard_at.is_not(None), device_status.c.last_heard_at > device_status.c.silent_at,
            ).values(silent_at=None, back_at=now))
            return result.rowcount == 1

    # -- hops (the timeline of each alert) -------------------------------------------------------------------
    def add_hop(self, alert_id, hop, detail=None, t=None):
        with self._tx() as db:
            _insert_hop(db, alert_id, t or time.time(), hop, detail or {})

    def alerts_missing_hop(self, hop, limit=500):
        """Alerts that never reached a hop (e.g. "mqtt.published" while the broker was down), oldest first.
        Heartbeats are not alerts, and what the hub closed itself as it stored it (a POS follow-up moved onto its
        alarm, which goes out as that alarm's update) was never announced: neither counts as missing a hop."""
        reached = exists().where(hops.c.alert_id == alerts.c.id, hops.c.hop == hop)
        query = (select(alerts)
                 .where(~reached, alerts.c.event.not_in(STATUS_EVENTS),
                        not_(and_(alerts.c.state == "resolved", alerts.c.resolved_by == "hub")))
                 .order_by(alerts.c.id).limit(limit))
        with self._read() as db:
            rows = db.execute(query).mappings().fetchall()
        return [_alert_dict(r) for r in rows]

    def hops(self, alert_id):
        with self._read() as db:
            rows = db.execute(_HOPS_OF_ALERT, {"alert_id": alert_id}).mappings().fetchall()
        return [{"t": r["t"], "hop": r["hop"], "detail": json.loads(r["detail"] or "{}")} for r in rows]

    # -- outbox: messages the hub must send, durable until sent or escalated ---------------------------------
    def enqueue(self, kind, recipient, body, alert_id=None, t=None, priority=None):
        """priority: lower goes first; OUTBOX_PRIORITIES[kind] unless given."""
        now = t or time.time()
        with self._tx() as db:
            return _insert_outbox(db, alert_id, kind, recipient, body, now, priority=priority)

    def enqueue_ack(self, device_id, build_body, recipient, alert_id, t=None):
        """Take the next hub->device counter and enqueue the ack it signs, in one transaction, so a counter
        is never reused even if the hub stops between the two. build_body(hub_counter) -> text."""
        with self._tx() as db:
            return _enqueue_ack(db, device_id, recipient, build_body, alert_id, t or time.time())

    def enqueue_receipt(self, device_id, build_body, recipient, alert_id, t=None, interval_s=0.0, max_receipts=None):
        """The RCV of an alert (build_body(hub_counter) -> text), unless sending one now would add nothing: one for
        it is still pending, the last was queued less than interval_s ago, or max_receipts were queued already
        (superseded ones, never sent, do not count). Each duplicate would otherwise cost an SMS out, and anyone
        can replay a recorded alert. Decided and enqueued in one transaction. Returns the outbox id, or None."""
        now = t or time.time()
        with self._tx() as db:
            earlier = db.execute(select(outbox.c.state, outbox.c.created_at).where(
                outbox.c.alert_id == alert_id, outbox.c.kind == "ack", outbox.c.body.like("%;s=RCV;%"),
                outbox.c.state != "superseded")).fetchall()
            if any(row.state == "pending" for row in earlier):
                return None
            if max_receipts is not None and len(earlier) >= max_receipts:
                return None
            if earlier and now - max(row.created_at for row in earlier) < interval_s:
                return None
            event = db.execute(select(alerts.c.event).where(alerts.c.id == alert_id)).scalar()
            priority = outbox_priority("ack.heartbeat" if event in STATUS_EVENTS else "ack.RCV")
            return _enqueue_ack(db, device_id, recipient, build_body, alert_id, now, priority=priority)

    def due_messages(self, now=None, limit=20):
        query = (select(outbox).where(outbox.c.state == "pending", outbox.c.next_attempt_at <= (now or time.time()))
                 .order_by(outbox.c.priority, outbox.c.id).limit(limit))
        with self._read() as db:
            rows = db.execute(query).mappings().fetchall()
        return [dict(r) for r in rows]

    def next_due_time(self):
        with self._read() as db:
            return db.execute(select(func.min(outbox.c.next_attempt_at)).where(outbox.c.state == "pending")).scalar()

    def mark_sent(self, message_id, refs, t=None):
        with self._tx() as db:
            db.execute(update(outbox).where(outbox.c.id == message_id).values(
                state="sent", sent_at=t or time.time(), refs=json.dumps(refs), attempts=outbox.c.attempts + 1))

    def mark_attempt_failed(self, message_id, error, retry_at, give_up):
        with self._tx() as db:
            db.execute(update(outbox).where(outbox.c.id == message_id).values(
                attempts=outbox.c.attempts + 1, last_error=error, next_attempt_at=retry_at,
                state="failed" if give_up else "pending"))

    def outbox(self, alert_id=None):
        query = select(outbox).order_by(outbox.c.id)
        if alert_id is not None:
            query = query.where(outbox.c.alert_id == alert_id)
        with self._read() as db:
            rows = db.execute(query).mappings().fetchall()
        return [dict(r) for r in rows]

    # -- retention -------------------------------------------------------------------------------------------
    def purge_locations(self, older_than_s, now=None):
        """Erase positions, cells and raw messages of resolved alerts older than the retention limit.
        The alert itself (device, time, category, handling times) stays for statistics. Returns the count."""
        now = now or time.time()
        with self._tx() as db:
            result = db.execute(update(alerts).where(
                alerts.c.state == "resolved", alerts.c.received_at < now - older_than_s,
                alerts.c.location_purged_at.is_(None),
            ).values(lat=None, lon=None, acc_m=None, cell=None, raw="", sender=None, location_purged_at=now))
            # A device's last known position is kept no longer than an alert's.
            db.execute(update(device_status).where(device_status.c.position_at < now - older_than_s).values(
                lat=None, lon=None, acc_m=None, cell=None, position_at=None))
            return result.rowcount

    # -- sms_parts: parts of concatenated SMS off the SIM, waiting for their siblings -----------------------------
    def put_sms_part(self, sender, reference, total, seq, pdu, t=None):
        """Keep one part (committed before returning: the modem deletes it from the SIM next). Returns False when
        that part was kept already (a copy)."""
        with self._tx() as db:
            result = db.execute(sqlite_insert(sms_parts).values(
                sender=sender or "", reference=reference, total=total, seq=seq, pdu=pdu,
                received_at=t if t is not None else time.time()).on_conflict_do_nothing(
                index_elements=[sms_parts.c.sender, sms_parts.c.reference, sms_parts.c.total, sms_parts.c.seq]))
            return result.rowcount == 1

    def sms_parts_of(self, sender, reference, total):
        """{seq: pdu} of one message."""
        query = select(sms_parts.c.seq, sms_parts.c.pdu).where(
            sms_parts.c.sender == (sender or ""), sms_parts.c.reference == reference, sms_parts.c.total == total)
        with self._read() as db:
            return {row.seq: row.pdu for row in db.execute(query)}

    def sms_part_messages(self, now=None):
        """[(sender, reference, total, parts, bytes, age_s)] of every unfinished message, oldest first."""
        now = now if now is not None else time.time()
        first = func.min(sms_parts.c.received_at)
        query = (select(sms_parts.c.sender, sms_parts.c.reference, sms_parts.c.total, func.count(),
                        func.sum(func.length(sms_parts.c.pdu) / 2), first)
                 .group_by(sms_parts.c.sender, sms_parts.c.reference, sms_parts.c.total)
                 .order_by(first, func.min(sms_parts.c.id)))
        with self._read() as db:
            return [(r[0], r[1], r[2], r[3], int(r[4] or 0), now - r[5]) for r in db.execute(query)]

    def delete_sms_parts(self, sender, reference, total):
        with self._tx() as db:
            db.execute(sms_parts.delete().where(
                sms_parts.c.sender == (sender or ""), sms_parts.c.reference == reference, sms_parts.c.total == total))


class StoredSMSParts:
    """The parts store of drivers.sms_inbox (the interface of its MemoryParts) in the hub's database: a part is
    committed before the modem deletes it from the SIM, and reassembly picks the parts up again after a restart.
    Keys are (sender, reference, total); a sender the PDU had none for is kept as "" and given back as None."""

    def __init__(self, store):
        self.store = store

    def put(self, key, seq, pdu_hex):
        return self.store.put_sms_part(key[0], key[1], key[2], seq, pdu_hex)

    def get(self, key):
        return self.store.sms_parts_of(key[0], key[1], key[2])

    def drop(self, key):
        self.store.delete_sms_parts(key[0], key[1], key[2])

    def summary(self):
        return [((sender or None, reference, total), parts, size, age_s * 1000)
                for sender, reference, total, parts, size, age_s in self.store.sms_part_messages()]

    def usage(self, sender):
        parts = size = 0
        for key, count, nbytes, _age in self.summary():
            if key[0] == sender:
                parts += count
                size += nbytes
        return parts, size


def _select_alert(db, alert_id):
    return db.execute(_ALERT_BY_ID, {"alert_id": alert_id}).mappings().fetchone()


def _insert_hop(db, alert_id, t, hop, detail):
    db.execute(_INSERT_HOP, {"alert_id": alert_id, "t": t, "hop": hop, "detail": json.dumps(detail)})


def _insert_outbox(db, alert_id, kind, recipient, body, now, priority=None):
    if priority is None:
        priority = outbox_priority("ack." + _ack_status(body) if kind == "ack" else kind)
    return db.execute(_INSERT_OUTBOX, {"alert_id": alert_id, "kind": kind, "recipient": recipient, "body": body,
                                       "next_attempt_at": now, "created_at": now,
                                       "priority": priority}).inserted_primary_key[0]


def _ack_status(body):
    # An ack's body is "<ver>;i=..;h=..;n=..;s=<status>;m=<mac>" (drivers.alert.encode_ack).
    for item in body.split(";"):
        if item.startswith("s="):
            return item[2:]
    return ""


# For the store's companion modules (hub/store/*.py), inside store.transaction(): an outbox row and a hop written in
# the caller's transaction, with the row they belong to.
insert_outbox_row = _insert_outbox


def insert_hop_row(db, alert_id, t, hop, detail):
    _insert_hop(db, alert_id, t, hop, detail)


def _touch_device(db, alert, alert_id, via, cell, now):
    """Liveness from a new authenticated message: last heard follows arrival; battery, position and cell follow
    the highest counter (an SMS delivered late must not overwrite a newer reading)."""
    this_device = {"device_id": alert["device_id"]}
    row = db.execute(_DEVICE_BY_ID, this_device).mappings().fetchone()
    if row is None:
        db.execute(insert(device_status), {"device_id": alert["device_id"], "tracked_since": now})
        row = db.execute(_DEVICE_BY_ID, this_device).mappings().fetchone()
    values = {}
    if row["last_heard_at"] is None or now >= row["last_heard_at"]:
        values.update(last_heard_at=now, last_via=via, last_event=alert["event"], last_alert_id=alert_id)
    if row["last_counter"] is None or alert["counter"] > row["last_counter"]:
        values["last_counter"] = alert["counter"]
        if alert.get("battery") is not None:
            values.update(battery=alert["battery"], battery_at=now)
        if alert.get("lat") is not None:
            values.update(lat=alert["lat"], lon=alert["lon"], acc_m=alert.get("acc_m"), position_at=now)
        if cell is not None:
            values["cell"] = cell
    if values:
        db.execute(update(device_status).where(device_status.c.device_id == alert["device_id"]).values(values))


def _enqueue_ack(db, device_id, recipient, build_body, alert_id, now, priority=None):
    # Read and written in the caller's BEGIN IMMEDIATE transaction, with the outbox row: a counter is never reused.
    last = db.execute(_HUB_COUNTER, {"device_id": device_id}).scalar()
    value = (last if last is not None else 0) + 1
    db.execute(_SET_HUB_COUNTER, {"device_id": device_id, "value": value})
    return _insert_outbox(db, alert_id, "ack", recipient, build_body(value), now, priority=priority)


def _device_dict(row):
    status = {name: row[name] for name in DEVICE_COLUMNS}
    status["cell"] = json.loads(status["cell"]) if status["cell"] else None
    return status


def _alert_dict(row):
    alert = {name: row[name] for name in ALERT_COLUMNS}
    alert["cell"] = json.loads(alert["cell"]) if alert["cell"] else None
    return alert
