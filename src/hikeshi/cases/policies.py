"""Escalation policies (PagerDuty-style): levels, acknowledgement windows, repeats, calendar.

A policy belongs to an organisation, optionally to one incident. Levels are 1–5, each with a
target (``supervisor`` or ``department:<部署>``) and ``ack_minutes`` (1–1440) counted on the
policy's business calendar (``BusinessCalendar.from_config``; ``{"always_open": true}`` is 24/7).
Each organisation gets a default policy on first use.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hikeshi.auth.enums import Department
from hikeshi.calendar import BusinessCalendar
from hikeshi.cases.models import Case, EscalationPolicy
from hikeshi.cases.schemas import PolicyCreate, PolicyLevel, PolicyUpdate
from hikeshi.clock import Clock
from hikeshi.errors import Conflict, NotFound, ValidationFailed
from hikeshi.incidents.models import Incident

MAX_LEVELS = 5
MAX_ACK_MINUTES = 1440
SUPERVISOR = "supervisor"
DEPARTMENT_PREFIX = "department:"

DEFAULT_POLICY_NAME = "標準エスカレーション（SV → お客様相談室 → 経営）"
DEFAULT_LEVELS: list[dict[str, Any]] = [
    {"target": SUPERVISOR, "ack_minutes": 10},
    {"target": f"{DEPARTMENT_PREFIX}{Department.customer_relations.value}", "ack_minutes": 30},
    {"target": f"{DEPARTMENT_PREFIX}{Department.executive.value}", "ack_minutes": 60},
]


def target_department(target: str) -> Department | None:
    """The department of a ``department:<部署>`` target, None for ``supervisor``."""
    if target.startswith(DEPARTMENT_PREFIX):
        return Department(target[len(DEPARTMENT_PREFIX) :])
    return None


def target_label(target: str) -> str:
    dept = target_department(target)
    return dept.value if dept is not None else "SV・リーダー"


def validate_levels(levels: Sequence[PolicyLevel | dict[str, Any]]) -> list[dict[str, Any]]:
    """Checked, JSON-ready levels; ValidationFailed names ``levels[i].field``."""
    if not 1 <= len(levels) <= MAX_LEVELS:
        raise ValidationFailed(
            f"levels: between 1 and {MAX_LEVELS} levels required, got {len(levels)}",
            message_ja=f"段階は1〜{MAX_LEVELS}個で指定してください",
            fields={"levels": f"1–{MAX_LEVELS} levels"},
        )
    out: list[dict[str, Any]] = []
    for i, raw in enumerate(levels):
        level = raw if isinstance(raw, PolicyLevel) else PolicyLevel.model_validate(raw)
        target = level.target.strip()
        if target != SUPERVISOR:
            name = target[len(DEPARTMENT_PREFIX) :] if target.startswith(DEPARTMENT_PREFIX) else ""
            if name not in {d.value for d in Department}:
                allowed = "、".join(d.value for d in Department)
                raise ValidationFailed(
                    f"levels[{i}].target: {target!r} is not 'supervisor' or 'department:<部署>'",
                    message_ja=(
                        f"{i + 1}段目の通知先が不正です（supervisor または department:{allowed}）"
                    ),
                    fields={f"levels[{i}].target": "unknown target"},
                )
        if not 1 <= level.ack_minutes <= MAX_ACK_MINUTES:
            raise ValidationFailed(
                f"levels[{i}].ack_minutes: must be 1–{MAX_ACK_MINUTES}, got {level.ack_minutes}",
                message_ja=f"{i + 1}段目の受領期限は1〜{MAX_ACK_MINUTES}分で指定してください",
                fields={f"levels[{i}].ack_minutes": f"1–{MAX_ACK_MINUTES}"},
            )
        out.append({"target": target, "ack_minutes": level.ack_minutes})
    return out


def validate_calendar(config: dict[str, Any]) -> dict[str, Any]:
    """The calendar config normalised through ``BusinessCalendar``; errors name the field."""
    try:
        return BusinessCalendar.from_config(config).to_config()
    except ValueError as exc:
        message = str(exc)
        field = message.split(":", 1)[0] if ":" in message else "calendar"
        raise ValidationFailed(
            f"calendar.{message}",
            message_ja=f"営業時間の設定に誤りがあります：{message}",
            fields={f"calendar.{field}": message},
        ) from None


def calendar_of(policy: EscalationPolicy) -> BusinessCalendar:
    return BusinessCalendar.from_config(policy.calendar or {})


def ack_deadline(policy: EscalationPolicy, start: datetime, minutes: int) -> datetime:
    """``minutes`` of business time after ``start`` (plain minutes on a 24/7 calendar)."""
    return calendar_of(policy).add_business_time(start, timedelta(minutes=minutes))


# --- reads ------------------------------------------------------------------------------------


def get_policy(*, session: Session, org_id: int, policy_id: int) -> EscalationPolicy:
    policy = session.get(EscalationPolicy, policy_id)
    if policy is None or policy.org_id != org_id:
        raise NotFound(
            f"escalation policy {policy_id} not found",
            message_ja="エスカレーションポリシーが見つかりません",
            fields={"policy_id": policy_id},
        )
    return policy


def list_policies(*, session: Session, org_id: int) -> Sequence[EscalationPolicy]:
    return session.scalars(
        select(EscalationPolicy)
        .where(EscalationPolicy.org_id == org_id)
        .order_by(EscalationPolicy.is_default.desc(), EscalationPolicy.id)
    ).all()


def default_policy(*, session: Session, org_id: int, clock: Clock) -> EscalationPolicy:
    """The organisation's default policy (not tied to an incident); created on first use."""
    found = session.scalars(
        select(EscalationPolicy)
        .where(
            EscalationPolicy.org_id == org_id,
            EscalationPolicy.incident_id.is_(None),
        )
        .order_by(EscalationPolicy.is_default.desc(), EscalationPolicy.id)
        .limit(1)
    ).first()
    if found is not None:
        return found
    now = clock.now()
    policy = EscalationPolicy(
        org_id=org_id,
        incident_id=None,
        name=DEFAULT_POLICY_NAME,
        levels=[dict(level) for level in DEFAULT_LEVELS],
        repeat=0,
        calendar=BusinessCalendar().to_config(),
        sla_minutes=240,
        is_default=True,
        created_at=now,
        updated_at=now,
    )
    session.add(policy)
    session.flush()
    return policy


