"""Hotlists: IRSF / Wangiri test-number lists, their versions, their entries and what each version changed.

Revision ID: 0008
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

ROW_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")

revision = "0008"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hotlists",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("retain_missing", sa.Boolean, nullable=False),
        sa.Column("wildcard_last", sa.SmallInteger, nullable=False),
        sa.Column("region", sa.String(2), nullable=True),
        sa.Column("sync_url", sa.Text, nullable=True),
        sa.Column("sync_folder", sa.Text, nullable=True),
        sa.Column("sync_every_s", sa.Integer, nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "hotlist_versions",
        sa.Column("id", ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("hotlist_id", sa.Integer, sa.ForeignKey("hotlists.id", ondelete="CASCADE"), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("imported_ms", sa.BigInteger, nullable=False),
        sa.Column("imported_by", sa.Integer, sa.ForeignKey("members.id"), nullable=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("added", sa.Integer, nullable=False),
        sa.Column("unchanged", sa.Integer, nullable=False),
        sa.Column("removed", sa.Integer, nullable=False),
        sa.Column("retained", sa.Integer, nullable=False),
        sa.Column("invalid", sa.Integer, nullable=False),
        sa.Column("duplicates", sa.Integer, nullable=False),
        sa.Column("derived", sa.Integer, nullable=False),
        sa.Column("entries", sa.Integer, nullable=False),
        sa.UniqueConstraint("hotlist_id", "number", name="uq_hotlist_versions_number"),
    )
    op.create_index("ix_hotlist_versions_source", "hotlist_versions", ["hotlist_id", "sha256"])
    op.create_table(
        "hotlist_entries",
        sa.Column("id", ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("hotlist_id", sa.Integer, sa.ForeignKey("hotlists.id", ondelete="CASCADE"), nullable=False),
        sa.Column("pattern", sa.String(40), nullable=False),
        sa.Column("prefix", sa.BigInteger, nullable=False),
        sa.Column("prefix_len", sa.SmallInteger, nullable=False),
        sa.Column("length", sa.SmallInteger, nullable=True),
        sa.Column("source", sa.Text, nullable=True),
        sa.Column("first_seen_ms", sa.BigInteger, nullable=False),
        sa.Column("last_seen_ms", sa.BigInteger, nullable=False),
        sa.Column("first_version", sa.Integer, nullable=False),
        sa.Column("last_version", sa.Integer, nullable=False),
        sa.Column("present", sa.Boolean, nullable=False),
        sa.Column("derived", sa.Boolean, nullable=False),
        sa.UniqueConstraint("hotlist_id", "pattern", name="uq_hotlist_entries_pattern"),
    )
    op.create_table(
        "hotlist_changes",
        sa.Column("hotlist_id", sa.Integer, sa.ForeignKey("hotlists.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("entry_id", sa.BigInteger, sa.ForeignKey("hotlist_entries.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("kind", sa.SmallInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("hotlist_changes")
    op.drop_table("hotlist_entries")
    op.drop_index("ix_hotlist_versions_source", "hotlist_versions")
    op.drop_table("hotlist_versions")
    op.drop_table("hotlists")
