"""Use cases of the crisis desk: launch, department roster, lifecycle, timeline, final report.

Notices (edit → approve → publish) are in :mod:`hikeshi.incidents.notices`.

Every function takes the caller's session and changes nothing outside it: live events go out
after commit (``publish_after_commit``), department messages are jobs inserted in the same
transaction, so a failed launch sends nothing and a failing webhook never undoes a launch.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hikeshi.auth.enums import Department
from hikeshi.clock import Clock, format_jst
from hikeshi.errors import Conflict, NotFound, ValidationFailed
from hikeshi.events.service import publish_after_commit
from hikeshi.incidents import serials
from hikeshi.incidents.models import (
    CHANNEL_LABELS_JA,
    STATE_LABELS_JA,
    STATE_TRANSITIONS,
    AffectedRange,
    Incident,
    IncidentState,
    Notice,
    NoticeChannel,
    NoticeStatus,
    NoticeVersion,
    TimelineEvent,
)
from hikeshi.notify import service as notify_service
from hikeshi.playbooks.render import render_pack, resolve_params
from hikeshi.playbooks.schemas import Pack, Trigger

DRILL_MARK = "【訓練】"
EVENT_LAUNCHED = "incident.launched"
EVENT_STATE = "incident.state_changed"


def drill_prefix(incident: Incident) -> str:
    return DRILL_MARK if incident.is_drill else ""


# --- timeline ---------------------------------------------------------------------------------


def record_timeline(
    *,
    session: Session,
    incident: Incident,
    kind: str,
    summary: str,
    actor_label: str,
    clock: Clock,
    detail: dict[str, Any] | None = None,
) -> TimelineEvent:
    """Add one line to the incident's timeline (other domains call this for escalations)."""
    event = TimelineEvent(
        org_id=incident.org_id,
        incident_id=incident.id,
        occurred_at=clock.now(),
        kind=kind,
        summary=summary,
        actor_label=actor_label,
        detail=detail,
    )
    session.add(event)
    return event


def timeline(*, session: Session, org_id: int, incident_id: int) -> Sequence[TimelineEvent]:
    get_incident(session=session, org_id=org_id, incident_id=incident_id)
    return session.scalars(
        select(TimelineEvent)
        .where(TimelineEvent.org_id == org_id, TimelineEvent.incident_id == incident_id)
        .order_by(TimelineEvent.occurred_at, TimelineEvent.id)
    ).all()


# --- reading ----------------------------------------------------------------------------------


def get_incident(*, session: Session, org_id: int, incident_id: int) -> Incident:
    incident = session.get(Incident, incident_id)
    if incident is None or incident.org_id != org_id:
        raise NotFound(
            f"incident {incident_id} not found", message_ja="インシデントが見つかりません"
        )
    return incident


def list_incidents(
    *,
    session: Session,
    org_id: int,
    state: IncidentState | None = None,
    include_drills: bool = True,
) -> Sequence[Incident]:
    query = select(Incident).where(Incident.org_id == org_id)
    if state is not None:
        query = query.where(Incident.state == state)
    if not include_drills:
        query = query.where(Incident.is_drill.is_(False))
    return session.scalars(query.order_by(Incident.launched_at.desc(), Incident.id.desc())).all()


def real_incident_counts(*, session: Session, org_id: int) -> dict[str, int]:
    """Incidents per state, drills excluded: drills never count in real figures."""
    rows = session.execute(
        select(Incident.state, func.count())
        .where(Incident.org_id == org_id, Incident.is_drill.is_(False))
        .group_by(Incident.state)
    ).all()
    counts = {state.value: 0 for state in IncidentState}
    counts.update({str(IncidentState(state).value): int(n) for state, n in rows})
    return counts


def by_public_slug(*, session: Session, slug: str) -> Incident | None:
    if not slug or len(slug) > 32:
        return None
    return session.scalar(select(Incident).where(Incident.public_slug == slug))


