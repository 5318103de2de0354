"""緊急対応 (crisis desk) pages for staff: the incident list, launch (立ち上げ) from a pack, the
incident overview, notice approval and publication, the timeline and the final report (最終報告).

Server-rendered plain forms (no HTMX): every POST carries the session's CSRF token, each use case
is one transaction through :mod:`hikeshi.incidents.service`, and a refusal the person can fix
(a missing parameter, a changed revision, missing approvals) re-renders the page with the
Japanese message instead of an error page. Drills (訓練) are marked on every incident screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from hikeshi.auth.permissions import Permission
from hikeshi.clock import format_jst
from hikeshi.deps import CtxDep, Principal, Require, Transaction, TxDep
from hikeshi.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from hikeshi.incidents import notices, service
from hikeshi.incidents.models import (
    CHANNEL_LABELS_JA,
    STATE_LABELS_JA,
    STATE_TRANSITIONS,
    Incident,
    IncidentState,
    Notice,
    NoticeChannel,
    NoticeStatus,
)
from hikeshi.notify import service as notify_service
from hikeshi.playbooks.schemas import SMS_LIMIT, SNS_LIMIT
from hikeshi.web import ui
from hikeshi.web.pages import UserDep

router = APIRouter(include_in_schema=False)
FormStr = Annotated[str, Form()]
PATH = "/incidents"
CanRead = [Depends(Require(Permission.incidents_read))]
CanLaunch = [Depends(Require(Permission.incidents_launch))]
CanManage = [Depends(Require(Permission.incidents_manage))]
CanEdit = [Depends(Require(Permission.notices_edit))]
CanApprove = [Depends(Require(Permission.notices_approve))]
CanPublish = [Depends(Require(Permission.notices_publish))]

NOTICES = {
    "launched": "立ち上げました。告知文の承認と公開を進めてください",
    "exists": "この立ち上げは既に完了しています（二重送信は1件として扱いました）",
    "state": "状態を変更しました",
    "saved": "文面を保存しました。新しい版として承認が必要です",
    "unchanged": "文面に変更はありませんでした",
    "approved": "承認しました",
    "published": "公開しました",
}
NOTICE_STATUS_LABELS = {
    NoticeStatus.draft: "下書き（承認待ち）",
    NoticeStatus.approved: "承認済み（未公開）",
    NoticeStatus.published: "公開中",
}
CHANNEL_LIMITS = {NoticeChannel.sms: SMS_LIMIT, NoticeChannel.sns: SNS_LIMIT}
TITLE_LABELS = {NoticeChannel.email: "件名"}  # the rest: タイトル; SMS and SNS have none
UNTITLED = frozenset({NoticeChannel.sms, NoticeChannel.sns})
HARASSMENT_LABELS = {
    "abuse": "暴言",
    "threat": "脅迫",
    "personal_attack": "人格否定",
    "unreasonable_demand": "不当要求",
    "long_hold": "長時間拘束",
    "sns_exposure": "SNS晒し",
    "discrimination": "差別",
    "sexual": "性的",
}
ROSTER_CHANNEL_LABELS = {"email": "メール", "slack": "Slack", "teams": "Teams", "phone": "電話"}


# --- small helpers ----------------------------------------------------------------------------


def _incident_notice(session: Session, org_id: int, incident_id: int, notice_id: int) -> Notice:
    notice = notices.get_notice(session=session, org_id=org_id, notice_id=notice_id)
    if notice.incident_id != incident_id:
        raise NotFound("notice not in incident", message_ja="告知文が見つかりません")
    return notice


def _percent(value: Any) -> str:
    return f"{float(value) * 100:.0f}%" if isinstance(value, int | float) else "—"


def staffing_rows(staffing: dict[str, Any]) -> list[tuple[str, str]]:
    """体制の前提 as (label, value) lines, in the order a manager reads them."""
    rows: list[tuple[str, str]] = []
    if "affected_customers" in staffing:
        rows.append(("対象のお客様（件・台）", f"{int(staffing['affected_customers']):,}"))
    rows.append(("入電率（対象のうち問い合わせる割合）", _percent(staffing.get("contact_rate"))))
    if "expected_contacts" in staffing:
        rows.append(("想定問い合わせ件数", f"{int(staffing['expected_contacts']):,}件"))
    if "aht_seconds" in staffing:
        aht = int(staffing["aht_seconds"])
        rows.append(("平均処理時間（AHT）", f"{aht}秒（{aht / 60:.1f}分）"))
    level = staffing.get("service_level") or {}
    if level:
        rows.append(
            (
                "サービスレベル目標",
                f"{level.get('target_percent')}%を{level.get('answer_within_seconds')}秒以内に応答",
            )
        )
    if "peak_day" in staffing:
        rows.append(
            (
                "ピーク日",
                f"公表から{staffing['peak_day']}日目（全体の{_percent(staffing.get('peak_day_share'))}）",
            )
        )
    if "duration_days" in staffing:
        rows.append(("想定対応期間", f"{staffing['duration_days']}日"))
    if "self_service_deflection" in staffing:
        rows.append(("セルフサービスでの解決率", _percent(staffing.get("self_service_deflection"))))
    if "shrinkage" in staffing:
        rows.append(("シュリンケージ（休憩・研修など）", _percent(staffing.get("shrinkage"))))
    if "max_occupancy" in staffing:
        rows.append(("最大稼働率", _percent(staffing.get("max_occupancy"))))
    if staffing.get("notes"):
        rows.append(("備考", str(staffing["notes"])))
    return rows


@dataclass(frozen=True)
class NoticeRow:
    notice: Notice
    label: str
    status_label: str
    approvals: list[Any]
    missing: list[str]


def _notice_row(session: Session, notice: Notice) -> NoticeRow:
    return NoticeRow(
        notice=notice,
        label=CHANNEL_LABELS_JA[notice.channel],
        status_label=NOTICE_STATUS_LABELS[notice.status],
        approvals=list(notices.current_approvals(session=session, notice=notice)),
        missing=notices.missing_departments(session=session, notice=notice),
    )


def jst_iso(value: object) -> str:
    """An ISO timestamp stored in JSON (final report, version approvals) shown in JST."""
    if not isinstance(value, str) or not value:
        return ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return format_jst(moment) if moment.tzinfo is not None else value


def _common(incident: Incident, section: str) -> dict[str, Any]:
    """What every incident screen needs: the header, the 訓練 banner, the tabs."""
    return {
        "incident": incident,
        "section": section,
        "state_label": STATE_LABELS_JA[incident.state],
        "state_labels": STATE_LABELS_JA,
        "jst_iso": jst_iso,
        "notice": None,
        "error": None,
    }


# --- list -------------------------------------------------------------------------------------


@router.get(PATH, dependencies=CanRead)
def incident_list(principal: UserDep, tx: TxDep) -> Response:
    with tx() as session:
        chrome = ui.load_chrome(session=session, principal=principal, path=PATH)
        items: list[Incident] = []
        counts: dict[str, int] = {}
        if chrome.org_id is not None:
            items = list(service.list_incidents(session=session, org_id=chrome.org_id))
            counts = service.real_incident_counts(session=session, org_id=chrome.org_id)
        return ui.page(
            "incidents/list.html",
            {
                "items": items,
                "counts": [
                    (STATE_LABELS_JA[s], counts.get(s.value, 0), s.value) for s in IncidentState
                ],
                "state_labels": STATE_LABELS_JA,
                "can_launch": principal.can(Permission.incidents_launch),
            },
            chrome=chrome,
        )


# --- the incident -----------------------------------------------------------------------------


def _incident_page(
    tx: Transaction,
    principal: Principal,
    incident_id: int,
    *,
    notice: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    with tx() as session:
        chrome, org_id = ui.chrome_and_org(session=session, principal=principal, path=PATH)
        incident = service.get_incident(session=session, org_id=org_id, incident_id=incident_id)
        rows = [
            _notice_row(session, n)
            for n in notices.list_notices(session=session, org_id=org_id, incident_id=incident_id)
        ]
        deliveries = notify_service.list_deliveries(
            session=session, org_id=org_id, incident_id=incident_id, limit=50
        )
        order = list(IncidentState)
        targets = sorted(STATE_TRANSITIONS[incident.state], key=order.index)
        return ui.page(
            "incidents/detail.html",
            {
                **_common(incident, "overview"),
                "notice": NOTICES.get(notice),
                "error": error,
                "notices": rows,
                "deliveries": deliveries,
                "can_retry": principal.can(Permission.roster_manage),
                "staffing_rows": staffing_rows(incident.staffing),
                "team_roles": incident.staffing.get("team_roles", []),
                "rendered": incident.rendered,
                "harassment_labels": HARASSMENT_LABELS,
                "roster_channel_labels": ROSTER_CHANNEL_LABELS,
                "trigger_labels": service.TRIGGER_LABELS_JA,
                "can_manage": principal.can(Permission.incidents_manage),
                "state_targets": [t for t in targets if t is not IncidentState.closed],
                "can_close": IncidentState.closed in targets,
            },
            chrome=chrome,
            status_code=status_code,
        )


@router.get(f"{PATH}/{{incident_id:int}}", dependencies=CanRead)
def incident_detail(incident_id: int, principal: UserDep, tx: TxDep, notice: str = "") -> Response:
    return _incident_page(tx, principal, incident_id, notice=notice)


@router.post(f"{PATH}/{{incident_id:int}}/state", dependencies=CanManage)
def incident_state(
    incident_id: int,
    principal: UserDep,
    tx: TxDep,
    ctx: CtxDep,
    state: FormStr = "",
    note: FormStr = "",
) -> Response:
    target = next((s for s in IncidentState if s.value == state), None)
    if target is None:
        return _incident_page(
            tx, principal, incident_id, error="変更後の状態を選んでください", status_code=422
        )
    try:
        with tx() as session:
            _, org_id = ui.chrome_and_org(session=session, principal=principal, path=PATH)
            service.change_state(
                session=session,
                org_id=org_id,
                incident_id=incident_id,
                to=target,
                actor_label=principal.label,
                clock=ctx.clock,
                note=note[:2000],
            )
    except Conflict as exc:
        return _incident_page(
            tx, principal, incident_id, error=exc.message_ja, status_code=exc.http_status
        )
    return RedirectResponse(f"{PATH}/{incident_id}?notice=state", status_code=303)


# --- notices ----------------------------------------------------------------------------------


def _notice_page(
    tx: Transaction,
    principal: Principal,
    incident_id: int,
    notice_id: int,
    *,
    notice: str = "",
    error: str | None = None,
    draft: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    with tx() as session:
        chrome, org_id = ui.chrome_and_org(session=session, principal=principal, path=PATH)
        incident = service.get_incident(session=session, org_id=org_id, incident_id=incident_id)
        item = _incident_notice(session, org_id, incident_id, notice_id)
        row = _notice_row(session, item)
        versions = notices.notice_versions(
            session=session, org_id=org_id, incident_id=incident_id, channel=item.channel
        )
        department = principal.department.value if principal.department else None
        closed = incident.state is IncidentState.closed
        approved_depts = {a.department for a in row.approvals}
        return ui.page(
            "incidents/notice.html",
            {
                **_common(incident, "notices"),
                "row": row,
                "item": item,
                "versions": versions,
                "notice": NOTICES.get(notice),
                "error": error,
                "draft": draft or {"title": item.title, "body": item.body},
                "has_title": item.channel not in UNTITLED,
                "title_label": TITLE_LABELS.get(item.channel, "タイトル"),
                "limit": CHANNEL_LIMITS.get(item.channel),
                "closed": closed,
                "can_edit": principal.can(Permission.notices_edit) and not closed,
                "can_approve": (
                    principal.can(Permission.notices_approve)
                    and department is not None
                    and department in item.required_departments
                    and department not in approved_depts
                    and item.status is not NoticeStatus.published
                    and not closed
                ),
                "my_department": department,
                "already_approved": department in approved_depts,
                "show_publish": principal.can(Permission.notices_publish),
                "can_publish": (
                    not row.missing and item.status is NoticeStatus.approved and not closed
                ),
                "all_notices": [
                    (n.id, CHANNEL_LABELS_JA[n.channel])
                    for n in notices.list_notices(
                        session=session, org_id=org_id, incident_id=incident_id
                    )
                ],
            },
            chrome=chrome,
            status_code=status_code,
        )


NOTICE_PATH = f"{PATH}/{{incident_id:int}}/notices/{{notice_id:int}}"


def _back_to_notice(incident_id: int, notice_id: int, notice: str) -> Response:
    return RedirectResponse(
        f"{PATH}/{incident_id}/notices/{notice_id}?notice={notice}", status_code=303
    )


@router.get(NOTICE_PATH, dependencies=CanRead)
def notice_detail(
    incident_id: int, notice_id: int, principal: UserDep, tx: TxDep, notice: str = ""
) -> Response:
    return _notice_page(tx, principal, incident_id, notice_id, notice=notice)


@router.post(f"{NOTICE_PATH}/edit", dependencies=CanEdit)
def notice_edit(
    incident_id: int,
    notice_id: int,
    principal: UserDep,
    tx: TxDep,
    ctx: CtxDep,
    title: FormStr = "",
    body: FormStr = "",
    revision: FormStr = "",
) -> Response:
    draft = {"title": title, "body": body}
    try:
        with tx() as session:
            _, org_id = ui.chrome_and_org(session=session, principal=principal, path=PATH)
            item = _incident_notice(session, org_id, incident_id, notice_id)
            if revision.isdigit() and int(revision) != item.revision:
                raise Conflict(
                    "edited meanwhile",
                    message_ja="他の人が先に文面を更新しました。最新の文面を確認してから修正してください",
                )
            before = item.revision
            if item.channel in UNTITLED:
                title = item.title
            notices.edit_notice(
                session=session,
                org_id=org_id,
                notice_id=notice_id,
                title=title,
                body=body,
                actor_label=principal.label,
                clock=ctx.clock,
            )
            changed = item.revision != before
    except (ValidationFailed, Conflict) as exc:
        return _notice_page(
            tx,
            principal,
            incident_id,
            notice_id,
            error=exc.message_ja,
            draft=draft,
            status_code=exc.http_status,
        )
    return _back_to_notice(incident_id, notice_id, "saved" if changed else "unchanged")


@router.post(f"{NOTICE_PATH}/approve", dependencies=CanApprove)
def notice_approve(
    incident_id: int,
    notice_id: int,
    principal: UserDep,
    tx: TxDep,
    ctx: CtxDep,
    revision: FormStr = "",
    comment: FormStr = "",
) -> Response:
    try:
        if not revision.isdigit():
            raise ValidationFailed("revision", message_ja="承認する版が指定されていません")
        with tx() as session:
            _, org_id = ui.chrome_and_org(session=session, principal=principal, path=PATH)
            _incident_notice(session, org_id, incident_id, notice_id)
            notices.approve_notice(
                session=session,
                org_id=org_id,
                notice_id=notice_id,
                revision=int(revision),
                department=principal.department,
                user_id=principal.user_id,
                actor_label=principal.label,
                clock=ctx.clock,
                comment=comment[:2000],
            )
    except (ValidationFailed, Conflict, PermissionDenied) as exc:
        return _notice_page(
            tx, principal, incident_id, notice_id, error=exc.message_ja, status_code=exc.http_status
        )
    return _back_to_notice(incident_id, notice_id, "approved")


@router.post(f"{NOTICE_PATH}/publish", dependencies=CanPublish)
def notice_publish(
    incident_id: int,
    notice_id: int,
    principal: UserDep,
    tx: TxDep,
    ctx: CtxDep,
    change_note: FormStr = "",
) -> Response:
    try:
        with tx() as session:
            _, org_id = ui.chrome_and_org(session=session, principal=principal, path=PATH)
            _incident_notice(session, org_id, incident_id, notice_id)
            notices.publish_notice(
                session=session,
                org_id=org_id,
                notice_id=notice_id,
                actor_label=principal.label,
                clock=ctx.clock,
                change_note=change_note[:2000],
            )
    except (ValidationFailed, Conflict) as exc:
        return _notice_page(
            tx, principal, incident_id, notice_id, error=exc.message_ja, status_code=exc.http_status
        )
    return _back_to_notice(incident_id, notice_id, "published")


# --- timeline and final report ----------------------------------------------------------------


@router.get(f"{PATH}/{{incident_id:int}}/timeline", dependencies=CanRead)
def incident_timeline(incident_id: int, principal: UserDep, tx: TxDep) -> Response:
    with tx() as session:
        chrome, org_id = ui.chrome_and_org(session=session, principal=principal, path=PATH)
        incident = service.get_incident(session=session, org_id=org_id, incident_id=incident_id)
        events = service.timeline(session=session, org_id=org_id, incident_id=incident_id)
        return ui.page(
            "incidents/timeline.html",
            {**_common(incident, "timeline"), "events": events},
            chrome=chrome,
        )


@router.get(f"{PATH}/{{incident_id:int}}/report", dependencies=CanRead)
def incident_report(incident_id: int, principal: UserDep, tx: TxDep) -> Response:
    with tx() as session:
        chrome, org_id = ui.chrome_and_org(session=session, principal=principal, path=PATH)
        incident = service.get_incident(session=session, org_id=org_id, incident_id=incident_id)
        report = incident.final_report if incident.state is IncidentState.closed else None
        return ui.page(
            "incidents/report.html",
            {
                **_common(incident, "report"),
                "report": report,
                "staffing_rows": staffing_rows(report["staffing"]) if report else [],
            },
            chrome=chrome,
        )