def policy_for(
    *, session: Session, org_id: int, incident_id: int | None, clock: Clock
) -> EscalationPolicy:
    """The incident's own policy when it has one, else the organisation's default."""
    if incident_id is not None:
        own = session.scalars(
            select(EscalationPolicy)
            .where(EscalationPolicy.org_id == org_id, EscalationPolicy.incident_id == incident_id)
            .order_by(EscalationPolicy.is_default.desc(), EscalationPolicy.id)
            .limit(1)
        ).first()
        if own is not None:
            return own
    return default_policy(session=session, org_id=org_id, clock=clock)


def policy_of_case(*, session: Session, case: Case, clock: Clock) -> EscalationPolicy:
    if case.policy_id is not None:
        policy = session.get(EscalationPolicy, case.policy_id)
        if policy is not None:
            return policy
    return policy_for(
        session=session, org_id=case.org_id, incident_id=case.incident_id, clock=clock
    )


# --- writes -----------------------------------------------------------------------------------


def _check_incident(session: Session, org_id: int, incident_id: int | None) -> None:
    if incident_id is None:
        return
    incident = session.get(Incident, incident_id)
    if incident is None or incident.org_id != org_id:
        raise NotFound(
            f"incident {incident_id} not found",
            message_ja="インシデントが見つかりません",
            fields={"incident_id": incident_id},
        )


def _clear_other_defaults(session: Session, policy: EscalationPolicy) -> None:
    others = session.scalars(
        select(EscalationPolicy).where(
            EscalationPolicy.org_id == policy.org_id,
            EscalationPolicy.id != policy.id,
            EscalationPolicy.is_default.is_(True),
        )
    ).all()
    for other in others:
        other.is_default = False


def create_policy(
    *, session: Session, org_id: int, data: PolicyCreate, clock: Clock
) -> EscalationPolicy:
    levels = validate_levels(data.levels)
    calendar = validate_calendar(data.calendar)
    _check_incident(session, org_id, data.incident_id)
    now = clock.now()
    policy = EscalationPolicy(
        org_id=org_id,
        incident_id=data.incident_id,
        name=data.name.strip(),
        levels=levels,
        repeat=data.repeat,
        calendar=calendar,
        sla_minutes=data.sla_minutes,
        is_default=data.is_default and data.incident_id is None,
        created_at=now,
        updated_at=now,
    )
    session.add(policy)
    session.flush()
    if policy.is_default:
        _clear_other_defaults(session, policy)
    return policy


def update_policy(
    *, session: Session, org_id: int, policy_id: int, data: PolicyUpdate, clock: Clock
) -> EscalationPolicy:
    policy = get_policy(session=session, org_id=org_id, policy_id=policy_id)
    changes = data.model_dump(exclude_unset=True)
    if changes.get("levels") is not None:
        policy.levels = validate_levels(data.levels or [])
    if changes.get("calendar") is not None:
        policy.calendar = validate_calendar(data.calendar or {})
    if data.name is not None:
        policy.name = data.name.strip()
    if data.repeat is not None:
        policy.repeat = data.repeat
    if data.sla_minutes is not None:
        policy.sla_minutes = data.sla_minutes
    if data.is_default is not None:
        policy.is_default = data.is_default and policy.incident_id is None
        if policy.is_default:
            _clear_other_defaults(session, policy)
    policy.updated_at = clock.now()
    session.flush()
    return policy


def delete_policy(*, session: Session, org_id: int, policy_id: int) -> None:
    policy = get_policy(session=session, org_id=org_id, policy_id=policy_id)
    in_use = session.scalars(
        select(Case.id)
        .where(
            Case.policy_id == policy.id,
            Case.state.in_(("open", "waiting_customer", "waiting_department")),
        )
        .limit(1)
    ).first()
    if in_use is not None:
        raise Conflict(
            f"policy {policy_id} is used by open case {in_use}",
            message_ja="対応中のケースが使っているため削除できません",
            fields={"policy_id": policy_id},
        )
    session.delete(policy)
    session.flush()
