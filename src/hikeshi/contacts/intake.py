"""Contact intake (問い合わせの受付): validation, then one set-based write for many contacts.

Crisis traffic arrives as bursts of webhooks, so intake is written for throughput: a whole batch
(one bulk request, or many single requests gathered by :mod:`hikeshi.contacts.group_commit`) costs
one query for replayed keys, one for known customers, one multi-row INSERT per table and one audit
append, whatever its size. Rows are written with Core statements, so the audit entries the ORM
flush hook would write are appended here explicitly, with the same actions and snapshots
(``customers.create``, ``customers.update``, ``contacts.create``), each with its own actor.

Idempotency: an item whose key is already stored, or repeated earlier in the batch, answers with
that contact and ``created=False``. Two writers racing on the same key never make two contacts:
the unique constraint refuses the loser, whose savepoint is rolled back and who then reads the
winner's row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, or_, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hikeshi.audit.service import Actor, Entry, append_entries
from hikeshi.bulkwrite import insert_rows
from hikeshi.clock import Clock
from hikeshi.contacts.models import Contact, ContactStatus, Customer
from hikeshi.contacts.normalise import normalise_email, normalise_phone
from hikeshi.contacts.schemas import ContactCreate
from hikeshi.errors import HikeshiError, NotFound, ValidationFailed
from hikeshi.incidents.models import Incident

_RETRIES = 3
CONTACTS: Table = Contact.__table__  # type: ignore[assignment]
CUSTOMERS: Table = Customer.__table__  # type: ignore[assignment]
_CONTACT_COLUMNS = tuple(c.key for c in CONTACTS.columns)
_CUSTOMER_COLUMNS = tuple(c.key for c in CUSTOMERS.columns)
_CONTACT_INSERT = tuple(c for c in _CONTACT_COLUMNS if c != "id")
_CUSTOMER_INSERT = tuple(c for c in _CUSTOMER_COLUMNS if c != "id")


@dataclass(frozen=True)
class IntakeRequest:
    """One validated contact, ready to store (see :func:`prepare`)."""

    org_id: int
    data: ContactCreate
    key: str | None
    phone: str | None
    email: str | None
    started_at: datetime
    operator_id: int | None
    operator_label: str
    actor: Actor
    field_prefix: str = ""  # "items.3." in bulk, so errors name the item


@dataclass(frozen=True)
class IntakeResult:
    contact_id: int
    created: bool
    row: Mapping[str, Any]  # every column of the stored contact

    @property
    def customer_id(self) -> int | None:
        value = self.row["customer_id"]
        return int(value) if value is not None else None


def naive_time_error(field: str) -> ValidationFailed:
    return ValidationFailed(
        f"{field}: a time zone is required",
        message_ja="日時にはタイムゾーン（+09:00 など）が必要です",
        fields={field: "a time zone is required"},
    )


def prepare(
    *,
    org_id: int,
    data: ContactCreate,
    key: str | None,
    operator_id: int | None,
    operator_label: str,
    actor: Actor,
    clock: Clock,
    field_prefix: str = "",
) -> IntakeRequest:
    """Normalise and check one item; raises :class:`ValidationFailed` naming every bad field."""
    problems: list[ValidationFailed] = []
    phone = email = None
    try:
        phone = normalise_phone(data.phone, field=f"{field_prefix}phone")
    except ValidationFailed as exc:
        problems.append(exc)
    try:
        email = normalise_email(data.email, field=f"{field_prefix}email")
    except ValidationFailed as exc:
        problems.append(exc)
    started = data.started_at or clock.now()
    if started.tzinfo is None:
        problems.append(naive_time_error(f"{field_prefix}started_at"))
    elif data.ended_at is not None:
        if data.ended_at.tzinfo is None:
            problems.append(naive_time_error(f"{field_prefix}ended_at"))
        elif data.ended_at < started:
            field = f"{field_prefix}ended_at"
            problems.append(
                ValidationFailed(
                    f"{field}: ends before it starts",
                    message_ja="終了日時が開始日時より前です",
                    fields={field: "must not be before started_at"},
                )
            )
    fields: dict[str, object] = {}
    for problem in problems:
        fields.update(problem.fields)
    first = problems[0] if problems else None
    if first is not None:
        if len(fields) == 1:
            raise first
        raise ValidationFailed(
            f"{len(fields)} invalid field(s): {', '.join(sorted(fields))}",
            message_ja=f"{len(fields)}件の入力エラーがあります",
            fields=fields,
        )
    return IntakeRequest(
        org_id=org_id,
        data=data,
        key=key or data.idempotency_key,
        phone=phone,
        email=email,
        started_at=started,
        operator_id=operator_id,
        operator_label=operator_label,
        actor=actor,
        field_prefix=field_prefix,
    )


def prepare_many(
    *,
    org_id: int,
    items: Sequence[ContactCreate],
    keys: Sequence[str | None] | None,
    operator_id: int | None,
    operator_label: str,
    actor: Actor,
    clock: Clock,
    single: bool = False,
    session: Session | None = None,
) -> list[IntakeRequest]:
    """Check every item before anything is written; one error names every bad field.

    With ``session``, the customers and incidents the valid items name are checked too, so
    the error lists bad references alongside bad values."""
    out: list[IntakeRequest] = []
    fields: dict[str, object] = {}
    first: ValidationFailed | None = None
    for i, data in enumerate(items):
        try:
            out.append(
                prepare(
                    org_id=org_id,
                    data=data,
                    key=keys[i] if keys is not None else None,
                    operator_id=operator_id,
                    operator_label=operator_label,
                    actor=actor,
                    clock=clock,
                    field_prefix="" if single else f"items.{i}.",
                )
            )
        except ValidationFailed as exc:
            fields.update(exc.fields)
            first = first or exc
    missing: list[HikeshiError] = []
    if session is not None:
        missing = list(_reference_errors(session, out).values())
        for error in missing:
            fields.update(error.fields)
    if first is not None or missing:
        if single:
            raise first or missing[0]
        raise _many_failed(fields)
    return out


def _many_failed(fields: Mapping[str, object]) -> ValidationFailed:
    return ValidationFailed(
        f"{len(fields)} invalid field(s): {', '.join(sorted(fields))}; nothing was written",
        message_ja=f"{len(fields)}件の入力エラーがあります。1件も登録していません",
        fields=dict(fields),
    )


# --- storing ------------------------------------------------------------------------------------


def store(
    *,
    session: Session,
    requests: Sequence[IntakeRequest],
    clock: Clock,
    all_or_nothing: bool,
    savepoint: bool = True,
) -> list[IntakeResult | HikeshiError]:
    """Store a batch in the caller's transaction; one outcome per request, in order.

    A request naming an unknown customer or incident gets its error as its outcome; with
    ``all_or_nothing`` the first such error is raised (naming every bad field) before anything is
    written. The caller commits. Without ``savepoint`` (a transaction of the caller's own that
    holds nothing else) a lost idempotency race raises IntegrityError for the caller to retry
    the whole transaction, saving two round trips per batch.
    """
    outcomes: list[IntakeResult | HikeshiError | None] = [None] * len(requests)
    for i, error in _reference_errors(session, requests).items():
        outcomes[i] = error
    if all_or_nothing and any(o is not None for o in outcomes):
        fields: dict[str, object] = {}
        for o in outcomes:
            if isinstance(o, HikeshiError):
                fields.update(o.fields)
        first = next(o for o in outcomes if isinstance(o, HikeshiError))
        raise first if len(requests) == 1 else _many_failed(fields)
    todo = [(i, r) for i, r in enumerate(requests) if outcomes[i] is None]
    batch = [r for _, r in todo]
    if savepoint:
        stored = _store_in_savepoint(session, batch, clock)
    else:
        stored = _store_once(session, batch, clock)
    for (i, _), result in zip(todo, stored, strict=True):
        outcomes[i] = result
    return [o for o in outcomes if o is not None]


def _store_in_savepoint(
    session: Session, batch: Sequence[IntakeRequest], clock: Clock
) -> list[IntakeResult]:
    for attempt in range(_RETRIES):
        try:
            with session.begin_nested():
                return _store_once(session, batch, clock)
        except IntegrityError:
            # A concurrent writer stored one of the keys first: look again and answer with it.
            if attempt == _RETRIES - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _reference_errors(
    session: Session, requests: Sequence[IntakeRequest]
) -> dict[int, HikeshiError]:
    wanted_customers = {(r.org_id, r.data.customer_id) for r in requests if r.data.customer_id}
    wanted_incidents = {(r.org_id, r.data.incident_id) for r in requests if r.data.incident_id}
    known_customers: set[tuple[int, int]] = set()
    known_incidents: set[tuple[int, int]] = set()
    if wanted_customers:
        known_customers = {
            (row.org_id, row.id)
            for row in session.execute(
                select(Customer.org_id, Customer.id).where(
                    tuple_(Customer.org_id, Customer.id).in_(wanted_customers)
                )
            )
        }
    if wanted_incidents:
        known_incidents = {
            (row.org_id, row.id)
            for row in session.execute(
                select(Incident.org_id, Incident.id).where(
                    tuple_(Incident.org_id, Incident.id).in_(wanted_incidents)
                )
            )
        }
    errors: dict[int, HikeshiError] = {}
    for i, r in enumerate(requests):
        problems: dict[str, object] = {}
        message = ""
        if r.data.customer_id and (r.org_id, r.data.customer_id) not in known_customers:
            problems[f"{r.field_prefix}customer_id"] = r.data.customer_id
            message = f"{r.field_prefix}customer_id: customer {r.data.customer_id} not found"
        if r.data.incident_id and (r.org_id, r.data.incident_id) not in known_incidents:
            problems[f"{r.field_prefix}incident_id"] = r.data.incident_id
            message = message or (
                f"{r.field_prefix}incident_id: incident {r.data.incident_id} not found"
            )
        if problems:
            ja = (
                "お客様が見つかりません"
                if f"{r.field_prefix}customer_id" in problems
                else "インシデントが見つかりません"
            )
            errors[i] = NotFound(message, message_ja=ja, fields=problems)
    return errors


def _store_once(
    session: Session, requests: Sequence[IntakeRequest], clock: Clock
) -> list[IntakeResult]:
    conn = session.connection()
    existing = _existing_by_key(session, requests)
    now = clock.now()
    # Fresh items, each key once: a key repeated in the batch answers with its first item.
    fresh: list[int] = []
    first_of_key: dict[tuple[int, str], int] = {}
    for i, r in enumerate(requests):
        if r.key is not None:
            k = (r.org_id, r.key)
            if k in existing or k in first_of_key:
                continue
            first_of_key[k] = i
        fresh.append(i)
    entries: list[Entry] = []
    customer_of = _resolve_customers(session, [requests[i] for i in fresh], now, entries)
    rows: list[dict[str, Any]] = []
    for position, i in enumerate(fresh):
        r = requests[i]
        d = r.data
        rows.append(
            {
                "org_id": r.org_id,
                "idempotency_key": r.key,
                "customer_id": d.customer_id or customer_of[position],
                "incident_id": d.incident_id,
                "channel": d.channel,
                "classification": d.classification,
                "priority": d.priority,
                "status": ContactStatus.open,
                "subject": d.subject.strip(),
                "notes": d.notes,
                "transcript": d.transcript,
                "operator_id": r.operator_id,
                "operator_label": r.operator_label,
                "source": d.source,
                "started_at": r.started_at,
                "ended_at": d.ended_at,
                "help_requested_at": None,
                "created_at": now,
                "updated_at": now,
            }
        )
    created: dict[int, dict[str, Any]] = {}
    if rows:
        ids = insert_rows(conn, CONTACTS, rows, columns=_CONTACT_INSERT)
        for i, row, contact_id in zip(fresh, rows, ids, strict=True):
            row["id"] = contact_id
            full = {key: row[key] for key in _CONTACT_COLUMNS}
            created[i] = full
            r = requests[i]
            entries.append(
                Entry(
                    "contacts.create",
                    r.org_id,
                    "contacts",
                    str(contact_id),
                    None,
                    full,
                    None,
                    r.actor,
                )
            )
    append_entries(session, entries)
    out: list[IntakeResult] = []
    for i, r in enumerate(requests):
        if i in created:
            out.append(IntakeResult(created[i]["id"], True, created[i]))
            continue
        assert r.key is not None
        k = (r.org_id, r.key)
        row = existing.get(k) or created[first_of_key[k]]
        out.append(IntakeResult(row["id"], False, row))
    return out


def _existing_by_key(
    session: Session, requests: Sequence[IntakeRequest]
) -> dict[tuple[int, str], dict[str, Any]]:
    keys = {(r.org_id, r.key) for r in requests if r.key is not None}
    if not keys:
        return {}
    by_org: dict[int, set[str]] = defaultdict(set)
    for org_id, key in keys:
        by_org[org_id].add(key)
    found: dict[tuple[int, str], dict[str, Any]] = {}
    for org_id, org_keys in by_org.items():
        for row in session.execute(
            select(CONTACTS).where(
                CONTACTS.c.org_id == org_id, CONTACTS.c.idempotency_key.in_(org_keys)
            )
        ).mappings():
            found[(org_id, row["idempotency_key"])] = dict(row)
    return found


def _resolve_customers(
    session: Session, requests: Sequence[IntakeRequest], now: datetime, entries: list[Entry]
) -> list[int | None]:
    """Customer id per request: matched by phone or e-mail in its organisation, else new.

    Requests that name ``customer_id`` get None here (the caller keeps theirs). What a matched
    record lacks (phone, e-mail, name, kana) is filled in; what it has is never overwritten.
    """
    result: list[int | None] = [None] * len(requests)
    by_org: dict[int, list[int]] = defaultdict(list)
    for position, r in enumerate(requests):
        if r.data.customer_id is None:
            by_org[r.org_id].append(position)
    for org_id, positions in by_org.items():
        _resolve_in_org(session, org_id, requests, positions, now, entries, result)
    return result


def _resolve_in_org(
    session: Session,
    org_id: int,
    requests: Sequence[IntakeRequest],
    positions: Iterable[int],
    now: datetime,
    entries: list[Entry],
    result: list[int | None],
) -> None:
    positions = list(positions)
    phones = {requests[p].phone for p in positions if requests[p].phone}
    emails = {requests[p].email for p in positions if requests[p].email}
    by_phone: dict[str, dict[str, Any]] = {}
    by_email: dict[str, dict[str, Any]] = {}
    if phones or emails:
        conditions = []
        if phones:
            conditions.append(CUSTOMERS.c.phone_e164.in_(phones))
        if emails:
            conditions.append(CUSTOMERS.c.email.in_(emails))
        for found in session.execute(
            select(CUSTOMERS)
            .where(CUSTOMERS.c.org_id == org_id, or_(*conditions))
            .order_by(CUSTOMERS.c.id)
        ).mappings():
            row = dict(found)
            if row["phone_e164"]:
                by_phone.setdefault(row["phone_e164"], row)
            if row["email"]:
                by_email.setdefault(row["email"], row)
    new_rows: list[dict[str, Any]] = []
    new_actor: list[Actor] = []
    changed: dict[int, tuple[dict[str, Any], dict[str, Any], Actor]] = {}  # id → before, after
    chosen: dict[int, dict[str, Any]] = {}
    for p in positions:
        r = requests[p]
        match = (by_phone.get(r.phone) if r.phone else None) or (
            by_email.get(r.email) if r.email else None
        )
        name = (r.data.name or "").strip()
        kana = (r.data.name_kana or "").strip()
        if match is None:
            if not (r.phone or r.email or name):
                continue
            match = {
                "id": None,
                "org_id": org_id,
                "name": name,
                "name_kana": kana,
                "phone_e164": r.phone,
                "email": r.email,
                "notes": "",
                "created_at": now,
                "updated_at": now,
            }
            new_rows.append(match)
            new_actor.append(r.actor)
        else:
            for attr, value in (
                ("phone_e164", r.phone),
                ("email", r.email),
                ("name", name),
                ("name_kana", kana),
            ):
                if value and not match[attr]:
                    if match["id"] is not None and match["id"] not in changed:
                        changed[match["id"]] = (dict(match), match, r.actor)
                    match[attr] = value
                    match["updated_at"] = now
        if match["phone_e164"]:
            by_phone.setdefault(match["phone_e164"], match)
        if match["email"]:
            by_email.setdefault(match["email"], match)
        chosen[p] = match
    if new_rows:
        ids = insert_rows(session.connection(), CUSTOMERS, new_rows, columns=_CUSTOMER_INSERT)
        for row, customer_id, actor in zip(new_rows, ids, new_actor, strict=True):
            row["id"] = customer_id
            snapshot = {key: row[key] for key in _CUSTOMER_COLUMNS}
            entries.append(
                Entry(
                    "customers.create",
                    org_id,
                    "customers",
                    str(customer_id),
                    None,
                    snapshot,
                    None,
                    actor,
                )
            )
    for customer_id, (before, after, actor) in changed.items():
        keys = [k for k in _CUSTOMER_COLUMNS if before[k] != after[k]]
        session.connection().execute(
            update(CUSTOMERS)
            .where(CUSTOMERS.c.id == customer_id)
            .values({k: after[k] for k in keys})
        )
        entries.append(
            Entry(
                "customers.update",
                org_id,
                "customers",
                str(customer_id),
                {k: before[k] for k in keys},
                {k: after[k] for k in keys},
                None,
                actor,
            )
        )
    for p, row in chosen.items():
        result[p] = row["id"]
