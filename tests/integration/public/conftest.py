"""A running app with a real database and incidents made from the shipped recall pack.

Incidents are written as rows (what :func:`hikeshi.incidents.service.launch` stores) so these
tests depend on the public page only, not on the launch's department notifications.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from hikeshi.audit.service import set_actor, system_actor
from hikeshi.auth import service as auth_service
from hikeshi.auth.enums import Department
from hikeshi.auth.models import Organisation
from hikeshi.clock import FrozenClock
from hikeshi.config import Settings
from hikeshi.incidents import notices, serials
from hikeshi.incidents.models import (
    AffectedRange,
    Incident,
    IncidentState,
    Notice,
    NoticeChannel,
    NoticeStatus,
    NoticeVersion,
)
from hikeshi.main import create_app
from hikeshi.playbooks.loader import discover_packs
from hikeshi.playbooks.render import render_pack, resolve_params
from tests.servers import TEST_SECRET

LIMIT = 3
RANGE_START, RANGE_END = "2301000001", "2306999999"
# What the customer sees in the launch parameters of the shipped recall pack, with the ranges
# this file's tests aim at.
RECALL_PARAMS: dict[str, Any] = {
    "model_numbers": "KT-200、KT-200W",
    "serial_ranges": [f"{RANGE_START}〜{RANGE_END}"],
    "lots": ["23A", "23B"],
}


@dataclass
class Site:
    client: TestClient
    clock: FrozenClock
    org_id: int

    def session(self) -> Session:
        ctx = self.client.app.state.ctx  # type: ignore[attr-defined]
        session: Session = ctx.sessions()
        set_actor(session, system_actor("test"))
        return session


def build_site(
    db_url: str,
    *,
    limit: int = LIMIT,
    redis_url: str | None = None,
    clock: FrozenClock | None = None,
) -> Site:
    clock = clock or FrozenClock(datetime(2026, 11, 20, 1, 0, tzinfo=UTC))  # 10:00 JST
    settings = Settings(
        database_url=db_url,
        environment="test",
        secret_key=TEST_SECRET,
        serial_check_per_minute=limit,
        redis_url=redis_url,
        run_worker_in_server=False,
        log_json=False,
    )
    app = create_app(settings, clock=clock)
    with app.state.ctx.sessions() as session:
        set_actor(session, system_actor("test"))
        # Two apps may share one database (the Redis test): the organisation is made once.
        org = session.scalar(select(Organisation).where(Organisation.slug == "hinode"))
        if org is None:
            org = auth_service.create_org(
                session=session, slug="hinode", name="ひので電機", clock=clock
            )
        session.commit()
        org_id = org.id
    return Site(client=TestClient(app, follow_redirects=False), clock=clock, org_id=org_id)


@pytest.fixture
def site(fresh_db_url: str) -> Iterator[Site]:
    built = build_site(fresh_db_url)
    with built.client:
        yield built


def make_incident(
    site: Site,
    *,
    is_drill: bool = False,
    params: dict[str, Any] | None = None,
    pack_id: str = "recall",
) -> Incident:
    """The rows a launch writes that the public page reads: incident, ranges, notices."""
    pack = discover_packs()[pack_id]
    values: dict[str, Any] = {p.name: p.example for p in pack.parameters}
    if pack_id == "recall":
        values.update(RECALL_PARAMS)
    values.update(params or {})
    rendered = render_pack(pack, values)
    resolved = resolve_params(pack, values)
    now = site.clock.now()
    with site.session() as session:
        incident = Incident(
            org_id=site.org_id,
            launch_key=secrets.token_hex(8),
            title="社内用の件名（公開しない）",
            pack_id=pack.id,
            pack_version=pack.version,
            incident_type=pack.incident_type,
            state=IncidentState.active,
            is_drill=is_drill,
            public_slug=secrets.token_urlsafe(12),
            queue_name=f"{pack.id}-test",
            hotline=str(resolved.get("hotline") or ""),
            hours=str(resolved.get("hours") or ""),
            params={k: v if isinstance(v, str | int) else list(v) for k, v in values.items()},
            rendered=rendered.model_dump(mode="json"),
            staffing={},
            launched_by_label="test",
            launched_at=now,
            state_changed_at=now,
            closed_at=None,
        )
        session.add(incident)
        session.flush()
        for c in serials.coverage_from_params(resolved):
            session.add(
                AffectedRange(
                    org_id=site.org_id,
                    incident_id=incident.id,
                    model=c.model,
                    serial_start=c.start,
                    serial_end=c.end,
                )
            )
        web = rendered.notices.web
        session.add(
            Notice(
                org_id=site.org_id,
                incident_id=incident.id,
                channel=NoticeChannel.web,
                title=web.title or "",
                body=web.body,
                required_departments=[Department.pr.value],
                status=NoticeStatus.draft,
                revision=1,
                updated_at=now,
                updated_by_label="test",
            )
        )
        session.commit()
        session.expunge(incident)
    return incident


def web_notice(site: Site, incident: Incident) -> Notice:
    with site.session() as session:
        notice = session.scalars(
            select(Notice).where(
                Notice.incident_id == incident.id, Notice.channel == NoticeChannel.web
            )
        ).one()
        session.expunge(notice)
    return notice


def edit(site: Site, incident: Incident, *, title: str, body: str) -> None:
    """A draft revision through the real service (no approval, not published)."""
    notice = web_notice(site, incident)
    with site.session() as session:
        notices.edit_notice(
            session=session,
            org_id=site.org_id,
            notice_id=notice.id,
            title=title,
            body=body,
            actor_label="test",
            clock=site.clock,
        )
        session.commit()


def publish(site: Site, incident: Incident, *, change_note: str = "") -> int:
    """Publish the notice's current revision as the next version (what publish_notice writes)."""
    notice = web_notice(site, incident)
    with site.session() as session:
        current = session.get(Notice, notice.id)
        assert current is not None
        last = session.scalar(
            select(NoticeVersion.version)
            .where(NoticeVersion.notice_id == notice.id)
            .order_by(NoticeVersion.version.desc())
            .limit(1)
        )
        version = (last or 0) + 1
        session.add(
            NoticeVersion(
                org_id=site.org_id,
                incident_id=incident.id,
                notice_id=notice.id,
                channel=NoticeChannel.web,
                version=version,
                revision=current.revision,
                title=current.title,
                body=current.body,
                change_note=change_note,
                approvals=[
                    {"department": "広報", "by": "test", "at": site.clock.now().isoformat()}
                ],
                published_at=site.clock.now(),
                published_by_label="test",
            )
        )
        current.status = NoticeStatus.published
        session.commit()
    return version


def close(site: Site, incident: Incident) -> None:
    with site.session() as session:
        row = session.get(Incident, incident.id)
        assert row is not None
        row.state = IncidentState.closed
        row.closed_at = site.clock.now()
        session.commit()
