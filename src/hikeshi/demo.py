"""Demo data: one client organisation per BPO desk and one user per role."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hikeshi.audit.service import set_actor, system_actor
from hikeshi.auth import service as auth_service
from hikeshi.auth.enums import Department, Role
from hikeshi.auth.models import Organisation, User
from hikeshi.clock import Clock

DEMO_PASSWORD = "hikeshi-demo-2026"  # noqa: S105 - printed to the console by `hikeshi demo`


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    role: Role
    department: Department | None = None


DEMO_ORGS = (("acme-foods", "アクメ食品株式会社"), ("sakura-denki", "さくら電機株式会社"))
DEMO_USERS = (
    DemoUser("operator@demo.hikeshi.jp", "山田 花子", Role.operator),
    DemoUser("supervisor@demo.hikeshi.jp", "佐藤 健", Role.supervisor),
    DemoUser("legal@demo.hikeshi.jp", "鈴木 法子", Role.specialist, Department.legal),
    DemoUser("manager@demo.hikeshi.jp", "高橋 誠", Role.manager),
    DemoUser("admin@demo.hikeshi.jp", "田中 管理", Role.admin),
)


def seed_demo(
    *, sessions: sessionmaker[Session], clock: Clock, password: str = DEMO_PASSWORD
) -> list[DemoUser]:
    """Idempotent: running it twice changes nothing the second time."""
    with sessions() as session:
        set_actor(session, system_actor("demo-seed"))
        org_ids: list[int] = []
        for slug, name in DEMO_ORGS:
            org = session.scalar(select(Organisation).where(Organisation.slug == slug))
            if org is None:
                org = auth_service.create_org(session=session, slug=slug, name=name, clock=clock)
            org_ids.append(org.id)
        for demo in DEMO_USERS:
            if session.scalar(select(User.id).where(User.email == demo.email)) is not None:
                continue
            # The first organisation has everyone; the second only manager and admin, so the
            # organisation switcher and tenant isolation can be seen in the demo.
            orgs = org_ids if demo.role in (Role.manager, Role.admin) else org_ids[:1]
            auth_service.create_user(
                session=session,
                email=demo.email,
                display_name=demo.name,
                password=password,
                role=demo.role,
                department=demo.department,
                org_ids=orgs,
                clock=clock,
            )
        session.commit()
    return list(DEMO_USERS)
