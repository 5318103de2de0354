"""Route plumbing as ``Annotated`` dependencies: context, principal, CSRF, permissions, org scope,
and the one-transaction-per-use-case helper."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Annotated, Literal, cast

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from hikeshi.audit.service import Actor, record_in_own_transaction, set_actor
from hikeshi.auth import service as auth_service
from hikeshi.auth.enums import Department, Role
from hikeshi.auth.models import User
from hikeshi.auth.permissions import Permission, has_permission
from hikeshi.context import AppContext
from hikeshi.errors import AuthenticationRequired, CsrfFailed, NotFound, PermissionDenied

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"


async def get_ctx(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


CtxDep = Annotated[AppContext, Depends(get_ctx)]


@dataclass(frozen=True)
class Principal:
    kind: Literal["user", "token"]
    id: int
    label: str
    role: Role
    department: Department | None
    org_ids: frozenset[int]
    user_id: int | None = None
    web_session_raw: str | None = None
    csrf_token: str | None = None
    current_org_id: int | None = None

    @property
    def actor(self) -> Actor:
        return Actor(type=self.kind, id=self.id, label=self.label)

    def can(self, permission: Permission) -> bool:
        return has_permission(self.role, permission)


def _refuse(
    ctx: AppContext,
    request: Request,
    action: str,
    *,
    org_id: int | None = None,
    actor: Actor | None = None,
    reason: str = "",
) -> None:
    record_in_own_transaction(
        ctx.sessions,
        action=action,
        org_id=org_id,
        actor=actor or Actor(type="anonymous", id=None, label="anonymous"),
        detail={
            "path": request.url.path,
            "method": request.method,
            "ip": request.client.host if request.client else None,
            "reason": reason,
        },
        clock=ctx.clock,
    )


def _principal_from_user(
    user: User,
    org_ids: frozenset[int],
    *,
    web_session_raw: str,
    csrf_token: str,
    current_org_id: int | None,
) -> Principal:
    return Principal(
        kind="user",
        id=user.id,
        label=user.email,
        role=user.role,
        department=user.department,
        org_ids=org_ids,
        user_id=user.id,
        web_session_raw=web_session_raw,
        csrf_token=csrf_token,
        current_org_id=current_org_id,
    )


def _principal_from_token(ctx: AppContext, raw: str) -> Principal | None:
    cached = cast(Principal | None, ctx.token_cache.get(raw))
    if cached is not None:
        return cached
    with ctx.sessions() as session:
        token = auth_service.resolve_api_token(session=session, raw=raw, clock=ctx.clock)
        if token is None:
            return None
        principal = Principal(
            kind="token",
            id=token.id,
            label=f"token:{token.prefix}",
            role=token.role,
            department=None,
            org_ids=frozenset({token.org_id}),
        )
        session.commit()
    ctx.token_cache.put(raw, principal)
    return principal


def _principal_from_cookie(ctx: AppContext, request: Request, raw_cookie: str) -> Principal | None:
    with ctx.sessions() as session:
        web = auth_service.load_web_session(session=session, raw=raw_cookie, clock=ctx.clock)
        if web is None:
            session.commit()  # an expired row is deleted
            _refuse(ctx, request, "auth.session_rejected", reason="unknown or expired session")
            return None
        user = session.get(User, web.user_id)
        if user is None or not user.is_active:
            return None
        web.last_seen_at = ctx.clock.now()
        org_ids = auth_service.org_ids_of(session=session, user_id=user.id)
        current = web.current_org_id if web.current_org_id in org_ids else None
        principal = _principal_from_user(
            user,
            org_ids,
            web_session_raw=raw_cookie,
            csrf_token=web.csrf_token,
            current_org_id=current,
        )
        session.commit()
        return principal


async def load_principal(request: Request, ctx: CtxDep) -> Principal | None:
    """Bearer token first (integrations), then the session cookie (browsers).

    Async so that a request whose token is in the cache never waits for a thread; database
    work runs in the thread pool."""
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        raw = auth[7:].strip()
        principal = cast(Principal | None, ctx.token_cache.get(raw))
        if principal is None:
            principal = await run_in_threadpool(_principal_from_token, ctx, raw)
        if principal is not None:
            return principal
        await run_in_threadpool(
            _refuse, ctx, request, "auth.token_rejected", reason="unknown, revoked or expired token"
        )
        raise AuthenticationRequired()
    raw_cookie = request.cookies.get(ctx.settings.session_cookie_name)
    if not raw_cookie:
        return None
    return await run_in_threadpool(_principal_from_cookie, ctx, request, raw_cookie)


OptionalPrincipal = Annotated[Principal | None, Depends(load_principal)]


async def require_principal(
    request: Request, ctx: CtxDep, principal: OptionalPrincipal
) -> Principal:
    if principal is None:
        raise AuthenticationRequired()
    if principal.kind == "user" and request.method not in SAFE_METHODS:
        # Cookie-authenticated writes need the session's CSRF token (header or form field).
        sent = request.headers.get(CSRF_HEADER)
        if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
        expected = principal.csrf_token or ""
        if not sent or not hmac.compare_digest(sent, expected):
            await run_in_threadpool(
                _refuse,
                ctx,
                request,
                "auth.csrf_rejected",
                actor=principal.actor,
                org_id=principal.current_org_id,
                reason="missing or wrong CSRF token",
            )
            raise CsrfFailed()
    return principal


CurrentPrincipal = Annotated[Principal, Depends(require_principal)]


class Require:
    """Declared on a route: ``dependencies=[Depends(Require(Permission.board_view))]``."""

    def __init__(self, *permissions: Permission) -> None:
        self.permissions = permissions

    async def __call__(self, request: Request, ctx: CtxDep, principal: CurrentPrincipal) -> None:
        missing = [p for p in self.permissions if not principal.can(p)]
        if missing:
            await run_in_threadpool(
                _refuse,
                ctx,
                request,
                "auth.permission_denied",
                actor=principal.actor,
                org_id=principal.current_org_id,
                reason=f"missing {', '.join(p.value for p in missing)}",
            )
            raise PermissionDenied()


@dataclass(frozen=True)
class OrgScope:
    org_id: int
    principal: Principal


async def require_org(
    org_id: int, request: Request, ctx: CtxDep, principal: CurrentPrincipal
) -> OrgScope:
    """Path ``{org_id}``: the principal must be assigned to it. Answers 404 so that the
    existence of another client's organisation is not revealed."""
    if org_id not in principal.org_ids:
        await run_in_threadpool(
            _refuse,
            ctx,
            request,
            "auth.org_denied",
            actor=principal.actor,
            org_id=org_id,
            reason="organisation not assigned to this principal",
        )
        raise NotFound()
    return OrgScope(org_id=org_id, principal=principal)


CurrentOrg = Annotated[OrgScope, Depends(require_org)]

Transaction = Callable[[], AbstractContextManager[Session]]


def get_transaction(ctx: CtxDep, principal: OptionalPrincipal) -> Transaction:
    """``with tx() as session:`` opens one transaction for the use case, with the principal
    as audit actor; it commits on success (then live events go out) and rolls back on error."""

    @contextmanager
    def tx() -> Iterator[Session]:
        session = ctx.sessions()
        if principal is not None:
            set_actor(session, principal.actor)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    return tx


TxDep = Annotated[Transaction, Depends(get_transaction)]
