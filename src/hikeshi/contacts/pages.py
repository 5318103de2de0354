"""問い合わせ (contacts) pages: the recent contacts and the operator console.

The console is one screen: on the left the chosen incident's script and FAQ with a Japanese
full-text search (``?q=``, server-side, no JavaScript needed); on the right the customer's whole
history (no 二度聞き) and the contact itself — new contact form, one-click classification,
priority and notes, 手上げ (alerts the SV board at once) and エスカレーション.

Plain forms with the session's CSRF token; each POST is one transaction through
:mod:`hikeshi.contacts.service` and answers with a redirect, or re-renders the console with the
Japanese message when the input can be fixed.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from hikeshi.auth.permissions import Permission
from hikeshi.contacts import search, service
from hikeshi.contacts.models import (
    CHANNEL_LABELS_JA,
    CLASSIFICATION_LABELS_JA,
    Channel,
    Classification,
    Contact,
    ContactStatus,
    Customer,
    Priority,
)
from hikeshi.contacts.normalise import display_phone
from hikeshi.contacts.schemas import ContactCreate, ContactUpdate
from hikeshi.deps import CtxDep, Principal, Require, Transaction, TxDep
from hikeshi.errors import Conflict, HikeshiError, NotFound, ValidationFailed
from hikeshi.incidents.models import Incident
from hikeshi.web import ui
from hikeshi.web.pages import UserDep

router = APIRouter(include_in_schema=False)
FormStr = Annotated[str, Form()]
PATH = "/contacts"
CanRead = [Depends(Require(Permission.contacts_read))]
CanWrite = [Depends(Require(Permission.contacts_write))]
CanEscalate = [Depends(Require(Permission.cases_escalate))]

STATUS_LABELS_JA = {
    ContactStatus.open: "応対中",
    ContactStatus.escalated: "エスカレーション済み",
    ContactStatus.closed: "完了",
}
PRIORITY_LABELS_JA = {
    Priority.p1: "P1（至急）",
    Priority.p2: "P2",
    Priority.p3: "P3（通常）",
}
NOTICES = {
    "created": "問い合わせを登録しました",
    "exists": "この問い合わせは登録済みです（二重送信は1件として扱いました）",
    "classified": "分類を記録しました",
    "saved": "保存しました",
    "help": "手上げしました。SVボードに通知しました",
    "escalated": "エスカレーションしました。二次対応に引き継ぎます",
}
FIELD_LABELS_JA = {
    "phone": "電話番号",
    "email": "メールアドレス",
    "customer_id": "お客様",
    "incident_id": "インシデント",
    "ended_at": "終了日時",
    "channel": "チャネル",
    "subject": "件名",
}
SEARCH_LIMIT = 8


def _labels() -> dict[str, Any]:
    return {
        "channel_labels": CHANNEL_LABELS_JA,
        "classification_labels": CLASSIFICATION_LABELS_JA,
        "status_labels": STATUS_LABELS_JA,
        "priority_labels": PRIORITY_LABELS_JA,
        "channels": list(Channel),
        "classifications": list(Classification),
        "priorities": list(Priority),
        "statuses": list(ContactStatus),
        "display_phone": display_phone,
    }


# --- the list of recent contacts --------------------------------------------------------------


@router.get(PATH, dependencies=CanRead)
def contact_list(
    principal: UserDep,
    tx: TxDep,
    classification: str = "",
    help: str = "",
    q: str = "",
) -> Response:
    chosen = next((c for c in Classification if c.value == classification), None)
    with tx() as session:
        chrome = ui.load_chrome(session=session, principal=principal, path=PATH)
        items: Sequence[Contact] = []
        customers: dict[int, Customer] = {}
        found: Sequence[Customer] = []
        if chrome.org_id is not None:
            items = service.list_contacts(
                session=session,
                org_id=chrome.org_id,
                classification=chosen,
                help_requested=True if help else None,
                limit=200,
            )
            ids = {c.customer_id for c in items if c.customer_id is not None}
            customers = {c.id: c for c in (session.get(Customer, i) for i in ids) if c}
            if q.strip():
                found = service.search_customers(session=session, org_id=chrome.org_id, q=q[:200])
        return ui.page(
            "contacts/list.html",
            {
                **_labels(),
                "items": items,
                "customers": customers,
                "found": found,
                "q": q,
                "classification": chosen.value if chosen else "",
                "help": bool(help),
                "can_write": principal.can(Permission.contacts_write),
            },
            chrome=chrome,
        )


# --- the console ------------------------------------------------------------------------------


def _choose_incident(
    incidents: Sequence[Incident], wanted: int | None, linked: Incident | None
) -> Incident | None:
    if wanted is not None:
        for incident in incidents:
            if incident.id == wanted:
                return incident
        if linked is not None and linked.id == wanted:
            return linked
    if linked is not None:
        return linked
    return incidents[0] if incidents else None


def _console(
    tx: Transaction,
    principal: Principal,
    *,
    contact_id: int | None = None,
    incident_id: int | None = None,
    customer_id: int | None = None,
    q: str = "",
    customer_q: str = "",
    notice: str = "",
    error: str | None = None,
    error_fields: dict[str, Any] | None = None,
    draft: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    with tx() as session:
        chrome, org_id = ui.chrome_and_org(session=session, principal=principal, path=PATH)
        contact = (
            service.get_contact(session=session, org_id=org_id, contact_id=contact_id)
            if contact_id is not None
            else None
        )
        incidents = service.active_incidents(session=session, org_id=org_id)
        linked = (
            session.get(Incident, contact.incident_id)
            if contact is not None and contact.incident_id is not None
            else None
        )
        incident = _choose_incident(incidents, incident_id, linked)
        rendered: dict[str, Any] = incident.rendered if incident is not None else {}
        entries = search.entries_from_rendered(rendered)
        hits = search.SearchIndex.build(entries).search(q, limit=SEARCH_LIMIT) if q else []
        customer: Customer | None = None
        who = contact.customer_id if contact is not None else customer_id
        if who is not None:
            customer = service.get_customer(session=session, org_id=org_id, customer_id=who)
        history = (
            service.customer_history(session=session, org_id=org_id, customer_id=customer.id)
            if customer is not None
            else []
        )
        candidates: Sequence[Customer] = []
        if contact is None and customer is None and customer_q.strip():
            candidates = service.search_customers(
                session=session, org_id=org_id, q=customer_q[:200], limit=20
            )
        field_errors = {
            FIELD_LABELS_JA.get(k.split(".")[-1], k.split(".")[-1]): v
            for k, v in (error_fields or {}).items()
        }
        return ui.page(
            "contacts/console.html",
            {
                **_labels(),
                "contact": contact,
                "customer": customer,
                "history": history,
                "candidates": candidates,
                "incidents": incidents,
                "incident": incident,
                "linked_incident": linked,
                "script": rendered.get("script") or {},
                "script_labels": search.SCRIPT_LABELS_JA,
                "faq": rendered.get("faq") or [],
                "q": q,
                "hits": hits,
                "customer_q": customer_q,
                "notice": NOTICES.get(notice),
                "error": error,
                "error_fields": field_errors,
                "draft": draft or {},
                "form_key": secrets.token_urlsafe(12),
                "can_write": principal.can(Permission.contacts_write),
                "can_escalate": principal.can(Permission.cases_escalate),
                "self_url": f"{PATH}/{contact.id}" if contact is not None else f"{PATH}/console",
            },
            chrome=chrome,
            status_code=status_code,
        )


def _int(value: str) -> int | None:
    value = value.strip()
    return int(value) if value.isdigit() else None


@router.get(f"{PATH}/console", dependencies=CanRead)
def console(
    principal: UserDep,
    tx: TxDep,
    incident_id: str = "",
    customer_id: str = "",
    q: str = "",
    customer_q: str = "",
) -> Response:
    return _console(
        tx,
        principal,
        incident_id=_int(incident_id),
        customer_id=_int(customer_id),
        q=q[:200],
        customer_q=customer_q[:200],
    )


@router.get(f"{PATH}/{{contact_id:int}}", dependencies=CanRead)
def contact_page(
    contact_id: int,
    principal: UserDep,
    tx: TxDep,
    incident_id: str = "",
    q: str = "",
    notice: str = "",
) -> Response:
    return _console(
        tx,
        principal,
        contact_id=contact_id,
        incident_id=_int(incident_id),
        q=q[:200],
        notice=notice,
    )


def _back(contact_id: int, notice: str, incident_id: str = "") -> RedirectResponse:
    query = {"notice": notice}
    if _int(incident_id) is not None:
        query["incident_id"] = incident_id
    return RedirectResponse(f"{PATH}/{contact_id}?{urlencode(query)}", status_code=303)


@router.post(f"{PATH}/console", dependencies=CanWrite)
def console_create(
    principal: UserDep,
    tx: TxDep,
    ctx: CtxDep,
    channel: FormStr = "",
    phone: FormStr = "",
    email: FormStr = "",
    name: FormStr = "",
    name_kana: FormStr = "",
    subject: FormStr = "",
    notes: FormStr = "",
    transcript: FormStr = "",
    classification: FormStr = "",
    priority: FormStr = "P3",
    customer_id: FormStr = "",
    incident_id: FormStr = "",
    form_key: FormStr = "",
) -> Response:
    draft = {
        "channel": channel,
        "phone": phone,
        "email": email,
        "name": name,
        "name_kana": name_kana,
        "subject": subject,
        "notes": notes,
        "transcript": transcript,
        "classification": classification,
        "priority": priority,
    }

    def again(exc: HikeshiError, fields: dict[str, Any]) -> Response:
        return _console(
            tx,
            principal,
            incident_id=_int(incident_id),
            customer_id=_int(customer_id) if "customer_id" not in fields else None,
            error=exc.message_ja,
            error_fields=fields,
            draft=draft,
            status_code=exc.http_status,
        )

    try:
        data = ContactCreate(
            channel=channel,
            phone=phone or None,
            email=email or None,
            name=name or None,
            name_kana=name_kana or None,
            subject=subject,
            notes=notes,
            transcript=transcript,
            classification=classification or None,
            priority=priority or "P3",
            customer_id=_int(customer_id),
            incident_id=_int(incident_id),
            idempotency_key=f"console:{principal.id}:{form_key[:64]}" if form_key else None,
            source="console",
        )
    except ValidationError as exc:
        fields = {".".join(str(p) for p in e["loc"]): e["msg"] for e in exc.errors()}
        failure = ValidationFailed(message_ja="入力内容に誤りがあります", fields=fields)
        return again(failure, fields)
    try:
        with tx() as session:
            _, org_id = ui.chrome_and_org(session=session, principal=principal, path=PATH)
            result = service.intake(
                session=session,
                org_id=org_id,
                data=data,
                operator_id=principal.user_id,
                operator_label=principal.label,
                clock=ctx.clock,
            )
            new_id = result.contact_id
    except (ValidationFailed, NotFound) as exc:
        return again(exc, exc.fields)
    return _back(new_id, "created" if result.created else "exists", incident_id)


@router.post(f"{PATH}/{{contact_id:int}}/classify", dependencies=CanWrite)
def classify(
    contact_id: int,
    principal: UserDep,
    tx: TxDep,
    ctx: CtxDep,
    classification: FormStr = "",
    incident_id: FormStr = "",
) -> Response:
    chosen = next((c for c in Classification if c.value == classification), None)
    if chosen is None:
        return _console(
            tx,
            principal,
            contact_id=contact_id,
            error="分類を選んでください",
            status_code=422,
        )
    with tx() as session:
        _, org_id = ui.chrome_and_org(session=session, principal=principal, path=PATH)
        service.classify(
            session=session,
            org_id=org_id,
            contact_id=contact_id,
            classification=chosen,
            clock=ctx.clock,
        )
    return _back(contact_id, "classified", incident_id)


@router.post(f"{PATH}/{{contact_id:int}}", dependencies=CanWrite)
def save(
    contact_id: int,
    principal: UserDep,
    tx: TxDep,
    ctx: CtxDep,
    subject: FormStr = "",
    notes: FormStr = "",
    transcript: FormStr = "",
    priority: FormStr = "",
    status: FormStr = "",
    link_incident: FormStr = "",
    incident_id: FormStr = "",
) -> Response:
    values: dict[str, Any] = {"subject": subject, "notes": notes, "transcript": transcript}
    if priority:
        values["priority"] = priority
    if status:
        values["status"] = status
    if _int(link_incident) is not None:
        values["incident_id"] = _int(link_incident)
    try:
        changes = ContactUpdate.model_validate(values)
        with tx() as session:
            _, org_id = ui.chrome_and_org(session=session, principal=principal, path=PATH)
            service.update_contact(
                session=session,
                org_id=org_id,
                contact_id=contact_id,
                changes=changes,
                clock=ctx.clock,
            )
    except ValidationError as exc:
        fields = {".".join(str(p) for p in e["loc"]): e["msg"] for e in exc.errors()}
        return _console(
            tx,
            principal,
            contact_id=contact_id,
            error="入力内容に誤りがあります",
            error_fields=fields,
            status_code=422,
        )
    except ValidationFailed as exc:
        return _console(
            tx,
            principal,
            contact_id=contact_id,
            error=exc.message_ja,
            error_fields=exc.fields,
            status_code=422,
        )
    return _back(contact_id, "saved", incident_id)


@router.post(f"{PATH}/{{contact_id:int}}/help", dependencies=CanWrite)
def help_request(
    contact_id: int, principal: UserDep, tx: TxDep, ctx: CtxDep, incident_id: FormStr = ""
) -> Response:
    with tx() as session:
        _, org_id = ui.chrome_and_org(session=session, principal=principal, path=PATH)
        service.request_help(
            session=session,
            org_id=org_id,
            contact_id=contact_id,
            actor_label=principal.label,
            clock=ctx.clock,
        )
    return _back(contact_id, "help", incident_id)


@router.post(f"{PATH}/{{contact_id:int}}/escalate", dependencies=CanEscalate)
def escalate(
    contact_id: int,
    principal: UserDep,
    tx: TxDep,
    ctx: CtxDep,
    reason: FormStr = "",
    incident_id: FormStr = "",
) -> Response:
    # Imported here: escalation (cases) builds on contacts, not the other way round.
    from hikeshi.cases.service import escalate_contact

    try:
        with tx() as session:
            _, org_id = ui.chrome_and_org(session=session, principal=principal, path=PATH)
            escalate_contact(
                session=session,
                org_id=org_id,
                contact_id=contact_id,
                actor_label=principal.label,
                user_id=principal.user_id,
                clock=ctx.clock,
                reason=reason[:2000],
            )
    except Conflict as exc:
        return _console(
            tx,
            principal,
            contact_id=contact_id,
            error=exc.message_ja,
            status_code=exc.http_status,
        )
    return _back(contact_id, "escalated", incident_id)