# --- launch -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LaunchResult:
    incident: Incident
    created: bool


def _staffing(
    pack: Pack, values: Mapping[str, object], overrides: Mapping[str, Any]
) -> dict[str, Any]:
    base = pack.staffing.model_dump(mode="json")
    unknown = sorted(set(overrides) - set(base))
    if unknown:
        raise ValidationFailed(
            f"unknown staffing field(s): {', '.join(unknown)}",
            message_ja=f"体制の前提に {', '.join(unknown)} という項目はありません",
            fields={"staffing": unknown},
        )
    merged = {**base, **overrides}
    try:
        checked = type(pack.staffing).model_validate(merged).model_dump(mode="json")
    except ValueError as exc:
        raise ValidationFailed(
            f"staffing: {exc}",
            message_ja="体制の前提の値が正しくありません",
            fields={"staffing": str(exc)},
        ) from exc
    affected = values.get("affected_units") or values.get("affected_people")
    if isinstance(affected, int) and affected > 0:
        checked["affected_customers"] = affected
        checked["expected_contacts"] = round(affected * checked["contact_rate"])
    checked["team_roles"] = [role.model_dump(mode="json") for role in pack.team_roles]
    return checked


def launch(
    *,
    session: Session,
    org_id: int,
    pack: Pack,
    params: Mapping[str, object],
    launch_key: str,
    actor_label: str,
    clock: Clock,
    title: str | None = None,
    is_drill: bool = False,
    staffing_overrides: Mapping[str, Any] | None = None,
) -> LaunchResult:
    """立ち上げ: pack + parameters → a live incident, in the caller's transaction.

    Idempotent on ``(org_id, launch_key)``: a second call (a double click, a retried request)
    returns the first incident with ``created=False`` and changes nothing.
    """
    existing = session.scalar(
        select(Incident).where(Incident.org_id == org_id, Incident.launch_key == launch_key)
    )
    if existing is not None:
        return LaunchResult(existing, created=False)

    rendered = render_pack(pack, params)  # RenderError (422) names the parameter or field
    values = resolve_params(pack, params)
    staffing = _staffing(pack, values, staffing_overrides or {})
    now = clock.now()
    name = (title or "").strip() or _default_title(pack, values)
    incident = Incident(
        org_id=org_id,
        launch_key=launch_key,
        title=name[:300],
        pack_id=pack.id,
        pack_version=pack.version,
        incident_type=pack.incident_type,
        state=IncidentState.active,
        is_drill=is_drill,
        public_slug=secrets.token_urlsafe(12),
        queue_name=f"{pack.id}-{now.strftime('%Y%m%d%H%M')}",
        hotline=str(values.get("hotline") or ""),
        hours=str(values.get("hours") or ""),
        params={k: _jsonable(v) for k, v in params.items()},
        rendered=rendered.model_dump(mode="json"),
        staffing=staffing,
        launched_by_label=actor_label,
        launched_at=now,
        state_changed_at=now,
        closed_at=None,
    )
    try:
        with session.begin_nested():
            session.add(incident)
            session.flush()
    except IntegrityError:
        # A concurrent launch with the same key won the race; answer with its incident.
        winner = session.scalar(
            select(Incident).where(Incident.org_id == org_id, Incident.launch_key == launch_key)
        )
        if winner is None:
            raise
        return LaunchResult(winner, created=False)

    for coverage in serials.coverage_from_params(values):
        session.add(
            AffectedRange(
                org_id=org_id,
                incident_id=incident.id,
                model=coverage.model,
                serial_start=coverage.start,
                serial_end=coverage.end,
            )
        )
    notices = rendered.notices
    for channel in NoticeChannel:
        notice = getattr(notices, channel.value)
        session.add(
            Notice(
                org_id=org_id,
                incident_id=incident.id,
                channel=channel,
                title=getattr(notice, "title", None) or getattr(notice, "subject", None) or "",
                body=notice.body,
                required_departments=[str(Department(d).value) for d in notice.approvers],
                status=NoticeStatus.draft,
                revision=1,
                updated_at=now,
                updated_by_label=actor_label,
            )
        )
    mark = drill_prefix(incident)
    record_timeline(
        session=session,
        incident=incident,
        kind="launch",
        summary=f"{mark}「{pack.title}」で立ち上げ（受付キュー {incident.queue_name}）",
        actor_label=actor_label,
        clock=clock,
        detail={"pack": f"{pack.id} {pack.version}", "staffing": staffing},
    )
    notify_roster(
        session=session,
        incident=incident,
        triggers=("on_launch", "on_notice_draft"),
        actor_label=actor_label,
        clock=clock,
    )
    session.flush()
    publish_after_commit(
        session,
        org_id=org_id,
        type=EVENT_LAUNCHED,
        data={
            "id": incident.id,
            "title": f"{mark}{incident.title}",
            "drill": is_drill,
            "at_jst": format_jst(now),
        },
    )
    return LaunchResult(incident, created=True)


