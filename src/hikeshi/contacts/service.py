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
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hikeshi.clock import Clock, format_jst
from hikeshi.contacts.models import (
    CLASSIFICATION_LABELS_JA,
    Classification,
    Contact,
    ContactStatus,
    Customer,
    Priority,
)
from hikeshi.contacts.normalise import normalise_email, normalise_phone
from hikeshi.contacts.schemas import ContactCreate, ContactUpdate
from hikeshi.errors import HikeshiError, NotFound, ValidationFailed
from hikeshi.events.service import publish_after_commit
from hikeshi.incidents.models import Incident, IncidentState

EVENT_HELP = "contact.help_requested"
EVENT_CREATED = "contact.created"
_RETRIES = 3


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


# --- intake -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IntakeResult:
    contact: Contact
    created: bool


@dataclass
class _Prepared:
    index: int
    data: ContactCreate
    key: str | None
    phone: str | None
    email: str | None
    started_at: datetime


class _Errors:
    """Field errors of a whole request, so bulk intake names every bad item at once."""

    def __init__(self, single: bool) -> None:
        self.single = single
        self.fields: dict[str, object] = {}
        self.first: HikeshiError | None = None

    def name(self, index: int, field: str) -> str:
        return field if self.single else f"items.{index}.{field}"

    def add(self, exc: HikeshiError) -> None:
        self.fields.update(exc.fields)
        if self.first is None:
            self.first = exc

    def raise_if_any(self) -> None:
        if self.first is None:
            return
        if self.single:
            raise self.first
        raise ValidationFailed(
            f"{len(self.fields)} invalid field(s): {', '.join(sorted(self.fields))}; "
            "nothing was written",
            message_ja=f"{len(self.fields)}件の入力エラーがあります。1件も登録していません",
            fields=self.fields,
        )


def _prepare(
    index: int, data: ContactCreate, key: str | None, errors: _Errors, clock: Clock
) -> _Prepared | None:
    ok = True
    phone = email = None
    try:
        phone = normalise_phone(data.phone, field=errors.name(index, "phone"))
    except ValidationFailed as exc:
        errors.add(exc)
        ok = False
    try:
        email = normalise_email(data.email, field=errors.name(index, "email"))
    except ValidationFailed as exc:
        errors.add(exc)
        ok = False
    started = data.started_at or clock.now()
    if started.tzinfo is None:
        errors.add(_naive(errors.name(index, "started_at")))
        ok = False
    elif data.ended_at is not None:
        if data.ended_at.tzinfo is None:
            errors.add(_naive(errors.name(index, "ended_at")))
            ok = False
        elif data.ended_at < started:
            field = errors.name(index, "ended_at")
            errors.add(
                ValidationFailed(
                    f"{field}: ends before it starts",
                    message_ja="終了日時が開始日時より前です",
                    fields={field: "must not be before started_at"},
                )
            )
            ok = False
    if not ok:
        return None
    return _Prepared(index, data, key or data.idempotency_key, phone, email, started)


def _naive(field: str) -> ValidationFailed:
    return ValidationFailed(
        f"{field}: a time zone is required",
        message_ja="日時にはタイムゾーン（+09:00 など）が必要です",
        fields={field: "a time zone is required"},
    )


def _check_references(
    session: Session, org_id: int, items: Sequence[_Prepared], errors: _Errors
) -> None:
    customer_ids = {p.data.customer_id for p in items if p.data.customer_id is not None}
    incident_ids = {p.data.incident_id for p in items if p.data.incident_id is not None}
    known_customers: set[int] = set()
    known_incidents: set[int] = set()
    if customer_ids:
        known_customers = set(
            session.scalars(
                select(Customer.id).where(Customer.org_id == org_id, Customer.id.in_(customer_ids))
            )
        )
    if incident_ids:
        known_incidents = set(
            session.scalars(
                select(Incident.id).where(Incident.org_id == org_id, Incident.id.in_(incident_ids))
            )
        )
    for p in items:
        if p.data.customer_id is not None and p.data.customer_id not in known_customers:
            field = errors.name(p.index, "customer_id")
            errors.add(
                NotFound(
                    f"{field}: customer {p.data.customer_id} not found",
                    message_ja="お客様が見つかりません",
                    fields={field: p.data.customer_id},
                )
            )
        if p.data.incident_id is not None and p.data.incident_id not in known_incidents:
            field = errors.name(p.index, "incident_id")
            errors.add(
                NotFound(
                    f"{field}: incident {p.data.incident_id} not found",
                    message_ja="インシデントが見つかりません",
                    fields={field: p.data.incident_id},
                )
            )


def _existing_by_key(session: Session, org_id: int, keys: set[str]) -> dict[str, Contact]:
    if not keys:
        return {}
    rows = session.scalars(
        select(Contact).where(Contact.org_id == org_id, Contact.idempotency_key.in_(keys))
    )
    return {c.idempotency_key: c for c in rows if c.idempotency_key is not None}


