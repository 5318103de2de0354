"""A small crisis desk for incident tests: one organisation, a manager, 広報 and 法務."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from hikeshi.audit.service import set_actor, system_actor
from hikeshi.auth import service as auth_service
from hikeshi.auth.enums import Department, Role
from hikeshi.auth.models import User
from hikeshi.clock import Clock
from hikeshi.playbooks.loader import discover_packs
from hikeshi.playbooks.render import example_values

PASSWORD = "desk-password-2026"


@dataclass
class Desk:
    client: TestClient
    org_id: int
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    def api(self, path: str) -> str:
        return f"/api/v1/orgs/{self.org_id}{path}"


def recall_params(**overrides: Any) -> dict[str, Any]:
    pack = discover_packs()["recall"]
    values: dict[str, Any] = {}
    for p in pack.parameters:
        values[p.name] = p.example
    values.update(
        product_name="電気ヒーター「ぬくぬく」",
        model_numbers="EH-100、EH-100W",
        serial_ranges=["2401000100〜2401000199"],
        lots=["24A"],
        affected_units=12000,
        hotline="0120-555-010",
        hours="毎日9:00〜20:00",
    )
    values.update(overrides)
    assert set(example_values(pack.parameters))  # the pack still declares parameters
    return values


def build_desk(client: TestClient, clock: Clock) -> Desk:
    sessions = client.app.state.ctx.sessions  # type: ignore[attr-defined]
    people = {
        "manager": (Role.manager, None),
        "pr": (Role.specialist, Department.pr),
        "legal": (Role.specialist, Department.legal),
        "qa": (Role.specialist, Department.quality),
        "operator": (Role.operator, None),
    }
    with sessions() as s:
        set_actor(s, system_actor("test-seed"))
        org = auth_service.create_org(session=s, slug="desk", name="デスク株式会社", clock=clock)
        for key, (role, dept) in people.items():
            auth_service.create_user(
                session=s,
                email=f"{key}@desk.example.jp",
                display_name=key,
                password=PASSWORD,
                role=role,
                department=dept,
                org_ids=[org.id],
                clock=clock,
            )
        s.commit()
        org_id = org.id
    desk = Desk(client=client, org_id=org_id)
    cookie = client.app.state.ctx.settings.session_cookie_name  # type: ignore[attr-defined]
    with sessions() as s:
        set_actor(s, system_actor("test-seed"))
        for key in people:
            user = s.scalar(select(User).where(User.email == f"{key}@desk.example.jp"))
            assert user is not None
            raw, web = auth_service.start_web_session(
                session=s,
                user=user,
                ttl=timedelta(hours=8),
                clock=clock,
                org_ids=frozenset({org_id}),
            )
            desk.headers[key] = {"Cookie": f"{cookie}={raw}", "x-csrf-token": web.csrf_token}
        s.commit()
    return desk
