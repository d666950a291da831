"""Fixtures of the file tests: the runtime's drop folder and SFTP host key live in the test's temporary directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from ringfence.config import Settings
from ringfence.files.snapshots import Snapshots
from ringfence.registry.models import Member, Role
from ringfence.runtime import Runtime


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        default_region="GB",
        drop_dir=str(tmp_path / "drop"),
        sftp_host_key=str(tmp_path / "keys" / "sftp-host-key"),
        snapshot_keep=0,
    )


@pytest.fixture
def snapshots(runtime: Runtime) -> Snapshots:
    return Snapshots.for_runtime(runtime)


@pytest.fixture
def carrier(runtime: Runtime) -> Member:
    return runtime.members.add("north-telecom", Role.REPORTER)[0]


@pytest.fixture
def bank(runtime: Runtime) -> Member:
    return runtime.members.add("south-bank", Role.REPORTER)[0]
