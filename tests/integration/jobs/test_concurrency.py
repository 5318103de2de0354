"""Several workers on one real database (committed transactions, separate connections)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hikeshi.audit.models import AuditEvent
from hikeshi.audit.service import (
    make_audited_session_factory,
    record,
    set_actor,
    system_actor,
    verify_chain,
)
from hikeshi.clock import SystemClock
from hikeshi.config import Settings
from hikeshi.db import make_engine
from hikeshi.jobs.models import Job, JobStatus
from hikeshi.jobs.queue import enqueue
from hikeshi.jobs.registry import JobContext, JobRegistry
from hikeshi.jobs.worker import Worker, start_worker_thread

reg = JobRegistry()


@reg.job(name="test.count")
def count(*, session: Session, payload: dict[str, Any], ctx: JobContext) -> None:
    record(session, action="test.count", org_id=None, detail={"n": payload["n"]})


@reg.periodic(name="test.tick", every=timedelta(hours=1))
def tick(*, session: Session, payload: dict[str, Any], ctx: JobContext) -> None:
    record(session, action="test.tick", org_id=None)


@pytest.fixture
def sessions(fresh_db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(fresh_db_url)
    yield make_audited_session_factory(engine)
    engine.dispose()


def _actions(sessions: sessionmaker[Session], action: str) -> list[dict[str, Any]]:
    with sessions() as s:
        rows = s.scalars(select(AuditEvent).where(AuditEvent.action == action))
        return [r.detail or {} for r in rows]


def test_four_workers_run_every_job_exactly_once(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        set_actor(s, system_actor("test"))
        # Creates the audit chain's head row first: on an empty PostgreSQL database two
        # concurrent first appends both see no head to lock (an audit-service race, not ours).
        record(s, action="test.setup", org_id=None)
        for n in range(40):
            enqueue(session=s, name="test.count", payload={"n": n}, clock=SystemClock())
        s.commit()
    workers = [Worker(sessions=sessions, registry=reg, worker_id=f"w{i}") for i in range(4)]
    errors: list[BaseException] = []

    def drain(worker: Worker) -> None:
        try:
            for _ in range(3):
                worker.run_once()
        except BaseException as exc:  # surfaced below; a thread cannot fail the test itself
            errors.append(exc)

    threads = [threading.Thread(target=drain, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    counts = Counter(d["n"] for d in _actions(sessions, "test.count"))
    assert counts == Counter(range(40))
    ticks = _actions(sessions, "test.tick")
    assert len(ticks) == 1  # four schedulers, one hourly slot
    with sessions() as s:
        assert set(s.scalars(select(Job.status))) == {JobStatus.DONE}
        assert verify_chain(s).ok


def test_embedded_worker_thread_runs_jobs_and_stops(
    sessions: sessionmaker[Session], fresh_db_url: str
) -> None:
    settings = Settings(database_url=fresh_db_url, worker_poll_seconds=0.05)
    handle = start_worker_thread(sessions=sessions, settings=settings, registry=reg)
    try:
        with sessions() as s:
            set_actor(s, system_actor("test"))
            enqueue(session=s, name="test.count", payload={"n": 1}, clock=SystemClock())
            s.commit()
        deadline = time.monotonic() + 10
        while not _actions(sessions, "test.count") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _actions(sessions, "test.count") == [{"n": 1}]
    finally:
        assert handle.stop(timeout=10)
    assert not handle.alive