def _default_title(pack: Pack, values: Mapping[str, object]) -> str:
    subject = values.get("product_name") or values.get("service_name") or values.get("event_name")
    return f"{pack.title}：{subject}" if subject else pack.title


def _jsonable(value: object) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return str(value)


# --- department roster ------------------------------------------------------------------------

TRIGGER_LABELS_JA: dict[str, str] = {
    "on_launch": "立ち上げ",
    "on_notice_draft": "告知文の承認依頼",
    "on_notice_published": "告知の公開",
    "on_escalation": "エスカレーション",
    "on_harassment": "カスハラ発生",
    "on_media_inquiry": "報道からの問い合わせ",
    "daily_report": "日次報告",
    "on_close": "終了",
}


def notify_roster(
    *,
    session: Session,
    incident: Incident,
    triggers: Sequence[Trigger],
    actor_label: str,
    clock: Clock,
    extra: str = "",
) -> int:
    """Queue the pack's roster messages for ``triggers``; returns how many were queued.

    Each department listed for a trigger is told what the pack says it is told. A department
    without a registered contact is written on the timeline, so nobody believes it was told.
    """
    mark = drill_prefix(incident)
    queued = 0
    for entry in incident.rendered.get("roster", []):
        hits = [t for t in triggers if t in entry.get("when", [])]
        if not hits:
            continue
        department = entry["department"]
        label = "・".join(TRIGGER_LABELS_JA.get(t, t) for t in hits)
        subject = f"{mark}[{incident.title}] {label}のお知らせ（{department}）"
        body = "\n".join(
            part
            for part in (
                f"{mark}インシデント「{incident.title}」について{label}をお知らせします。",
                f"状態: {STATE_LABELS_JA[incident.state]}",
                f"受付窓口: {incident.hotline} {incident.hours}",
                f"{department}の役割: {entry.get('responsibility', '')}",
                f"お伝えすること: {entry.get('told', '')}",
                extra,
            )
            if part
        )
        deliveries = notify_service.queue_deliveries(
            session=session,
            org_id=incident.org_id,
            incident_id=incident.id,
            department=department,
            trigger=hits[0],
            subject=subject,
            body=body,
            is_drill=incident.is_drill,
            clock=clock,
            channels=entry.get("channels"),
        )
        queued += len(deliveries)
        record_timeline(
            session=session,
            incident=incident,
            kind="notify.queued" if deliveries else "notify.no_contact",
            summary=(
                f"{mark}{department}へ{label}の連絡を送信待ちにしました（{len(deliveries)}件）"
                if deliveries
                else f"{mark}{department}の連絡先が未登録のため{label}を送れていません"
            ),
            actor_label=actor_label,
            clock=clock,
            detail={"department": department, "triggers": list(hits)},
        )
    return queued


# --- lifecycle --------------------------------------------------------------------------------


