"""管理 (administration) pages: users, organisations, API tokens and the audit log of the
current organisation. Only principals with ``Permission.admin_pages`` reach them; everyone
else gets the Japanese 403 page and an audited refusal (``Require`` does both)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from hikeshi.audit import service as audit_service
from hikeshi.auth import service as auth_service
from hikeshi.auth.enums import Department, Role
from hikeshi.auth.permissions import Permission
from hikeshi.deps import CtxDep, CurrentPrincipal, Principal, Require, Transaction, TxDep
from hikeshi.errors import Conflict, ValidationFailed
from hikeshi.web import ui

router = APIRouter(prefix="/admin", dependencies=[Depends(Require(Permission.admin_pages))])
FormStr = Annotated[str, Form()]

NOTICES = {
    "user_created": "利用者を登録しました",
    "org_created": "組織を登録しました。ヘッダーの組織切替から選べます",
    "token_revoked": "APIトークンを失効させました",
}
TOKEN_ROLES = tuple(r for r in Role if r is not Role.admin)
TOKEN_EXPIRY_DAYS = {"30": 30, "90": 90, "365": 365}
SECTIONS = (
    ("/admin/users", "利用者", "この組織の利用者の一覧と登録。役割と専門部署を設定します。"),
    ("/admin/orgs", "組織", "担当しているクライアント企業の一覧と新規登録。"),
    ("/admin/tokens", "APIトークン", "外部システム連携用トークンの発行・一覧・失効。"),
    ("/admin/audit", "監査ログ", "この組織の操作記録（最新100件）。改ざん検知つきです。"),
)


Loader = Callable[[Session, Principal, int | None], dict[str, Any]]


def _admin_page(
    tx: Transaction,
    principal: Principal,
    section: str,
    template: str,
    context: dict[str, Any],
    *,
    load: Loader | None = None,
    status_code: int = 200,
    notice: str | None = None,
) -> Response:
    with tx() as session:
        chrome = ui.load_chrome(session=session, principal=principal, path="/admin")
        data = load(session, principal, chrome.org_id) if load else {}
    return ui.page(
        template,
        {
            "sections": SECTIONS,
            "section": section,
            "notice": NOTICES.get(notice or ""),
            "error": None,
            "form": {},
            **data,
            **context,
        },
        chrome=chrome,
        status_code=status_code,
    )


def _current_org(session: Session, principal: Principal) -> int:
    org_id = ui.load_chrome(session=session, principal=principal, path="/admin").org_id
    if org_id is None:
        raise ValidationFailed("no organisation", message_ja="組織が割り当てられていません")
    return org_id


@router.get("")
def admin_index(principal: CurrentPrincipal, tx: TxDep) -> Response:
    return _admin_page(tx, principal, "/admin", "admin/index.html", {})


# --- users -----------------------------------------------------------------------------------


def _load_users(session: Session, _principal: Principal, org_id: int | None) -> dict[str, Any]:
    users = auth_service.list_org_users(session=session, org_id=org_id) if org_id else []
    return {"users": users, "roles": tuple(Role), "departments": tuple(Department)}


@router.get("/users", dependencies=[Depends(Require(Permission.users_manage))])
def users(principal: CurrentPrincipal, tx: TxDep, notice: str = "") -> Response:
    return _admin_page(
        tx, principal, "/admin/users", "admin/users.html", {}, load=_load_users, notice=notice
    )


def _parse_role(value: str, allowed: tuple[Role, ...]) -> Role:
    role = next((r for r in allowed if r.value == value), None)
    if role is None:
        raise ValidationFailed(
            "unknown role", message_ja="役割を選択してください", fields={"role": "invalid"}
        )
    return role


@router.post("/users", dependencies=[Depends(Require(Permission.users_manage))])
def create_user(
    principal: CurrentPrincipal,
    tx: TxDep,
    ctx: CtxDep,
    email: FormStr = "",
    display_name: FormStr = "",
    password: FormStr = "",
    role: FormStr = "",
    department: FormStr = "",
) -> Response:
    form = {"email": email, "display_name": display_name, "role": role, "department": department}
    try:
        parsed_role = _parse_role(role, tuple(Role))
        dept = next((d for d in Department if d.value == department), None)
        if department and dept is None:
            raise ValidationFailed("unknown department", message_ja="部署を選択してください")
        with tx() as session:
            auth_service.create_user(
                session=session,
                email=email,
                display_name=display_name,
                password=password,
                role=parsed_role,
                department=dept,
                org_ids=[_current_org(session, principal)],
                clock=ctx.clock,
            )
    except (ValidationFailed, Conflict) as exc:
        return _admin_page(
            tx,
            principal,
            "/admin/users",
            "admin/users.html",
            {"error": exc.message_ja, "form": form},
            load=_load_users,
            status_code=exc.http_status,
        )
    return RedirectResponse("/admin/users?notice=user_created", status_code=303)


# --- organisations ---------------------------------------------------------------------------


def _load_orgs(session: Session, principal: Principal, _org_id: int | None) -> dict[str, Any]:
    return {"orgs": auth_service.list_orgs(session=session, org_ids=principal.org_ids)}


@router.get("/orgs", dependencies=[Depends(Require(Permission.orgs_manage))])
def orgs(principal: CurrentPrincipal, tx: TxDep, notice: str = "") -> Response:
    return _admin_page(
        tx, principal, "/admin/orgs", "admin/orgs.html", {}, load=_load_orgs, notice=notice
    )


@router.post("/orgs", dependencies=[Depends(Require(Permission.orgs_manage))])
def create_org(
    principal: CurrentPrincipal, tx: TxDep, ctx: CtxDep, slug: FormStr = "", name: FormStr = ""
) -> Response:
    try:
        with tx() as session:
            org = auth_service.create_org(session=session, slug=slug, name=name, clock=ctx.clock)
            if principal.user_id is not None:
                # The creator can see what they created (as the JSON API does).
                auth_service.add_membership(
                    session=session, user_id=principal.user_id, org_id=org.id, clock=ctx.clock
                )
    except (ValidationFailed, Conflict) as exc:
        return _admin_page(
            tx,
            principal,
            "/admin/orgs",
            "admin/orgs.html",
            {"error": exc.message_ja, "form": {"slug": slug, "name": name}},
            load=_load_orgs,
            status_code=exc.http_status,
        )
    return RedirectResponse("/admin/orgs?notice=org_created", status_code=303)


# --- API tokens ------------------------------------------------------------------------------


def _load_tokens(session: Session, _principal: Principal, org_id: int | None) -> dict[str, Any]:
    tokens = auth_service.list_tokens(session=session, org_id=org_id) if org_id else []
    return {"tokens": tokens, "token_roles": TOKEN_ROLES, "issued": None}


@router.get("/tokens", dependencies=[Depends(Require(Permission.tokens_manage))])
def tokens(principal: CurrentPrincipal, tx: TxDep, ctx: CtxDep, notice: str = "") -> Response:
    return _admin_page(
        tx,
        principal,
        "/admin/tokens",
        "admin/tokens.html",
        {"now": ctx.clock.now()},
        load=_load_tokens,
        notice=notice,
    )


@router.post("/tokens", dependencies=[Depends(Require(Permission.tokens_manage))])
def issue_token(
    principal: CurrentPrincipal,
    tx: TxDep,
    ctx: CtxDep,
    name: FormStr = "",
    role: FormStr = "",
    expires_days: FormStr = "",
) -> Response:
    form = {"name": name, "role": role, "expires_days": expires_days}
    try:
        parsed_role = _parse_role(role, TOKEN_ROLES)
        if expires_days and expires_days not in TOKEN_EXPIRY_DAYS:
            raise ValidationFailed("unknown expiry", message_ja="有効期限を選択してください")
        if not name.strip():
            raise ValidationFailed("name required", message_ja="トークンの名前を入力してください")
        expires_at = (
            ctx.clock.now() + timedelta(days=TOKEN_EXPIRY_DAYS[expires_days])
            if expires_days
            else None
        )
        with tx() as session:
            org_id = _current_org(session, principal)
            raw, token = auth_service.issue_api_token(
                session=session,
                org_id=org_id,
                name=name,
                role=parsed_role,
                issuer_role=principal.role,
                created_by_id=principal.user_id,
                expires_at=expires_at,
                clock=ctx.clock,
            )
            issued = {
                "raw": raw,
                "name": token.name,
                "prefix": token.prefix,
                "role": token.role,
                "expires_at": token.expires_at,
            }
    except (ValidationFailed, Conflict) as exc:
        return _admin_page(
            tx,
            principal,
            "/admin/tokens",
            "admin/tokens.html",
            {"error": exc.message_ja, "form": form, "now": ctx.clock.now()},
            load=_load_tokens,
            status_code=exc.http_status,
        )
    # Shown on this response only: only the SHA-256 is stored, and the page is not cached.
    return _admin_page(
        tx,
        principal,
        "/admin/tokens",
        "admin/tokens.html",
        {"issued": issued, "now": ctx.clock.now()},
        load=_load_tokens,
        status_code=201,
    )


@router.post("/tokens/{token_id}/revoke", dependencies=[Depends(Require(Permission.tokens_manage))])
def revoke_token(token_id: int, principal: CurrentPrincipal, tx: TxDep, ctx: CtxDep) -> Response:
    with tx() as session:
        auth_service.revoke_token(
            session=session,
            org_id=_current_org(session, principal),
            token_id=token_id,
            clock=ctx.clock,
        )
    ctx.token_cache.clear()  # this server at once; others within api_token_cache_seconds
    return RedirectResponse("/admin/tokens?notice=token_revoked", status_code=303)


# --- audit log -------------------------------------------------------------------------------


def _load_audit(session: Session, _principal: Principal, org_id: int | None) -> dict[str, Any]:
    events = audit_service.list_events(session=session, org_id=org_id, limit=100) if org_id else []
    return {"events": events}


@router.get("/audit", dependencies=[Depends(Require(Permission.audit_read))])
def audit(principal: CurrentPrincipal, tx: TxDep) -> Response:
    return _admin_page(tx, principal, "/admin/audit", "admin/audit.html", {}, load=_load_audit)
