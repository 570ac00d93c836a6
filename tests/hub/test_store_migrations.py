"""The store's schema migrations: a Pi that upgrades keeps its data, fresh and upgraded databases agree, a database
from a newer hub is refused, and a failing migration changes nothing."""
import shutil
import sqlite3

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

import hub.store.migrate
from drivers.alert import parse_alert
from hub.store import DatabaseTooNewError, Store
from hub.store.schema import metadata
from tests.hub.spine_fixtures import KEY, alert_text

# The schema v0 Pis run today: the DDL that hub/store.py executed on every start before migrations existed,
# copied verbatim.
SCHEMA_V0 = """
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
# The first hubs had no liveness: the same schema without device_status.
SCHEMA_V0_BEFORE_LIVENESS = SCHEMA_V0[:SCHEMA_V0.index("CREATE TABLE IF NOT EXISTS device_status")]

RECEIVED_AT = 1795430102.5
CELL_JSON = '{"mcc": 610, "mnc": 1, "lac": 500, "cell_id": 10811}'


def v0_database(path, ddl=SCHEMA_V0):
    """A database as a Pi running schema v0 left it, with the rows that hub wrote for one acknowledged SOS."""
    text = alert_text(1)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(ddl)
    db.execute("BEGIN IMMEDIATE")
    db.execute("""INSERT INTO alerts (device_id, counter, event, category, device_time, lat, lon, acc_m, fix_age_s,
                  cell, battery, via, sender, raw, received_at, state, acknowledged_at, acknowledged_by)
                  VALUES ('W1', 1, 'SOS', 'GEN', 1795430100, 13.4317, -6.2157, 12, 2, ?, 80, 'sms', '+22376000001',
                  ?, ?, 'acknowledged', ?, 'Sgt. Diallo')""", (CELL_JSON, text, RECEIVED_AT, RECEIVED_AT + 3))
    db.executemany("INSERT INTO hops (alert_id, t, hop, detail) VALUES (1, ?, ?, ?)", [
        (RECEIVED_AT, "hub.stored", '{"via": "sms", "sender": "+22376000001"}'),
        (RECEIVED_AT + 0.1, "mqtt.published", '{"topic": "deme/alerts/W1"}'),
        (RECEIVED_AT + 3, "console.acknowledge", '{"operator": "Sgt. Diallo", "unit": null, "note": null}'),
    ])
    db.execute("INSERT INTO hub_counters (device_id, value) VALUES ('W1', 2)")
    db.execute("""INSERT INTO outbox (alert_id, kind, recipient, body, state, attempts, next_attempt_at, created_at,
                  sent_at, refs) VALUES (1, 'ack', '+22376000001', 'ACK h=2', 'sent', 1, ?, ?, ?, '[17]')""",
               (RECEIVED_AT + 3, RECEIVED_AT + 3, RECEIVED_AT + 5))
    db.execute("INSERT INTO rejected (t, via, sender, raw, reason) VALUES (?, 'sms', '+22399', 'garbage', 'bad mac')",
               (RECEIVED_AT,))
    if "device_status" in ddl:
        db.execute("""INSERT INTO device_status (device_id, tracked_since, last_heard_at, last_via, last_event,
                      last_alert_id, last_counter, battery, battery_at)
                      VALUES ('W1', ?, ?, 'sms', 'SOS', 1, 1, 80, ?)""",
                   (RECEIVED_AT - 60, RECEIVED_AT, RECEIVED_AT))
    db.execute("COMMIT")
    db.close()
    return text


def schema_of(path):
    """Every table's columns, keys, indexes and unique constraints as SQLite reports them (not the DDL text,
    which SQLAlchemy formats differently from the hand-written v0 script)."""
    db = sqlite3.connect(path)
    try:
        tables = [name for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        schema = {}
        for table in tables:
            indexes = {}
            for _seq, name, unique, origin, partial in db.execute("PRAGMA index_list(%s)" % table):
                columns = [column for _n, _cid, column in db.execute("PRAGMA index_info(%s)" % name)]
                # SQLite names the index of an unnamed UNIQUE constraint itself (sqlite_autoindex_...).
                indexes[name if origin == "c" else (origin, tuple(columns))] = (unique, origin, partial, columns)
            schema[table] = {"columns": db.execute("PRAGMA table_info(%s)" % table).fetchall(), "indexes": indexes}
        return schema
    finally:
        db.close()


def differences_from_code(path):
    """What Alembic's autogenerate would still change to make the database match hub/store/schema.py."""
    engine = create_engine("sqlite:///%s" % path)
    try:
        with engine.connect() as connection:
            return compare_metadata(MigrationContext.configure(connection), metadata)
    finally:
        engine.dispose()


