"""リスク一覧 pages: the register with its filters and 5 × 5 heat map, the create/edit form,
CSV import (errors by 行 and 列) and export, and the priority matrix.

The organisation is the one chosen in the header; writes use the same service functions as the
JSON API, one transaction per use case, CSV-checked by ``CurrentPrincipal``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from hikeshi.auth.permissions import Permission
from hikeshi.deps import CtxDep, Principal, Require, Transaction, TxDep
from hikeshi.errors import ValidationFailed
from hikeshi.risks import csvio, service
from hikeshi.risks.api import export_filename
from hikeshi.risks.models import (
    IMPACT_LABELS_JA,
    LIKELIHOOD_LABELS_JA,
    PRIORITY_LABELS_JA,
    SCALE,
    Priority,
)
from hikeshi.risks.schemas import MatrixUpdate, RiskCreate, RiskUpdate
from hikeshi.web import ui
from hikeshi.web.pages import UserDep

router = APIRouter(include_in_schema=False)
READ = [Depends(Require(Permission.risks_read))]
MANAGE = [Depends(Require(Permission.risks_manage))]
FormStr = Annotated[str, Form()]
PATH = "/risks"

FIELD_LABELS = {
    "title": "タイトル",
    "category": "カテゴリ",
    "likelihood": "発生可能性",
    "impact": "影響度",
    "owner": "担当者",
    "review_date": "見直し日",
    "playbook_id": "対応フロー",
    "notes": "備考",
}
FIELD_MESSAGES = {
    "title": "1〜200文字で入力してください",
    "category": "カテゴリを選択してください",
    "likelihood": "1〜5 から選択してください",
    "impact": "1〜5 から選択してください",
    "owner": "200文字以内で入力してください",
    "review_date": "日付を正しく入力してください",
    "playbook_id": "対応フローを選択してください",
    "notes": "4000文字以内で入力してください",
}
NOTICES = {
    "created": "リスクを登録しました",
    "updated": "リスクを更新しました",
    "deleted": "リスクを削除しました",
    "matrix": "優先度表を保存しました",
}


def _common(ctx: CtxDep, principal: Principal, matrix: service.Matrix) -> dict[str, Any]:
    return {
        "can_manage": principal.can(Permission.risks_manage),
        "categories": matrix.categories,
        "playbooks": service.playbook_titles(ctx.settings.playbook_dirs),
        "priorities": [(p.value, p.label_ja) for p in Priority],
        "scale": SCALE,
        "likelihood_labels": LIKELIHOOD_LABELS_JA,
        "impact_labels": IMPACT_LABELS_JA,
        "field_labels": FIELD_LABELS,
    }


# --- the register ----------------------------------------------------------------------------


def _scale_value(raw: str) -> int | None:
    return int(raw) if raw in {"1", "2", "3", "4", "5"} else None


@dataclass(frozen=True)
class ListQuery:
    category: str = ""
    priority: str = ""
    owner: str = ""
    overdue: str = ""
    playbook: str = ""
    likelihood: str = ""
    impact: str = ""
    q: str = ""

    def filters(self) -> service.RiskFilter:
        priority = next((p for p in Priority if p.value == self.priority), None)
        return service.RiskFilter(
            category=self.category or None,
            priority=priority,
            owner=self.owner.strip() or None,
            overdue=self.overdue == "1",
            playbook_id=(
                None if not self.playbook else "" if self.playbook == "-" else self.playbook
            ),
            likelihood=int(self.likelihood)
            if self.likelihood in {"1", "2", "3", "4", "5"}
            else None,
            impact=int(self.impact) if self.impact in {"1", "2", "3", "4", "5"} else None,
            q=self.q.strip() or None,
        )

    def link(self, **override: str) -> str:
        values = {**self.__dict__, **override}
        query = urlencode({k: v for k, v in values.items() if v})
        return f"{PATH}?{query}" if query else PATH


QueryDep = Annotated[ListQuery, Depends()]


@router.get(PATH, dependencies=READ)
def risk_list(
    principal: UserDep,
    tx: TxDep,
    ctx: CtxDep,
    query: Annotated[ListQuery, Depends()],
    notice: str = "",
) -> Response:
    filters = query.filters()
    with tx() as session:
        chrome = ui.load_chrome(session=session, principal=principal, path=PATH)
        if chrome.org_id is None:
            return ui.page("risks/list.html", {"no_org": True}, chrome=chrome)
        matrix = service.get_matrix(session=session, org_id=chrome.org_id)
        today = service.today_jst(ctx.clock)
        risks = [
            service.to_public(r, matrix=matrix, today=today)
            for r in service.list_risks(
                session=session, org_id=chrome.org_id, filters=filters, clock=ctx.clock
            )
        ]
        heat = service.heatmap(
            session=session, org_id=chrome.org_id, clock=ctx.clock, filters=filters
        )
    rows = [heat.cells[i : i + 5] for i in range(0, 25, 5)]
    return ui.page(
        "risks/list.html",
        {
            "no_org": False,
            "risks": risks,
            "heat_rows": rows,
            "heat_total": heat.total,
            "query": query,
            "filtered": not filters.is_empty(),
            "cell_selected": filters.likelihood is not None or filters.impact is not None,
            "notice": NOTICES.get(notice),
            **_common(ctx, principal, matrix),
        },
        chrome=chrome,
    )


@router.get(f"{PATH}/export.csv", dependencies=READ)
def export_csv(principal: UserDep, tx: TxDep, ctx: CtxDep) -> Response:
    with tx() as session:
        _, org_id = ui.chrome_and_org(session=session, principal=principal, path=PATH)
        data = service.export_csv(session=session, org_id=org_id, clock=ctx.clock)
    name = export_filename(service.today_jst(ctx.clock))
    return Response(
        data,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


# --- create and edit -------------------------------------------------------------------------


def _form_page(
    tx: Transaction,
    ctx: CtxDep,
    principal: Principal,
    *,
    risk_id: int | None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    with tx() as session:
        chrome, org_id = ui.chrome_and_org(session=session, principal=principal, path=PATH)
        matrix = service.get_matrix(session=session, org_id=org_id)
        risk = None
        if risk_id is not None:
            risk = service.to_public(
                service.get_risk(session=session, org_id=org_id, risk_id=risk_id),
                matrix=matrix,
                today=service.today_jst(ctx.clock),
            )
    if form is None:
        form = (
            {
                k: "" if v is None else str(v)
                for k, v in risk.model_dump(include=set(FIELD_LABELS)).items()
            }
            if risk is not None
            else {"likelihood": "3", "impact": "3"}
        )
    return ui.page(
        "risks/form.html",
        {
            "risk": risk,
            "form": form,
            "errors": errors or {},
            "error": error,
            "priority_grid": [[p.value for p in row] for row in matrix.levels],
            **_common(ctx, principal, matrix),
        },
        chrome=chrome,
        status_code=status_code,
    )


def _form_data(
    title: str,
    category: str,
    likelihood: str,
    impact: str,
    owner: str,
    review_date: str,
    playbook_id: str,
    notes: str,
) -> dict[str, str]:
    return {
        "title": title,
        "category": category,
        "likelihood": likelihood,
        "impact": impact,
        "owner": owner,
        "review_date": review_date,
        "playbook_id": playbook_id,
        "notes": notes,
    }


def _validate(form: dict[str, str]) -> RiskCreate:
    payload: dict[str, Any] = {k: v.strip() if k != "notes" else v for k, v in form.items()}
    payload["review_date"] = payload["review_date"] or None
    payload["playbook_id"] = payload["playbook_id"] or None
    return RiskCreate.model_validate(payload)


def _field_errors(exc: ValidationError) -> dict[str, str]:
    out: dict[str, str] = {}
    for err in exc.errors():
        key = str(err["loc"][0]) if err["loc"] else ""
        out.setdefault(key, FIELD_MESSAGES.get(key, "入力内容に誤りがあります"))
    return out


def _domain_errors(exc: ValidationFailed) -> dict[str, str]:
    return {key: exc.message_ja for key in exc.fields if key in FIELD_LABELS}


@router.get(f"{PATH}/new", dependencies=MANAGE)
def new_form(principal: UserDep, tx: TxDep, ctx: CtxDep) -> Response:
    return _form_page(tx, ctx, principal, risk_id=None)


@router.post(PATH, dependencies=MANAGE)
def create(
    principal: UserDep,
    tx: TxDep,
    ctx: CtxDep,
    title: FormStr = "",
    category: FormStr = "",
    likelihood: FormStr = "",
    impact: FormStr = "",
    owner: FormStr = "",
    review_date: FormStr = "",
    playbook_id: FormStr = "",
    notes: FormStr = "",
) -> Response:
    form = _form_data(title, category, likelihood, impact, owner, review_date, playbook_id, notes)
    try:
        data = _validate(form)
        with tx() as session:
            _, org_id = ui.chrome_and_org(session=session, principal=principal, path=PATH)
            service.create_risk(
                session=session,
                org_id=org_id,
                data=data,
                actor_label=principal.label,
                clock=ctx.clock,
                playbooks=service.playbook_titles(ctx.settings.playbook_dirs),
            )
    except ValidationError as exc:
        return _form_page(
            tx, ctx, principal, risk_id=None, form=form, errors=_field_errors(exc), status_code=422
        )
    except ValidationFailed as exc:
        return _form_page(
            tx,
            ctx,
            principal,
            risk_id=None,
            form=form,
            errors=_domain_errors(exc),
            error=exc.message_ja,
            status_code=422,
        )
    return RedirectResponse(f"{PATH}?notice=created", status_code=303)


# --- CSV import ------------------------------------------------------------------------------


def _import_page(
    tx: Transaction,
    ctx: CtxDep,
    principal: Principal,
    *,
    errors: list[csvio.CsvError] | None = None,
    error: str | None = None,
    created: int | None = None,
    csv_text: str = "",
    status_code: int = 200,
) -> Response:
    with tx() as session:
        chrome, org_id = ui.chrome_and_org(session=session, principal=principal, path=PATH)
        matrix = service.get_matrix(session=session, org_id=org_id)
    return ui.page(
        "risks/import.html",
        {
            "csv_text": csv_text,
            "csv_errors": errors or [],
            "error": error,
            "created": created,
            "columns": csvio.COLUMNS,
            **_common(ctx, principal, matrix),
        },
        chrome=chrome,
        status_code=status_code,
    )


@router.get(f"{PATH}/import", dependencies=MANAGE)
def import_form(principal: UserDep, tx: TxDep, ctx: CtxDep) -> Response:
    return _import_page(tx, ctx, principal)


@router.post(f"{PATH}/import", dependencies=MANAGE)
def import_submit(
    principal: UserDep,
    tx: TxDep,
    ctx: CtxDep,
    file: Annotated[UploadFile | None, File()] = None,
    csv_text: FormStr = "",
) -> Response:
    """A file, or CSV text pasted into the form (for a quick fix without Excel)."""
    data = file.file.read(csvio.MAX_BYTES + 1) if file is not None and file.filename else b""
    if not data and csv_text.strip():
        data = csv_text.encode("utf-8")
    if not data:
        return _import_page(
            tx,
            ctx,
            principal,
            error="CSVファイルを選択するか、内容を貼り付けてください",
            status_code=422,
        )
    try:
        with tx() as session:
            _, org_id = ui.chrome_and_org(session=session, principal=principal, path=PATH)
            created = service.import_csv(
                session=session,
                org_id=org_id,
                data=data,
                actor_label=principal.label,
                clock=ctx.clock,
                playbooks=service.playbook_titles(ctx.settings.playbook_dirs),
            )
    except service.CsvImportFailed as exc:
        return _import_page(
            tx,
            ctx,
            principal,
            errors=exc.errors,
            error=exc.message_ja,
            csv_text=csv_text,  # a pasted text comes back to be fixed; a file is chosen again
            status_code=422,
        )
    return _import_page(tx, ctx, principal, created=len(created))


# --- the priority matrix ---------------------------------------------------------------------


def _matrix_page(
    tx: Transaction,
    ctx: CtxDep,
    principal: Principal,
    *,
    levels: list[list[str]] | None = None,
    extra: str | None = None,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    with tx() as session:
        chrome, org_id = ui.chrome_and_org(session=session, principal=principal, path=PATH)
        matrix = service.get_matrix(session=session, org_id=org_id)
    return ui.page(
        "risks/matrix.html",
        {
            "levels": levels or [[p.value for p in row] for row in matrix.levels],
            "extra": extra if extra is not None else "\n".join(matrix.extra_categories),
            "is_default": matrix.is_default,
            "error": error,
            "notice": NOTICES.get(notice or ""),
            "priority_labels": {p.value: label for p, label in PRIORITY_LABELS_JA.items()},
            **_common(ctx, principal, matrix),
        },
        chrome=chrome,
        status_code=status_code,
    )


@router.get(f"{PATH}/matrix", dependencies=READ)
def matrix_form(principal: UserDep, tx: TxDep, ctx: CtxDep, notice: str = "") -> Response:
    return _matrix_page(tx, ctx, principal, notice=notice)


async def form_fields(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


@router.post(f"{PATH}/matrix", dependencies=MANAGE)
def matrix_submit(
    principal: UserDep,
    tx: TxDep,
    ctx: CtxDep,
    fields: Annotated[dict[str, str], Depends(form_fields)],
) -> Response:
    """Fields ``cell_<likelihood>_<impact>`` (25 of them) and ``extra_categories`` (one a line)."""
    levels = [[fields.get(f"cell_{lk}_{im}", "") for im in SCALE] for lk in SCALE]
    extra = fields.get("extra_categories", "")
    try:
        data = MatrixUpdate.model_validate(
            {"levels": levels, "extra_categories": extra.splitlines()}
        )
        with tx() as session:
            _, org_id = ui.chrome_and_org(session=session, principal=principal, path=PATH)
            service.set_matrix(
                session=session,
                org_id=org_id,
                data=data,
                actor_label=principal.label,
                clock=ctx.clock,
            )
    except ValidationError:
        return _matrix_page(
            tx,
            ctx,
            principal,
            levels=levels,
            extra=extra,
            error="優先度は 低・中・高・極高 から選んでください",
            status_code=422,
        )
    except ValidationFailed as exc:
        return _matrix_page(
            tx, ctx, principal, levels=levels, extra=extra, error=exc.message_ja, status_code=422
        )
    return RedirectResponse(f"{PATH}/matrix?notice=matrix", status_code=303)


# --- one risk (after the fixed paths, so /risks/import is never read as an id) ---------------


@router.get(f"{PATH}/{{risk_id}}", dependencies=READ)
def edit_form(risk_id: int, principal: UserDep, tx: TxDep, ctx: CtxDep) -> Response:
    return _form_page(tx, ctx, principal, risk_id=risk_id)


@router.post(f"{PATH}/{{risk_id}}", dependencies=MANAGE)
def update(
    risk_id: int,
    principal: UserDep,
    tx: TxDep,
    ctx: CtxDep,
    title: FormStr = "",
    category: FormStr = "",
    likelihood: FormStr = "",
    impact: FormStr = "",
    owner: FormStr = "",
    review_date: FormStr = "",
    playbook_id: FormStr = "",
    notes: FormStr = "",
) -> Response:
    form = _form_data(title, category, likelihood, impact, owner, review_date, playbook_id, notes)
    try:
        data = _validate(form)
        with tx() as session:
            _, org_id = ui.chrome_and_org(session=session, principal=principal, path=PATH)
            service.update_risk(
                session=session,
                org_id=org_id,
                risk_id=risk_id,
                data=RiskUpdate.model_validate(data.model_dump()),
                actor_label=principal.label,
                clock=ctx.clock,
                playbooks=service.playbook_titles(ctx.settings.playbook_dirs),
            )
    except ValidationError as exc:
        return _form_page(
            tx,
            ctx,
            principal,
            risk_id=risk_id,
            form=form,
            errors=_field_errors(exc),
            status_code=422,
        )
    except ValidationFailed as exc:
        return _form_page(
            tx,
            ctx,
            principal,
            risk_id=risk_id,
            form=form,
            errors=_domain_errors(exc),
            error=exc.message_ja,
            status_code=422,
        )
    return RedirectResponse(f"{PATH}?notice=updated", status_code=303)


@router.post(f"{PATH}/{{risk_id}}/delete", dependencies=MANAGE)
def delete(risk_id: int, principal: UserDep, tx: TxDep) -> Response:
    with tx() as session:
        _, org_id = ui.chrome_and_org(session=session, principal=principal, path=PATH)
        service.delete_risk(session=session, org_id=org_id, risk_id=risk_id)
    return RedirectResponse(f"{PATH}?notice=deleted", status_code=303)
