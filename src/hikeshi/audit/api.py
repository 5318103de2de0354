from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from hikeshi.audit import service
from hikeshi.audit.schemas import AuditEventPublic, AuditEventsPublic
from hikeshi.auth.permissions import Permission
from hikeshi.deps import CurrentOrg, Require, TxDep

router = APIRouter(prefix="/orgs/{org_id}", tags=["audit"])


@router.get("/audit", dependencies=[Depends(Require(Permission.audit_read))])
def list_audit(
    org: CurrentOrg,
    tx: TxDep,
    before_seq: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditEventsPublic:
    with tx() as session:
        rows = service.list_events(
            session=session, org_id=org.org_id, before_seq=before_seq, limit=limit
        )
        data = [AuditEventPublic.model_validate(r) for r in rows]
    return AuditEventsPublic(
        data=data, next_before_seq=data[-1].seq if len(data) == limit else None
    )
