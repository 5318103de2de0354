"""Shared fixtures: a real database (SQLite by default, PostgreSQL when
HIKESHI_TEST_DATABASE_URL is set), a savepoint per test, a frozen clock, and the app."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from hikeshi.audit.service import make_audited_session_factory, set_actor, system_actor
from hikeshi.clock import FrozenClock
from hikeshi.db import make_engine
from tests.dbutil import ci, create_database, drop_database

os.environ.setdefault("HIKESHI_ENVIRONMENT", "test")
os.environ.setdefault("HIKESHI_SECRET_KEY", "test-secret-key-that-is-long-enough-0123456789")


def require_or_skip(available: bool, what: str) -> None:
    """Skip when a real service is missing, except on CI where a skip would hide a gap."""
    if available:
        return
    if ci():
        pytest.fail(f"{what} is required when CI=true")
    pytest.skip(f"{what} not available")


@pytest.fixture(scope="session")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = create_database(tmp_path_factory.mktemp("db"))
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def fresh_db_url(tmp_path: Path) -> Iterator[str]:
    """A database of its own, for tests whose work must really commit (other processes)."""
    url = create_database(tmp_path)
    yield url
    drop_database(url)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 20, 1, 0, tzinfo=UTC))  # 10:00 JST, a Friday


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    conn = engine.connect()
    trans = conn.begin()
    yield conn
    trans.rollback()
    conn.close()


@pytest.fixture
def sessions(connection: Connection, clock: FrozenClock) -> sessionmaker[Session]:
    """Sessions joined to the per-test transaction: their commits become savepoints."""
    return make_audited_session_factory(
        connection, clock=clock, join_transaction_mode="create_savepoint"
    )


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as s:
        set_actor(s, system_actor("test"))
        yield s


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """A command under test (serve, worker) configures the root logger for a process; put it
    back so later tests' background threads do not write JSON lines onto the runner's output."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
