"""JSON API of the KPIs (see :mod:`hikeshi.cases.kpis` for the definitions)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from hikeshi.auth.permissions import Permission
from hikeshi.cases import kpis
from hikeshi.deps import CtxDep, CurrentOrg, Require, TxDep

router = APIRouter(prefix="/orgs/{org_id}", tags=["kpis"])
READ = [Depends(Require(Permission.kpis_read))]


class KpiGroupOut(BaseModel):
    key: str
    label: str
    kpis: dict[str, float | int | None]


class KpisOut(BaseModel):
    start: date
    end: date
    timezone: str = "Asia/Tokyo"
    incident_id: int | None
    operator: str | None
    recurrence_days: int
    group_by: str | None
    total: dict[str, float | int | None]
    groups: list[KpiGroupOut]


@router.get("/kpis", dependencies=READ)
def get_kpis(
    org: CurrentOrg,
    tx: TxDep,
    ctx: CtxDep,
    start: date | None = None,
    end: date | None = None,
    incident_id: int | None = None,
    operator: str | None = None,
    group_by: kpis.GroupBy | None = None,
    recurrence_days: int = 7,
) -> KpisOut:
    """``start``/``end`` are JST days, both inclusive (default: the last 7 days). Contacts of
    drill incidents are excluded. Rates are fractions (0–1) or ``null`` without a base."""
    now = ctx.clock.now()
    period = kpis.period_from_days(first_day=start, last_day=end, now=now)
    with tx() as session:
        total, rows = kpis.kpi_table(
            session=session,
            org_id=org.org_id,
            start=period.start,
            end=period.end,
            now=now,
            incident_id=incident_id,
            operator=operator,
            recurrence_days=recurrence_days,
            group_by=group_by,
        )
    return KpisOut(
        start=period.first_day,
        end=period.last_day,
        incident_id=incident_id,
        operator=operator,
        recurrence_days=recurrence_days,
        group_by=group_by,
        total=total.as_dict(),
        groups=[KpiGroupOut(key=r.key, label=r.label, kpis=r.kpis.as_dict()) for r in rows],
    )
