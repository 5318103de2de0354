"""Group commit: concurrent single intakes share transactions, each answered after commit,
and one bad request never fails the others in its batch."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hikeshi.audit.models import AuditEvent
from hikeshi.audit.service import (
    Actor,
    make_audited_session_factory,
    set_actor,
    system_actor,
    verify_chain,
)
from hikeshi.auth import service as auth_service
from hikeshi.clock import FrozenClock
from hikeshi.contacts import intake
from hikeshi.contacts.group_commit import IntakeCommitter
from hikeshi.contacts.intake import IntakeRequest, IntakeResult
from hikeshi.contacts.models import Contact, Customer
from hikeshi.contacts.schemas import ContactCreate
from hikeshi.db import make_engine
from hikeshi.errors import NotFound

ACTOR = Actor(type="token", id=7, label="token:webhook")


@pytest.fixture
def world(fresh_db_url: str, clock: FrozenClock) -> Iterator[tuple[sessionmaker[Session], int]]:
    engine = make_engine(fresh_db_url)
    sessions = make_audited_session_factory(engine, clock=clock)
    with sessions() as s:
        set_actor(s, system_actor("test"))
        org = auth_service.create_org(session=s, slug="gc", name="グループコミット", clock=clock)
        s.commit()
        org_id = org.id
    yield sessions, org_id
    engine.dispose()


def _request(org_id: int, clock: FrozenClock, n: int, **extra: object) -> IntakeRequest:
    data = ContactCreate.model_validate(
        {
            "channel": "web_form",
            "idempotency_key": f"k-{n}",
            "phone": f"03-5555-{n % 3:04d}",  # three callers: customers are shared
            "subject": f"問い合わせ {n}",
            **extra,
        }
    )
    return intake.prepare(
        org_id=org_id,
        data=data,
        key=None,
        operator_id=None,
        operator_label="token:webhook",
        actor=ACTOR,
        clock=clock,
    )


def test_a_burst_is_written_in_fewer_transactions_and_every_answer_is_committed(
    world: tuple[sessionmaker[Session], int], clock: FrozenClock
) -> None:
    sessions, org_id = world
    committer = IntakeCommitter(sessions, clock, max_batch=50, writers=1)
    gate = threading.Event()
    original = committer._commit

    def slow_first(requests: list[IntakeRequest]) -> list[IntakeResult | NotFound]:  # type: ignore[override]
        gate.wait(5)  # hold the first batch so that the rest queue up behind it
        return original(requests)  # type: ignore[return-value]

    committer._commit = slow_first  # type: ignore[method-assign]
    futures: list[Future[IntakeResult]] = [committer.submit(_request(org_id, clock, 0))]
    futures += [committer.submit(_request(org_id, clock, n)) for n in range(1, 120)]
    gate.set()
    results = [f.result(timeout=30) for f in futures]
    committer.close()

    assert all(r.created for r in results)
    assert len({r.contact_id for r in results}) == 120
    # 120 requests: the first alone, then the queued ones in batches of at most 50.
    assert 3 <= committer.batches <= 5
    assert committer.items == 120
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Contact)) == 120
        assert s.scalar(select(func.count()).select_from(Customer)) == 3
        creates = s.scalars(select(AuditEvent).where(AuditEvent.action == "contacts.create")).all()
        assert len(creates) == 120
        assert {e.actor_label for e in creates} == {"token:webhook"}
        assert {e.entity_id for e in creates} == {str(r.contact_id) for r in results}
        assert verify_chain(s).ok


def test_one_bad_request_fails_alone(
    world: tuple[sessionmaker[Session], int], clock: FrozenClock
) -> None:
    sessions, org_id = world
    committer = IntakeCommitter(sessions, clock, max_batch=50, writers=1)
    good = [_request(org_id, clock, n) for n in range(5)]
    bad = _request(org_id, clock, 99, incident_id=424242)
    futures = [committer.submit(r) for r in [*good[:2], bad, *good[2:]]]
    outcomes: list[object] = []
    for f in futures:
        try:
            outcomes.append(f.result(timeout=30))
        except NotFound as exc:
            outcomes.append(exc)
    committer.close()
    assert isinstance(outcomes[2], NotFound)
    assert outcomes[2].fields == {"incident_id": 424242}
    assert all(isinstance(o, IntakeResult) and o.created for i, o in enumerate(outcomes) if i != 2)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Contact)) == 5


def test_replays_in_one_batch_and_later_answer_with_the_first_contact(
    world: tuple[sessionmaker[Session], int], clock: FrozenClock
) -> None:
    sessions, org_id = world
    committer = IntakeCommitter(sessions, clock, max_batch=50, writers=2)
    futures = [committer.submit(_request(org_id, clock, 1)) for _ in range(30)]
    results = [f.result(timeout=30) for f in futures]
    again = committer.submit(_request(org_id, clock, 1)).result(timeout=30)
    committer.close()
    assert sum(r.created for r in results) == 1
    assert {r.contact_id for r in results} == {again.contact_id}
    assert not again.created
    assert again.row["subject"] == "問い合わせ 1"
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Contact)) == 1


def test_a_closed_committer_refuses_new_work(
    world: tuple[sessionmaker[Session], int], clock: FrozenClock
) -> None:
    sessions, org_id = world
    committer = IntakeCommitter(sessions, clock)
    committer.submit(_request(org_id, clock, 1)).result(timeout=30)
    committer.close()
    with pytest.raises(RuntimeError, match="closed"):
        committer.submit(_request(org_id, clock, 2))