def _resolve_customers(
    session: Session, org_id: int, items: Sequence[_Prepared], clock: Clock
) -> dict[int, int | None]:
    """Customer id per item index: the given one, else matched by phone or e-mail, else new."""
    phones = {p.phone for p in items if p.phone and p.data.customer_id is None}
    emails = {p.email for p in items if p.email and p.data.customer_id is None}
    by_phone: dict[str, Customer] = {}
    by_email: dict[str, Customer] = {}
    if phones or emails:
        conditions = []
        if phones:
            conditions.append(Customer.phone_e164.in_(phones))
        if emails:
            conditions.append(Customer.email.in_(emails))
        found = session.scalars(
            select(Customer)
            .where(Customer.org_id == org_id, or_(*conditions))
            .order_by(Customer.id)
        ).all()
        for customer in found:
            if customer.phone_e164:
                by_phone.setdefault(customer.phone_e164, customer)
            if customer.email:
                by_email.setdefault(customer.email, customer)
    now = clock.now()
    chosen: dict[int, Customer | int | None] = {}
    for p in items:
        if p.data.customer_id is not None:
            chosen[p.index] = p.data.customer_id
            continue
        match: Customer | None = (by_phone.get(p.phone) if p.phone else None) or (
            by_email.get(p.email) if p.email else None
        )
        name = (p.data.name or "").strip()
        kana = (p.data.name_kana or "").strip()
        if match is None:
            if not (p.phone or p.email or name):
                chosen[p.index] = None
                continue
            customer = Customer(
                org_id=org_id,
                name=name,
                name_kana=kana,
                phone_e164=p.phone,
                email=p.email,
                notes="",
                created_at=now,
                updated_at=now,
            )
            session.add(customer)
        else:
            customer = match
            # Fill what the record lacks; never overwrite what an operator confirmed.
            changed = False
            for attr, value in (
                ("phone_e164", p.phone),
                ("email", p.email),
                ("name", name),
                ("name_kana", kana),
            ):
                if value and not getattr(customer, attr):
                    setattr(customer, attr, value)
                    changed = True
            if changed:
                customer.updated_at = now
        if customer.phone_e164:
            by_phone.setdefault(customer.phone_e164, customer)
        if customer.email:
            by_email.setdefault(customer.email, customer)
        chosen[p.index] = customer
    session.flush()
    return {i: (c.id if isinstance(c, Customer) else c) for i, c in chosen.items()}


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
    is written. An item whose idempotency key is already stored (or repeated earlier in the same
    request) answers with that contact and ``created=False``. Two concurrent requests with the
    same key never make two contacts: the unique constraint refuses the loser, whose savepoint
    is rolled back and who then answers with the winner's contact.
    """
    errors = _Errors(single)
    prepared: list[_Prepared] = []
    for i, data in enumerate(items):
        key = keys[i] if keys is not None else None
        p = _prepare(i, data, key, errors, clock)
        if p is not None:
            prepared.append(p)
    _check_references(session, org_id, prepared, errors)
    errors.raise_if_any()

    for attempt in range(_RETRIES):
        existing = _existing_by_key(session, org_id, {p.key for p in prepared if p.key})
        try:
            with session.begin_nested():
                return _store(
                    session, org_id, prepared, existing, operator_id, operator_label, clock
                )
        except IntegrityError:
            # A concurrent request stored one of the keys first: look again and answer with it.
            if attempt == _RETRIES - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _store(
    session: Session,
    org_id: int,
    prepared: Sequence[_Prepared],
    existing: dict[str, Contact],
    operator_id: int | None,
    operator_label: str,
    clock: Clock,
) -> list[IntakeResult]:
    fresh = [p for p in prepared if not (p.key and p.key in existing)]
    seen: dict[str, Contact] = {}
    keys_in_request: set[str] = set()
    unique_fresh = []
    for p in fresh:
        if p.key and p.key in keys_in_request:
            continue  # repeated in the same request: answered with the first below
        if p.key:
            keys_in_request.add(p.key)
        unique_fresh.append(p)
    customers = _resolve_customers(session, org_id, unique_fresh, clock) if unique_fresh else {}
    now = clock.now()
    created: dict[int, Contact] = {}
    for p in unique_fresh:
        d = p.data
        contact = Contact(
            org_id=org_id,
            idempotency_key=p.key,
            customer_id=customers.get(p.index),
            incident_id=d.incident_id,
            channel=d.channel,
            classification=d.classification,
            priority=d.priority,
            status=ContactStatus.open,
            subject=d.subject.strip(),
            notes=d.notes,
            transcript=d.transcript,
            operator_id=operator_id,
            operator_label=operator_label,
            source=d.source,
            started_at=p.started_at,
            ended_at=d.ended_at,
            help_requested_at=None,
            created_at=now,
            updated_at=now,
        )
        session.add(contact)
        created[p.index] = contact
        if p.key:
            seen[p.key] = contact
    session.flush()
    out: list[IntakeResult] = []
    for p in prepared:
        if p.index in created:
            out.append(IntakeResult(created[p.index], created=True))
        elif p.key and p.key in existing:
            out.append(IntakeResult(existing[p.key], created=False))
        else:
            assert p.key is not None
            out.append(IntakeResult(seen[p.key], created=False))
    return out


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
            raise _naive("ended_at")
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
