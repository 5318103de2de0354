"""Notices of an incident (告知文): edit → approve by the named departments → publish.

A notice is a draft until every department it names approved its current revision; an edit is a
new revision and earlier approvals no longer count. Publishing makes an immutable version; the
newest web version is what the public page shows.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hikeshi.auth.enums import Department
from hikeshi.clock import Clock, format_jst
from hikeshi.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from hikeshi.events.service import publish_after_commit
from hikeshi.incidents.models import (
    CHANNEL_LABELS_JA,
    Incident,
    IncidentState,
    Notice,
    NoticeApproval,
    NoticeChannel,
    NoticeStatus,
    NoticeVersion,
)
from hikeshi.incidents.service import (
    drill_prefix,
    get_incident,
    notify_roster,
    record_timeline,
)
from hikeshi.playbooks.render import length_problem

EVENT_NOTICE_PUBLISHED = "incident.notice_published"
EVENT_NOTICE_APPROVAL = "incident.notice_approval"


def list_notices(*, session: Session, org_id: int, incident_id: int) -> Sequence[Notice]:
    get_incident(session=session, org_id=org_id, incident_id=incident_id)
    order = {channel: i for i, channel in enumerate(NoticeChannel)}
    notices = session.scalars(
        select(Notice).where(Notice.org_id == org_id, Notice.incident_id == incident_id)
    ).all()
    return sorted(notices, key=lambda n: order[n.channel])


def get_notice(*, session: Session, org_id: int, notice_id: int) -> Notice:
    notice = session.get(Notice, notice_id)
    if notice is None or notice.org_id != org_id:
        raise NotFound(f"notice {notice_id} not found", message_ja="告知文が見つかりません")
    return notice


def current_approvals(*, session: Session, notice: Notice) -> Sequence[NoticeApproval]:
    return session.scalars(
        select(NoticeApproval)
        .where(NoticeApproval.notice_id == notice.id, NoticeApproval.revision == notice.revision)
        .order_by(NoticeApproval.approved_at, NoticeApproval.id)
    ).all()


def missing_departments(*, session: Session, notice: Notice) -> list[str]:
    done = {a.department for a in current_approvals(session=session, notice=notice)}
    return [d for d in notice.required_departments if d not in done]


def _editable(session: Session, notice: Notice) -> Incident:
    incident = get_incident(session=session, org_id=notice.org_id, incident_id=notice.incident_id)
    if incident.state is IncidentState.closed:
        raise Conflict(
            "incident is closed", message_ja="終了したインシデントの告知は変更できません"
        )
    return incident


def edit_notice(
    *,
    session: Session,
    org_id: int,
    notice_id: int,
    title: str,
    body: str,
    actor_label: str,
    clock: Clock,
) -> Notice:
    """A new draft revision: earlier approvals no longer count (they approved other words)."""
    notice = get_notice(session=session, org_id=org_id, notice_id=notice_id)
    incident = _editable(session, notice)
    body = body.strip()
    if not body:
        raise ValidationFailed(
            "body is empty", message_ja="本文を入力してください", fields={"body": "required"}
        )
    problem = length_problem(("notices", notice.channel.value, "body"), body)
    if problem:
        raise ValidationFailed(
            problem,
            message_ja=(
                f"{CHANNEL_LABELS_JA[notice.channel]}の本文が {len(body)} 文字で上限を超えています"
            ),
            fields={"body": problem},
        )
    if title.strip() == notice.title and body == notice.body:
        return notice
    notice.title = title.strip()
    notice.body = body
    notice.revision += 1
    notice.status = NoticeStatus.draft
    notice.updated_at = clock.now()
    notice.updated_by_label = actor_label
    record_timeline(
        session=session,
        incident=incident,
        kind="notice.edited",
        summary=f"{CHANNEL_LABELS_JA[notice.channel]}の文面を修正（第{notice.revision}版・承認待ち）",
        actor_label=actor_label,
        clock=clock,
        detail={"notice_id": notice.id, "revision": notice.revision},
    )
    return notice


def approve_notice(
    *,
    session: Session,
    org_id: int,
    notice_id: int,
    revision: int,
    department: Department | None,
    user_id: int | None,
    actor_label: str,
    clock: Clock,
    comment: str = "",
) -> Notice:
    """One department's approval of the revision its approver read."""
    notice = get_notice(session=session, org_id=org_id, notice_id=notice_id)
    incident = _editable(session, notice)
    if department is None or department.value not in notice.required_departments:
        needed = "・".join(notice.required_departments)
        raise PermissionDenied(
            "your department does not approve this notice",
            message_ja=f"この告知文を承認するのは {needed} です",
        )
    if revision != notice.revision:
        raise Conflict(
            f"notice is at revision {notice.revision}, you approved {revision}",
            message_ja="文面が更新されています。最新の文面を確認してから承認してください",
            fields={"revision": notice.revision},
        )
    if notice.status is NoticeStatus.published:
        raise Conflict("already published", message_ja="この版は公開済みです")
    approved = {a.department for a in current_approvals(session=session, notice=notice)}
    if department.value in approved:
        raise Conflict("already approved", message_ja=f"{department.value}は承認済みです")
    session.add(
        NoticeApproval(
            org_id=org_id,
            notice_id=notice.id,
            revision=notice.revision,
            department=department.value,
            approved_by_id=user_id,
            approved_by_label=actor_label,
            approved_at=clock.now(),
            comment=comment.strip(),
        )
    )
    session.flush()
    missing = missing_departments(session=session, notice=notice)
    if not missing:
        notice.status = NoticeStatus.approved
    label = CHANNEL_LABELS_JA[notice.channel]
    record_timeline(
        session=session,
        incident=incident,
        kind="notice.approved",
        summary=(
            f"{department.value}が{label}（第{notice.revision}版）を承認"
            + ("。承認が揃いました" if not missing else f"。残り: {'・'.join(missing)}")
        ),
        actor_label=actor_label,
        clock=clock,
        detail={
            "notice_id": notice.id,
            "revision": notice.revision,
            "department": department.value,
        },
    )
    publish_after_commit(
        session,
        org_id=org_id,
        type=EVENT_NOTICE_APPROVAL,
        data={"incident_id": incident.id, "notice_id": notice.id, "missing": missing},
    )
    return notice


