"""JSON API of the crisis desk: packs, launch, notices, lifecycle, timeline, final report."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Response
from sqlalchemy.orm import Session

from hikeshi.auth.permissions import Permission
from hikeshi.deps import CtxDep, CurrentOrg, Require, TxDep
from hikeshi.errors import PermissionDenied
from hikeshi.incidents import notices, service
from hikeshi.incidents.models import Incident, IncidentState, Notice
from hikeshi.incidents.packs import available_packs, get_pack
from hikeshi.incidents.schemas import (
    ApprovalOut,
    IncidentDetail,
    IncidentList,
    IncidentSummary,
    LaunchRequest,
    LaunchResponse,
    NoticeApprove,
    NoticeEdit,
    NoticeList,
    NoticeOut,
    NoticePublish,
    NoticeVersionList,
    NoticeVersionOut,
    StateChange,
    Timeline,
    TimelineEventOut,
)

router = APIRouter(prefix="/orgs/{org_id}", tags=["incidents"])
READ = [Depends(Require(Permission.incidents_read))]


@router.get("/packs", dependencies=READ)
def list_packs(org: CurrentOrg, ctx: CtxDep) -> list[dict[str, Any]]:
    return [
        {
            "id": pack.id,
            "version": pack.version,
            "incident_type": pack.incident_type,
            "title": pack.title,
            "description": pack.description,
            "parameters": [p.model_dump(mode="json") for p in pack.parameters],
        }
        for pack in available_packs(ctx.settings).values()
    ]


def _notice_out(session: Session, notice: Notice) -> NoticeOut:
    out = NoticeOut.model_validate(notice)
    out.approvals = [
        ApprovalOut.model_validate(a)
        for a in notices.current_approvals(session=session, notice=notice)
    ]
    out.missing_departments = notices.missing_departments(session=session, notice=notice)
    return out


@router.post(
    "/incidents",
    dependencies=[Depends(Require(Permission.incidents_launch))],
    responses={
        200: {"description": "Already launched with this key"},
        201: {"description": "Launched"},
    },
    status_code=201,
)
def launch(
    org: CurrentOrg, body: LaunchRequest, tx: TxDep, ctx: CtxDep, response: Response
) -> LaunchResponse:
    pack = get_pack(ctx.settings, body.pack_id)
    with tx() as session:
        result = service.launch(
            session=session,
            org_id=org.org_id,
            pack=pack,
            params=body.params,
            launch_key=body.launch_key,
            actor_label=org.principal.label,
            clock=ctx.clock,
            title=body.title,
            is_drill=body.is_drill,
            staffing_overrides=body.staffing,
        )
        out = LaunchResponse(
            created=result.created, incident=IncidentDetail.model_validate(result.incident)
        )
    if not result.created:
        response.status_code = 200
    return out


@router.get("/incidents", dependencies=READ)
def list_incidents(
    org: CurrentOrg, tx: TxDep, state: IncidentState | None = None, include_drills: bool = True
) -> IncidentList:
    with tx() as session:
        items = service.list_incidents(
            session=session, org_id=org.org_id, state=state, include_drills=include_drills
        )
        data = [IncidentSummary.model_validate(i) for i in items]
    return IncidentList(data=data, count=len(data))


@router.get("/incidents/{incident_id}", dependencies=READ)
def get_incident(org: CurrentOrg, incident_id: int, tx: TxDep) -> IncidentDetail:
    with tx() as session:
        incident = service.get_incident(session=session, org_id=org.org_id, incident_id=incident_id)
        return IncidentDetail.model_validate(incident)


@router.post(
    "/incidents/{incident_id}/state", dependencies=[Depends(Require(Permission.incidents_manage))]
)
def change_state(
    org: CurrentOrg, incident_id: int, body: StateChange, tx: TxDep, ctx: CtxDep
) -> IncidentDetail:
    with tx() as session:
        incident: Incident = service.change_state(
            session=session,
            org_id=org.org_id,
            incident_id=incident_id,
            to=body.state,
            actor_label=org.principal.label,
            clock=ctx.clock,
            note=body.note,
        )
        return IncidentDetail.model_validate(incident)


@router.get("/incidents/{incident_id}/notices", dependencies=READ)
def list_notices(org: CurrentOrg, incident_id: int, tx: TxDep) -> NoticeList:
    with tx() as session:
        items = notices.list_notices(session=session, org_id=org.org_id, incident_id=incident_id)
        data = [_notice_out(session, n) for n in items]
    return NoticeList(data=data, count=len(data))


@router.get("/notices/{notice_id}", dependencies=READ)
def get_notice(org: CurrentOrg, notice_id: int, tx: TxDep) -> NoticeOut:
    with tx() as session:
        notice = notices.get_notice(session=session, org_id=org.org_id, notice_id=notice_id)
        return _notice_out(session, notice)


@router.put("/notices/{notice_id}", dependencies=[Depends(Require(Permission.notices_edit))])
def edit_notice(
    org: CurrentOrg, notice_id: int, body: NoticeEdit, tx: TxDep, ctx: CtxDep
) -> NoticeOut:
    with tx() as session:
        notice = notices.edit_notice(
            session=session,
            org_id=org.org_id,
            notice_id=notice_id,
            title=body.title,
            body=body.body,
            actor_label=org.principal.label,
            clock=ctx.clock,
        )
        return _notice_out(session, notice)


@router.post(
    "/notices/{notice_id}/approve", dependencies=[Depends(Require(Permission.notices_approve))]
)
def approve_notice(
    org: CurrentOrg, notice_id: int, body: NoticeApprove, tx: TxDep, ctx: CtxDep
) -> NoticeOut:
    principal = org.principal
    if principal.kind != "user":
        # An approval is a person's judgement; an integration token cannot give it.
        raise PermissionDenied(
            "approvals need a signed-in person", message_ja="承認はログインした担当者が行います"
        )
    with tx() as session:
        notice = notices.approve_notice(
            session=session,
            org_id=org.org_id,
            notice_id=notice_id,
            revision=body.revision,
            department=principal.department,
            user_id=principal.user_id,
            actor_label=principal.label,
            clock=ctx.clock,
            comment=body.comment,
        )
        return _notice_out(session, notice)


@router.post(
    "/notices/{notice_id}/publish", dependencies=[Depends(Require(Permission.notices_publish))]
)
def publish_notice(
    org: CurrentOrg, notice_id: int, body: NoticePublish, tx: TxDep, ctx: CtxDep
) -> NoticeVersionOut:
    with tx() as session:
        version = notices.publish_notice(
            session=session,
            org_id=org.org_id,
            notice_id=notice_id,
            actor_label=org.principal.label,
            clock=ctx.clock,
            change_note=body.change_note,
        )
        return NoticeVersionOut.model_validate(version)


@router.get("/incidents/{incident_id}/notice-versions", dependencies=READ)
def notice_versions(org: CurrentOrg, incident_id: int, tx: TxDep) -> NoticeVersionList:
    with tx() as session:
        service.get_incident(session=session, org_id=org.org_id, incident_id=incident_id)
        items = notices.notice_versions(session=session, org_id=org.org_id, incident_id=incident_id)
        data = [NoticeVersionOut.model_validate(v) for v in items]
    return NoticeVersionList(data=data, count=len(data))


@router.get("/incidents/{incident_id}/timeline", dependencies=READ)
def timeline(org: CurrentOrg, incident_id: int, tx: TxDep) -> Timeline:
    with tx() as session:
        events = service.timeline(session=session, org_id=org.org_id, incident_id=incident_id)
        data = [TimelineEventOut.model_validate(e) for e in events]
    return Timeline(data=data, count=len(data))
