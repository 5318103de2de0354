"""Rows of the crisis desk for the tenant-isolation test: a launched recall incident."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hikeshi.clock import Clock
from hikeshi.incidents import service
from hikeshi.incidents.models import Notice, NoticeChannel
from hikeshi.playbooks.loader import discover_packs
from hikeshi.playbooks.render import example_values

SAMPLE_BODIES: dict[str, dict[str, Any]] = {
    "/api/v1/orgs/{org_id}/incidents": {
        "pack_id": "recall",
        "launch_key": "intruder",
        "params": {},
    },
    "/api/v1/orgs/{org_id}/incidents/{incident_id}/state": {"state": "closed"},
    "/api/v1/orgs/{org_id}/notices/{notice_id}": {"title": "x", "body": "侵入テスト"},
    "/api/v1/orgs/{org_id}/notices/{notice_id}/approve": {"revision": 1},
    "/api/v1/orgs/{org_id}/notices/{notice_id}/publish": {"change_note": "侵入"},
}


def seed(*, session: Session, org_id: int, clock: Clock) -> dict[str, int]:
    pack = discover_packs()["recall"]
    result = service.launch(
        session=session,
        org_id=org_id,
        pack=pack,
        params=example_values(pack.parameters),
        launch_key="seed",
        actor_label="seed",
        clock=clock,
    )
    notice_id = session.scalar(
        select(Notice.id).where(
            Notice.incident_id == result.incident.id, Notice.channel == NoticeChannel.web
        )
    )
    assert notice_id is not None
    return {"incident_id": result.incident.id, "notice_id": notice_id}
