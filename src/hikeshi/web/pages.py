"""The Japanese-first web UI: login, organisation switcher, navigation, the areas to come and
the live supervisor board (SVボード). Server-rendered; every asset is served from ``/static``.

Writes go through the same service functions as the JSON API, one transaction per use case;
every POST form carries the session's CSRF token, which ``CurrentPrincipal`` checks.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError

from hikeshi.audit.service import Actor, record, record_in_own_transaction, set_actor
from hikeshi.auth import service as auth_service
from hikeshi.auth.permissions import Permission
from hikeshi.board import service as board_service
from hikeshi.board.schemas import AnnouncementCreate
from hikeshi.context import AppContext
from hikeshi.db import transaction
from hikeshi.deps import CtxDep, CurrentPrincipal, Principal, Require, TxDep
from hikeshi.errors import (
    AuthenticationRequired,
    CsrfFailed,
    HikeshiError,
    InvalidCredentials,
    PermissionDenied,
    RateLimited,
    ValidationFailed,
)
from hikeshi.web import ui
from hikeshi.web.admin_pages import router as admin_router

router = APIRouter(include_in_schema=False)
router.include_router(admin_router)

ANONYMOUS = Actor(type="anonymous", id=None, label="anonymous")
LOGIN_NONCE_MAX_AGE = 2 * 60 * 60


def static_files() -> StaticFiles:
    return StaticFiles(directory=ui.STATIC_DIR)


def render_error(request: Request, exc: HikeshiError) -> Response:
    """The Japanese error page: the message meant for people, the right status, no detail."""
    return ui.page(
        "error.html",
        {
            "status": exc.http_status,
            "message": exc.message_ja,
            "login_needed": isinstance(exc, AuthenticationRequired),
            "reload_hint": isinstance(exc, CsrfFailed),
            # After logging in again, return to the page, not to a form's POST target.
            "next": ui.safe_next(request.url.path) if request.method == "GET" else "/",
        },
        status_code=exc.http_status,
    )


def require_user(principal: CurrentPrincipal) -> Principal:
    """Pages are for people signed in with a browser session, not for API tokens."""
    if principal.kind != "user":
        raise AuthenticationRequired("pages need a browser session")
    return principal


UserDep = Annotated[Principal, Depends(require_user)]
FormStr = Annotated[str, Form()]


def client_detail(request: Request) -> dict[str, str | None]:
    return {
        "ip": request.client.host if request.client else None,
        "user_agent": request.headers.get("user-agent", "")[:200],
    }


# --- login and logout ------------------------------------------------------------------------


def _login_cookie(ctx: AppContext) -> str:
    return f"{ctx.settings.session_cookie_name}_login"


def _login_page(
    request: Request,
    ctx: AppContext,
    *,
    next_path: str,
    email: str = "",
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    nonce = request.cookies.get(_login_cookie(ctx)) or ""
    if not (16 <= len(nonce) <= 64):
        nonce = ui.new_login_nonce()
    secret = ctx.settings.secret_key.get_secret_value()
    response = ui.page(
        "login.html",
        {
            "login_token": ui.login_form_token(secret, nonce),
            "next": next_path,
            "email": email,
            "error": error,
            "notice": notice,
        },
        status_code=status_code,
    )
    # Pre-session CSRF protection: SameSite=Strict cookie + HMAC-bound hidden field.
    response.set_cookie(
        _login_cookie(ctx),
        nonce,
        max_age=LOGIN_NONCE_MAX_AGE,
        path="/login",
        httponly=True,
        samesite="strict",
        secure=ctx.settings.cookie_secure,
    )
    return response


@router.get("/login")
def login_form(request: Request, ctx: CtxDep, next: str = "/", logged_out: int = 0) -> Response:
    notice = "ログアウトしました" if logged_out else None
    return _login_page(request, ctx, next_path=ui.safe_next(next), notice=notice)


@router.post("/login")
def login_submit(
    request: Request,
    ctx: CtxDep,
    email: FormStr = "",
    password: FormStr = "",
    next: FormStr = "/",
    csrf_token: FormStr = "",
) -> Response:
    next_path = ui.safe_next(next)
    secret = ctx.settings.secret_key.get_secret_value()
    if not ui.login_token_ok(secret, request.cookies.get(_login_cookie(ctx)), csrf_token):
        record_in_own_transaction(
            ctx.sessions,
            action="auth.csrf_rejected",
            org_id=None,
            actor=ANONYMOUS,
            detail={
                "path": request.url.path,
                "method": "POST",
                "reason": "login form token missing or wrong",
                **client_detail(request),
            },
            clock=ctx.clock,
        )
        return _login_page(
            request,
            ctx,
            next_path=next_path,
            email=email,
            error=CsrfFailed.default_ja,
            status_code=403,
        )
    ip = request.client.host if request.client else "-"
    decision = ctx.login_limiter.hit("login", f"{ip}|{email.strip().lower()}")
    if not decision.allowed:
        # Password guessing is slowed per address and account; the refusal is audited.
        record_in_own_transaction(
            ctx.sessions,
            action="auth.login_throttled",
            org_id=None,
            actor=ANONYMOUS,
            detail={"email": email.strip().lower()[:254], **client_detail(request)},
            clock=ctx.clock,
        )
        throttled = _login_page(
            request,
            ctx,
            next_path=next_path,
            email=email,
            error=RateLimited.default_ja,
            status_code=429,
        )
        throttled.headers["Retry-After"] = str(decision.retry_after)
        return throttled
    try:
        # No principal yet: the transaction's audit actor becomes the user once known.
        with transaction(ctx.sessions) as session:
            user = auth_service.authenticate(
                session=session, email=email, password=password, clock=ctx.clock
            )
            set_actor(session, Actor(type="user", id=user.id, label=user.email))
            old = request.cookies.get(ctx.settings.session_cookie_name)
            if old:
                auth_service.end_web_session(session=session, raw=old)
            org_ids = auth_service.org_ids_of(session=session, user_id=user.id)
            raw, web = auth_service.start_web_session(
                session=session,
                user=user,
                ttl=timedelta(minutes=ctx.settings.session_ttl_minutes),
                clock=ctx.clock,
                org_ids=org_ids,
            )
            record(
                session,
                action="auth.login",
                org_id=web.current_org_id,
                entity_type="users",
                entity_id=str(user.id),
                detail=client_detail(request),
            )
    except InvalidCredentials as exc:
        record_in_own_transaction(
            ctx.sessions,
            action="auth.login_failed",
            org_id=None,
            actor=ANONYMOUS,
            detail={"email": email.strip().lower()[:254], **client_detail(request)},
            clock=ctx.clock,
        )
        return _login_page(
            request, ctx, next_path=next_path, email=email, error=exc.message_ja, status_code=401
        )
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        ctx.settings.session_cookie_name,
        raw,
        max_age=ctx.settings.session_ttl_minutes * 60,
        path="/",
        httponly=True,
        samesite="lax",
        secure=ctx.settings.cookie_secure,
    )
    response.delete_cookie(_login_cookie(ctx), path="/login")
    return response


@router.post("/logout")
def logout(request: Request, principal: UserDep, tx: TxDep, ctx: CtxDep) -> Response:
    with tx() as session:
        if principal.web_session_raw:
            auth_service.end_web_session(session=session, raw=principal.web_session_raw)
        record(
            session,
            action="auth.logout",
            org_id=principal.current_org_id,
            entity_type="users",
            entity_id=str(principal.id),
            detail=client_detail(request),
        )
    response = RedirectResponse("/login?logged_out=1", status_code=303)
    response.delete_cookie(
        ctx.settings.session_cookie_name,
        path="/",
        httponly=True,
        samesite="lax",
        secure=ctx.settings.cookie_secure,
    )
    return response


# --- organisation switcher -------------------------------------------------------------------


@router.post("/switch-org")
def switch_org(
    request: Request,
    principal: UserDep,
    tx: TxDep,
    ctx: CtxDep,
    org_id: FormStr = "",
    next: FormStr = "/",
) -> Response:
    if not org_id.isdigit():
        raise ValidationFailed("org_id must be a number", message_ja="組織を選択してください")
    target = int(org_id)
    try:
        with tx() as session:
            web = auth_service.load_web_session(
                session=session, raw=principal.web_session_raw or "", clock=ctx.clock
            )
            if web is None:
                raise AuthenticationRequired("session ended")
            previous = web.current_org_id
            auth_service.switch_org(
                session=session, web=web, org_id=target, allowed=principal.org_ids
            )
            # web_sessions is plumbing, not an audited model: say what happened explicitly.
            record(
                session,
                action="auth.org_switched",
                org_id=target,
                entity_type="users",
                entity_id=str(principal.id),
                detail={"from_org_id": previous, "to_org_id": target},
            )
    except PermissionDenied:
        record_in_own_transaction(
            ctx.sessions,
            action="auth.org_denied",
            org_id=target,
            actor=principal.actor,
            detail={
                "path": request.url.path,
                "method": "POST",
                "reason": "organisation not assigned to this user",
                **client_detail(request),
            },
            clock=ctx.clock,
        )
        raise
    return RedirectResponse(ui.safe_next(next), status_code=303)


# --- home and the areas ----------------------------------------------------------------------


@router.get("/")
def home(request: Request, principal: UserDep, tx: TxDep) -> Response:
    with tx() as session:
        chrome = ui.load_chrome(session=session, principal=principal, path="/")
    return ui.page("home.html", {"areas": ui.AREAS}, chrome=chrome)


def _area_page(path: str) -> None:
    area = ui.AREAS_BY_PATH[path]

    def view(request: Request, principal: UserDep, tx: TxDep) -> Response:
        with tx() as session:
            chrome = ui.load_chrome(session=session, principal=principal, path=area.path)
        return ui.page("area.html", {"area": area}, chrome=chrome)

    view.__name__ = f"area_{path.strip('/')}"
    router.add_api_route(path, view, methods=["GET"])


for _area in ui.AREAS:
    if not _area.built:
        _area_page(_area.path)


# --- SVボード ---------------------------------------------------------------------------------


def _board_page(
    principal: Principal,
    tx: TxDep,
    *,
    error: str | None = None,
    body: str = "",
    severity: str = "info",
    status_code: int = 200,
) -> Response:
    with tx() as session:
        chrome = ui.load_chrome(session=session, principal=principal, path="/board")
        items = (
            board_service.list_announcements(session=session, org_id=chrome.org_id)
            if chrome.org_id is not None
            else []
        )
    return ui.page(
        "board.html",
        {
            "items": items,
            "can_post": principal.can(Permission.board_post),
            "error": error,
            "form_body": body,
            "form_severity": severity,
        },
        chrome=chrome,
        status_code=status_code,
    )


@router.get("/board", dependencies=[Depends(Require(Permission.board_view))])
def board(principal: UserDep, tx: TxDep) -> Response:
    return _board_page(principal, tx)


@router.post("/board/announcements", dependencies=[Depends(Require(Permission.board_post))])
def board_post(
    principal: UserDep, tx: TxDep, ctx: CtxDep, body: FormStr = "", severity: FormStr = "info"
) -> Response:
    """The no-JavaScript path; with JavaScript the board posts to the JSON API instead."""
    try:
        data = AnnouncementCreate.model_validate({"body": body.strip(), "severity": severity})
    except ValidationError:
        return _board_page(
            principal,
            tx,
            error="本文を1〜2000文字で入力し、重要度を選んでください",
            body=body,
            severity=severity,
            status_code=422,
        )
    with tx() as session:
        chrome = ui.load_chrome(session=session, principal=principal, path="/board")
        if chrome.org_id is None:
            raise ValidationFailed("no organisation", message_ja="組織が割り当てられていません")
        board_service.post_announcement(
            session=session,
            org_id=chrome.org_id,
            author_label=principal.label,
            data=data,
            clock=ctx.clock,
        )
    return RedirectResponse("/board", status_code=303)
