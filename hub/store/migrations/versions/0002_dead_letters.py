"""dead_letters: authenticated messages the store could not take.

A message whose MAC is right but which the store cannot commit (a value the database cannot hold, a constraint it
breaks) is kept here, with why, and the SMS is deleted from the SIM: otherwise it stays there and is retried every
30 s for ever. The table is written out here rather than imported from hub.store.schema (docs/hub-store.md).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Real = sa.Double().with_variant(sa.REAL(), "sqlite")


def upgrade():
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("via", sa.Text, nullable=False),
        sa.Column("sender", sa.Text),
        sa.Column("raw", sa.Text, nullable=False),
        sa.Column("device_id", sa.Text),
        sa.Column("counter", sa.Integer),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("received_at", Real, nullable=False),
    )


def downgrade():
    op.drop_table("dead_letters")
