"""Allowlists: the never-list, members' private allow/deny lists, and the version counter other nodes reload on.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "never_list",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("pattern", sa.String(8), nullable=False),
        sa.Column("value", sa.BigInteger, nullable=False),
        sa.Column("prefix_len", sa.SmallInteger, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id"), nullable=True),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("created_by", sa.Integer, sa.ForeignKey("members.id"), nullable=True),
        sa.UniqueConstraint("pattern", "value", "prefix_len", name="uq_never_list_pattern"),
    )
    op.create_table(
        "member_lists",
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id"), primary_key=True),
        sa.Column("number", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("list", sa.String(8), nullable=False),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
    )
    # every allowlist write bumps it in its transaction; a node whose copy is older reloads
    op.execute("INSERT INTO feed_state (name, value) VALUES ('allowlists_version', 0)")


def downgrade() -> None:
    op.execute("DELETE FROM feed_state WHERE name = 'allowlists_version'")
    op.drop_table("member_lists")
    op.drop_table("never_list")