def revision_of(path):
    db = sqlite3.connect(path)
    try:
        return [row[0] for row in db.execute("SELECT version_num FROM alembic_version")]
    finally:
        db.close()


def parsed(counter, **kw):
    text = alert_text(counter, **kw)
    return parse_alert(text, lambda _i: KEY), text


def test_a_pi_running_schema_v0_keeps_every_row_when_it_upgrades(tmp_path):
    path = tmp_path / "hub.db"
    text = v0_database(path)
    with Store(path) as store:
        alert = store.get_alert(1)
        assert alert["device_id"] == "W1" and alert["counter"] == 1 and alert["raw"] == text
        assert alert["state"] == "acknowledged" and alert["acknowledged_by"] == "Sgt. Diallo"
        assert alert["received_at"] == RECEIVED_AT and alert["lat"] == 13.4317
        assert alert["cell"] == {"mcc": 610, "mnc": 1, "lac": 500, "cell_id": 10811}
        assert [(h["hop"], h["t"]) for h in store.hops(1)] == [("hub.stored", RECEIVED_AT),
                                                               ("mqtt.published", RECEIVED_AT + 0.1),
                                                               ("console.acknowledge", RECEIVED_AT + 3)]
        assert store.hops(1)[2]["detail"] == {"operator": "Sgt. Diallo", "unit": None, "note": None}
        [ack] = store.outbox(1)
        assert (ack["body"], ack["state"], ack["attempts"], ack["refs"]) == ("ACK h=2", "sent", 1, "[17]")
        assert store.rejected()[0]["reason"] == "bad mac"
        assert store.device_status("W1")["last_heard_at"] == RECEIVED_AT
        assert store.alerts_missing_hop("mqtt.published") == []
        # and it carries on where the old hub stopped: the same message is a duplicate, counters continue
        status, _ = store.record_alert(parse_alert(text, lambda _i: KEY), text, "sms")
        assert status == "duplicate"
        store.transition(1, "dispatch", "Sgt. Diallo", ack=("+22376000001", lambda h: "DSP h=%d" % h))
        assert [m["body"] for m in store.outbox(1)] == ["ACK h=2", "DSP h=3"]
        alert, text = parsed(2)
        status, stored = store.record_alert(alert, text, "sms")
        assert status == "new" and stored["id"] == 2
    assert revision_of(path) == [hub.store.migrate.head_revision()]


def test_a_database_older_than_liveness_gains_device_status_as_it_did_before(tmp_path):
    path = tmp_path / "hub.db"
    v0_database(path, SCHEMA_V0_BEFORE_LIVENESS)
    with Store(path) as store:
        assert store.device_statuses() == {}
        alert, text = parsed(2)
        store.record_alert(alert, text, "sms", received_at=RECEIVED_AT + 60)
        assert store.device_status("W1")["last_counter"] == 2
        assert store.get_alert(1)["acknowledged_by"] == "Sgt. Diallo"


def test_fresh_and_upgraded_databases_end_with_the_same_schema(tmp_path):
    fresh, upgraded = tmp_path / "fresh.db", tmp_path / "upgraded.db"
    v0_database(upgraded)
    Store(fresh).open().close()
    Store(upgraded).open().close()
    assert schema_of(fresh) == schema_of(upgraded)
    assert set(schema_of(fresh)) == {*metadata.tables, "alembic_version"}
    assert differences_from_code(fresh) == []
    assert differences_from_code(upgraded) == []
    assert revision_of(fresh) == revision_of(upgraded) == [hub.store.migrate.head_revision()]


