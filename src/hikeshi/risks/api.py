"""JSON API of the risk register: ``/api/v1/orgs/{org_id}/risks``."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.datastructures import UploadFile

from hikeshi.auth.permissions import Permission
from hikeshi.deps import CtxDep, CurrentOrg, Require, TxDep
from hikeshi.errors import ValidationFailed
from hikeshi.risks import csvio, service
from hikeshi.risks.models import Priority
from hikeshi.risks.schemas import (
    HeatmapPublic,
    ImportResult,
    MatrixPublic,
    MatrixUpdate,
    RiskCreate,
    RiskPublic,
    RisksPublic,
    RiskUpdate,
)

router = APIRouter(prefix="/orgs/{org_id}", tags=["risks"])
READ = [Depends(Require(Permission.risks_read))]
MANAGE = [Depends(Require(Permission.risks_manage))]
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


def risk_filter(
    category: str | None = None,
    priority: Priority | None = None,
    owner: str | None = None,
    overdue: bool = False,
    playbook_id: Annotated[
        str | None, Query(description="pack id; an empty value = risks without a playbook")
    ] = None,
    likelihood: Annotated[int | None, Query(ge=1, le=5)] = None,
    impact: Annotated[int | None, Query(ge=1, le=5)] = None,
    q: Annotated[str | None, Query(description="part of the title")] = None,
) -> service.RiskFilter:
    return service.RiskFilter(
        category=category or None,
        priority=priority,
        owner=owner or None,
        overdue=overdue,
        playbook_id=playbook_id,
        likelihood=likelihood,
        impact=impact,
        q=q or None,
    )


FilterDep = Annotated[service.RiskFilter, Depends(risk_filter)]


async def csv_payload(request: Request) -> bytes:
    """The CSV of an import: a multipart ``file`` field, or the raw request body."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ValidationFailed(
                "no file", message_ja="CSVファイルを選択してください", fields={"file": "required"}
            )
        data = await upload.read(csvio.MAX_BYTES + 1)
    else:
        data = await request.body()
    return data


@router.get("/risks", dependencies=READ)
def list_risks(org: CurrentOrg, tx: TxDep, ctx: CtxDep, filters: FilterDep) -> RisksPublic:
    with tx() as session:
        matrix = service.get_matrix(session=session, org_id=org.org_id)
        items = service.list_risks(
            session=session, org_id=org.org_id, filters=filters, clock=ctx.clock
        )
        today = service.today_jst(ctx.clock)
        data = [service.to_public(r, matrix=matrix, today=today) for r in items]
    return RisksPublic(data=data, count=len(data))


@router.post("/risks", status_code=201, dependencies=MANAGE)
def create_risk(org: CurrentOrg, body: RiskCreate, tx: TxDep, ctx: CtxDep) -> RiskPublic:
    with tx() as session:
        risk = service.create_risk(
            session=session,
            org_id=org.org_id,
            data=body,
            actor_label=org.principal.label,
            clock=ctx.clock,
            playbooks=service.playbook_titles(ctx.settings.playbook_dirs),
        )
        matrix = service.get_matrix(session=session, org_id=org.org_id)
        public = service.to_public(risk, matrix=matrix, today=service.today_jst(ctx.clock))
    return public


@router.get("/risks/heatmap", dependencies=READ)
def heatmap(org: CurrentOrg, tx: TxDep, ctx: CtxDep, filters: FilterDep) -> HeatmapPublic:
    with tx() as session:
        return service.heatmap(session=session, org_id=org.org_id, clock=ctx.clock, filters=filters)


@router.get("/risks/matrix", dependencies=READ)
def get_matrix(org: CurrentOrg, tx: TxDep) -> MatrixPublic:
    with tx() as session:
        return service.get_matrix(session=session, org_id=org.org_id).public()


@router.put("/risks/matrix", dependencies=MANAGE)
def set_matrix(org: CurrentOrg, body: MatrixUpdate, tx: TxDep, ctx: CtxDep) -> MatrixPublic:
    with tx() as session:
        matrix = service.set_matrix(
            session=session,
            org_id=org.org_id,
            data=body,
            actor_label=org.principal.label,
            clock=ctx.clock,
        )
    return matrix.public()


def export_filename(today: date) -> str:
    return f"risks-{today.isoformat()}.csv"


@router.get(
    "/risks/export.csv",
    dependencies=READ,
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "UTF-8 (BOM) CSV"}},
)
def export_csv(org: CurrentOrg, tx: TxDep, ctx: CtxDep) -> Response:
    with tx() as session:
        data = service.export_csv(session=session, org_id=org.org_id, clock=ctx.clock)
    name = export_filename(service.today_jst(ctx.clock))
    return Response(
        data,
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post(
    "/risks/import",
    status_code=201,
    dependencies=MANAGE,
    openapi_extra={
        "requestBody": {
            "description": "CSV (UTF-8 with or without BOM, or Shift_JIS) as the body, or a "
            "multipart form with a `file` field. All rows or none: 422 lists every error "
            "as {line, column, message}.",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                },
            },
        }
    },
)
def import_csv(
    org: CurrentOrg,
    payload: Annotated[bytes, Depends(csv_payload)],
    tx: TxDep,
    ctx: CtxDep,
) -> ImportResult:
    with tx() as session:
        created = service.import_csv(
            session=session,
            org_id=org.org_id,
            data=payload,
            actor_label=org.principal.label,
            clock=ctx.clock,
            playbooks=service.playbook_titles(ctx.settings.playbook_dirs),
        )
    return ImportResult(created=len(created))


@router.get("/risks/{risk_id}", dependencies=READ)
def get_risk(org: CurrentOrg, risk_id: int, tx: TxDep, ctx: CtxDep) -> RiskPublic:
    with tx() as session:
        risk = service.get_risk(session=session, org_id=org.org_id, risk_id=risk_id)
        matrix = service.get_matrix(session=session, org_id=org.org_id)
        return service.to_public(risk, matrix=matrix, today=service.today_jst(ctx.clock))


def _update(org: CurrentOrg, risk_id: int, body: RiskUpdate, tx: TxDep, ctx: CtxDep) -> RiskPublic:
    with tx() as session:
        risk = service.update_risk(
            session=session,
            org_id=org.org_id,
            risk_id=risk_id,
            data=body,
            actor_label=org.principal.label,
            clock=ctx.clock,
            playbooks=service.playbook_titles(ctx.settings.playbook_dirs),
        )
        matrix = service.get_matrix(session=session, org_id=org.org_id)
        public = service.to_public(risk, matrix=matrix, today=service.today_jst(ctx.clock))
    return public


@router.patch("/risks/{risk_id}", dependencies=MANAGE)
def patch_risk(
    org: CurrentOrg, risk_id: int, body: RiskUpdate, tx: TxDep, ctx: CtxDep
) -> RiskPublic:
    """Change only the fields sent."""
    return _update(org, risk_id, body, tx, ctx)


@router.put("/risks/{risk_id}", dependencies=MANAGE)
def put_risk(org: CurrentOrg, risk_id: int, body: RiskCreate, tx: TxDep, ctx: CtxDep) -> RiskPublic:
    """Replace every field."""
    return _update(org, risk_id, RiskUpdate.model_validate(body.model_dump()), tx, ctx)


@router.delete("/risks/{risk_id}", status_code=204, dependencies=MANAGE)
def delete_risk(org: CurrentOrg, risk_id: int, tx: TxDep) -> Response:
    with tx() as session:
        service.delete_risk(session=session, org_id=org.org_id, risk_id=risk_id)
    return Response(status_code=204)
