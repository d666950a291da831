"""Shared fixtures: a store on SQLite and on PostgreSQL, a runtime over it, members with keys, an HTTP client.

PostgreSQL runs at 127.0.0.1:5432 (user postgres, database test); each test gets a schema of its own, dropped after.
Under CI=true a PostgreSQL that does not answer fails the run instead of skipping its tests.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import sqlalchemy as sa

from ringfence.clock import FixedClock
from ringfence.config import Settings
from ringfence.registry.models import Role
from ringfence.runtime import Runtime
from tests.support import Keys

PG_SERVER = os.environ.get("RINGFENCE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
START_MS = 1_790_000_000_000  # 2026-09-21T14:13:20Z


def _pg_available() -> bool:
    try:
        engine = sa.create_engine(PG_SERVER)
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_server() -> str:
    if not _pg_available():
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at {PG_SERVER} does not answer, and CI requires the PostgreSQL tests")
        pytest.skip("PostgreSQL is not running")
    return PG_SERVER


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL schema of this test's own."""
    schema = f"rf_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{pg_server}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: object) -> str:
    """The store's URL, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/ringfence.db"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START_MS)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, default_region="GB")


@pytest.fixture
def runtime(settings: Settings, clock: FixedClock) -> Iterator[Runtime]:
    rt = Runtime.open(settings, clock=clock)
    try:
        yield rt
    finally:
        rt.close()


@pytest.fixture
def keys(runtime: Runtime) -> Keys:
    return Keys(
        admin=runtime.members.add("admin-org", Role.ADMIN)[1],
        reporter=runtime.members.add("carrier-a", Role.REPORTER)[1],
        reporter2=runtime.members.add("bank-b", Role.REPORTER)[1],
        reader=runtime.members.add("contact-centre-c", Role.READER)[1],
    )


@pytest.fixture(params=[True, False], ids=["fast-path", "framework"])
def fast_paths(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    from ringfence.api import create_app

    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://ringfence.test") as c:
        yield c