def change_state(
    *,
    session: Session,
    org_id: int,
    incident_id: int,
    to: IncidentState,
    actor_label: str,
    clock: Clock,
    note: str = "",
) -> Incident:
    incident = get_incident(session=session, org_id=org_id, incident_id=incident_id)
    if to == incident.state:
        return incident
    if to not in STATE_TRANSITIONS[incident.state]:
        raise Conflict(
            f"cannot move from {incident.state.value} to {to.value}",
            message_ja=f"{STATE_LABELS_JA[incident.state]}から{STATE_LABELS_JA[to]}には変更できません",
        )
    before = incident.state
    now = clock.now()
    incident.state = to
    incident.state_changed_at = now
    record_timeline(
        session=session,
        incident=incident,
        kind="state.changed",
        summary=f"{drill_prefix(incident)}状態を{STATE_LABELS_JA[before]}から{STATE_LABELS_JA[to]}に変更"
        + (f"：{note.strip()}" if note.strip() else ""),
        actor_label=actor_label,
        clock=clock,
        detail={"from": before.value, "to": to.value},
    )
    if to is IncidentState.closed:
        incident.closed_at = now
        notify_roster(
            session=session,
            incident=incident,
            triggers=("on_close",),
            actor_label=actor_label,
            clock=clock,
        )
        session.flush()
        incident.final_report = final_report_skeleton(
            session=session, incident=incident, clock=clock
        )
    publish_after_commit(
        session,
        org_id=org_id,
        type=EVENT_STATE,
        data={"incident_id": incident.id, "state": to.value, "label": STATE_LABELS_JA[to]},
    )
    return incident


def final_report_skeleton(*, session: Session, incident: Incident, clock: Clock) -> dict[str, Any]:
    """最終報告: the facts Hikeshi knows, and headed blanks for what people must write."""
    events = session.scalars(
        select(TimelineEvent)
        .where(TimelineEvent.incident_id == incident.id)
        .order_by(TimelineEvent.occurred_at, TimelineEvent.id)
    ).all()
    versions = session.scalars(
        select(NoticeVersion)
        .where(NoticeVersion.incident_id == incident.id)
        .order_by(NoticeVersion.published_at)
    ).all()
    return {
        "generated_at": clock.now().isoformat(),
        "title": incident.title,
        "is_drill": incident.is_drill,
        "pack": f"{incident.pack_id} {incident.pack_version}",
        "launched_at": incident.launched_at.isoformat(),
        "closed_at": incident.closed_at.isoformat() if incident.closed_at else None,
        "hotline": incident.hotline,
        "staffing": incident.staffing,
        "published_notices": [
            {
                "channel": CHANNEL_LABELS_JA[v.channel],
                "version": v.version,
                "title": v.title,
                "published_at": v.published_at.isoformat(),
                "approvals": v.approvals,
            }
            for v in versions
        ],
        "timeline": [
            {
                "at": e.occurred_at.isoformat(),
                "kind": e.kind,
                "summary": e.summary,
                "actor": e.actor_label,
            }
            for e in events
        ],
        "sections": [
            {"heading": "1. 事案の概要", "body": ""},
            {"heading": "2. 経緯（タイムライン）", "body": "下記のタイムラインのとおり。"},
            {"heading": "3. 受付実績（件数・応答率・対象製品の確認件数）", "body": ""},
            {"heading": "4. お客様の声と主な問い合わせ内容", "body": ""},
            {"heading": "5. 課題と教訓", "body": ""},
            {"heading": "6. 再発防止策と今後の対応", "body": ""},
        ],
    }


# --- serial check -----------------------------------------------------------------------------


def coverage_of(*, session: Session, incident: Incident) -> list[serials.Coverage]:
    rows = session.scalars(
        select(AffectedRange).where(AffectedRange.incident_id == incident.id)
    ).all()
    return [serials.Coverage(r.model, r.serial_start, r.serial_end) for r in rows]
