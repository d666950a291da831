"""The store's tables (SQLAlchemy Core): one schema for SQLite and PostgreSQL.

Times are epoch milliseconds (BIGINT) and phone numbers their E.164 digits as BIGINT: compact, fast to compare and
the same on both engines. The migrations under ``migrations/`` create exactly these tables.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, MetaData, String, Table, Text, UniqueConstraint

__all__ = ["NUMBER_KEY", "ROW_ID", "api_keys", "listings", "members", "metadata", "reports"]

metadata = MetaData()

#: A phone number as a primary key: BIGINT, and on SQLite INTEGER (64-bit there too) so it is the rowid.
NUMBER_KEY = BigInteger().with_variant(Integer, "sqlite")
#: A row id the database assigns: BIGINT identity, and on SQLite the rowid (INTEGER PRIMARY KEY).
ROW_ID = BigInteger().with_variant(Integer, "sqlite")

members = Table(
    "members",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(16), primary_key=True),  # the public part of the key, shown in listings
    Column("member_id", Integer, ForeignKey("members.id"), nullable=False, index=True),
    Column("secret_hash", String(200), nullable=False),  # scrypt$n$r$p$salt$hash of the secret part
    Column("created_ms", BigInteger, nullable=False),
    Column("revoked_ms", BigInteger, nullable=True),
)

reports = Table(
    "reports",
    metadata,
    Column("id", ROW_ID, primary_key=True, autoincrement=True),  # assigned by the store, in arrival order
    Column("member_id", Integer, ForeignKey("members.id"), nullable=False),
    Column("number", BigInteger, nullable=False),
    Column("category", String(32), nullable=False),
    Column("occurred_ms", BigInteger, nullable=False),
    Column("received_ms", BigInteger, nullable=False),
    Column("note", Text, nullable=True),
    Column("report_id", String(200), nullable=True),  # the member's own reference: retries are idempotent on it
    Column("withdrawn_ms", BigInteger, nullable=True),
    Column("withdrawn_reason", String(32), nullable=True),  # withdrawn (by its member) | removed (by an admin)
    Column("withdrawn_by", Integer, ForeignKey("members.id"), nullable=True),
    UniqueConstraint("member_id", "report_id", name="uq_reports_member_report_id"),
    Index("ix_reports_number_member", "number", "member_id"),
    Index("ix_reports_member_id", "member_id", "id"),  # a member's reports, newest first (ids are time-ordered)
)

listings = Table(
    "listings",
    metadata,
    # on SQLite, INTEGER PRIMARY KEY makes the number the rowid itself: one B-tree, not a table plus an index
    Column("number", NUMBER_KEY, primary_key=True, autoincrement=False),
    Column("first_ms", BigInteger, nullable=False),
    Column("last_ms", BigInteger, nullable=False),
    Column("report_count", Integer, nullable=False),
    Column("reporter_count", Integer, nullable=False),
    Column("categories", Integer, nullable=False),  # bit set of Category, see ringfence.registry.models
    Column("updated_ms", BigInteger, nullable=False),
)