def test_a_database_from_a_newer_hub_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "hub.db"
    with Store(path) as store:
        alert, text = parsed(1)
        store.record_alert(alert, text, "sms")
    db = sqlite3.connect(path)
    db.execute("UPDATE alembic_version SET version_num='0999'")
    db.commit()
    db.close()
    with pytest.raises(DatabaseTooNewError, match=r"revision 0999, which this hub does not know .*newer version"):
        Store(path).open()
    assert revision_of(path) == ["0999"]
    db = sqlite3.connect(path)
    assert db.execute("SELECT device_id, counter FROM alerts").fetchall() == [("W1", 1)]
    db.close()


def test_a_v0_table_without_its_columns_is_refused_not_adopted(tmp_path):
    path = tmp_path / "hub.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE hops (id INTEGER PRIMARY KEY, note TEXT)")
    db.close()
    with pytest.raises(RuntimeError, match="table hops .* lacks the columns alert_id, t, hop, detail"):
        Store(path).open()
    assert schema_of(path).keys() == {"hops"}  # nothing created, nothing stamped


@pytest.fixture
def migrations_copy(tmp_path, monkeypatch):
    """A copy of the migration scripts the store uses instead of the package's, for revisions made up by a test."""
    copy = tmp_path / "migrations"
    shutil.copytree(hub.store.migrate.MIGRATIONS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(hub.store.migrate, "MIGRATIONS_DIR", copy)
    return copy


def next_revision(revision, step=1):
    """The number `python -m hub.store.migrate revision` gives the migration `step` after `revision`."""
    return "%04d" % (int(revision) + step)


FAILING_REVISION = '''
import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = "{down_revision}"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("incident_plans", sa.Column("id", sa.Integer, primary_key=True))
    op.execute("INSERT INTO incident_plans (id) VALUES (1)")
    op.add_column("alerts", sa.Column("plan_id", sa.Integer))
    raise RuntimeError("migration bug")


def downgrade():
    pass
'''


def test_a_failing_migration_leaves_the_database_as_it_was(tmp_path, migrations_copy):
    head = hub.store.migrate.head_revision()
    failing = FAILING_REVISION.replace("{revision}", next_revision(head)).replace("{down_revision}", head)
    (migrations_copy / "versions" / f"{next_revision(head)}_failing.py").write_text(failing)
    fresh, upgraded = tmp_path / "fresh.db", tmp_path / "upgraded.db"
    v0_database(upgraded)
    before = schema_of(upgraded)
    for path in (fresh, upgraded):
        with pytest.raises(RuntimeError, match="migration bug"):
            Store(path).open()
    # The whole upgrade is one transaction, DDL included: none of the revisions before the failing one was kept.
    assert schema_of(fresh) == {}
    assert schema_of(upgraded) == before
    db = sqlite3.connect(upgraded)
    assert db.execute("SELECT COUNT(*) FROM hops").fetchone()[0] == 3
    db.close()


def test_revision_writes_the_next_numbered_script_and_autogenerate_finds_nothing_to_change(migrations_copy):
    head = hub.store.migrate.head_revision()
    written = hub.store.migrate.new_revision("incident plans")
    assert written.revision == next_revision(head) and written.down_revision == head
    assert (migrations_copy / "versions" / f"{next_revision(head)}_incident_plans.py").exists()
    # schema.py and the migrations agree, so an autogenerated revision has no operation in it
    generated = hub.store.migrate.new_revision("nothing", autogenerate=True)
    assert generated.revision == next_revision(head, 2) and generated.down_revision == next_revision(head)
    upgrade_body = generated.module.upgrade.__code__
    assert "op" not in upgrade_body.co_names


def test_current_reports_the_revision_of_a_database(tmp_path, capsys):
    path = tmp_path / "hub.db"
    v0_database(path)
    hub.store.migrate.main(["current", str(path)])
    assert "no revision (before migrations)" in capsys.readouterr().out
    Store(path).open().close()
    hub.store.migrate.main(["current", str(path)])
    head = hub.store.migrate.head_revision()
    assert f"hub.db: {head} (this code's head: {head})" in capsys.readouterr().out


def test_store_is_wal_with_full_sync_on_every_connection_of_an_upgraded_database(tmp_path):
    path = tmp_path / "hub.db"
    v0_database(path)
    with Store(path) as store:
        assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL

