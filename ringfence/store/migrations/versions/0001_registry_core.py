"""Registry core: members, API keys, reports and listings.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

NUMBER_KEY = sa.BigInteger().with_variant(sa.Integer, "sqlite")
ROW_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "members",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id"), nullable=False, index=True),
        sa.Column("secret_hash", sa.String(200), nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("revoked_ms", sa.BigInteger, nullable=True),
    )
    op.create_table(
        "reports",
        sa.Column("id", ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id"), nullable=False),
        sa.Column("number", sa.BigInteger, nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("occurred_ms", sa.BigInteger, nullable=False),
        sa.Column("received_ms", sa.BigInteger, nullable=False),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("report_id", sa.String(200), nullable=True),
        sa.Column("withdrawn_ms", sa.BigInteger, nullable=True),
        sa.Column("withdrawn_reason", sa.String(32), nullable=True),
        sa.Column("withdrawn_by", sa.Integer, sa.ForeignKey("members.id"), nullable=True),
        sa.UniqueConstraint("member_id", "report_id", name="uq_reports_member_report_id"),
    )
    op.create_index("ix_reports_number_member", "reports", ["number", "member_id"])
    op.create_index("ix_reports_member_id", "reports", ["member_id", "id"])
    op.create_table(
        "listings",
        sa.Column("number", NUMBER_KEY, primary_key=True, autoincrement=False),
        sa.Column("first_ms", sa.BigInteger, nullable=False),
        sa.Column("last_ms", sa.BigInteger, nullable=False),
        sa.Column("report_count", sa.Integer, nullable=False),
        sa.Column("reporter_count", sa.Integer, nullable=False),
        sa.Column("categories", sa.Integer, nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("listings")
    op.drop_index("ix_reports_member_id", "reports")
    op.drop_index("ix_reports_number_member", "reports")
    op.drop_table("reports")
    op.drop_table("api_keys")
    op.drop_table("members")
