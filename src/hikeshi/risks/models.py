"""The risk register (リスク一覧): foreseeable emergencies of one client organisation, and the
likelihood × impact matrix that turns their scores into a priority.

The priority is never stored: it is read off the organisation's matrix, so editing the matrix
re-prioritises every risk at once. An organisation without a matrix row uses
:data:`DEFAULT_LEVELS`.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hikeshi.db import Base

SCALE = (1, 2, 3, 4, 5)
DEFAULT_CATEGORIES: tuple[str, ...] = (
    "技術的",
    "オペレーショナル",
    "環境",
    "情報セキュリティ",
    "評判",
)

LIKELIHOOD_LABELS_JA = {1: "まれ", 2: "低い", 3: "ときどき", 4: "高い", 5: "ほぼ確実"}
IMPACT_LABELS_JA = {1: "軽微", 2: "小", 3: "中", 4: "大", 5: "甚大"}


class Priority(enum.StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"

    @property
    def label_ja(self) -> str:
        return PRIORITY_LABELS_JA[self]

    @property
    def rank(self) -> int:
        return list(Priority).index(self)


PRIORITY_LABELS_JA: dict[Priority, str] = {
    Priority.low: "低",
    Priority.medium: "中",
    Priority.high: "高",
    Priority.critical: "極高",
}


def _default_level(likelihood: int, impact: int) -> Priority:
    score = likelihood * impact
    if score <= 4:
        return Priority.low
    if score <= 9:
        return Priority.medium
    if score <= 14:
        return Priority.high
    return Priority.critical


# levels[likelihood - 1][impact - 1]
DEFAULT_LEVELS: tuple[tuple[Priority, ...], ...] = tuple(
    tuple(_default_level(likelihood, impact) for impact in SCALE) for likelihood in SCALE
)


class Risk(Base):
    """One foreseeable emergency, scored on two 1–5 scales, answered by a playbook pack."""

    __tablename__ = "risks"
    __table_args__ = (
        CheckConstraint("likelihood BETWEEN 1 AND 5", name="likelihood_range"),
        CheckConstraint("impact BETWEEN 1 AND 5", name="impact_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(50))  # a default or an organisation's own
    likelihood: Mapped[int] = mapped_column(Integer)  # 発生可能性 1–5
    impact: Mapped[int] = mapped_column(Integer)  # 影響度 1–5
    owner: Mapped[str] = mapped_column(String(200), default="")  # 担当者 (free text)
    review_date: Mapped[date | None] = mapped_column(Date, default=None)  # 見直し日
    playbook_id: Mapped[str | None] = mapped_column(String(64), default=None)  # pack id
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    updated_by_label: Mapped[str] = mapped_column(String(254), default="")


class RiskMatrix(Base):
    """An organisation's own priority grid and its extra categories (one row per organisation)."""

    __tablename__ = "risk_matrices"

    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    # 5 × 5 Priority values, levels[likelihood - 1][impact - 1].
    levels: Mapped[list[list[str]]] = mapped_column(JSON)
    extra_categories: Mapped[list[str]] = mapped_column(JSON)
    updated_at: Mapped[datetime]
    updated_by_label: Mapped[str] = mapped_column(String(254), default="")
