"""Change feed: every registry change, numbered, with the listing as it stands after it.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

SEQ = sa.BigInteger().with_variant(sa.Integer, "sqlite")

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "changes",
        sa.Column("seq", SEQ, primary_key=True, autoincrement=False),
        sa.Column("at_ms", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.SmallInteger, nullable=False),
        sa.Column("number", sa.BigInteger, nullable=False),
        sa.Column("listed", sa.SmallInteger, nullable=False),
        sa.Column("first_ms", sa.BigInteger, nullable=False),
        sa.Column("last_ms", sa.BigInteger, nullable=False),
        sa.Column("report_count", sa.Integer, nullable=False),
        sa.Column("reporter_count", sa.Integer, nullable=False),
        sa.Column("categories", sa.Integer, nullable=False),
    )
    op.create_table(
        "feed_state",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("feed_state")
    op.drop_table("changes")
