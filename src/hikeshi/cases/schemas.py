"""API shapes of escalation policies, cases, handover cards and next actions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hikeshi.cases.models import CaseState, NextActionStatus, Tier

# --- escalation policies ----------------------------------------------------------------------


class PolicyLevel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target: str = Field(
        min_length=1,
        max_length=64,
        description='"supervisor" or "department:<部署>" (e.g. "department:お客様相談室")',
    )
    ack_minutes: int = Field(description="Minutes (business time unless 24/7) to acknowledge")


class PolicyBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    levels: list[PolicyLevel]
    repeat: int = Field(default=0, ge=0, le=5, description="Times to restart from level 1")
    calendar: dict[str, Any] = Field(
        default_factory=dict,
        description="BusinessCalendar config; {} = Mon–Fri 9:00–18:00 with 祝日, "
        '{"always_open": true} = 24/7',
    )
    sla_minutes: int = Field(default=240, ge=1, le=60 * 24 * 30)
    incident_id: int | None = None
    is_default: bool = False


class PolicyCreate(PolicyBase):
    pass


class PolicyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    levels: list[PolicyLevel] | None = None
    repeat: int | None = Field(default=None, ge=0, le=5)
    calendar: dict[str, Any] | None = None
    sla_minutes: int | None = Field(default=None, ge=1, le=60 * 24 * 30)
    is_default: bool | None = None


class PolicyPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    incident_id: int | None
    levels: list[dict[str, Any]]
    repeat: int
    calendar: dict[str, Any]
    sla_minutes: int
    is_default: bool
    created_at: datetime
    updated_at: datetime


class PoliciesPublic(BaseModel):
    data: list[PolicyPublic]
    count: int


# --- cases ------------------------------------------------------------------------------------


class CaseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contact_id: int
    reason: str = Field(default="", max_length=2000)


class SlaPublic(BaseModel):
    state: str  # on_track, at_risk, breached, paused, done
    label: str  # 対応中 / 期限間近 / 期限超過 / 保留 / 完了
    due_at: datetime | None
    remaining_minutes: int
    elapsed_minutes: int
    breached: bool


class CasePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    contact_id: int
    customer_id: int | None
    incident_id: int | None
    policy_id: int | None
    title: str
    tier: Tier
    department: str | None
    state: CaseState
    owner_id: int | None
    owner_label: str
    level: int
    round: int
    acknowledged_at: datetime | None
    acknowledged_by_label: str
    escalated_at: datetime
    escalation_count: int
    resolved_at: datetime | None
    resolution: str
    created_at: datetime
    updated_at: datetime
    sla: SlaPublic | None = None
    level_target: str = ""


class CasesPublic(BaseModel):
    data: list[CasePublic]
    count: int


class StateChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: CaseState
    note: str = Field(default="", max_length=2000)


class OwnerChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    owner_id: int | None = None
    owner_label: str = Field(default="", max_length=254)


class TierChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tier: Tier
    department: str | None = Field(default=None, max_length=32)
    note: str = Field(default="", max_length=2000)


class CaseEventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    kind: str
    summary: str
    actor_label: str
    detail: dict[str, Any] | None


class CaseEventsPublic(BaseModel):
    data: list[CaseEventPublic]
    count: int


# --- handover ---------------------------------------------------------------------------------


class HandoverUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    emotion: str | None = Field(default=None, max_length=4000)
    facts: str | None = Field(default=None, max_length=8000)
    history: str | None = Field(default=None, max_length=8000)
    demands: str | None = Field(default=None, max_length=4000)
    promises: str | None = Field(default=None, max_length=4000)


class HandoverConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=2000)


class HandoverPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    case_id: int
    emotion: str
    facts: str
    history: str
    demands: str
    promises: str
    confirmed_at: datetime | None
    confirmed_by_label: str
    confirmation_note: str
    updated_at: datetime


# --- next actions -----------------------------------------------------------------------------


class NextActionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case_id: int | None = None
    contact_id: int | None = None
    description: str = Field(min_length=1, max_length=2000)
    due_at: datetime | None = Field(default=None, description="Explicit deadline (aware)")
    promise: str | None = Field(
        default=None, max_length=100, description="本日中 / 翌営業日まで / N時間以内"
    )
    remind_minutes: int = Field(default=30, ge=0, le=24 * 60)
    owner_label: str = Field(default="", max_length=254)


class NextActionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    case_id: int | None
    contact_id: int | None
    description: str
    promised_as: str
    due_at: datetime
    remind_at: datetime | None
    status: NextActionStatus
    owner_label: str
    done_at: datetime | None
    overdue_alerted_at: datetime | None
    created_at: datetime
    overdue: bool = False


class NextActionsPublic(BaseModel):
    data: list[NextActionPublic]
    count: int


class CaseDetail(BaseModel):
    case: CasePublic
    handover: HandoverPublic | None
    events: list[CaseEventPublic]
    next_actions: list[NextActionPublic]


class BoardPublic(BaseModel):
    """The supervisor board: open cases (unacknowledged first) and open next actions by due."""

    cases: list[CasePublic]
    next_actions: list[NextActionPublic]
