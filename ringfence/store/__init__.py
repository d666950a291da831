"""The durable store: SQLAlchemy Core tables and Alembic migrations, one schema for SQLite and PostgreSQL."""

from ringfence.store.engine import migrate, open_engine, open_store
from ringfence.store.tables import api_keys, listings, members, metadata, reports

__all__ = ["api_keys", "listings", "members", "metadata", "migrate", "open_engine", "open_store", "reports"]
