"""Organisations, users, memberships, web sessions and API tokens.

Keyword-only functions with an explicit session; the caller owns the transaction.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from hikeshi.auth.enums import Department, Role
from hikeshi.auth.models import ApiToken, Membership, Organisation, User, WebSession
from hikeshi.clock import Clock
from hikeshi.errors import (
    Conflict,
    InvalidCredentials,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)

_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so a miss costs the same time as a hit.
_DUMMY_HASH = _hasher.hash("hikeshi-timing-equaliser")
MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "hk_"  # noqa: S105 - a visible prefix, not a secret
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ROLE_RANK = {
    Role.operator: 0,
    Role.specialist: 1,
    Role.supervisor: 2,
    Role.manager: 3,
    Role.admin: 4,
}


def sha256_hex(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"password must be at least {MIN_PASSWORD_LENGTH} characters",
            message_ja=f"パスワードは{MIN_PASSWORD_LENGTH}文字以上にしてください",
            fields={"password": "too_short"},
        )
    return _hasher.hash(password)


# --- organisations ---------------------------------------------------------------------------


def create_org(*, session: Session, slug: str, name: str, clock: Clock) -> Organisation:
    slug = slug.strip().lower()
    if not _SLUG.match(slug):
        raise ValidationFailed(
            "slug must be 2-63 characters of a-z, 0-9 and '-'",
            message_ja="識別子は半角英小文字・数字・ハイフン 2〜63 文字で入力してください",
            fields={"slug": "invalid"},
        )
    if not name.strip():
        raise ValidationFailed(
            "name is required", message_ja="名称を入力してください", fields={"name": "required"}
        )
    if session.scalar(select(Organisation.id).where(Organisation.slug == slug)) is not None:
        raise Conflict(
            f"organisation '{slug}' exists",
            message_ja="同じ識別子の組織が既にあります",
            fields={"slug": "taken"},
        )
    org = Organisation(slug=slug, name=name.strip(), is_active=True, created_at=clock.now())
    session.add(org)
    session.flush()
    return org


def get_org(*, session: Session, org_id: int) -> Organisation:
    org = session.get(Organisation, org_id)
    if org is None:
        raise NotFound(f"organisation {org_id} not found", fields={"org_id": org_id})
    return org


def list_orgs(*, session: Session, org_ids: Iterable[int]) -> Sequence[Organisation]:
    ids = list(org_ids)
    if not ids:
        return []
    return session.scalars(
        select(Organisation).where(Organisation.id.in_(ids)).order_by(Organisation.name)
    ).all()


# --- users -----------------------------------------------------------------------------------


def create_user(
    *,
    session: Session,
    email: str,
    display_name: str,
    password: str,
    role: Role,
    department: Department | None = None,
    org_ids: Iterable[int] = (),
    clock: Clock,
) -> User:
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise ValidationFailed(
            f"invalid e-mail address: {email!r}",
            message_ja="メールアドレスの形式が正しくありません",
            fields={"email": "invalid"},
        )
    if role is Role.specialist and department is None:
        raise ValidationFailed(
            "a specialist needs a department",
            message_ja="専門部署の利用者には部署を指定してください",
            fields={"department": "required"},
        )
    if role is not Role.specialist and department is not None:
        raise ValidationFailed(
            "only specialists have a department",
            message_ja="部署は専門部署の利用者にのみ指定できます",
            fields={"department": "not_allowed"},
        )
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(
            f"user {email} exists",
            message_ja="このメールアドレスは登録済みです",
            fields={"email": "taken"},
        )
    user = User(
        email=email,
        display_name=display_name.strip() or email,
        password_hash=hash_password(password),
        role=role,
        department=department,
        is_active=True,
        created_at=clock.now(),
        last_login_at=None,
    )
    session.add(user)
    session.flush()
    for org_id in org_ids:
        add_membership(session=session, user_id=user.id, org_id=org_id, clock=clock)
    return user


def add_membership(*, session: Session, user_id: int, org_id: int, clock: Clock) -> Membership:
    get_org(session=session, org_id=org_id)
    existing = session.scalar(
        select(Membership).where(Membership.user_id == user_id, Membership.org_id == org_id)
    )
    if existing is not None:
        return existing
    membership = Membership(user_id=user_id, org_id=org_id, created_at=clock.now())
    session.add(membership)
    session.flush()
    return membership


def remove_membership(*, session: Session, user_id: int, org_id: int) -> None:
    membership = session.scalar(
        select(Membership).where(Membership.user_id == user_id, Membership.org_id == org_id)
    )
    if membership is None:
        raise NotFound("membership not found")
    session.delete(membership)
    session.flush()


def org_ids_of(*, session: Session, user_id: int) -> frozenset[int]:
    rows = session.scalars(
        select(Membership.org_id)
        .join(Organisation, Organisation.id == Membership.org_id)
        .where(Membership.user_id == user_id, Organisation.is_active.is_(True))
    )
    return frozenset(rows)


def list_org_users(*, session: Session, org_id: int) -> Sequence[User]:
    return session.scalars(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.org_id == org_id)
        .order_by(User.role, User.email)
    ).all()


def authenticate(*, session: Session, email: str, password: str, clock: Clock) -> User:
    """Return the user or raise InvalidCredentials; never says which half was wrong."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        raise InvalidCredentials() from None
    if user is None or not user.is_active:
        raise InvalidCredentials()
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = clock.now()
    return user


