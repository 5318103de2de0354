from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from hikeshi.audit.models import AuditEvent
from hikeshi.audit.service import set_actor, system_actor
from hikeshi.auth import service as auth_service
from hikeshi.auth.enums import Role
from hikeshi.auth.models import Organisation
from hikeshi.clock import FrozenClock
from hikeshi.config import Settings
from hikeshi.demo import DEMO_PASSWORD, seed_demo
from hikeshi.main import create_app
from tests.servers import TEST_SECRET

OPERATOR = "operator@demo.hikeshi.jp"
SUPERVISOR = "supervisor@demo.hikeshi.jp"
MANAGER = "manager@demo.hikeshi.jp"


@dataclass
class Site:
    client: TestClient
    clock: FrozenClock
    org_id: int
    tokens: dict[Role, str]

    def audit(self, prefix: str) -> list[AuditEvent]:
        ctx = self.client.app.state.ctx  # type: ignore[attr-defined]
        with ctx.sessions() as session:
            return list(
                session.scalars(
                    select(AuditEvent)
                    .where(AuditEvent.action.like(f"{prefix}%"))
                    .order_by(AuditEvent.seq)
                )
            )

    def api(self, path: str = "") -> str:
        return f"/api/v1/orgs/{self.org_id}/risks{path}"

    def auth(self, role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


@pytest.fixture
def site(fresh_db_url: str) -> Iterator[Site]:
    clock = FrozenClock(datetime(2026, 11, 20, 1, 0, tzinfo=UTC))
    settings = Settings(
        database_url=fresh_db_url,
        environment="test",
        secret_key=TEST_SECRET,  # type: ignore[arg-type]
        log_json=False,
        run_worker_in_server=False,
    )
    app = create_app(settings, clock=clock)
    sessions = app.state.ctx.sessions
    seed_demo(sessions=sessions, clock=clock)
    tokens: dict[Role, str] = {}
    with sessions() as session:
        set_actor(session, system_actor("test"))
        org_id = session.scalars(select(Organisation.id).order_by(Organisation.id)).first()
        assert org_id is not None
        for role in (Role.operator, Role.supervisor, Role.manager):
            raw, _ = auth_service.issue_api_token(
                session=session,
                org_id=org_id,
                name=f"{role.value} test",
                role=role,
                issuer_role=Role.admin,
                created_by_id=None,
                expires_at=None,
                clock=clock,
            )
            tokens[role] = raw
        session.commit()
    with TestClient(app, follow_redirects=False) as client:
        yield Site(client=client, clock=clock, org_id=org_id, tokens=tokens)


def form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "form has no csrf_token field"
    return match.group(1)


def login(client: TestClient, email: str) -> str:
    """Signs in through the login form; returns the session's CSRF token."""
    page = client.get("/login")
    resp: Response = client.post(
        "/login",
        data={
            "email": email,
            "password": DEMO_PASSWORD,
            "next": "/",
            "csrf_token": form_token(page.text),
        },
    )
    assert resp.status_code == 303, resp.text
    home = client.get("/")
    assert home.status_code == 200, home.text
    return form_token(home.text)
