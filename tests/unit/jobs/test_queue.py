from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from hikeshi.audit.models import AuditEvent
from hikeshi.audit.service import record, verify_chain
from hikeshi.clock import FrozenClock
from hikeshi.jobs.models import Job, JobStatus
from hikeshi.jobs.queue import claim, enqueue, run_claimed
from hikeshi.jobs.registry import JobContext, JobRegistry
from hikeshi.jobs.worker import Worker

LEASE = timedelta(seconds=30)


def _effects(session: Session) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.action == "test.ran").order_by(AuditEvent.seq)
        )
    )


def _job(sessions: sessionmaker[Session], job_id: int) -> Job:
    with sessions() as s:
        job = s.get(Job, job_id)
        assert job is not None
        return job


@pytest.fixture
def reg() -> JobRegistry:
    reg = JobRegistry()

    @reg.job(name="test.ok")
    def ok(*, session: Session, payload: dict[str, Any], ctx: JobContext) -> None:
        record(session, action="test.ran", org_id=ctx.org_id, detail={"n": payload.get("n")})

    @reg.job(
        name="test.boom",
        max_attempts=3,
        backoff=timedelta(seconds=10),
        backoff_cap=timedelta(seconds=25),
    )
    def boom(*, session: Session, payload: dict[str, Any], ctx: JobContext) -> None:
        record(session, action="test.ran", org_id=None)  # must be rolled back
        raise ValueError(f"boom on attempt {ctx.attempt}")

    @reg.job(name="test.commits")
    def commits(*, session: Session, payload: dict[str, Any], ctx: JobContext) -> None:
        session.commit()

    @reg.job(name="test.steals")
    def steals(*, session: Session, payload: dict[str, Any], ctx: JobContext) -> None:
        # Stands in for another worker taking the lease over while this one runs.
        record(session, action="test.ran", org_id=None)
        session.execute(update(Job).where(Job.id == ctx.job_id).values(lease_token="someone"))

    return reg


def _worker(
    sessions: sessionmaker[Session], reg: JobRegistry, clock: FrozenClock, wid: str = "w1"
) -> Worker:
    return Worker(sessions=sessions, registry=reg, clock=clock, worker_id=wid, lease_seconds=30)


def test_job_runs_once_as_its_system_actor(
    session: Session, sessions: sessionmaker[Session], reg: JobRegistry, clock: FrozenClock
) -> None:
    job = enqueue(session=session, name="test.ok", payload={"n": 7}, clock=clock)
    session.commit()
    worker = _worker(sessions, reg, clock)
    assert worker.run_once() == 1
    assert worker.run_once() == 0
    done = _job(sessions, job.id)
    assert done.status == JobStatus.DONE
    assert (done.attempts, done.lease_token, done.locked_by) == (1, None, None)
    effects = _effects(session)
    assert [e.detail for e in effects] == [{"n": 7}]
    assert effects[0].actor_label == "job:test.ok"
    assert verify_chain(session).ok


def test_future_job_waits_for_its_time(
    session: Session, sessions: sessionmaker[Session], reg: JobRegistry, clock: FrozenClock
) -> None:
    enqueue(session=session, name="test.ok", run_at=clock.now() + timedelta(minutes=5), clock=clock)
    session.commit()
    worker = _worker(sessions, reg, clock)
    assert worker.run_once() == 0
    clock.advance(timedelta(minutes=5))
    assert worker.run_once() == 1


def test_same_key_is_deduplicated_while_active_then_freed(
    session: Session, sessions: sessionmaker[Session], reg: JobRegistry, clock: FrozenClock
) -> None:
    first = enqueue(
        session=session, name="test.ok", key="incident:1:sla", payload={"n": 1}, clock=clock
    )
    again = enqueue(
        session=session, name="test.ok", key="incident:1:sla", payload={"n": 2}, clock=clock
    )
    other = enqueue(session=session, name="test.ok", key="incident:2:sla", clock=clock)
    session.commit()
    assert again.id == first.id
    assert again.payload == {"n": 1}  # the first job stands unchanged
    assert other.id != first.id
    assert _worker(sessions, reg, clock).run_once() == 2
    later = enqueue(session=session, name="test.ok", key="incident:1:sla", clock=clock)
    assert later.id not in (first.id, other.id)
    assert session.scalar(select(func.count()).select_from(Job)) == 3


def test_failure_rolls_back_and_backs_off_exponentially_until_dead(
    session: Session, sessions: sessionmaker[Session], reg: JobRegistry, clock: FrozenClock
) -> None:
    job = enqueue(session=session, name="test.boom", key="k", clock=clock)
    session.commit()
    worker = _worker(sessions, reg, clock)

    assert worker.run_once() == 1
    failed = _job(sessions, job.id)
    assert failed.status == JobStatus.PENDING
    assert failed.run_at == clock.now() + timedelta(seconds=10)
    assert failed.last_error is not None and "boom on attempt 1" in failed.last_error
    assert failed.active_key == "k"

    clock.advance(timedelta(seconds=9))
    assert worker.run_once() == 0  # not yet due
    clock.advance(timedelta(seconds=1))
    assert worker.run_once() == 1
    assert _job(sessions, job.id).run_at == clock.now() + timedelta(seconds=20)

    clock.advance(timedelta(seconds=20))
    assert worker.run_once() == 1
    dead = _job(sessions, job.id)
    assert dead.status == JobStatus.DEAD
    assert dead.attempts == 3
    assert dead.active_key is None  # the key is free for a fresh job
    assert dead.last_error is not None and "boom on attempt 3" in dead.last_error
    clock.advance(timedelta(hours=1))
    assert worker.run_once() == 0
    assert _effects(session) == []