# --- web sessions ----------------------------------------------------------------------------


def start_web_session(
    *, session: Session, user: User, ttl: timedelta, clock: Clock, org_ids: frozenset[int]
) -> tuple[str, WebSession]:
    raw = secrets.token_urlsafe(32)
    now = clock.now()
    web = WebSession(
        id=sha256_hex(raw),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        current_org_id=min(org_ids) if org_ids else None,
        created_at=now,
        expires_at=now + ttl,
        last_seen_at=now,
    )
    session.add(web)
    session.flush()
    return raw, web


def load_web_session(*, session: Session, raw: str, clock: Clock) -> WebSession | None:
    web = session.get(WebSession, sha256_hex(raw))
    if web is None:
        return None
    if web.expires_at <= clock.now():
        session.delete(web)
        return None
    return web


def end_web_session(*, session: Session, raw: str) -> None:
    web = session.get(WebSession, sha256_hex(raw))
    if web is not None:
        session.delete(web)


def switch_org(*, session: Session, web: WebSession, org_id: int, allowed: frozenset[int]) -> None:
    if org_id not in allowed:
        raise PermissionDenied("organisation not assigned", fields={"org_id": org_id})
    web.current_org_id = org_id


# --- API tokens ------------------------------------------------------------------------------


def issue_api_token(
    *,
    session: Session,
    org_id: int,
    name: str,
    role: Role,
    issuer_role: Role,
    created_by_id: int | None,
    expires_at: datetime | None,
    clock: Clock,
) -> tuple[str, ApiToken]:
    """Create a token; the raw value is returned once and never stored."""
    if not name.strip():
        raise ValidationFailed("token name is required", fields={"name": "required"})
    if role is Role.admin:
        raise ValidationFailed(
            "API tokens cannot carry the admin role",
            message_ja="APIトークンに管理者権限は付与できません",
            fields={"role": "not_allowed"},
        )
    if ROLE_RANK[role] > ROLE_RANK[issuer_role]:
        raise PermissionDenied(
            "cannot issue a token above your own role", fields={"role": role.value}
        )
    if expires_at is not None and expires_at <= clock.now():
        raise ValidationFailed("expires_at is in the past", fields={"expires_at": "past"})
    get_org(session=session, org_id=org_id)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        org_id=org_id,
        name=name.strip(),
        prefix=raw[:10],
        token_hash=sha256_hex(raw),
        role=role,
        created_by_id=created_by_id,
        created_at=clock.now(),
        expires_at=expires_at,
        revoked_at=None,
        last_used_at=None,
    )
    session.add(token)
    session.flush()
    return raw, token


def resolve_api_token(*, session: Session, raw: str, clock: Clock) -> ApiToken | None:
    if not raw.startswith(TOKEN_PREFIX):
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == sha256_hex(raw)))
    now = clock.now()
    if token is None or token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    token.last_used_at = now
    return token


def list_tokens(*, session: Session, org_id: int) -> Sequence[ApiToken]:
    return session.scalars(
        select(ApiToken).where(ApiToken.org_id == org_id).order_by(ApiToken.created_at.desc())
    ).all()


def revoke_token(*, session: Session, org_id: int, token_id: int, clock: Clock) -> ApiToken:
    token = session.scalar(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.org_id == org_id)
    )
    if token is None:
        raise NotFound(f"token {token_id} not found", fields={"token_id": token_id})
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        session.flush()
    return token
