"""JSON API of contacts (問い合わせ・応対): idempotent intake (single and bulk), reading and
filtering, classification and notes, 手上げ, and customers with their full history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Response
from sqlalchemy.orm import Session

from hikeshi.auth.permissions import Permission
from hikeshi.contacts import intake, service
from hikeshi.contacts.models import Classification, Contact, ContactStatus, Customer, Priority
from hikeshi.contacts.normalise import display_phone
from hikeshi.contacts.schemas import (
    BulkIntake,
    BulkIntakeResponse,
    ContactCreate,
    ContactPublic,
    ContactsPublic,
    ContactUpdate,
    CustomerDetail,
    CustomerPublic,
    CustomersPublic,
    IntakeResponse,
)
from hikeshi.deps import CtxDep, CurrentOrg, Require, TxDep

router = APIRouter(prefix="/orgs/{org_id}", tags=["contacts"])
READ = [Depends(Require(Permission.contacts_read))]
WRITE = [Depends(Require(Permission.contacts_write))]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


def customer_public(customer: Customer) -> CustomerPublic:
    out = CustomerPublic.model_validate(customer)
    out.phone_display = display_phone(customer.phone_e164)
    return out


def _contacts(items: list[Contact] | tuple[Contact, ...]) -> ContactsPublic:
    data = [ContactPublic.model_validate(c) for c in items]
    return ContactsPublic(data=data, count=len(data))


@router.post(
    "/contacts",
    dependencies=WRITE,
    status_code=201,
    responses={
        200: {"description": "Replay: a contact with this idempotency key already exists"},
        201: {"description": "Created"},
    },
)
async def create_contact(
    org: CurrentOrg,
    body: ContactCreate,
    ctx: CtxDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> IntakeResponse:
    """One contact, answered once it is durably committed. Concurrent requests share one
    transaction (group commit), so a webhook burst costs one commit per batch, not per contact."""
    request = intake.prepare(
        org_id=org.org_id,
        data=body,
        key=body.idempotency_key or idempotency_key,
        operator_id=org.principal.user_id,
        operator_label=org.principal.label,
        actor=org.principal.actor,
        clock=ctx.clock,
    )
    result = await ctx.intake.intake(request)
    if not result.created:
        response.status_code = 200
    return IntakeResponse(created=result.created, contact=ContactPublic.model_validate(result.row))


@router.post(
    "/contacts/bulk",
    dependencies=WRITE,
    status_code=201,
    responses={
        200: {"description": "Every item had been stored before (all replays)"},
        201: {"description": "At least one contact created"},
        422: {"description": "Nothing written; fields name the items: items.<index>.<field>"},
    },
)
def create_contacts_bulk(
    org: CurrentOrg, body: BulkIntake, tx: TxDep, ctx: CtxDep, response: Response
) -> BulkIntakeResponse:
    with tx() as session:
        results = service.intake_many(
            session=session,
            org_id=org.org_id,
            items=body.items,
            operator_id=org.principal.user_id,
            operator_label=org.principal.label,
            clock=ctx.clock,
        )
        ids = [r.contact_id for r in results]
    created = sum(1 for r in results if r.created)
    if created == 0:
        response.status_code = 200
    return BulkIntakeResponse(created=created, existing=len(results) - created, ids=ids)


@router.get("/contacts", dependencies=READ)
def list_contacts(
    org: CurrentOrg,
    tx: TxDep,
    customer_id: int | None = None,
    incident_id: int | None = None,
    classification: Classification | None = None,
    status: ContactStatus | None = None,
    priority: Priority | None = None,
    help_requested: bool | None = None,
    limit: int = 100,
    offset: int = 0,
) -> ContactsPublic:
    with tx() as session:
        items = service.list_contacts(
            session=session,
            org_id=org.org_id,
            customer_id=customer_id,
            incident_id=incident_id,
            classification=classification,
            status=status,
            priority=priority,
            help_requested=help_requested,
            limit=max(1, min(limit, 1000)),
            offset=max(0, offset),
        )
        return _contacts(list(items))


@router.get("/contacts/{contact_id}", dependencies=READ)
def get_contact(org: CurrentOrg, contact_id: int, tx: TxDep) -> ContactPublic:
    with tx() as session:
        contact = service.get_contact(session=session, org_id=org.org_id, contact_id=contact_id)
        return ContactPublic.model_validate(contact)


@router.patch("/contacts/{contact_id}", dependencies=WRITE)
def update_contact(
    org: CurrentOrg, contact_id: int, body: ContactUpdate, tx: TxDep, ctx: CtxDep
) -> ContactPublic:
    with tx() as session:
        contact = service.update_contact(
            session=session, org_id=org.org_id, contact_id=contact_id, changes=body, clock=ctx.clock
        )
        return ContactPublic.model_validate(contact)


@router.post("/contacts/{contact_id}/help", dependencies=WRITE)
def request_help(org: CurrentOrg, contact_id: int, tx: TxDep, ctx: CtxDep) -> ContactPublic:
    """手上げ: alert the supervisors' board at once (live event ``contact.help_requested``)."""
    with tx() as session:
        contact = service.request_help(
            session=session,
            org_id=org.org_id,
            contact_id=contact_id,
            actor_label=org.principal.label,
            clock=ctx.clock,
        )
        return ContactPublic.model_validate(contact)


@router.get("/customers", dependencies=READ)
def list_customers(org: CurrentOrg, tx: TxDep, q: str = "", limit: int = 50) -> CustomersPublic:
    with tx() as session:
        items = service.search_customers(
            session=session, org_id=org.org_id, q=q[:200], limit=max(1, min(limit, 500))
        )
        data = [customer_public(c) for c in items]
    return CustomersPublic(data=data, count=len(data))


@router.get("/customers/{customer_id}", dependencies=READ)
def get_customer(org: CurrentOrg, customer_id: int, tx: TxDep) -> CustomerDetail:
    with tx() as session:
        return _customer_detail(session, org.org_id, customer_id)


def _customer_detail(session: Session, org_id: int, customer_id: int) -> CustomerDetail:
    customer = service.get_customer(session=session, org_id=org_id, customer_id=customer_id)
    history = service.customer_history(session=session, org_id=org_id, customer_id=customer_id)
    return CustomerDetail(
        customer=customer_public(customer),
        contacts=[ContactPublic.model_validate(c) for c in history],
    )
