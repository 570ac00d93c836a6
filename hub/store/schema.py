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
    # The police response (migration 0004): the incident's short code responders answer with ("K7"), unique among
    # open incidents; how it ended (real, false_alarm, test, cancelled by the wearer); what raised it (a wearable's
    # alert, or a keyword report from any phone).
    Column("code", Text),
    Column("outcome", Text),
    Column("source", Text, nullable=False, server_default="wearable"),
    # Deduplication is by (device id, counter), never by position. Unnamed, as in the databases created before
    # migrations existed, so that both kinds of database have the same schema.
    UniqueConstraint("device_id", "counter"),
)
Index("alerts_state", alerts.c.state, alerts.c.received_at)
Index("alerts_code", alerts.c.code)

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
    # Lower goes first (migration 0004): calls for help before information, heartbeat receipts last.
    Column("priority", Integer, nullable=False, server_default=text("5")),
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

# Authenticated messages the store could not take (migration 0002): kept with why, so that the SMS can leave the SIM
# instead of being retried for ever.
dead_letters = Table(
    "dead_letters", metadata,
    Column("id", Integer, primary_key=True),
    Column("via", Text, nullable=False),
    Column("sender", Text),
    Column("raw", Text, nullable=False),
    Column("device_id", Text),
    Column("counter", Integer),
    Column("reason", Text, nullable=False),
    Column("received_at", Real, nullable=False),
)

# Parts of concatenated SMS whose siblings have not all come (migration 0003): moved off the SIM as soon as they are
# read, so the SIM stays a landing area; a message is put together from here, also after a restart.
sms_parts = Table(
    "sms_parts", metadata,
    Column("id", Integer, primary_key=True),
    Column("sender", Text, nullable=False),
    Column("reference", Integer, nullable=False),
    Column("total", Integer, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("pdu", Text, nullable=False),
    Column("received_at", Real, nullable=False),
    UniqueConstraint("sender", "reference", "total", "seq", name="uq_sms_parts_part"),
)

# --- The police response (migration 0004) ----------------------------------------------------------------------

# Where each open incident stands on its response plan's escalation ladder.
escalations = Table(
    "escalations", metadata,
    Column("alert_id", Integer, primary_key=True),
    Column("route", Text, nullable=False),
    Column("step", Integer, nullable=False),
    Column("repeat", Integer, nullable=False),
    Column("next_at", Real),
    Column("state", Text, nullable=False),  # active, acknowledged, unanswered, closed
    Column("started_at", Real, nullable=False),
    Column("updated_at", Real, nullable=False),
)
Index("escalations_due", escalations.c.state, escalations.c.next_at)

# The two-way SMS thread of an incident: operators and responders with the contacts or a keyword reporter.
thread_messages = Table(
    "thread_messages", metadata,
    Column("id", Integer, primary_key=True),
    Column("alert_id", Integer, nullable=False),
    Column("t", Real, nullable=False),
    Column("direction", Text, nullable=False),  # in, out
    Column("role", Text, nullable=False),  # operator, responder, contact, reporter
    Column("name", Text),
    Column("number", Text),
    Column("text", Text, nullable=False),
    Column("outbox_id", Integer),
)
Index("thread_alert", thread_messages.c.alert_id, thread_messages.c.t)

# SMS that are neither an alert, a reply nor a keyword report, and alert-shaped SMS that failed authentication:
# nothing that arrives is lost; the console shows them with their sender and text.
inbox_messages = Table(
    "inbox_messages", metadata,
    Column("id", Integer, primary_key=True),
    Column("t", Real, nullable=False),
    Column("via", Text, nullable=False),
    Column("sender", Text),
    Column("text", Text, nullable=False),
    Column("kind", Text, nullable=False),  # unknown, unverified
    Column("detail", Text),  # JSON object
    Column("handled_at", Real),
    Column("handled_by", Text),
)
Index("inbox_time", inbox_messages.c.t)

# Numbers a supervisor blocked from opening keyword reports.
blocked_numbers = Table(
    "blocked_numbers", metadata,
    Column("number", Text, primary_key=True),
    Column("blocked_at", Real, nullable=False),
    Column("blocked_by", Text, nullable=False),
    Column("reason", Text),
)
