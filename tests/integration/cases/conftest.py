"""An organisation with a contact, a registered お客様相談室 and a recording live-event bus."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hikeshi.auth import service as auth_service
from hikeshi.auth.enums import Department
from hikeshi.cases.models import CaseEvent
from hikeshi.clock import FrozenClock
from hikeshi.contacts.models import Channel, Classification, Contact
from hikeshi.events import service as events_service
from hikeshi.events.bus import LiveEvent
from hikeshi.jobs.registry import load_handlers
from hikeshi.jobs.worker import Worker
from hikeshi.notify import service as notify_service
from hikeshi.notify.models import ContactChannel, Delivery
from hikeshi.notify.schemas import ContactCreate


@dataclass
class Recorder:
    """A live-event bus that remembers what it was given."""

    events: list[LiveEvent] = field(default_factory=list)

    async def start(self) -> None:  # pragma: no cover - not started in these tests
        return None

    async def stop(self) -> None:  # pragma: no cover
        return None

    def publish(self, event: LiveEvent) -> None:
        self.events.append(event)

    def subscribe(self, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover
        raise NotImplementedError

    def of(self, type_: str) -> list[LiveEvent]:
        return [e for e in self.events if e.type == type_]


@pytest.fixture
def bus(sessions: sessionmaker[Session]) -> Recorder:
    recorder = Recorder()
    events_service.install(sessions, recorder)  # type: ignore[arg-type]
    return recorder


@pytest.fixture
def org_id(session: Session, clock: FrozenClock) -> int:
    org = auth_service.create_org(
        session=session, slug="cases-test", name="ケーステスト株式会社", clock=clock
    )
    notify_service.create_contact(
        session=session,
        org_id=org.id,
        data=ContactCreate(
            department=Department.customer_relations,
            name="お客様相談室 当番",
            channel=ContactChannel.email,
            address="soudan@example.jp",
        ),
        clock=clock,
    )
    session.commit()
    return org.id


def make_contact(session: Session, org_id: int, clock: FrozenClock, **overrides: Any) -> Contact:
    now = clock.now()
    values: dict[str, Any] = {
        "org_id": org_id,
        "channel": Channel.phone_in,
        "classification": Classification.complaint,
        "subject": "電気ケトルの蓋が外れた",
        "notes": "購入3日目。やけどはなし。交換を希望",
        "transcript": "客：責任者を出せ",
        "operator_label": "op@example.jp",
        "started_at": now,
        "created_at": now,
        "updated_at": now,
    }
    values.update(overrides)
    contact = Contact(**values)
    session.add(contact)
    session.flush()
    return contact


@pytest.fixture
def contact(session: Session, org_id: int, clock: FrozenClock) -> Contact:
    c = make_contact(session, org_id, clock)
    session.commit()
    return c


@pytest.fixture
def worker(sessions: sessionmaker[Session], clock: FrozenClock) -> Worker:
    return Worker(
        sessions=sessions,
        registry=load_handlers(),
        clock=clock,
        worker_id="cases-test",
        lease_seconds=int(timedelta(minutes=10).total_seconds()),
    )


def count_deliveries(sessions: sessionmaker[Session], department: str) -> int:
    with sessions() as s:
        return int(
            s.scalar(
                select(func.count()).select_from(Delivery).where(Delivery.department == department)
            )
            or 0
        )


def count_events(sessions: sessionmaker[Session], case_id: int, kind: str) -> int:
    with sessions() as s:
        return int(
            s.scalar(
                select(func.count())
                .select_from(CaseEvent)
                .where(CaseEvent.case_id == case_id, CaseEvent.kind == kind)
            )
            or 0
        )
