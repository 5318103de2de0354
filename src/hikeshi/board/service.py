from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from hikeshi.board.models import Announcement
from hikeshi.board.schemas import AnnouncementCreate
from hikeshi.clock import Clock, format_jst
from hikeshi.events.service import publish_after_commit

EVENT_ANNOUNCEMENT = "announcement.created"


def post_announcement(
    *, session: Session, org_id: int, author_label: str, data: AnnouncementCreate, clock: Clock
) -> Announcement:
    item = Announcement(
        org_id=org_id,
        author_label=author_label,
        severity=data.severity,
        body=data.body.strip(),
        created_at=clock.now(),
    )
    session.add(item)
    session.flush()
    publish_after_commit(
        session,
        org_id=org_id,
        type=EVENT_ANNOUNCEMENT,
        data={
            "id": item.id,
            "severity": item.severity,
            "body": item.body,
            "author": author_label,
            "at": item.created_at.isoformat(),
            "at_jst": format_jst(item.created_at),
        },
    )
    return item


def list_announcements(*, session: Session, org_id: int, limit: int = 50) -> Sequence[Announcement]:
    return session.scalars(
        select(Announcement)
        .where(Announcement.org_id == org_id)
        .order_by(Announcement.created_at.desc(), Announcement.id.desc())
        .limit(limit)
    ).all()
