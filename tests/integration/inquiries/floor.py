"""A small escalation floor: one organisation, its people, a contact and its case."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hikeshi.audit.service import set_actor, system_actor
from hikeshi.auth import service as auth_service
from hikeshi.auth.enums import Department, Role
from hikeshi.auth.models import User
from hikeshi.cases.models import Case, CaseState, Tier
from hikeshi.clock import Clock, FrozenClock
from hikeshi.config import Settings
from hikeshi.contacts.models import Channel, Contact
from hikeshi.main import create_app
from hikeshi.notify.models import DepartmentContact
from tests.servers import TEST_SECRET

PASSWORD = "floor-password-2026"
PEOPLE: dict[str, tuple[Role, Department | None]] = {
    "operator": (Role.operator, None),
    "supervisor": (Role.supervisor, None),
    "supervisor2": (Role.supervisor, None),
    "manager": (Role.manager, None),
    "legal": (Role.specialist, Department.legal),
    "pr": (Role.specialist, Department.pr),
}


@dataclass
class Floor:
    client: TestClient
    clock: FrozenClock
    org_id: int
    case_id: int = 0
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    def api(self, path: str) -> str:
        return f"/api/v1/orgs/{self.org_id}{path}"

    @property
    def sessions(self) -> sessionmaker[Session]:
        return self.client.app.state.ctx.sessions  # type: ignore[attr-defined,no-any-return]

    def count(self, model: type[Any], **where: object) -> int:
        with self.sessions() as s:
            query = select(func.count()).select_from(model)
            for name, value in where.items():
                query = query.where(getattr(model, name) == value)
            return int(s.scalar(query) or 0)

    def new_case(self, title: str = "返金の例外対応") -> int:
        now = self.clock.now()
        with self.sessions() as s:
            set_actor(s, system_actor("test-seed"))
            contact = Contact(
                org_id=self.org_id,
                channel=Channel.phone_in,
                subject=title,
                operator_label="operator@floor.example.jp",
                started_at=now - timedelta(minutes=30),
                created_at=now,
                updated_at=now,
            )
            s.add(contact)
            s.flush()
            case = Case(
                org_id=self.org_id,
                contact_id=contact.id,
                title=title,
                tier=Tier.supervisor,
                state=CaseState.open,
                escalated_at=now - timedelta(minutes=10),
                created_at=now,
                updated_at=now,
            )
            s.add(case)
            s.commit()
            return case.id


def build_floor(client: TestClient, clock: Clock) -> Floor:
    sessions = client.app.state.ctx.sessions  # type: ignore[attr-defined]
    with sessions() as s:
        set_actor(s, system_actor("test-seed"))
        org = auth_service.create_org(session=s, slug="floor", name="フロア株式会社", clock=clock)
        for key, (role, dept) in PEOPLE.items():
            auth_service.create_user(
                session=s,
                email=f"{key}@floor.example.jp",
                display_name=key,
                password=PASSWORD,
                role=role,
                department=dept,
                org_ids=[org.id],
                clock=clock,
            )
        s.add(
            DepartmentContact(
                org_id=org.id,
                department=Department.legal.value,
                name="法務部",
                channel="email",
                address="legal@floor.example.jp",
                is_active=True,
                created_at=clock.now(),
            )
        )
        s.commit()
        org_id = org.id
    assert isinstance(clock, FrozenClock)
    floor = Floor(client=client, clock=clock, org_id=org_id)
    cookie = client.app.state.ctx.settings.session_cookie_name  # type: ignore[attr-defined]
    with sessions() as s:
        set_actor(s, system_actor("test-seed"))
        for key in PEOPLE:
            user = s.scalar(select(User).where(User.email == f"{key}@floor.example.jp"))
            assert user is not None
            raw, web = auth_service.start_web_session(
                session=s,
                user=user,
                ttl=timedelta(hours=8),
                clock=clock,
                org_ids=frozenset({org_id}),
            )
            floor.headers[key] = {"Cookie": f"{cookie}={raw}", "x-csrf-token": web.csrf_token}
        s.commit()
    floor.case_id = floor.new_case()
    return floor


@pytest.fixture
def floor(fresh_db_url: str) -> Iterator[Floor]:
    clock = FrozenClock(datetime(2026, 11, 20, 1, 0, tzinfo=UTC))  # Fri 10:00 JST
    settings = Settings(
        database_url=fresh_db_url,
        environment="test",
        secret_key=TEST_SECRET,
        log_json=False,
        run_worker_in_server=False,
    )
    app = create_app(settings, clock=clock)
    with TestClient(app) as client:
        yield build_floor(client, clock)
