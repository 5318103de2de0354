"""Enqueue, claim and run jobs.

A job's life: ``enqueue`` (in the caller's transaction, so a job exists only if the business
change that wants it committed) → ``claim`` (a short transaction that takes a lease and a new
fencing token) → ``run_claimed`` (the handler's writes and "done" commit together, only if the
token is still ours) → on failure, a separate transaction schedules the retry or buries the job.

A worker killed at any point leaves either nothing committed or a finished job; an expired lease
makes the job claimable again. On PostgreSQL the running job's row stays locked for the whole
handler transaction, so it cannot be claimed twice while its worker is alive; on SQLite the
transaction holds the database write lock (BEGIN IMMEDIATE), which has the same effect, and
is why handlers must stay short there: every other writer waits for them.
"""

from __future__ import annotations

import logging
import time
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import and_, event, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from hikeshi.audit.service import set_actor, system_actor
from hikeshi.clock import Clock
from hikeshi.config import Settings
from hikeshi.db import Base
from hikeshi.jobs.models import Job, JobStatus
from hikeshi.jobs.registry import JobContext, JobRegistry, JobSpec

log = logging.getLogger("hikeshi.jobs")

ERROR_TEXT_LIMIT = 8000
Outcome = Literal["done", "retry", "dead", "lost"]
_IN_HANDLER = "hikeshi.jobs.in_handler"


class HandlerCommitted(RuntimeError):
    """A handler called commit(), which would release the job's fence before it is done."""


