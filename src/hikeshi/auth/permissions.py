"""Declarative permissions: each route names what it needs; roles map to sets of permissions."""

from __future__ import annotations

import enum

from hikeshi.auth.enums import Role


class Permission(enum.StrEnum):
    org_read = "org:read"
    board_view = "board:view"
    board_post = "board:post"
    audit_read = "audit:read"
    users_manage = "users:manage"
    orgs_manage = "orgs:manage"
    tokens_manage = "tokens:manage"
    admin_pages = "admin:pages"


_BASE = frozenset({Permission.org_read})

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.operator: _BASE,
    Role.specialist: _BASE,
    Role.supervisor: _BASE | {Permission.board_view, Permission.board_post},
    Role.manager: _BASE
    | {
        Permission.board_view,
        Permission.board_post,
        Permission.audit_read,
        Permission.tokens_manage,
    },
    Role.admin: frozenset(Permission),
}


def has_permission(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]
