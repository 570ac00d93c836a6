"""The hub's durable store: SQLite in WAL mode with synchronous=FULL.

Every alert is committed here before anything acknowledges it (the modem deletes the SMS, Mosquitto gets its
PUBACK, the wearable gets its RCV ack). Deduplication is by (device id, counter), never by position.

A heartbeat (HB) is stored like any alert, so it shares the counter check, the deduplication and the receipt, but
it is closed by the hub in the same transaction: it is not an incident. Every new authenticated message also
updates the device's row in device_status (last heard, battery, last position) in that transaction.
"""
import json
import sqlite3
import threading
import time

from drivers.alert import STATUS_EVENTS, URGENT_EVENTS

SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY,
    device_id TEXT NOT NULL,
    counter INTEGER NOT NULL,
    event TEXT NOT NULL,
    category TEXT NOT NULL,
    device_time INTEGER,
    lat REAL, lon REAL, acc_m INTEGER, fix_age_s INTEGER, cell TEXT, battery INTEGER,
    via TEXT NOT NULL,
    sender TEXT,
    raw TEXT NOT NULL,
    received_at REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'new',
    acknowledged_at REAL, acknowledged_by TEXT,
    dispatched_at REAL, dispatched_by TEXT, unit TEXT,
    resolved_at REAL, resolved_by TEXT, note TEXT,
    location_purged_at REAL,
    UNIQUE (device_id, counter)
);
CREATE INDEX IF NOT EXISTS alerts_state ON alerts (state, received_at);
CREATE TABLE IF NOT EXISTS hops (
    id INTEGER PRIMARY KEY,
    alert_id INTEGER,
    t REAL NOT NULL,
    hop TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX IF NOT EXISTS hops_alert ON hops (alert_id, t);
CREATE TABLE IF NOT EXISTS rejected (
    id INTEGER PRIMARY KEY,
    t REAL NOT NULL,
    via TEXT NOT NULL,
    sender TEXT,
    raw TEXT,
    reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY,
    alert_id INTEGER,
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    created_at REAL NOT NULL,
    sent_at REAL,
    last_error TEXT,
    refs TEXT
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (state, next_attempt_at);
CREATE TABLE IF NOT EXISTS hub_counters (
    device_id TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS device_status (
    device_id TEXT PRIMARY KEY,
    tracked_since REAL NOT NULL,
    last_heard_at REAL, last_via TEXT, last_event TEXT, last_alert_id INTEGER,
    last_counter INTEGER,
    battery INTEGER, battery_at REAL,
    lat REAL, lon REAL, acc_m INTEGER, position_at REAL, cell TEXT,
    silent_at REAL,
    back_at REAL
);
"""

# Events that say something about the device, not a call for help: stored (counter, dedup, receipt) but closed at
# once, never listed as alerts, never published as alerts nor sent to the contacts.

STATES = ("new", "acknowledged", "dispatched", "resolved")
# Which operator action is allowed from which state, and where it leads.
TRANSITIONS = {
    "acknowledge": ({"new"}, "acknowledged"),
    "dispatch": ({"new", "acknowledged"}, "dispatched"),
    "resolve": ({"new", "acknowledged", "dispatched"}, "resolved"),
}

ALERT_COLUMNS = (
    "id", "device_id", "counter", "event", "category", "device_time", "lat", "lon", "acc_m", "fix_age_s",
    "cell", "battery", "via", "sender", "raw", "received_at", "state", "acknowledged_at", "acknowledged_by",
    "dispatched_at", "dispatched_by", "unit", "resolved_at", "resolved_by", "note", "location_purged_at",
)


DEVICE_COLUMNS = (
    "device_id", "tracked_since", "last_heard_at", "last_via", "last_event", "last_alert_id", "last_counter",
    "battery", "battery_at", "lat", "lon", "acc_m", "position_at", "cell", "silent_at", "back_at",
)


class TransitionError(ValueError):
    """An operator action that the alert's state does not allow (e.g. acknowledging a resolved alert)."""


class Store:
    def __init__(self, path):
        self.path = str(path)
        self._db = None
        self._lock = threading.RLock()

    # -- lifecycle -------------------------------------------------------------------------------------------
    def open(self):
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA foreign_keys=ON")
        db.executescript(SCHEMA)
        self._db = db
        return self

    def close(self):
        if self._db is not None:
            self._db.close()
            self._db = None

    def __enter__(self):
        return self.open()

    def __exit__(self, *exc):
        self.close()

    def _tx(self):
        return _Transaction(self._db, self._lock)

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
            row = db.execute(
                "SELECT * FROM alerts WHERE device_id=? AND counter=?", (alert["device_id"], alert["counter"])
            ).fetchone()
            if row is not None:
                if row["raw"] == raw or row["location_purged_at"] is not None:
                    db.execute(
                        "INSERT INTO hops (alert_id, t, hop, detail) VALUES (?,?,?,?)",
                        (row["id"], now, "hub.duplicate", json.dumps({"via": via})),
                    )
                    return "duplicate", _alert_dict(row)
                db.execute(
                    "INSERT INTO rejected (t, via, sender, raw, reason) VALUES (?,?,?,?,?)",
                    (now, via, sender, raw, "replay: counter %d already used" % alert["counter"]),
                )
                return "replay", _alert_dict(row)
            cell = json.dumps(alert["cell"]) if alert.get("cell") else None
            cur = db.execute(
                """INSERT INTO alerts (device_id, counter, event, category, device_time, lat, lon, acc_m,
                   fix_age_s, cell, battery, via, sender, raw, received_at)
                   VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
                (alert["device_id"], alert["counter"], alert["event"], alert["category"],
                 alert.get("device_time"), alert.get("lat"), alert.get("lon"), alert.get("acc_m"),
                 alert.get("fix_age_s"), cell, alert.get("battery"), via, sender, raw, now),
            )
            alert_id = cur.lastrowid
            db.execute(
                "INSERT INTO hops (alert_id, t, hop, detail) VALUES (?,?,?,?)",
                (alert_id, now, "hub.stored", json.dumps({"via": via, "sender": sender})),
            )
            if alert["event"] in STATUS_EVENTS:
                db.execute("UPDATE alerts SET state='resolved', resolved_at=?, resolved_by='hub', note=? WHERE id=?",
                           (now, "heartbeat", alert_id))
            _touch_device(db, alert, alert_id, via, cell, now)
            row = db.execute("SELECT * FROM alerts WHERE id=?", (alert_id,)).fetchone()
            return "new", _alert_dict(row)

    def apply_followup(self, followup_id, urgent_events=URGENT_EVENTS, t=None):
        """A POS follow-up carries the fix an earlier alarm lacked: move its position onto the device's latest
        alert that is still open, and close the follow-up itself (it is not a new call for help).
        Returns the updated open alert, or None when there is none (the follow-up then stays as it is)."""
        now = t or time.time()
        with self._tx() as db:
            followup = db.execute("SELECT * FROM alerts WHERE id=?", (followup_id,)).fetchone()
            if followup is None or followup["lat"] is None:
                return None
            target = db.execute(
                "SELECT * FROM alerts WHERE device_id=? AND state!='resolved' AND id<? AND event IN (%s) "
                "ORDER BY counter DESC LIMIT 1" % ",".join("?" * len(urgent_events)),
                (followup["device_id"], followup_id, *urgent_events)).fetchone()
            if target is None:
                return None
            db.execute("UPDATE alerts SET lat=?, lon=?, acc_m=?, fix_age_s=? WHERE id=?",
                       (followup["lat"], followup["lon"], followup["acc_m"], followup["fix_age_s"], target["id"]))
            db.execute("INSERT INTO hops (alert_id, t, hop, detail) VALUES (?,?,?,?)",
                       (target["id"], now, "hub.position_update",
                        json.dumps({"counter": followup["counter"], "acc_m": followup["acc_m"]})))
            db.execute("UPDATE alerts SET state='resolved', resolved_at=?, resolved_by='hub', note=? WHERE id=?",
                       (now, "position follow-up of alert %d" % target["id"], followup_id))
            row = db.execute("SELECT * FROM alerts WHERE id=?", (target["id"],)).fetchone()
            return _alert_dict(row)

    def record_rejected(self, via, raw, reason, sender=None, t=None):
        with self._tx() as db:
            db.execute(
                "INSERT INTO rejected (t, via, sender, raw, reason) VALUES (?,?,?,?,?)",
                (t or time.time(), via, sender, raw, reason),
            )

    def rejected(self, limit=100):
        with self._lock:
            rows = self._db.execute("SELECT * FROM rejected ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [dict(r) for r in rows]

    def get_alert(self, alert_id):
        with self._lock:
            row = self._db.execute("SELECT * FROM alerts WHERE id=?", (alert_id,)).fetchone()
        return _alert_dict(row) if row else None

    def find_alert(self, device_id, counter):
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM alerts WHERE device_id=? AND counter=?", (device_id, counter)
            ).fetchone()
        return _alert_dict(row) if row else None

    def list_alerts(self, states=None, limit=200, status_events=False):
        """Alerts newest first. Heartbeats are left out unless status_events=True: they are not incidents."""
        query = "SELECT * FROM alerts"
        params = []
        where = []
        if states:
            where.append("state IN (%s)" % ",".join("?" * len(states)))
            params.extend(states)
        if not status_events:
            where.append("event NOT IN (%s)" % ",".join("?" * len(STATUS_EVENTS)))
            params.extend(STATUS_EVENTS)
        if where:
            query += " WHERE " + " AND ".join(where)
        query += " ORDER BY received_at DESC, id DESC LIMIT ?"
        params.append(limit)
        with self._lock:
            rows = self._db.execute(query, params).fetchall()
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
        column = {"acknowledged": "acknowledged", "dispatched": "dispatched", "resolved": "resolved"}[target]
        with self._tx() as db:
            row = db.execute("SELECT * FROM alerts WHERE id=?", (alert_id,)).fetchone()
            if row is None:
                raise TransitionError("no alert %s" % alert_id)
            if row["state"] not in allowed:
                raise TransitionError("cannot %s an alert that is %s" % (action, row["state"]))
            sets = ["state=?", f"{column}_at=?", f"{column}_by=?"]
            params = [target, now, operator]
            # Dispatching or resolving implies the alert was seen: keep the acknowledgement time honest.
            if row["acknowledged_at"] is None and target != "acknowledged":
                sets += ["acknowledged_at=?", "acknowledged_by=?"]
                params += [now, operator]
            if unit is not None:
                sets.append("unit=?")
                params.append(unit)
            if note is not None:
                sets.append("note=?")
                params.append(note)
            db.execute("UPDATE alerts SET %s WHERE id=?" % ", ".join(sets), (*params, alert_id))
            db.execute(
                "INSERT INTO hops (alert_id, t, hop, detail) VALUES (?,?,?,?)",
                (alert_id, now, "console." + action,
                 json.dumps({"operator": operator, "unit": unit, "note": note})),
            )
            if ack is not None:
                recipient, build_body = ack
                # A newer status says everything an unsent older one would (ACK implies RCV): send only the
                # newest, so "help has seen you" is not queued behind a receipt on a slow modem.
                db.execute("UPDATE outbox SET state='superseded' WHERE alert_id=? AND kind='ack' AND state='pending'",
                           (alert_id,))
                _enqueue_ack(db, row["device_id"], recipient, build_body, alert_id, now)
            row = db.execute("SELECT * FROM alerts WHERE id=?", (alert_id,)).fetchone()
            return _alert_dict(row)

    # -- devices: liveness, battery, last position --------------------------------------------------------------
    def track_devices(self, device_ids, t=None):
        """Give every configured device a status row, so one that never reports is measured from now (the first
        start of a hub that knows it) and not from the last restart."""
        now = t if t is not None else time.time()
        with self._tx() as db:
            for device_id in device_ids:
                db.execute("INSERT OR IGNORE INTO device_status (device_id, tracked_since) VALUES (?,?)",
                           (device_id, now))

    def device_status(self, device_id):
        with self._lock:
            row = self._db.execute("SELECT * FROM device_status WHERE device_id=?", (device_id,)).fetchone()
        return _device_dict(row) if row else None

    def device_statuses(self):
        with self._lock:
            rows = self._db.execute("SELECT * FROM device_status ORDER BY device_id").fetchall()
        return {row["device_id"]: _device_dict(row) for row in rows}

    def mark_silent(self, device_id, cutoff, t=None):
        """The watchdog's "device silent": set only if the device is not already silent and nothing newer than
        `cutoff` was heard (checked in the same statement, so a message committed meanwhile wins).
        Returns True when this call raised it."""
        now = t if t is not None else time.time()
        with self._tx() as db:
            cur = db.execute(
                "UPDATE device_status SET silent_at=? WHERE device_id=? AND silent_at IS NULL "
                "AND COALESCE(last_heard_at, tracked_since) < ?", (now, device_id, cutoff))
            return cur.rowcount == 1

    def mark_back(self, device_id, t=None):
        """Clear "silent" once a message newer than the alarm was heard. Returns True when this call cleared it."""
        now = t if t is not None else time.time()
        with self._tx() as db:
            cur = db.execute(
                "UPDATE device_status SET silent_at=NULL, back_at=? WHERE device_id=? AND silent_at IS NOT NULL "
                "AND last_heard_at IS NOT NULL AND last_heard_at > silent_at", (now, device_id))
            return cur.rowcount == 1

    # -- hops (the timeline of each alert) -------------------------------------------------------------------
    def add_hop(self, alert_id, hop, detail=None, t=None):
        with self._tx() as db:
            db.execute(
                "INSERT INTO hops (alert_id, t, hop, detail) VALUES (?,?,?,?)",
                (alert_id, t or time.time(), hop, json.dumps(detail or {})),
            )

    def alerts_missing_hop(self, hop, limit=500):
        """Alerts that never reached a hop (e.g. "mqtt.published" while the broker was down), oldest first.
        Heartbeats are not alerts, and what the hub closed itself as it stored it (a POS follow-up moved onto its
        alarm, which goes out as that alarm's update) was never announced: neither counts as missing a hop."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM alerts a WHERE NOT EXISTS (SELECT 1 FROM hops h WHERE h.alert_id=a.id AND h.hop=?) "
                "AND a.event NOT IN (%s) AND NOT (a.state='resolved' AND a.resolved_by='hub') "
                "ORDER BY id LIMIT ?" % ",".join("?" * len(STATUS_EVENTS)),
                (hop, *STATUS_EVENTS, limit)).fetchall()
        return [_alert_dict(r) for r in rows]

    def hops(self, alert_id):
        with self._lock:
            rows = self._db.execute("SELECT * FROM hops WHERE alert_id=? ORDER BY t, id", (alert_id,)).fetchall()
        return [{"t": r["t"], "hop": r["hop"], "detail": json.loads(r["detail"] or "{}")} for r in rows]

    # -- outbox: messages the hub must send, durable until sent or escalated ---------------------------------
    def enqueue(self, kind, recipient, body, alert_id=None, t=None):
        now = t or time.time()
        with self._tx() as db:
            cur = db.execute(
                """INSERT INTO outbox (alert_id, kind, recipient, body, next_attempt_at, created_at)
                   VALUES (?,?,?,?,?,?)""",
                (alert_id, kind, recipient, body, now, now),
            )
            return cur.lastrowid

    def enqueue_ack(self, device_id, build_body, recipient, alert_id, t=None):
        """Take the next hub->device counter and enqueue the ack it signs, in one transaction, so a counter
        is never reused even if the hub stops between the two. build_body(hub_counter) -> text."""
        with self._tx() as db:
            return _enqueue_ack(db, device_id, recipient, build_body, alert_id, t or time.time())

    def due_messages(self, now=None, limit=20):
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM outbox WHERE state='pending' AND next_attempt_at<=? ORDER BY id LIMIT ?",
                (now or time.time(), limit),
            ).fetchall()
        return [dict(r) for r in rows]

    def next_due_time(self):
        with self._lock:
            row = self._db.execute("SELECT MIN(next_attempt_at) AS t FROM outbox WHERE state='pending'").fetchone()
        return row["t"]

    def mark_sent(self, message_id, refs, t=None):
        with self._tx() as db:
            db.execute(
                "UPDATE outbox SET state='sent', sent_at=?, refs=?, attempts=attempts+1 WHERE id=?",
                (t or time.time(), json.dumps(refs), message_id),
            )

    def mark_attempt_failed(self, message_id, error, retry_at, give_up):
        with self._tx() as db:
            db.execute(
                "UPDATE outbox SET attempts=attempts+1, last_error=?, next_attempt_at=?, state=? WHERE id=?",
                (error, retry_at, "failed" if give_up else "pending", message_id),
            )

    def outbox(self, alert_id=None):
        with self._lock:
            if alert_id is None:
                rows = self._db.execute("SELECT * FROM outbox ORDER BY id").fetchall()
            else:
                rows = self._db.execute("SELECT * FROM outbox WHERE alert_id=? ORDER BY id", (alert_id,)).fetchall()
        return [dict(r) for r in rows]

    # -- retention -------------------------------------------------------------------------------------------
    def purge_locations(self, older_than_s, now=None):
        """Erase positions, cells and raw messages of resolved alerts older than the retention limit.
        The alert itself (device, time, category, handling times) stays for statistics. Returns the count."""
        now = now or time.time()
        with self._tx() as db:
            cur = db.execute(
                """UPDATE alerts SET lat=NULL, lon=NULL, acc_m=NULL, cell=NULL, raw='', sender=NULL,
                   location_purged_at=? WHERE state='resolved' AND received_at<? AND location_purged_at IS NULL""",
                (now, now - older_than_s),
            )
            # A device's last known position is kept no longer than an alert's.
            db.execute("UPDATE device_status SET lat=NULL, lon=NULL, acc_m=NULL, cell=NULL, position_at=NULL "
                       "WHERE position_at<?", (now - older_than_s,))
            return cur.rowcount


def _touch_device(db, alert, alert_id, via, cell, now):
    """Liveness from a new authenticated message: last heard follows arrival; battery, position and cell follow
    the highest counter (an SMS delivered late must not overwrite a newer reading)."""
    row = db.execute("SELECT * FROM device_status WHERE device_id=?", (alert["device_id"],)).fetchone()
    if row is None:
        db.execute("INSERT INTO device_status (device_id, tracked_since) VALUES (?,?)", (alert["device_id"], now))
        row = db.execute("SELECT * FROM device_status WHERE device_id=?", (alert["device_id"],)).fetchone()
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
        db.execute("UPDATE device_status SET %s WHERE device_id=?" % ", ".join(f"{k}=?" for k in values),
                   (*values.values(), alert["device_id"]))


def _device_dict(row):
    status = {name: row[name] for name in DEVICE_COLUMNS}
    status["cell"] = json.loads(status["cell"]) if status["cell"] else None
    return status


def _enqueue_ack(db, device_id, recipient, build_body, alert_id, now):
    row = db.execute("SELECT value FROM hub_counters WHERE device_id=?", (device_id,)).fetchone()
    value = (row["value"] if row else 0) + 1
    db.execute(
        "INSERT INTO hub_counters (device_id, value) VALUES (?,?) "
        "ON CONFLICT(device_id) DO UPDATE SET value=excluded.value",
        (device_id, value),
    )
    cur = db.execute(
        """INSERT INTO outbox (alert_id, kind, recipient, body, next_attempt_at, created_at)
           VALUES (?,?,?,?,?,?)""",
        (alert_id, "ack", recipient, build_body(value), now, now),
    )
    return cur.lastrowid


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT under the store's lock; ROLLBACK on any exception."""

    def __init__(self, db, lock):
        self.db = db
        self.lock = lock

    def __enter__(self):
        self.lock.acquire()
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except BaseException:
            self.lock.release()
            raise
        return self.db

    def __exit__(self, exc_type, exc, tb):
        try:
            self.db.execute("ROLLBACK" if exc_type else "COMMIT")
        finally:
            self.lock.release()
        return False


def _alert_dict(row):
    alert = {name: row[name] for name in ALERT_COLUMNS}
    alert["cell"] = json.loads(alert["cell"]) if alert["cell"] else None
    return alert