def test_backoff_is_capped() -> None:
    reg = JobRegistry()

    @reg.job(name="x", backoff=timedelta(seconds=10), backoff_cap=timedelta(seconds=25))
    def x(*, session: Session, payload: dict[str, Any], ctx: JobContext) -> None: ...

    spec = reg.get("x")
    assert [spec.delay_after(n).total_seconds() for n in (1, 2, 3, 4, 500)] == [10, 20, 25, 25, 25]


def test_enqueue_can_override_max_attempts(
    session: Session, sessions: sessionmaker[Session], reg: JobRegistry, clock: FrozenClock
) -> None:
    job = enqueue(session=session, name="test.boom", max_attempts=1, clock=clock)
    session.commit()
    _worker(sessions, reg, clock).run_once()
    assert _job(sessions, job.id).status == JobStatus.DEAD


def test_handler_may_not_commit(
    session: Session, sessions: sessionmaker[Session], reg: JobRegistry, clock: FrozenClock
) -> None:
    job = enqueue(session=session, name="test.commits", clock=clock)
    session.commit()
    _worker(sessions, reg, clock).run_once()
    failed = _job(sessions, job.id)
    assert failed.status == JobStatus.PENDING
    assert failed.last_error is not None and "HandlerCommitted" in failed.last_error


def test_lease_lost_before_start_runs_nothing(
    session: Session, sessions: sessionmaker[Session], reg: JobRegistry, clock: FrozenClock
) -> None:
    job = enqueue(session=session, name="test.ok", clock=clock)
    session.commit()
    with sessions() as s:
        (mine,) = claim(session=s, registry=reg, worker_id="slow", lease=LEASE, clock=clock)
        s.commit()
    clock.advance(LEASE + timedelta(seconds=1))  # "slow" stalled past its lease
    with sessions() as s:
        (theirs,) = claim(session=s, registry=reg, worker_id="fast", lease=LEASE, clock=clock)
        s.commit()
    assert theirs.attempt == 2 and theirs.token != mine.token

    outcome = run_claimed(
        sessions=sessions, registry=reg, claimed=mine, worker_id="slow", clock=clock
    )
    assert outcome == "lost"
    assert _effects(session) == []
    assert (
        run_claimed(sessions=sessions, registry=reg, claimed=theirs, worker_id="fast", clock=clock)
        == "done"
    )
    assert len(_effects(session)) == 1
    assert _job(sessions, job.id).status == JobStatus.DONE


def test_lease_lost_during_run_rolls_the_work_back(
    session: Session, sessions: sessionmaker[Session], reg: JobRegistry, clock: FrozenClock
) -> None:
    job = enqueue(session=session, name="test.steals", clock=clock)
    session.commit()
    assert _worker(sessions, reg, clock).run_once() == 1
    assert _effects(session) == []
    stuck = _job(sessions, job.id)
    assert stuck.status == JobStatus.RUNNING  # left for lease expiry, with nothing committed
    assert stuck.finished_at is None


def test_expired_lease_is_reclaimed_and_repeated_loss_buries_the_job(
    session: Session, sessions: sessionmaker[Session], reg: JobRegistry, clock: FrozenClock
) -> None:
    job = enqueue(session=session, name="test.ok", max_attempts=2, clock=clock)
    session.commit()
    for expected_attempt in (1, 2):
        with sessions() as s:  # a worker claims, then dies without running it
            (c,) = claim(session=s, registry=reg, worker_id="doomed", lease=LEASE, clock=clock)
            s.commit()
        assert c.attempt == expected_attempt
        with sessions() as s:
            assert (
                claim(session=s, registry=reg, worker_id="other", lease=LEASE, clock=clock) == []
            )  # the lease still holds
        clock.advance(LEASE + timedelta(seconds=1))
    with sessions() as s:
        assert claim(session=s, registry=reg, worker_id="other", lease=LEASE, clock=clock) == []
        s.commit()
    dead = _job(sessions, job.id)
    assert dead.status == JobStatus.DEAD
    assert dead.last_error is not None and "lease expired" in dead.last_error


def test_worker_only_claims_jobs_it_has_handlers_for(
    session: Session, sessions: sessionmaker[Session], reg: JobRegistry, clock: FrozenClock
) -> None:
    job = enqueue(session=session, name="other.domain", clock=clock)
    session.commit()
    assert _worker(sessions, reg, clock).run_once() == 0
    assert _job(sessions, job.id).status == JobStatus.PENDING


def test_on_commit_callbacks_run_after_success_only(
    session: Session, sessions: sessionmaker[Session], clock: FrozenClock
) -> None:
    reg = JobRegistry()
    calls: list[str] = []

    @reg.job(name="t.notify", max_attempts=1)
    def notify(*, session: Session, payload: dict[str, Any], ctx: JobContext) -> None:
        ctx.on_commit(lambda: calls.append(payload["to"]))
        if payload.get("fail"):
            raise RuntimeError("no")

    enqueue(session=session, name="t.notify", payload={"to": "a"}, clock=clock)
    enqueue(session=session, name="t.notify", payload={"to": "b", "fail": True}, clock=clock)
    session.commit()
    assert _worker(sessions, reg, clock).run_once() == 2
    assert calls == ["a"]


def test_registry_refuses_duplicates_and_bad_settings() -> None:
    reg = JobRegistry()

    @reg.job(name="dup")
    def a(*, session: Session, payload: dict[str, Any], ctx: JobContext) -> None: ...

    with pytest.raises(ValueError, match="already registered"):
        reg.job(name="dup")(a)
    with pytest.raises(ValueError):
        reg.job(name="bad", max_attempts=0)
    with pytest.raises(ValueError):
        reg.periodic(name="never", every=timedelta(0))
