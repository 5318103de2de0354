"""Cases (エスカレーション): the second-line life of a contact that one person could not close.

A case climbs operator → supervisor → specialist department under an escalation policy; its
SLA clock runs on the policy's business calendar and pauses while waiting on the customer.
Around it: the handover card (引き継ぎ), promises with deadlines (ネクストアクション),
department inquiries (部署照会) kept round by round, and decisions checked against the
authority matrix (権限).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from hikeshi.db import Base, enum_values


class Tier(enum.StrEnum):
    operator = "operator"  # 一次対応
    supervisor = "supervisor"  # 二次対応 (SV)
    specialist = "specialist"  # 専門部署


class CaseState(enum.StrEnum):
    open = "open"  # 対応中
    waiting_customer = "waiting_customer"  # お客様待ち: the SLA clock pauses
    waiting_department = "waiting_department"  # 部署照会中
    resolved = "resolved"  # 解決
    closed = "closed"  # 完了 (after the survey window)


CASE_STATE_LABELS_JA: dict[CaseState, str] = {
    CaseState.open: "対応中",
    CaseState.waiting_customer: "お客様待ち",
    CaseState.waiting_department: "部署照会中",
    CaseState.resolved: "解決",
    CaseState.closed: "完了",
}


class EscalationPolicy(Base):
    """PagerDuty-style: notify level 1; if not acknowledged within N minutes, level 2; …"""

    __tablename__ = "escalation_policies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True, default=None
    )
    name: Mapped[str] = mapped_column(String(200))
    # [{"target": "supervisor" | "department:法務", "ack_minutes": 15}, …]
    levels: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    repeat: Mapped[int] = mapped_column(Integer, default=0)  # times to restart from level 1
    # hikeshi.calendar.BusinessCalendar.to_config(); {"always_open": true} for 24/7
    calendar: Mapped[dict[str, Any]] = mapped_column(JSON)
    sla_minutes: Mapped[int] = mapped_column(Integer, default=240)  # resolution target
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_org_state", "org_id", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True, default=None
    )
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), index=True, default=None
    )
    policy_id: Mapped[int | None] = mapped_column(
        ForeignKey("escalation_policies.id", ondelete="SET NULL"), default=None
    )
    title: Mapped[str] = mapped_column(String(300))
    tier: Mapped[Tier] = mapped_column(
        Enum(Tier, native_enum=False, length=16, values_callable=enum_values)
    )
    department: Mapped[str | None] = mapped_column(String(32), default=None)
    state: Mapped[CaseState] = mapped_column(
        Enum(CaseState, native_enum=False, length=24, values_callable=enum_values)
    )
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    owner_label: Mapped[str] = mapped_column(String(254), default="")
    # The escalation climb: level reached so far (1-based), round (repeat count), ack state.
    level: Mapped[int] = mapped_column(Integer, default=1)
    round: Mapped[int] = mapped_column(Integer, default=1)
    acknowledged_at: Mapped[datetime | None] = mapped_column(default=None)
    acknowledged_by_label: Mapped[str] = mapped_column(String(254), default="")
    escalated_at: Mapped[datetime]
    escalation_count: Mapped[int] = mapped_column(Integer, default=1)  # re-escalations add up
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    resolution: Mapped[str] = mapped_column(Text, default="")
    csat_token: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    csat_score: Mapped[int | None] = mapped_column(Integer, default=None)  # 1–5
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CaseEvent(Base):
    """The case's history and its SLA clock events (start, pause, resume, stop)."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(48))  # escalated, acknowledged, sla.pause, …
    summary: Mapped[str] = mapped_column(Text)
    actor_label: Mapped[str] = mapped_column(String(254))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)


