from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hikeshi.clock import FrozenClock
from hikeshi.jobs.models import Job, JobSchedule, JobStatus
from hikeshi.jobs.registry import JobContext, JobRegistry
from hikeshi.jobs.scheduler import slot_start
from hikeshi.jobs.worker import Worker

EVERY = timedelta(minutes=5)


@pytest.fixture
def reg() -> JobRegistry:
    reg = JobRegistry()

    @reg.periodic(name="sweep.sla", every=EVERY)
    def sweep(*, session: Session, payload: dict[str, Any], ctx: JobContext) -> None: ...

    return reg


def _jobs(sessions: sessionmaker[Session]) -> list[Job]:
    with sessions() as s:
        return list(s.scalars(select(Job).order_by(Job.id)))


def test_slots_are_aligned_to_the_epoch() -> None:
    moment = datetime(2026, 11, 20, 1, 7, 31, tzinfo=UTC)
    assert slot_start(moment, EVERY) == datetime(2026, 11, 20, 1, 5, tzinfo=UTC)
    assert slot_start(moment, timedelta(days=1)) == datetime(2026, 11, 20, tzinfo=UTC)


def test_two_workers_schedule_each_slot_once(
    sessions: sessionmaker[Session], reg: JobRegistry, clock: FrozenClock
) -> None:
    clock.set(datetime(2026, 11, 20, 1, 7, tzinfo=UTC))
    a = Worker(sessions=sessions, registry=reg, clock=clock, worker_id="a")
    b = Worker(sessions=sessions, registry=reg, clock=clock, worker_id="b")
    assert a.schedule() == 1
    assert b.schedule() == 0
    (job,) = _jobs(sessions)
    assert job.key == "sweep.sla@2026-11-20T01:05:00+00:00"
    assert job.payload == {"slot": "2026-11-20T01:05:00+00:00"}

    assert b.run_once() == 1  # runs it; the same slot is not enqueued again
    assert a.run_once() == 0
    clock.advance(timedelta(minutes=2, seconds=59))
    assert a.schedule() + b.schedule() == 0
    clock.advance(timedelta(seconds=1))  # 01:10, the next slot
    assert b.schedule() + a.schedule() == 1
    assert [j.key for j in _jobs(sessions)] == [
        "sweep.sla@2026-11-20T01:05:00+00:00",
        "sweep.sla@2026-11-20T01:10:00+00:00",
    ]


def test_missed_slots_collapse_into_one_run(
    sessions: sessionmaker[Session], reg: JobRegistry, clock: FrozenClock
) -> None:
    worker = Worker(sessions=sessions, registry=reg, clock=clock)
    assert worker.run_once() == 1
    clock.advance(timedelta(hours=3))  # the system was down
    assert worker.run_once() == 1
    assert worker.run_once() == 0
    assert [j.status for j in _jobs(sessions)] == [JobStatus.DONE, JobStatus.DONE]


def test_an_overrunning_run_is_not_doubled(
    sessions: sessionmaker[Session], reg: JobRegistry, clock: FrozenClock
) -> None:
    worker = Worker(sessions=sessions, registry=reg, clock=clock)
    assert worker.schedule() == 1
    clock.advance(EVERY)
    assert worker.schedule() == 0  # the first run is still pending
    assert worker.run_once() == 1
    assert worker.schedule() == 1  # caught up once it finished


def test_shortened_interval_takes_effect(
    sessions: sessionmaker[Session], reg: JobRegistry, clock: FrozenClock
) -> None:
    with sessions() as s:
        s.add(JobSchedule(name="sweep.sla", next_run_at=clock.now() + timedelta(days=1)))
        s.commit()
    worker = Worker(sessions=sessions, registry=reg, clock=clock)
    assert worker.schedule() == 0
    clock.advance(EVERY)
    assert worker.schedule() == 1
