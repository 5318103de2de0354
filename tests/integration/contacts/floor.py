"""A small contact floor for contact tests: one organisation with an active recall incident,
an operator, a supervisor, a specialist and a manager (browser sessions), and an operator token."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from hikeshi.audit.service import set_actor, system_actor
from hikeshi.auth import service as auth_service
from hikeshi.auth.enums import Department, Role
from hikeshi.clock import Clock
from hikeshi.config import Settings
from hikeshi.events.bus import LiveEvent
from hikeshi.incidents import service as incident_service
from hikeshi.main import create_app
from hikeshi.playbooks.loader import discover_packs
from hikeshi.playbooks.render import example_values
from tests.servers import TEST_SECRET

PASSWORD = "floor-password-2026"
PEOPLE: dict[str, tuple[Role, Department | None]] = {
    "operator": (Role.operator, None),
    "supervisor": (Role.supervisor, None),
    "specialist": (Role.specialist, Department.legal),
    "manager": (Role.manager, None),
}


@dataclass
class Floor:
    client: TestClient
    org_id: int
    incident_id: int
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    token: dict[str, str] = field(default_factory=dict)
    events: list[LiveEvent] = field(default_factory=list)

    def api(self, path: str) -> str:
        return f"/api/v1/orgs/{self.org_id}{path}"

    def count(self, model: type, **where: object) -> int:
        sessions = self.client.app.state.ctx.sessions  # type: ignore[attr-defined]
        with sessions() as s:
            query = select(func.count()).select_from(model)
            for name, value in where.items():
                query = query.where(getattr(model, name) == value)
            return int(s.scalar(query) or 0)

    def rows(self, query: Any) -> list[Any]:
        sessions = self.client.app.state.ctx.sessions  # type: ignore[attr-defined]
        with sessions() as s:
            return list(s.execute(query).all())


def open_floor(url: str, clock: Clock) -> Iterator[Floor]:
    settings = Settings(
        database_url=url,
        environment="test",
        secret_key=TEST_SECRET,  # type: ignore[arg-type]
        log_json=False,
        run_worker_in_server=False,
    )
    app = create_app(settings, clock=clock)
    with TestClient(app) as client:
        ctx = client.app.state.ctx  # type: ignore[attr-defined]
        sessions = ctx.sessions
        with sessions() as s:
            set_actor(s, system_actor("test-seed"))
            org = auth_service.create_org(
                session=s, slug="floor", name="フロア株式会社", clock=clock
            )
            users = {}
            for key, (role, dept) in PEOPLE.items():
                users[key] = auth_service.create_user(
                    session=s,
                    email=f"{key}@floor.example.jp",
                    display_name=key,
                    password=PASSWORD,
                    role=role,
                    department=dept,
                    org_ids=[org.id],
                    clock=clock,
                )
            raw_token, _ = auth_service.issue_api_token(
                session=s,
                org_id=org.id,
                name="webhook",
                role=Role.operator,
                issuer_role=Role.admin,
                created_by_id=None,
                expires_at=None,
                clock=clock,
            )
            pack = discover_packs()["recall"]
            incident = incident_service.launch(
                session=s,
                org_id=org.id,
                pack=pack,
                params=example_values(pack.parameters),
                launch_key="floor",
                actor_label="seed",
                clock=clock,
            ).incident
            s.commit()
            floor = Floor(client=client, org_id=org.id, incident_id=incident.id)
            floor.token = {"Authorization": f"Bearer {raw_token}"}
        cookie = ctx.settings.session_cookie_name
        with sessions() as s:
            set_actor(s, system_actor("test-seed"))
            for key, user in users.items():
                s.add(user)
                raw, web = auth_service.start_web_session(
                    session=s,
                    user=user,
                    ttl=timedelta(hours=8),
                    clock=clock,
                    org_ids=frozenset({org.id}),
                )
                floor.headers[key] = {"Cookie": f"{cookie}={raw}", "x-csrf-token": web.csrf_token}
            s.commit()
        bus = ctx.bus
        original = bus.publish

        def recording(event: LiveEvent) -> None:
            floor.events.append(event)
            original(event)

        bus.publish = recording
        yield floor
