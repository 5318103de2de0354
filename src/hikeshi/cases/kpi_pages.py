"""レポート (``/reports``): the KPI table with CSS-free bars (``<meter>``), and the public
one-question CSAT survey (``/survey/{token}``: no login, one answer per token).

Definitions are in :mod:`hikeshi.cases.kpis` and printed under the table.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import Response

from hikeshi.audit.service import Actor, set_actor
from hikeshi.auth.permissions import Permission
from hikeshi.cases import kpis, survey
from hikeshi.deps import CtxDep, Require, TxDep
from hikeshi.errors import HikeshiError, ValidationFailed
from hikeshi.incidents import service as incident_service
from hikeshi.web import ui
from hikeshi.web.pages import UserDep

router = APIRouter(include_in_schema=False)
PATH = "/reports"
CanRead = [Depends(Require(Permission.kpis_read))]
SURVEY_ACTOR = Actor(type="anonymous", id=None, label="customer-survey")


def _day(value: str, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            f"{field} is not a date",
            message_ja="日付を正しく入力してください",
            fields={field: value},
        ) from None


@router.get(PATH, dependencies=CanRead)
def reports_page(
    principal: UserDep,
    tx: TxDep,
    ctx: CtxDep,
    start: str = "",
    end: str = "",
    incident_id: str = "",
    operator: str = "",
    group_by: str = "",
    recurrence_days: str = "7",
) -> Response:
    now = ctx.clock.now()
    query = {
        "start": start,
        "end": end,
        "incident_id": incident_id,
        "operator": operator,
        "group_by": group_by,
        "recurrence_days": recurrence_days,
    }
    with tx() as session:
        chrome = ui.load_chrome(session=session, principal=principal, path=PATH)
        error: str | None = None
        total = None
        rows: list[kpis.KpiRow] = []
        period = kpis.period_from_days(first_day=None, last_day=None, now=now)
        incidents = []
        if chrome.org_id is not None:
            incidents = list(
                incident_service.list_incidents(
                    session=session, org_id=chrome.org_id, include_drills=False
                )
            )
            try:
                period = kpis.period_from_days(
                    first_day=_day(start, "start"), last_day=_day(end, "end"), now=now
                )
                chosen_incident = int(incident_id) if incident_id.isdigit() else None
                window = int(recurrence_days) if recurrence_days.isdigit() else 0
                grouping = group_by if group_by in ("incident", "operator", "day") else None
                total, rows = kpis.kpi_table(
                    session=session,
                    org_id=chrome.org_id,
                    start=period.start,
                    end=period.end,
                    now=now,
                    incident_id=chosen_incident,
                    operator=operator.strip() or None,
                    recurrence_days=window,
                    group_by=grouping,  # type: ignore[arg-type]
                )
            except ValidationFailed as exc:
                error = exc.message_ja
        return ui.page(
            "cases/kpis/reports.html",
            {
                "total": total,
                "rows": rows,
                "period": period,
                "query": query,
                "incidents": incidents,
                "group_labels": kpis.GROUP_LABELS_JA,
                "rate": kpis.format_rate,
                "duration": kpis.format_duration,
                "error": error,
            },
            chrome=chrome,
            status_code=422 if error else 200,
        )


# --- public survey ----------------------------------------------------------------------------


def _survey(state: str, *, status_code: int = 200, token: str = "", error: str = "") -> Response:
    return ui.page(
        "cases/kpis/survey.html",
        {"state": state, "token": token, "error": error, "view": None},
        status_code=status_code,
    )


@router.get("/survey/{token}")
def survey_form(token: str, ctx: CtxDep) -> Response:
    with ctx.sessions() as session:
        case = survey.case_by_survey_token(session=session, token=token)
        if case is None:
            return _survey("missing", status_code=404)
        if case.csat_score is not None:
            return _survey("done")
        return _survey("form", token=token)


@router.post("/survey/{token}")
def survey_submit(token: str, ctx: CtxDep, score: Annotated[str, Form()] = "") -> Response:
    session = ctx.sessions()
    set_actor(session, SURVEY_ACTOR)
    try:
        survey.submit_survey(
            session=session,
            token=token,
            score=int(score) if score.isdigit() else 0,
            clock=ctx.clock,
        )
        session.commit()
    except HikeshiError as exc:
        session.rollback()
        if exc.http_status == 404:
            return _survey("missing", status_code=404)
        if exc.http_status == 409:
            return _survey("done", status_code=409)
        return _survey("form", token=token, error=exc.message_ja, status_code=exc.http_status)
    finally:
        session.close()
    return _survey("thanks")
