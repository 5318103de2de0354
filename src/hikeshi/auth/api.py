from __future__ import annotations

from fastapi import APIRouter, Depends

from hikeshi.auth import service
from hikeshi.auth.permissions import Permission
from hikeshi.auth.schemas import (
    MePublic,
    OrgCreate,
    OrgPublic,
    TokenCreate,
    TokenIssued,
    TokenPublic,
    UserCreate,
    UserPublic,
)
from hikeshi.deps import CtxDep, CurrentOrg, CurrentPrincipal, Require, TxDep

# Routes that are not about one organisation; everything else is under /orgs/{org_id}.
global_router = APIRouter(tags=["auth"])
router = APIRouter(prefix="/orgs/{org_id}", tags=["auth"])


@global_router.get("/me")
def me(principal: CurrentPrincipal) -> MePublic:
    return MePublic(
        kind=principal.kind,
        label=principal.label,
        role=principal.role,
        department=principal.department,
        org_ids=sorted(principal.org_ids),
    )


@global_router.get("/orgs")
def list_orgs(principal: CurrentPrincipal, tx: TxDep) -> list[OrgPublic]:
    with tx() as session:
        orgs = service.list_orgs(session=session, org_ids=principal.org_ids)
        return [OrgPublic.model_validate(o) for o in orgs]


@global_router.post(
    "/orgs", status_code=201, dependencies=[Depends(Require(Permission.orgs_manage))]
)
def create_org(body: OrgCreate, principal: CurrentPrincipal, tx: TxDep, ctx: CtxDep) -> OrgPublic:
    with tx() as session:
        org = service.create_org(session=session, slug=body.slug, name=body.name, clock=ctx.clock)
        if principal.user_id is not None:
            # The creator can see what they created.
            service.add_membership(
                session=session, user_id=principal.user_id, org_id=org.id, clock=ctx.clock
            )
        return OrgPublic.model_validate(org)


@router.get("")
def get_org(org: CurrentOrg, tx: TxDep) -> OrgPublic:
    with tx() as session:
        return OrgPublic.model_validate(service.get_org(session=session, org_id=org.org_id))


@router.get("/users", dependencies=[Depends(Require(Permission.users_manage))])
def list_users(org: CurrentOrg, tx: TxDep) -> list[UserPublic]:
    with tx() as session:
        return [
            UserPublic.model_validate(u)
            for u in service.list_org_users(session=session, org_id=org.org_id)
        ]


@router.post("/users", status_code=201, dependencies=[Depends(Require(Permission.users_manage))])
def create_user(org: CurrentOrg, body: UserCreate, tx: TxDep, ctx: CtxDep) -> UserPublic:
    with tx() as session:
        user = service.create_user(
            session=session,
            email=body.email,
            display_name=body.display_name,
            password=body.password,
            role=body.role,
            department=body.department,
            org_ids=[org.org_id],
            clock=ctx.clock,
        )
        return UserPublic.model_validate(user)


@router.get("/tokens", dependencies=[Depends(Require(Permission.tokens_manage))])
def list_tokens(org: CurrentOrg, tx: TxDep) -> list[TokenPublic]:
    with tx() as session:
        return [
            TokenPublic.model_validate(t)
            for t in service.list_tokens(session=session, org_id=org.org_id)
        ]


@router.post("/tokens", status_code=201, dependencies=[Depends(Require(Permission.tokens_manage))])
def issue_token(org: CurrentOrg, body: TokenCreate, tx: TxDep, ctx: CtxDep) -> TokenIssued:
    with tx() as session:
        raw, token = service.issue_api_token(
            session=session,
            org_id=org.org_id,
            name=body.name,
            role=body.role,
            issuer_role=org.principal.role,
            created_by_id=org.principal.user_id,
            expires_at=body.expires_at,
            clock=ctx.clock,
        )
        public = TokenPublic.model_validate(token)
    return TokenIssued(**public.model_dump(), token=raw)


@router.delete("/tokens/{token_id}", dependencies=[Depends(Require(Permission.tokens_manage))])
def revoke_token(org: CurrentOrg, token_id: int, tx: TxDep, ctx: CtxDep) -> TokenPublic:
    with tx() as session:
        token = service.revoke_token(
            session=session, org_id=org.org_id, token_id=token_id, clock=ctx.clock
        )
        out = TokenPublic.model_validate(token)
    # This server forgets it at once; others within api_token_cache_seconds.
    ctx.token_cache.clear()
    return out