class HandoverCard(Base):
    """引き継ぎ: what the second line must know before saying a word to the customer."""

    __tablename__ = "handover_cards"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    emotion: Mapped[str] = mapped_column(Text, default="")  # 感情面: why the customer is upset
    facts: Mapped[str] = mapped_column(Text, default="")  # 事実関係
    history: Mapped[str] = mapped_column(Text, default="")  # 経緯: what was tried
    demands: Mapped[str] = mapped_column(Text, default="")  # お客様の要望
    promises: Mapped[str] = mapped_column(Text, default="")  # お約束したこと
    # 「私なりに、これまでの経緯をこのように理解していますが…」 confirmed with the customer.
    confirmed_at: Mapped[datetime | None] = mapped_column(default=None)
    confirmed_by_label: Mapped[str] = mapped_column(String(254), default="")
    confirmation_note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime]


class NextActionStatus(enum.StrEnum):
    open = "open"
    done = "done"
    cancelled = "cancelled"


class NextAction(Base):
    """ネクストアクション: a promise with a deadline (「本日中に折り返します」)."""

    __tablename__ = "next_actions"
    __table_args__ = (Index("ix_next_actions_org_due", "org_id", "status", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True, default=None
    )
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True, default=None
    )
    description: Mapped[str] = mapped_column(Text)
    promised_as: Mapped[str] = mapped_column(String(100), default="")  # 本日中, 翌営業日まで, …
    due_at: Mapped[datetime]
    remind_at: Mapped[datetime | None] = mapped_column(default=None)
    status: Mapped[NextActionStatus] = mapped_column(
        Enum(NextActionStatus, native_enum=False, length=16, values_callable=enum_values),
        default=NextActionStatus.open,
    )
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    owner_label: Mapped[str] = mapped_column(String(254), default="")
    done_at: Mapped[datetime | None] = mapped_column(default=None)
    overdue_alerted_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime]


class DepartmentInquiry(Base):
    """部署照会: one round of asking a department whether an exception is possible."""

    __tablename__ = "department_inquiries"
    __table_args__ = (UniqueConstraint("case_id", "round", name="uq_inquiry_round"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    round: Mapped[int] = mapped_column(Integer)  # 1, 2, … every round is kept
    department: Mapped[str] = mapped_column(String(32))
    question: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime]
    asked_by_label: Mapped[str] = mapped_column(String(254))
    asked_at: Mapped[datetime]
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by_label: Mapped[str] = mapped_column(String(254), default="")
    answered_at: Mapped[datetime | None] = mapped_column(default=None)
    explained_at: Mapped[datetime | None] = mapped_column(default=None)  # told the customer
    customer_satisfied: Mapped[bool | None] = mapped_column(Boolean, default=None)
    customer_response: Mapped[str] = mapped_column(Text, default="")


class DecisionKind(enum.StrEnum):
    refund = "refund"  # 返金
    compensation = "compensation"  # 補償
    exchange = "exchange"  # 交換


class AuthorityRule(Base):
    """権限: what a role may grant alone, per organisation and kind."""

    __tablename__ = "authority_rules"
    __table_args__ = (UniqueConstraint("org_id", "role", "kind", name="uq_authority_rule"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))  # auth.enums.Role value
    kind: Mapped[DecisionKind] = mapped_column(
        Enum(DecisionKind, native_enum=False, length=16, values_callable=enum_values)
    )
    max_amount_yen: Mapped[int] = mapped_column(Integer)  # 0 = may not grant alone


class DecisionStatus(enum.StrEnum):
    pending_approval = "pending_approval"  # 承認待ち: over the requester's authority
    recorded = "recorded"  # 決定済み
    rejected = "rejected"  # 却下


class Decision(Base):
    __tablename__ = "case_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[DecisionKind] = mapped_column(
        Enum(DecisionKind, native_enum=False, length=16, values_callable=enum_values)
    )
    amount_yen: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[DecisionStatus] = mapped_column(
        Enum(DecisionStatus, native_enum=False, length=24, values_callable=enum_values)
    )
    requested_by_label: Mapped[str] = mapped_column(String(254))
    requested_role: Mapped[str] = mapped_column(String(16))
    requested_at: Mapped[datetime]
    approved_by_label: Mapped[str] = mapped_column(String(254), default="")
    approved_role: Mapped[str] = mapped_column(String(16), default="")
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
