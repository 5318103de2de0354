from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hikeshi.audit.models import AuditEvent
from hikeshi.audit.service import record, system_actor, verify_chain
from hikeshi.clock import FrozenClock
from hikeshi.jobs.batch import BatchResult, run_batch, run_batch_in_transactions
from hikeshi.jobs.models import Job, JobStatus
from hikeshi.jobs.queue import enqueue
from hikeshi.jobs.registry import JobContext, JobRegistry
from hikeshi.jobs.worker import Worker


def _touch(session: Session, item: int) -> None:
    record(session, action="test.item", org_id=None, detail={"item": item})
    session.flush()
    if item == 2:
        raise ValueError("item 2 is bad")


def _items_done(session: Session) -> list[int]:
    rows = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "test.item").order_by(AuditEvent.seq)
    )
    return [r.detail["item"] for r in rows if r.detail]


def test_one_bad_item_does_not_stop_the_batch_inside_a_job(
    session: Session, sessions: sessionmaker[Session], clock: FrozenClock
) -> None:
    reg = JobRegistry()
    results: list[BatchResult[int]] = []

    @reg.job(name="test.batch")
    def batch(*, session: Session, payload: dict[str, Any], ctx: JobContext) -> None:
        results.append(
            run_batch(session=session, items=payload["items"], fn=_touch, label="test.batch")
        )

    job = enqueue(session=session, name="test.batch", payload={"items": [1, 2, 3]}, clock=clock)
    session.commit()
    assert Worker(sessions=sessions, registry=reg, clock=clock).run_once() == 1

    (result,) = results
    assert result.succeeded == [1, 3]
    assert [f.item for f in result.failed] == [2]
    assert "item 2 is bad" in result.failed[0].error
    assert not result.ok
    assert _items_done(session) == [1, 3]
    assert session.get(Job, job.id, populate_existing=True).status == JobStatus.DONE  # type: ignore[union-attr]
    assert verify_chain(session).ok  # the rolled-back item left no hole in the chain


def test_one_bad_item_does_not_stop_a_committing_batch(
    session: Session, sessions: sessionmaker[Session]
) -> None:
    result = run_batch_in_transactions(
        sessions=sessions,
        actor=system_actor("test"),
        items=[1, 2, 3],
        fn=_touch,
        label="test.batch",
    )
    assert result.succeeded == [1, 3]
    assert [f.item for f in result.failed] == [2]
    assert _items_done(session) == [1, 3]
    assert verify_chain(session).ok
