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
    # Crisis desk (issue 3)
    risks_read = "risks:read"
    risks_manage = "risks:manage"
    incidents_read = "incidents:read"
    incidents_launch = "incidents:launch"
    incidents_manage = "incidents:manage"
    notices_edit = "notices:edit"
    notices_approve = "notices:approve"  # the approver's department is checked per notice
    notices_publish = "notices:publish"
    roster_manage = "roster:manage"
    # Contacts and escalation (issue 4)
    contacts_read = "contacts:read"
    contacts_write = "contacts:write"  # intake, classify, notes, 手上げ
    cases_read = "cases:read"
    cases_escalate = "cases:escalate"
    cases_manage = "cases:manage"  # acknowledge, assign, resolve, next actions
    inquiries_answer = "inquiries:answer"  # a department answers a 部署照会
    decisions_approve = "decisions:approve"  # above-authority refunds and compensation
    policies_manage = "policies:manage"  # escalation policies and the authority matrix
    kpis_read = "kpis:read"
    # Capacity and people (issue 7)
    staffing_view = "staffing:view"
    staffing_manage = "staffing:manage"  # adjust parameters, adopt a plan version
    wellbeing_view = "wellbeing:view"  # who needs care now (no stress-check answers)
    # Stress-check answers: readable only by people the organisation designates (産業保健),
    # checked per user on top of this permission, which no role holds by default.
    stress_check_read = "stress_check:read"
    # Japanese triage and live calls (issue 5)
    calls_stream = "calls:stream"  # a telephony transcription stream posts utterances


_BASE = frozenset(
    {
        Permission.org_read,
        Permission.incidents_read,
        Permission.contacts_read,
        Permission.cases_read,
    }
)
_FLOOR = frozenset({Permission.contacts_write, Permission.cases_escalate, Permission.calls_stream})

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.operator: _BASE | _FLOOR,
    Role.specialist: _BASE
    | {
        Permission.inquiries_answer,
        Permission.risks_read,
        Permission.notices_edit,
        Permission.notices_approve,
        Permission.notices_publish,
    },
    Role.supervisor: _BASE
    | _FLOOR
    | {
        Permission.board_view,
        Permission.board_post,
        Permission.risks_read,
        Permission.cases_manage,
        Permission.decisions_approve,
        Permission.kpis_read,
        Permission.staffing_view,
        Permission.wellbeing_view,
        Permission.calls_stream,
    },
    Role.manager: _BASE
    | {
        Permission.board_view,
        Permission.board_post,
        Permission.audit_read,
        Permission.tokens_manage,
        Permission.risks_read,
        Permission.risks_manage,
        Permission.incidents_launch,
        Permission.incidents_manage,
        Permission.notices_edit,
        Permission.notices_publish,
        Permission.roster_manage,
        *_FLOOR,
        Permission.cases_manage,
        Permission.decisions_approve,
        Permission.policies_manage,
        Permission.kpis_read,
        Permission.staffing_view,
        Permission.staffing_manage,
        Permission.wellbeing_view,
        Permission.calls_stream,
    },
    Role.admin: frozenset(Permission) - {Permission.stress_check_read},
}


def has_permission(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]
