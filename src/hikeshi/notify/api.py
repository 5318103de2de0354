"""JSON API of notify: department contacts (連絡先) and deliveries (送信記録)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from hikeshi.auth.permissions import Permission
from hikeshi.deps import CtxDep, CurrentOrg, Require, TxDep
from hikeshi.notify import service
from hikeshi.notify.schemas import (
    ContactCreate,
    ContactPublic,
    ContactsPublic,
    ContactUpdate,
    DeliveriesPublic,
    DeliveryPublic,
)

router = APIRouter(prefix="/orgs/{org_id}", tags=["notify"])
CanRead = [Depends(Require(Permission.incidents_read))]
CanManage = [Depends(Require(Permission.roster_manage))]


@router.get("/roster/contacts", dependencies=CanRead)
def list_contacts(org: CurrentOrg, tx: TxDep) -> ContactsPublic:
    with tx() as session:
        items = service.list_contacts(session=session, org_id=org.org_id)
        data = [ContactPublic.model_validate(c) for c in items]
    return ContactsPublic(data=data, count=len(data))


@router.post("/roster/contacts", status_code=201, dependencies=CanManage)
def create_contact(org: CurrentOrg, body: ContactCreate, tx: TxDep, ctx: CtxDep) -> ContactPublic:
    with tx() as session:
        contact = service.create_contact(
            session=session, org_id=org.org_id, data=body, clock=ctx.clock
        )
        return ContactPublic.model_validate(contact)


@router.put("/roster/contacts/{roster_contact_id}", dependencies=CanManage)
def update_contact(
    org: CurrentOrg, roster_contact_id: int, body: ContactUpdate, tx: TxDep
) -> ContactPublic:
    with tx() as session:
        contact = service.update_contact(
            session=session, org_id=org.org_id, contact_id=roster_contact_id, data=body
        )
        return ContactPublic.model_validate(contact)


@router.delete("/roster/contacts/{roster_contact_id}", status_code=204, dependencies=CanManage)
def delete_contact(org: CurrentOrg, roster_contact_id: int, tx: TxDep) -> Response:
    with tx() as session:
        service.delete_contact(session=session, org_id=org.org_id, contact_id=roster_contact_id)
    return Response(status_code=204)


@router.get("/deliveries", dependencies=CanRead)
def list_deliveries(org: CurrentOrg, tx: TxDep, incident_id: int | None = None) -> DeliveriesPublic:
    with tx() as session:
        items = service.list_deliveries(session=session, org_id=org.org_id, incident_id=incident_id)
        data = [DeliveryPublic.model_validate(d) for d in items]
    return DeliveriesPublic(data=data, count=len(data))


@router.post("/deliveries/{delivery_id}/retry", dependencies=CanManage)
def retry_delivery(org: CurrentOrg, delivery_id: int, tx: TxDep, ctx: CtxDep) -> DeliveryPublic:
    with tx() as session:
        delivery = service.retry_delivery(
            session=session, org_id=org.org_id, delivery_id=delivery_id, clock=ctx.clock
        )
        return DeliveryPublic.model_validate(delivery)
