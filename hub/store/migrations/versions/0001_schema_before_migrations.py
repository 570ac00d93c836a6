"""The hub's schema before migrations existed (schema v0): alerts, hops, rejected, outbox, hub_counters,
device_status.

A fresh database gets these tables. A database written by a hub from before migrations (it has the tables but no
alembic_version) keeps them, rows included, as that hub's CREATE TABLE IF NOT EXISTS did: what is missing is
created (device_status on a database older than liveness), what exists is left alone once its columns are checked.

The tables are written out here rather than imported from hub.store.schema: this revision must keep creating the
schema of its time after the later revisions change hub.store.schema.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""
import logging

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

log = logging.getLogger("hub.store.migrate")

Real = sa.Double().with_variant(sa.REAL(), "sqlite")


def key(name, type_):
    # Declared without NOT NULL, as schema v0 wrote its primary keys.
    return sa.Column(name, type_, primary_key=True, nullable=True)


v0 = sa.MetaData()

sa.Table(
    "alerts", v0,
    key("id", sa.Integer),
    sa.Column("device_id", sa.Text, nullable=False),
    sa.Column("counter", sa.Integer, nullable=False),
    sa.Column("event", sa.Text, nullable=False),
    sa.Column("category", sa.Text, nullable=False),
    sa.Column("device_time", sa.Integer),
    sa.Column("lat", Real), sa.Column("lon", Real), sa.Column("acc_m", sa.Integer), sa.Column("fix_age_s", sa.Integer),
    sa.Column("cell", sa.Text), sa.Column("battery", sa.Integer),
    sa.Column("via", sa.Text, nullable=False),
    sa.Column("sender", sa.Text),
    sa.Column("raw", sa.Text, nullable=False),
    sa.Column("received_at", Real, nullable=False),
    sa.Column("state", sa.Text, nullable=False, server_default="new"),
    sa.Column("acknowledged_at", Real), sa.Column("acknowledged_by", sa.Text),
    sa.Column("dispatched_at", Real), sa.Column("dispatched_by", sa.Text), sa.Column("unit", sa.Text),
    sa.Column("resolved_at", Real), sa.Column("resolved_by", sa.Text), sa.Column("note", sa.Text),
    sa.Column("location_purged_at", Real),
    sa.UniqueConstraint("device_id", "counter"),
    sa.Index("alerts_state", "state", "received_at"),
)
sa.Table(
    "hops", v0,
    key("id", sa.Integer),
    sa.Column("alert_id", sa.Integer),
    sa.Column("t", Real, nullable=False),
    sa.Column("hop", sa.Text, nullable=False),
    sa.Column("detail", sa.Text),
    sa.Index("hops_alert", "alert_id", "t"),
)
sa.Table(
    "rejected", v0,
    key("id", sa.Integer),
    sa.Column("t", Real, nullable=False),
    sa.Column("via", sa.Text, nullable=False),
    sa.Column("sender", sa.Text),
    sa.Column("raw", sa.Text),
    sa.Column("reason", sa.Text, nullable=False),
)
sa.Table(
    "outbox", v0,
    key("id", sa.Integer),
    sa.Column("alert_id", sa.Integer),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("recipient", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False, server_default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.Column("next_attempt_at", Real, nullable=False),
    sa.Column("created_at", Real, nullable=False),
    sa.Column("sent_at", Real),
    sa.Column("last_error", sa.Text),
    sa.Column("refs", sa.Text),
    sa.Index("outbox_due", "state", "next_attempt_at"),
)
sa.Table(
    "hub_counters", v0,
    key("device_id", sa.Text),
    sa.Column("value", sa.Integer, nullable=False),
)
sa.Table(
    "device_status", v0,
    key("device_id", sa.Text),
    sa.Column("tracked_since", Real, nullable=False),
    sa.Column("last_heard_at", Real), sa.Column("last_via", sa.Text), sa.Column("last_event", sa.Text),
    sa.Column("last_alert_id", sa.Integer),
    sa.Column("last_counter", sa.Integer),
    sa.Column("battery", sa.Integer), sa.Column("battery_at", Real),
    sa.Column("lat", Real), sa.Column("lon", Real), sa.Column("acc_m", sa.Integer), sa.Column("position_at", Real),
    sa.Column("cell", sa.Text),
    sa.Column("silent_at", Real),
    sa.Column("back_at", Real),
)


def upgrade():
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    existing = [name for name in v0.tables if inspector.has_table(name)]
    if existing:
        log.info("adopting a database from before migrations (tables %s)", ", ".join(existing))
    for name in existing:
        present = {column["name"] for column in inspector.get_columns(name)}
        missing = [column.name for column in v0.tables[name].columns if column.name not in present]
        if missing:
            raise RuntimeError("table %s of %s lacks the columns %s of the hub's schema v0: not a Deme hub database, "
                               "or a damaged one" % (name, bind.engine.url.database, ", ".join(missing)))
    v0.create_all(bind, checkfirst=True)
    for table in v0.tables.values():
        for index in table.indexes:  # create_all skips the indexes of the tables that exist
            index.create(bind, checkfirst=True)


def downgrade():
    v0.drop_all(op.get_bind())
