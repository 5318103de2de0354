"""Enqueue periodic jobs when their slot comes round.

Slots are aligned to the Unix epoch, so every worker computes the same ones. Each periodic job
has a ``job_schedules`` row; a worker locks it (SKIP LOCKED on PostgreSQL, the write lock on
SQLite), enqueues the slot's job and moves ``next_run_at`` on in the same transaction, so two
workers never both fire a slot. The job key ``name@slot`` is a second guard.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hikeshi.clock import Clock
from hikeshi.jobs.models import ACTIVE_STATUSES, Job, JobSchedule
from hikeshi.jobs.queue import enqueue, insert_ignoring_conflict
from hikeshi.jobs.registry import JobRegistry

log = logging.getLogger("hikeshi.jobs")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def slot_start(moment: datetime, every: timedelta) -> datetime:
    """The start of the ``every``-long slot that contains ``moment``."""
    return EPOCH + ((moment - EPOCH) // every) * every


def slot_key(name: str, slot: datetime) -> str:
    return f"{name}@{slot.astimezone(UTC).isoformat()}"


def schedule_due(*, session: Session, registry: JobRegistry, clock: Clock) -> list[Job]:
    """Enqueue every periodic job whose slot has come; the caller commits."""
    now = clock.now()
    enqueued: list[Job] = []
    for spec in registry.periodic_jobs():
        current = slot_start(now, spec.every)
        insert_ignoring_conflict(
            session,
            JobSchedule,
            {"name": spec.name, "next_run_at": current},
            conflict_on=["name"],
        )
        state = session.scalars(
            select(JobSchedule)
            .where(JobSchedule.name == spec.name)
            .with_for_update(skip_locked=True)  # another worker is on it: leave it to them
            .execution_options(populate_existing=True)
        ).first()
        if state is None:
            continue
        if state.next_run_at > current + spec.every:
            state.next_run_at = current + spec.every  # `every` was shortened since last run
        if state.next_run_at > now:
            continue
        still_active = session.scalar(
            select(Job.id).where(Job.name == spec.name, Job.status.in_(ACTIVE_STATUSES)).limit(1)
        )
        if still_active is not None:
            # The last run overran its period: coalesce rather than pile runs up.
            continue
        job = enqueue(
            session=session,
            name=spec.name,
            payload={"slot": current.isoformat()},
            key=slot_key(spec.name, current),
            clock=clock,
        )
        state.next_run_at = current + spec.every
        state.last_enqueued_at = now
        enqueued.append(job)
        log.info(
            "periodic job enqueued",
            extra={"job_id": job.id, "job_name": spec.name, "slot": current.isoformat()},
        )
    session.flush()
    return enqueued
