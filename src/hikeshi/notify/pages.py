"""連絡体制 pages: department contacts and recent deliveries, with their forms."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from hikeshi.auth.enums import Department
from hikeshi.auth.permissions import Permission
from hikeshi.deps import CtxDep, CurrentPrincipal, Principal, Require, Transaction, TxDep
from hikeshi.errors import AuthenticationRequired, Conflict, ValidationFailed
from hikeshi.notify import service
from hikeshi.notify.models import CHANNEL_LABELS_JA, STATUS_LABELS_JA, ContactChannel
from hikeshi.notify.schemas import ContactCreate, ContactUpdate
from hikeshi.web import ui

router = APIRouter(include_in_schema=False)
FormStr = Annotated[str, Form()]
CanRead = [Depends(Require(Permission.incidents_read))]
CanManage = [Depends(Require(Permission.roster_manage))]
PATH = "/roster"
NOTICES = {
    "created": "連絡先を登録しました",
    "updated": "連絡先を更新しました",
    "retried": "再送を受け付けました。まもなく送信されます",
}


def require_user(principal: CurrentPrincipal) -> Principal:
    if principal.kind != "user":
        raise AuthenticationRequired("pages need a browser session")
    return principal


UserDep = Annotated[Principal, Depends(require_user)]


def _org_id(session: Session, principal: Principal) -> int:
    return ui.chrome_and_org(session=session, principal=principal, path=PATH)[1]


def _roster_page(
    tx: Transaction,
    principal: Principal,
    *,
    notice: str = "",
    error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    with tx() as session:
        chrome = ui.load_chrome(session=session, principal=principal, path=PATH)
        data: dict[str, Any] = {"groups": [], "deliveries": []}
        if chrome.org_id is not None:
            contacts = service.list_contacts(session=session, org_id=chrome.org_id)
            data["groups"] = [
                (dept, [c for c in contacts if c.department == dept.value]) for dept in Department
            ]
            data["deliveries"] = service.list_deliveries(
                session=session, org_id=chrome.org_id, limit=50
            )
    return ui.page(
        "notify/roster.html",
        {
            **data,
            "departments": tuple(Department),
            "channels": tuple(ContactChannel),
            "channel_labels": CHANNEL_LABELS_JA,
            "status_labels": STATUS_LABELS_JA,
            "can_manage": principal.can(Permission.roster_manage),
            "notice": NOTICES.get(notice),
            "error": error,
            "form": form or {},
        },
        chrome=chrome,
        status_code=status_code,
    )


@router.get(PATH, dependencies=CanRead)
def roster(principal: UserDep, tx: TxDep, notice: str = "") -> Response:
    return _roster_page(tx, principal, notice=notice)


def _form_error(exc: Exception) -> tuple[str, int]:
    if isinstance(exc, ValidationError):
        return "入力内容に誤りがあります（部署・名前・送信方法・宛先を確認してください）", 422
    if isinstance(exc, ValidationFailed | Conflict):
        return exc.message_ja, exc.http_status
    raise exc  # pragma: no cover


@router.post(f"{PATH}/contacts", dependencies=CanManage)
def create_contact(
    principal: UserDep,
    tx: TxDep,
    ctx: CtxDep,
    department: FormStr = "",
    name: FormStr = "",
    channel: FormStr = "",
    address: FormStr = "",
) -> Response:
    # The address is not echoed back into the form: a webhook URL is a secret.
    form = {"department": department, "name": name, "channel": channel}
    try:
        data = ContactCreate.model_validate(
            {"department": department, "name": name.strip(), "channel": channel, "address": address}
        )
        with tx() as session:
            service.create_contact(
                session=session, org_id=_org_id(session, principal), data=data, clock=ctx.clock
            )
    except (ValidationError, ValidationFailed, Conflict) as exc:
        message, status = _form_error(exc)
        return _roster_page(tx, principal, error=message, form=form, status_code=status)
    return RedirectResponse(f"{PATH}?notice=created", status_code=303)


@router.post(f"{PATH}/contacts/{{contact_id}}", dependencies=CanManage)
def update_contact(
    contact_id: int,
    principal: UserDep,
    tx: TxDep,
    name: FormStr = "",
    address: FormStr = "",
    is_active: FormStr = "",
) -> Response:
    """Edit and (de)activate; a blank address keeps the stored one."""
    values: dict[str, Any] = {}
    if name.strip():
        values["name"] = name.strip()
    if address.strip():
        values["address"] = address.strip()
    if is_active in ("0", "1"):
        values["is_active"] = is_active == "1"
    try:
        data = ContactUpdate.model_validate(values)
        with tx() as session:
            service.update_contact(
                session=session,
                org_id=_org_id(session, principal),
                contact_id=contact_id,
                data=data,
            )
    except (ValidationError, ValidationFailed, Conflict) as exc:
        message, status = _form_error(exc)
        return _roster_page(tx, principal, error=message, status_code=status)
    return RedirectResponse(f"{PATH}?notice=updated", status_code=303)


@router.post(f"{PATH}/deliveries/{{delivery_id}}/retry", dependencies=CanManage)
def retry_delivery(delivery_id: int, principal: UserDep, tx: TxDep, ctx: CtxDep) -> Response:
    try:
        with tx() as session:
            service.retry_delivery(
                session=session,
                org_id=_org_id(session, principal),
                delivery_id=delivery_id,
                clock=ctx.clock,
            )
    except Conflict as exc:
        return _roster_page(tx, principal, error=exc.message_ja, status_code=exc.http_status)
    return RedirectResponse(f"{PATH}?notice=retried", status_code=303)
