"""sms_parts: parts of concatenated SMS waiting for their siblings, off the SIM.

The SIM is a landing area: a part is moved here and deleted from the SIM at once, so that a stranger's message that
never completes cannot fill the SIM and have a genuine SOS refused. A message is put together from these rows, also
after a restart. Written out rather than imported from hub.store.schema (docs/hub-store.md).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Real = sa.Double().with_variant(sa.REAL(), "sqlite")


def upgrade():
    op.create_table(
        "sms_parts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sender", sa.Text, nullable=False),
        sa.Column("reference", sa.Integer, nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("pdu", sa.Text, nullable=False),
        sa.Column("received_at", Real, nullable=False),
        sa.UniqueConstraint("sender", "reference", "total", "seq", name="uq_sms_parts_part"),
    )


def downgrade():
    op.drop_table("sms_parts")