def insert_ignoring_conflict(
    session: Session, model: type[Base], values: dict[str, Any], *, conflict_on: list[str]
) -> bool:
    """INSERT … ON CONFLICT DO NOTHING on either database; True when a row was inserted."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(model).values(**values)
    elif dialect == "sqlite":
        stmt = sqlite.insert(model).values(**values)
    else:  # pragma: no cover - only the two supported databases
        raise NotImplementedError(dialect)
    result = session.execute(stmt.on_conflict_do_nothing(index_elements=conflict_on))
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def enqueue(
    *,
    session: Session,
    name: str,
    payload: dict[str, Any] | None = None,
    run_at: datetime | None = None,
    key: str | None = None,
    org_id: int | None = None,
    max_attempts: int | None = None,
    clock: Clock,
) -> Job:
    """Queue ``name`` in the caller's transaction.

    With a ``key``, at most one job per key is pending or running: enqueueing again returns
    that job unchanged (Frappe's ``deduplicate=True``). Once it is done or dead the key is free.
    """
    now = clock.now()
    values: dict[str, Any] = {
        "name": name,
        "key": key,
        "active_key": key,
        "org_id": org_id,
        "payload": payload or {},
        "run_at": run_at or now,
        "status": JobStatus.PENDING.value,
        "attempts": 0,
        "max_attempts": max_attempts,
        "created_at": now,
    }
    if key is None:
        job = Job(**values)
        session.add(job)
        session.flush()
        return job
    # The active row can finish between our insert attempt and the read; then try again.
    for _ in range(3):
        inserted = insert_ignoring_conflict(session, Job, values, conflict_on=["active_key"])
        found = session.scalars(
            select(Job).where(Job.active_key == key).execution_options(populate_existing=True)
        ).first()
        if found is not None:
            if not inserted:
                log.debug("job deduplicated", extra={"job_id": found.id, "job_key": key})
            return found
    raise RuntimeError(f"could not enqueue job with key {key!r}")  # pragma: no cover


@dataclass(frozen=True)
class Claim:
    job_id: int
    name: str
    token: str
    attempt: int
    max_attempts: int
    key: str | None
    org_id: int | None
    scheduled_for: datetime


def _limit(job: Job, spec: JobSpec) -> int:
    return job.max_attempts or spec.max_attempts


def claim(
    *,
    session: Session,
    registry: JobRegistry,
    worker_id: str,
    lease: timedelta,
    clock: Clock,
    limit: int = 1,
) -> list[Claim]:
    """Lease up to ``limit`` due jobs this registry can run. The caller commits."""
    names = registry.names()
    if not names:
        return []
    now = clock.now()
    due = or_(
        and_(Job.status == JobStatus.PENDING.value, Job.run_at <= now),
        # A running job whose lease ran out lost its worker (killed, or the host died).
        and_(Job.status == JobStatus.RUNNING.value, Job.locked_until < now),
    )
    # SKIP LOCKED lets PostgreSQL workers pass each other; SQLite renders no FOR UPDATE and
    # needs none, since this transaction already holds the write lock.
    stmt = (
        select(Job)
        .where(Job.name.in_(names), due)
        .order_by(Job.run_at, Job.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    claims: list[Claim] = []
    for job in session.scalars(stmt):
        spec = registry.get(job.name)
        if job.status == JobStatus.RUNNING.value and job.attempts >= _limit(job, spec):
            _bury(job, now, f"worker lost during attempt {job.attempts} (lease expired)")
            continue
        job.status = JobStatus.RUNNING.value
        job.attempts += 1
        job.locked_by = worker_id
        job.locked_until = now + lease
        job.lease_token = uuid.uuid4().hex
        job.started_at = now
        claims.append(
            Claim(
                job.id,
                job.name,
                job.lease_token,
                job.attempts,
                _limit(job, spec),
                job.key,
                job.org_id,
                job.run_at,
            )
        )
    session.flush()
    return claims


def _bury(job: Job, now: datetime, error: str) -> None:
    job.status = JobStatus.DEAD.value
    job.active_key = None
    job.finished_at = now
    job.locked_by = job.locked_until = job.lease_token = None
    job.last_error = error
    log.error("job dead", extra={"job_id": job.id, "job_name": job.name, "error": error})


@contextmanager
def _commit_forbidden(session: Session) -> Iterator[None]:
    session.info[_IN_HANDLER] = True
    try:
        yield
    finally:
        session.info.pop(_IN_HANDLER, None)


def _refuse_handler_commit(session: Session) -> None:
    # Savepoint releases (run_batch, begin_nested) also fire before_commit; they are fine.
    if session.info.get(_IN_HANDLER) and not session.in_nested_transaction():
        raise HandlerCommitted("job handlers must not commit; the worker commits with the job")


def _truncate(text: str) -> str:
    # The end of a traceback names the failing line; keep that part.
    return text if len(text) <= ERROR_TEXT_LIMIT else "…" + text[-ERROR_TEXT_LIMIT:]


def run_claimed(
    *,
    sessions: sessionmaker[Session],
    registry: JobRegistry,
    claimed: Claim,
    worker_id: str,
    clock: Clock,
    settings: Settings | None = None,
) -> Outcome:
    """Run one claimed job: handler and completion in one transaction, fenced by the token."""
    spec = registry.get(claimed.name)
    ctx = JobContext(
        job_id=claimed.job_id,
        name=claimed.name,
        key=claimed.key,
        org_id=claimed.org_id,
        attempt=claimed.attempt,
        max_attempts=claimed.max_attempts,
        scheduled_for=claimed.scheduled_for,
        worker_id=worker_id,
        clock=clock,
        settings=settings,
    )
    fields = {
        "job_id": claimed.job_id,
        "job_name": claimed.name,
        "attempt": claimed.attempt,
        "worker_id": worker_id,
    }
    started = time.monotonic()
    session = sessions()
    event.listen(session, "before_commit", _refuse_handler_commit)
    try:
        set_actor(session, system_actor(f"job:{claimed.name}"))
        fence = (Job.id == claimed.job_id) & (Job.lease_token == claimed.token)
        # Lock our row for the whole run (PostgreSQL); a reclaimer's SKIP LOCKED passes it by.
        payload = session.scalar(select(Job.payload).where(fence).with_for_update())
        if payload is None:
            session.rollback()
            log.warning("job lease lost before start", extra=fields)
            return "lost"
        with _commit_forbidden(session):
            spec.handler(session=session, payload=dict(payload), ctx=ctx)
            session.flush()
        result = session.execute(
            update(Job)
            .where(fence, Job.status == JobStatus.RUNNING.value)
            .values(
                status=JobStatus.DONE.value,
                active_key=None,
                finished_at=clock.now(),
                locked_by=None,
                locked_until=None,
                lease_token=None,
            )
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            session.rollback()
            log.warning("job lease lost during run; its work was rolled back", extra=fields)
            return "lost"
        session.commit()
    except Exception as exc:
        session.rollback()
        error = _truncate(traceback.format_exc())
        return _record_failure(
            sessions=sessions,
            spec=spec,
            claimed=claimed,
            error=error,
            clock=clock,
            fields=fields,
            exc=exc,
        )
    finally:
        session.close()
    elapsed_ms = round((time.monotonic() - started) * 1000)
    log.info("job done", extra={**fields, "duration_ms": elapsed_ms})
    ctx.committed()
    return "done"


def _record_failure(
    *,
    sessions: sessionmaker[Session],
    spec: JobSpec,
    claimed: Claim,
    error: str,
    clock: Clock,
    fields: dict[str, Any],
    exc: Exception,
) -> Outcome:
    with sessions() as session:
        now = clock.now()
        job = session.scalars(
            select(Job)
            .where(Job.id == claimed.job_id, Job.lease_token == claimed.token)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).first()
        if job is None:
            log.warning("job failed after its lease was lost", extra=fields, exc_info=exc)
            return "lost"
        if job.attempts >= _limit(job, spec):
            _bury(job, now, error)
            session.commit()
            return "dead"
        delay = spec.delay_after(job.attempts)
        job.status = JobStatus.PENDING.value
        job.run_at = now + delay
        job.locked_by = job.locked_until = job.lease_token = None
        job.last_error = error
        session.commit()
    log.warning(
        "job failed; will retry",
        exc_info=exc,
        extra={**fields, "retry_in_seconds": delay.total_seconds()},
    )
    return "retry"
