from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hikeshi.audit.service import make_audited_session_factory, set_actor, system_actor
from hikeshi.auth import service as auth_service
from hikeshi.auth.enums import Department, Role
from hikeshi.board import service as board_service
from hikeshi.board.schemas import AnnouncementCreate
from hikeshi.clock import SystemClock
from hikeshi.config import Settings
from hikeshi.db import make_engine
from hikeshi.main import create_app
from tests.dbutil import create_database, drop_database
from tests.servers import TEST_SECRET

PASSWORD = "correct-horse-battery"


@dataclass
class Tenant:
    org_id: int
    tokens: dict[Role, str] = field(default_factory=dict)
    emails: dict[Role, str] = field(default_factory=dict)
    token_id: int = 0
    user_id: int = 0
    announcement_id: int = 0
    # Path-parameter values of rows made by the domain seeders (risk_id, incident_id, …).
    ids: dict[str, int] = field(default_factory=dict)


def seeders() -> list[ModuleType]:
    """Each domain adds ``seed_<domain>.py`` here with ``seed(session=, org_id=, clock=)``
    returning ``{path_param: id}`` and optional ``SAMPLE_BODIES``; the tenant-isolation test
    then covers that domain's routes with real rows of organisation B."""
    here = Path(__file__).parent
    return [
        importlib.import_module(f"tests.integration.api.{f.stem}")
        for f in sorted(here.glob("seed_*.py"))
    ]


def sample_bodies() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for module in seeders():
        out.update(getattr(module, "SAMPLE_BODIES", {}))
    return out


@dataclass
class World:
    url: str
    a: Tenant
    b: Tenant


def build_world(url: str) -> World:
    engine = make_engine(url)
    sessions = make_audited_session_factory(engine)
    clock = SystemClock()
    tenants = []
    with sessions() as s:
        set_actor(s, system_actor("test-seed"))
        for slug in ("tenant-a", "tenant-b"):
            org = auth_service.create_org(
                session=s, slug=slug, name=f"{slug} 株式会社", clock=clock
            )
            t = Tenant(org_id=org.id)
            for role in Role:
                email = f"{role.value}@{slug}.example.jp"
                user = auth_service.create_user(
                    session=s,
                    email=email,
                    display_name=role.label_ja,
                    password=PASSWORD,
                    role=role,
                    department=Department.legal if role is Role.specialist else None,
                    org_ids=[org.id],
                    clock=clock,
                )
                t.emails[role] = email
                t.user_id = user.id
                if role is not Role.admin:
                    raw, tok = auth_service.issue_api_token(
                        session=s,
                        org_id=org.id,
                        name=f"{role.value} integration",
                        role=role,
                        issuer_role=Role.admin,
                        created_by_id=None,
                        expires_at=None,
                        clock=clock,
                    )
                    t.tokens[role] = raw
                    t.token_id = tok.id
            item = board_service.post_announcement(
                session=s,
                org_id=org.id,
                author_label="seed",
                data=AnnouncementCreate(body=f"{slug} のお知らせ"),
                clock=clock,
            )
            t.announcement_id = item.id
            for module in seeders():
                t.ids.update(module.seed(session=s, org_id=org.id, clock=clock))
            tenants.append(t)
        s.commit()
    engine.dispose()
    return World(url=url, a=tenants[0], b=tenants[1])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    url = create_database(Path(tmp_path_factory.mktemp("api")))
    yield build_world(url)
    drop_database(url)


def settings_for(url: str) -> Settings:
    return Settings(
        database_url=url,
        environment="test",
        secret_key=TEST_SECRET,  # type: ignore[arg-type]
        log_json=False,
        run_worker_in_server=False,
    )


@pytest.fixture(scope="module")
def client(world: World) -> Iterator[TestClient]:
    app = create_app(settings_for(world.url))
    with TestClient(app) as c:
        yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
