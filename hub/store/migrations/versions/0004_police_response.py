"""The police response: incident codes, outcomes and sources on alerts, outbox priorities, escalations, incident
threads, the inbox of SMS that are no alert, and blocked numbers.

Written out rather than imported from hub.store.schema (docs/hub-store.md).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Real = sa.Double().with_variant(sa.REAL(), "sqlite")


def upgrade():
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("code", sa.Text))
        batch.add_column(sa.Column("outcome", sa.Text))
        batch.add_column(sa.Column("source", sa.Text, nullable=False, server_default="wearable"))
    op.create_index("alerts_code", "alerts", ["code"])
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("priority", sa.Integer, nullable=False, server_default=sa.text("5")))
    op.create_table(
        "escalations",
        sa.Column("alert_id", sa.Integer, primary_key=True),
        sa.Column("route", sa.Text, nullable=False),
        sa.Column("step", sa.Integer, nullable=False),
        sa.Column("repeat", sa.Integer, nullable=False),
        sa.Column("next_at", Real),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("started_at", Real, nullable=False),
        sa.Column("updated_at", Real, nullable=False),
    )
    op.create_index("escalations_due", "escalations", ["state", "next_at"])
    op.create_table(
        "thread_messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("alert_id", sa.Integer, nullable=False),
        sa.Column("t", Real, nullable=False),
        sa.Column("direction", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("name", sa.Text),
        sa.Column("number", sa.Text),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("outbox_id", sa.Integer),
    )
    op.create_index("thread_alert", "thread_messages", ["alert_id", "t"])
    op.create_table(
        "inbox_messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("t", Real, nullable=False),
        sa.Column("via", sa.Text, nullable=False),
        sa.Column("sender", sa.Text),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("detail", sa.Text),
        sa.Column("handled_at", Real),
        sa.Column("handled_by", sa.Text),
    )
    op.create_index("inbox_time", "inbox_messages", ["t"])
    op.create_table(
        "blocked_numbers",
        sa.Column("number", sa.Text, primary_key=True),
        sa.Column("blocked_at", Real, nullable=False),
        sa.Column("blocked_by", sa.Text, nullable=False),
        sa.Column("reason", sa.Text),
    )


def downgrade():
    op.drop_table("blocked_numbers")
    op.drop_index("inbox_time", "inbox_messages")
    op.drop_table("inbox_messages")
    op.drop_index("thread_alert", "thread_messages")
    op.drop_table("thread_messages")
    op.drop_index("escalations_due", "escalations")
    op.drop_table("escalations")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("priority")
    op.drop_index("alerts_code", "alerts")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("source")
        batch.drop_column("outcome")
        batch.drop_column("code")
