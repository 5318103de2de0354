"""Use cases of contacts (問い合わせ・応対): intake from any channel (single and bulk, both
idempotent), customers matched by normalised phone number or e-mail, classification and notes,
and the operator's help request (手上げ).

Every function takes the caller's session and changes nothing outside it. Every row change is
audited by the session's flush hook; the 手上げ live event goes out only after commit.
Bad input is refused before anything is written, naming the field (``items.3.phone`` in bulk).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from hikeshi.audit.service import get_actor
from hikeshi.clock import Clock, format_jst
from hikeshi.contacts import intake as intake_core
from hikeshi.contacts.intake import IntakeResult, naive_time_error
from hikeshi.contacts.models import (
    CLASSIFICATION_LABELS_JA,
    Classification,
    Contact,
    ContactStatus,
    Customer,
    Priority,
)
from hikeshi.contacts.normalise import normalise_phone
from hikeshi.contacts.schemas import ContactCreate, ContactUpdate
from hikeshi.errors import AuditRequired, NotFound, ValidationFailed
from hikeshi.events.service import publish_after_commit
from hikeshi.incidents.models import Incident, IncidentState

EVENT_HELP = "contact.help_requested"
EVENT_CREATED = "contact.created"


# --- reading ----------------------------------------------------------------------------------


def get_contact(*, session: Session, org_id: int, contact_id: int) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None or contact.org_id != org_id:
        raise NotFound(
            f"contact {contact_id} not found",
            message_ja="問い合わせが見つかりません",
            fields={"contact_id": contact_id},
        )
    return contact


def get_customer(
    *, session: Session, org_id: int, customer_id: int, field: str = "customer_id"
) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None or customer.org_id != org_id:
        raise NotFound(
            f"customer {customer_id} not found",
            message_ja="お客様が見つかりません",
            fields={field: customer_id},
        )
    return customer


def _get_incident(*, session: Session, org_id: int, incident_id: int, field: str) -> Incident:
    incident = session.get(Incident, incident_id)
    if incident is None or incident.org_id != org_id:
        raise NotFound(
            f"incident {incident_id} not found",
            message_ja="インシデントが見つかりません",
            fields={field: incident_id},
        )
    return incident


def list_contacts(
    *,
    session: Session,
    org_id: int,
    customer_id: int | None = None,
    incident_id: int | None = None,
    classification: Classification | None = None,
    status: ContactStatus | None = None,
    priority: Priority | None = None,
    help_requested: bool | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Sequence[Contact]:
    query = select(Contact).where(Contact.org_id == org_id)
    if customer_id is not None:
        query = query.where(Contact.customer_id == customer_id)
    if incident_id is not None:
        query = query.where(Contact.incident_id == incident_id)
    if classification is not None:
        query = query.where(Contact.classification == classification)
    if status is not None:
        query = query.where(Contact.status == status)
    if priority is not None:
        query = query.where(Contact.priority == priority)
    if help_requested is not None:
        column = Contact.help_requested_at
        query = query.where(column.is_not(None) if help_requested else column.is_(None))
    query = query.order_by(Contact.started_at.desc(), Contact.id.desc())
    return session.scalars(query.limit(limit).offset(offset)).all()


def customer_history(*, session: Session, org_id: int, customer_id: int) -> Sequence[Contact]:
    """Every contact of the customer, newest first (no 二度聞き)."""
    get_customer(session=session, org_id=org_id, customer_id=customer_id)
    return list_contacts(session=session, org_id=org_id, customer_id=customer_id, limit=10000)


def search_customers(
    *, session: Session, org_id: int, q: str = "", limit: int = 50
) -> Sequence[Customer]:
    """By name, kana, e-mail or phone number (any notation of the number finds it)."""
    query = select(Customer).where(Customer.org_id == org_id)
    text = unicodedata.normalize("NFKC", q).strip()
    if text:
        like = f"%{_escape_like(text.lower())}%"
        conditions: list[ColumnElement[bool]] = [
            Customer.name.like(f"%{_escape_like(text)}%", escape="\\"),
            Customer.name_kana.like(f"%{_escape_like(text)}%", escape="\\"),
            Customer.email.like(like, escape="\\"),
        ]
        digits = re.sub(r"\D", "", text)
        if len(digits) >= 4:
            try:
                e164 = normalise_phone(text)
            except ValidationFailed:
                e164 = None
            if e164:
                conditions.append(Customer.phone_e164 == e164)
            tail = digits[1:] if digits.startswith("0") else digits
            conditions.append(Customer.phone_e164.like(f"%{tail}%"))
        query = query.where(or_(*conditions))
    query = query.order_by(Customer.updated_at.desc(), Customer.id.desc())
    return session.scalars(query.limit(limit)).all()


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def active_incidents(*, session: Session, org_id: int) -> Sequence[Incident]:
    """Incidents the console can show: 準備・稼働中・縮小, newest first."""
    return session.scalars(
        select(Incident)
        .where(Incident.org_id == org_id, Incident.state != IncidentState.closed)
        .order_by(Incident.launched_at.desc(), Incident.id.desc())
    ).all()


# --- intake (the set-based core is hikeshi.contacts.intake) ---------------------------------


def intake_many(
    *,
    session: Session,
    org_id: int,
    items: Sequence[ContactCreate],
    operator_id: int | None,
    operator_label: str,
    clock: Clock,
    keys: Sequence[str | None] | None = None,
    single: bool = False,
) -> list[IntakeResult]:
    """All-or-nothing intake of many contacts in the caller's transaction.

    Every item is validated first; any error raises (naming ``items.<i>.<field>``) before a row
    is written. Replays answer with the stored contact and ``created=False``.
    """
    actor = get_actor(session)
    if actor is None:
        raise AuditRequired("contact intake needs an actor on the session")
    requests = intake_core.prepare_many(
        org_id=org_id,
        items=items,
        keys=keys,
        operator_id=operator_id,
        operator_label=operator_label,
        actor=actor,
        clock=clock,
        single=single,
        session=session,
    )
    session.flush()  # the core writes with Core statements after what the session holds
    outcomes = intake_core.store(
        session=session, requests=requests, clock=clock, all_or_nothing=True
    )
    # Customers the core filled in may sit stale in this session's identity map.
    session.expire_all()
    return [o for o in outcomes if isinstance(o, IntakeResult)]


def intake(
    *,
    session: Session,
    org_id: int,
    data: ContactCreate,
    operator_id: int | None,
    operator_label: str,
    clock: Clock,
    idempotency_key: str | None = None,
) -> IntakeResult:
    """One contact; ``idempotency_key`` (e.g. the webhook's delivery id) overrides the body's."""
    key = idempotency_key or data.idempotency_key
    return intake_many(
        session=session,
        org_id=org_id,
        items=[data],
        keys=[key],
        operator_id=operator_id,
        operator_label=operator_label,
        clock=clock,
        single=True,
    )[0]


# --- changes ----------------------------------------------------------------------------------


def update_contact(
    *, session: Session, org_id: int, contact_id: int, changes: ContactUpdate, clock: Clock
) -> Contact:
    """Apply only the fields sent; each change is audited (before → after) by the flush."""
    contact = get_contact(session=session, org_id=org_id, contact_id=contact_id)
    values = changes.model_dump(exclude_unset=True)
    if values.get("incident_id") is not None:
        _get_incident(
            session=session, org_id=org_id, incident_id=values["incident_id"], field="incident_id"
        )
    for name in ("priority", "status", "subject", "notes", "transcript"):
        if name in values and values[name] is None:
            raise ValidationFailed(
                f"{name} cannot be null",
                message_ja="空にできない項目です",
                fields={name: "must not be null"},
            )
    ended = values.get("ended_at")
    if ended is not None:
        if ended.tzinfo is None:
            raise naive_time_error("ended_at")
        if ended < contact.started_at:
            raise ValidationFailed(
                "ended_at: ends before it starts",
                message_ja="終了日時が開始日時より前です",
                fields={"ended_at": "must not be before started_at"},
            )
    changed = False
    for name, value in values.items():
        if isinstance(value, str) and name == "subject":
            value = value.strip()
        if getattr(contact, name) != value:
            setattr(contact, name, value)
            changed = True
    if changed:
        contact.updated_at = clock.now()
        session.flush()
    return contact


def classify(
    *,
    session: Session,
    org_id: int,
    contact_id: int,
    classification: Classification,
    clock: Clock,
) -> Contact:
    return update_contact(
        session=session,
        org_id=org_id,
        contact_id=contact_id,
        changes=ContactUpdate(classification=classification),
        clock=clock,
    )


def request_help(
    *, session: Session, org_id: int, contact_id: int, actor_label: str, clock: Clock
) -> Contact:
    """手上げ: the operator asks for help. The SV board hears it as soon as this commits."""
    contact = get_contact(session=session, org_id=org_id, contact_id=contact_id)
    now = clock.now()
    contact.help_requested_at = now
    contact.updated_at = now
    session.flush()
    label = CLASSIFICATION_LABELS_JA[contact.classification] if contact.classification else ""
    publish_after_commit(
        session,
        org_id=org_id,
        type=EVENT_HELP,
        data={
            "contact_id": contact.id,
            "operator": actor_label,
            "subject": contact.subject or f"問い合わせ #{contact.id}",
            "classification": contact.classification.value if contact.classification else None,
            "classification_label": label,
            "priority": contact.priority.value,
            "url": f"/contacts/{contact.id}",
            "at": now.isoformat(),
            "at_jst": format_jst(now),
        },
    )
    return contact