def publish_notice(
    *,
    session: Session,
    org_id: int,
    notice_id: int,
    actor_label: str,
    clock: Clock,
    change_note: str = "",
) -> NoticeVersion:
    """Make the approved revision the current version; earlier versions stay in the history."""
    notice = get_notice(session=session, org_id=org_id, notice_id=notice_id)
    incident = _editable(session, notice)
    missing = missing_departments(session=session, notice=notice)
    if missing:
        raise Conflict(
            f"approvals missing: {', '.join(missing)}",
            message_ja=f"承認が揃っていません（未承認: {'・'.join(missing)}）",
            fields={"missing": missing},
        )
    if notice.status is NoticeStatus.published:
        raise Conflict("this revision is already published", message_ja="この版は公開済みです")
    last = session.scalar(
        select(func.max(NoticeVersion.version)).where(NoticeVersion.notice_id == notice.id)
    )
    approvals = [
        {"department": a.department, "by": a.approved_by_label, "at": a.approved_at.isoformat()}
        for a in current_approvals(session=session, notice=notice)
    ]
    version = NoticeVersion(
        org_id=org_id,
        incident_id=incident.id,
        notice_id=notice.id,
        channel=notice.channel,
        version=(last or 0) + 1,
        revision=notice.revision,
        title=notice.title,
        body=notice.body,
        change_note=change_note.strip(),
        approvals=approvals,
        published_at=clock.now(),
        published_by_label=actor_label,
    )
    session.add(version)
    notice.status = NoticeStatus.published
    label = CHANNEL_LABELS_JA[notice.channel]
    record_timeline(
        session=session,
        incident=incident,
        kind="notice.published",
        summary=f"{drill_prefix(incident)}{label}を公開（第{version.version}版）",
        actor_label=actor_label,
        clock=clock,
        detail={"notice_id": notice.id, "version": version.version, "approvals": approvals},
    )
    session.flush()
    notify_roster(
        session=session,
        incident=incident,
        triggers=("on_notice_published",),
        actor_label=actor_label,
        clock=clock,
        extra=f"公開した告知: {label}（第{version.version}版）",
    )
    publish_after_commit(
        session,
        org_id=org_id,
        type=EVENT_NOTICE_PUBLISHED,
        data={
            "incident_id": incident.id,
            "channel": notice.channel.value,
            "channel_label": label,
            "title": f"{drill_prefix(incident)}{incident.title}",
            "version": version.version,
            "at_jst": format_jst(version.published_at),
        },
    )
    return version


def notice_versions(
    *, session: Session, org_id: int, incident_id: int, channel: NoticeChannel | None = None
) -> Sequence[NoticeVersion]:
    query = select(NoticeVersion).where(
        NoticeVersion.org_id == org_id, NoticeVersion.incident_id == incident_id
    )
    if channel is not None:
        query = query.where(NoticeVersion.channel == channel)
    return session.scalars(
        query.order_by(NoticeVersion.published_at.desc(), NoticeVersion.version.desc())
    ).all()
