"""The hub's database schema at the newest migration, as SQLAlchemy Core tables: the one place it is written.

Code reads and writes through these tables. A change here needs a migration in hub/store/migrations/versions/ that
takes an existing database to the same shape (docs/hub-store.md); tests/hub/test_store_migrations.py fails when
the two disagree.
"""
from sqlalchemy import (
    REAL,
    Column,
    Double,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    text,
)

# Times (Unix seconds with fractions) and coordinates: REAL on SQLite, as the hub has always stored them; double
# precision elsewhere, since PostgreSQL's REAL has 4 bytes, too few for a time to the millisecond.
Real = Double().with_variant(REAL(), "sqlite")



def key_column(name, type_):
    """A primary key declared as the hub's first databases declared it, without NOT NULL, so that they and new
    ones have the same schema. An INTEGER key is SQLite's rowid and never NULL; no code writes a NULL device id."""
    return Column(name, type_, primary_key=True, nullable=True)


metadata = MetaData()

alerts = Table(
    "alerts", metadata,
    key_column("id", Integer),
    Column("device_id", Text, nullable=False),
    Column("counter", Integer, nullable=False),
    Column("event", Text, nullable=False),
    Column("category", Text, nullable=False),
    Column("device_time", Integer),
    Column("lat", Real), Column("lon", Real), Column("acc_m", Integer), Column("fix_age_s", Integer),
    Column("cell", Text),  # JSON {"mcc", "mnc", "lac", "cell_id"}
    Column("battery", Integer),
    Column("via", Text, nullable=False),
    Column("sender", Text),
    Column("raw", Text, nullable=False),
    Column("received_at", Real, nullable=False),
    Column("state", Text, nullable=False, server_default="new"),
    Column("acknowledged_at", Real), Column("acknowledged_by", Text),
    Column("dispatched_at", Real), Column("dispatched_by", Text), Column("unit", Text),
    Column("resolved_at", Real), Column("resolved_by", Text), Column("note", Text),
    Column("location_purged_at", Real),
    # Deduplication is by (device id, counter), never by position. Unnamed, as in the databases created before
    # migrations existed, so that both kinds of database have the same schema.
    UniqueConstraint("device_id", "counter"),
)
Index("alerts_state", alerts.c.state, alerts.c.received_at)

hops = Table(
    "hops", metadata,
    key_column("id", Integer),
    Column("alert_id", Integer),
    Column("t", Real, nullable=False),
    Column("hop", Text, nullable=False),
    Column("detail", Text),  # JSON object
)
Index("hops_alert", hops.c.alert_id, hops.c.t)

rejected = Table(
    "rejected", metadata,
    key_column("id", Integer),
    Column("t", Real, nullable=False),
    Column("via", Text, nullable=False),
    Column("sender", Text),
    Column("raw", Text),
    Column("reason", Text, nullable=False),
)

outbox = Table(
    "outbox", metadata,
    key_column("id", Integer),
    Column("alert_id", Integer),
    Column("kind", Text, nullable=False),
    Column("recipient", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("state", Text, nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", Real, nullable=False),
    Column("created_at", Real, nullable=False),
    Column("sent_at", Real),
    Column("last_error", Text),
    Column("refs", Text),  # JSON list of the modem's message references
)
Index("outbox_due", outbox.c.state, outbox.c.next_attempt_at)

# The last hub->device counter used per device: the ack SMS are signed with it, and it is never reused.
hub_counters = Table(
    "hub_counters", metadata,
    key_column("device_id", Text),
    Column("value", Integer, nullable=False),
)

device_status = Table(
    "device_status", metadata,
    key_column("device_id", Text),
    Column("tracked_since", Real, nullable=False),
    Column("last_heard_at", Real), Column("last_via", Text), Column("last_event", Text),
    Column("last_alert_id", Integer),
    Column("last_counter", Integer),
    Column("battery", Integer), Column("battery_at", Real),
    Column("lat", Real), Column("lon", Real), Column("acc_m", Integer), Column("position_at", Real),
    Column("cell", Text),
    Column("silent_at", Real),
    Column("back_at", Real),
)
