"""For every API route, a user or token of organisation A cannot read or change B's rows.

Routes are enumerated from the application, so a new route is covered without editing this
file; a route outside ``/orgs/{org_id}`` must be listed in GLOBAL_ROUTES on purpose.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from hikeshi.audit.models import AuditEvent
from hikeshi.audit.service import make_audited_session_factory
from hikeshi.auth import service as auth_service
from hikeshi.auth.enums import Role
from hikeshi.auth.models import User
from hikeshi.clock import SystemClock
from hikeshi.db import make_engine
from hikeshi.models_registry import Base
from tests.integration.api.conftest import World, bearer, sample_bodies

GLOBAL_ROUTES = {("GET", "/api/v1/me"), ("GET", "/api/v1/orgs"), ("POST", "/api/v1/orgs")}
STREAMING = {"/api/v1/orgs/{org_id}/events"}

SAMPLE_BODIES: dict[str, dict[str, Any]] = {
    "/api/v1/orgs/{org_id}/announcements": {"body": "侵入テスト", "severity": "urgent"},
    "/api/v1/orgs/{org_id}/users": {
        "email": "intruder@example.jp",
        "display_name": "x",
        "password": "intruder-password",
        "role": "admin",
    },
    "/api/v1/orgs/{org_id}/tokens": {"name": "intruder", "role": "manager"},
    **sample_bodies(),
}


def api_routes(client: TestClient) -> list[tuple[str, str]]:
    """Every (method, path) the API serves, read from its OpenAPI document (a public interface
    that does not depend on how FastAPI nests routers internally)."""
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    out = [(method.upper(), path) for path, ops in paths.items() for method in ops]
    assert out, "no API routes found"
    return sorted(out)


def fill(path: str, tenant_ids: dict[str, int]) -> str:
    for name, value in tenant_ids.items():
        path = path.replace("{" + name + "}", str(value))
    assert "{" not in path, f"test does not know how to fill {path}: add the parameter"
    return path


def ids_of(world: World, which: str) -> dict[str, int]:
    t = world.a if which == "a" else world.b
    return {
        "org_id": t.org_id,
        "token_id": t.token_id,
        "user_id": t.user_id,
        "announcement_id": t.announcement_id,
        **t.ids,
    }


def cookie_headers(client: TestClient, world: World, role: Role) -> dict[str, str]:
    """A browser session for A's user, made through the service (independent of the login page)."""
    engine = make_engine(world.url)
    sessions = make_audited_session_factory(engine)
    with sessions() as s:
        user = s.scalar(select(User).where(User.email == world.a.emails[role]))
        assert user is not None
        raw, web = auth_service.start_web_session(
            session=s,
            user=user,
            ttl=timedelta(hours=1),
            clock=SystemClock(),
            org_ids=frozenset({world.a.org_id}),
        )
        csrf = web.csrf_token
        s.commit()
    engine.dispose()
    name = client.app.state.ctx.settings.session_cookie_name  # type: ignore[attr-defined]
    return {"Cookie": f"{name}={raw}", "x-csrf-token": csrf}


def b_state(world: World) -> dict[str, int]:
    """Row counts of B's data in every organisation-owned table, plus users and B's audit rows
    other than refusals: none may change while A probes B's routes."""
    engine = make_engine(world.url)
    out: dict[str, int] = {}
    with engine.connect() as c:
        for table in Base.metadata.sorted_tables:
            if "org_id" not in table.c or table.name in {"audit_events", "jobs"}:
                continue
            condition = table.c.org_id == world.b.org_id
            if table.name == "api_tokens":
                condition = condition & table.c.revoked_at.is_(None)
            out[table.name] = c.scalar(select(func.count()).select_from(table).where(condition))
        out["users"] = c.scalar(select(func.count()).select_from(User)) or 0
        out["audit"] = (
            c.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.org_id == world.b.org_id, ~AuditEvent.action.like("auth.%"))
            )
            or 0
        )
    engine.dispose()
    return out


def test_every_api_route_is_org_scoped_or_declared_global(client: TestClient) -> None:
    for method, path in api_routes(client):
        assert path.startswith("/api/v1/orgs/{org_id}") or (method, path) in GLOBAL_ROUTES, (
            f"{method} {path} is neither under /orgs/{{org_id}} nor declared global"
        )


@pytest.mark.parametrize(
    "credential",
    ["admin-cookie", "manager-token", "supervisor-token", "operator-token", "manager-cookie"],
)
def test_org_a_cannot_reach_org_b(client: TestClient, world: World, credential: str) -> None:
    role_name, kind = credential.split("-")
    role = Role(role_name)
    headers = (
        bearer(world.a.tokens[role]) if kind == "token" else cookie_headers(client, world, role)
    )
    before = b_state(world)
    routes = [r for r in api_routes(client) if "{org_id}" in r[1]]
    assert len(routes) >= 8
    for method, template in routes:
        path = fill(template, ids_of(world, "b"))
        resp = client.request(method, path, headers=headers, json=SAMPLE_BODIES.get(template))
        # 404 when the role may use the route (B's existence is not revealed); a role that
        # may not use the route at all is refused by the permission first (403). The admin
        # credential holds every permission, so for it every route must answer 404.
        allowed = {404} if role is Role.admin else {403, 404}
        assert resp.status_code in allowed, f"{credential}: {method} {path} -> {resp.status_code}"
        assert resp.json()["error"]["code"] in {"not_found", "auth.forbidden"}
        # Nothing about B leaks in the refusal.
        assert "tenant-b" not in resp.text
    assert b_state(world) == before


@pytest.mark.parametrize("credential", ["admin-cookie", "manager-token"])
def test_same_routes_work_for_own_org(client: TestClient, world: World, credential: str) -> None:
    """The positive control: the refusals above are about the organisation, not the route."""
    role_name, kind = credential.split("-")
    role = Role(role_name)
    headers = (
        bearer(world.a.tokens[role]) if kind == "token" else cookie_headers(client, world, role)
    )
    for method, template in api_routes(client):
        if "{org_id}" not in template or template in STREAMING or method != "GET":
            continue
        path = fill(template, ids_of(world, "a"))
        resp = client.request(method, path, headers=headers)
        assert resp.status_code in (200, 403), f"{method} {path} -> {resp.status_code}"


def test_org_list_shows_only_assigned(client: TestClient, world: World) -> None:
    resp = client.get("/api/v1/orgs", headers=bearer(world.a.tokens[Role.manager]))
    assert resp.status_code == 200
    assert [o["id"] for o in resp.json()] == [world.a.org_id]


def test_token_is_scoped_to_its_org_and_refusal_is_audited(
    client: TestClient, world: World
) -> None:
    resp = client.get(
        f"/api/v1/orgs/{world.b.org_id}/announcements", headers=bearer(world.a.tokens[Role.manager])
    )
    assert resp.status_code == 404
    engine = make_engine(world.url)
    with engine.connect() as c:
        last = c.execute(
            select(AuditEvent.action, AuditEvent.org_id, AuditEvent.actor_label)
            .order_by(AuditEvent.seq.desc())
            .limit(1)
        ).one()
    engine.dispose()
    assert last.action == "auth.org_denied"
    assert last.org_id == world.b.org_id
    assert last.actor_label.startswith("token:hk_")
