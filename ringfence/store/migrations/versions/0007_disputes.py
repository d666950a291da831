"""Disputes: a member disputes a listing, an admin upholds or rejects it; at most one open per member and number.

Revision ID: 0007
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

ROW_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "disputes",
        sa.Column("id", ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("number", sa.BigInteger, nullable=False),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id"), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("opened_ms", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("resolved_ms", sa.BigInteger, nullable=True),
        sa.Column("resolved_by", sa.Integer, sa.ForeignKey("members.id"), nullable=True),
        sa.Column("resolution_note", sa.Text, nullable=True),
    )
    op.create_index("ix_disputes_number_status", "disputes", ["number", "status"])
    op.create_index("ix_disputes_member_id", "disputes", ["member_id", "id"])
    is_open = sa.text("status = 'open'")
    op.create_index(
        "uq_disputes_open",
        "disputes",
        ["member_id", "number"],
        unique=True,
        sqlite_where=is_open,
        postgresql_where=is_open,
    )


def downgrade() -> None:
    op.drop_index("uq_disputes_open", "disputes")
    op.drop_index("ix_disputes_member_id", "disputes")
    op.drop_index("ix_disputes_number_status", "disputes")
    op.drop_table("disputes")
