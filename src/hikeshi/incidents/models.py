"""Incidents (緊急対応): a launched playbook, its notices and their approvals, its timeline.

An incident is created in one step from a playbook pack plus parameters (see
:func:`hikeshi.incidents.service.launch`); what the pack rendered to is frozen on the row, so a
later edit of the pack never changes what operators of a running incident read.
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
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from hikeshi.db import Base, enum_values


class IncidentState(enum.StrEnum):
    preparing = "preparing"  # 準備
    active = "active"  # 稼働中
    scaling_down = "scaling_down"  # 縮小
    closed = "closed"  # 終了


STATE_LABELS_JA: dict[IncidentState, str] = {
    IncidentState.preparing: "準備",
    IncidentState.active: "稼働中",
    IncidentState.scaling_down: "縮小",
    IncidentState.closed: "終了",
}

# Allowed moves; closing is final (a reopened crisis is a new incident linked by its key).
STATE_TRANSITIONS: dict[IncidentState, frozenset[IncidentState]] = {
    IncidentState.preparing: frozenset({IncidentState.active, IncidentState.closed}),
    IncidentState.active: frozenset({IncidentState.scaling_down, IncidentState.closed}),
    IncidentState.scaling_down: frozenset({IncidentState.active, IncidentState.closed}),
    IncidentState.closed: frozenset(),
}


class NoticeChannel(enum.StrEnum):
    web = "web"  # Webお知らせ (the public page)
    email = "email"
    sms = "sms"
    sns = "sns"
    press_release = "press_release"
    dm_letter = "dm_letter"


CHANNEL_LABELS_JA: dict[NoticeChannel, str] = {
    NoticeChannel.web: "Webお知らせ",
    NoticeChannel.email: "メール",
    NoticeChannel.sms: "SMS",
    NoticeChannel.sns: "SNS投稿",
    NoticeChannel.press_release: "プレスリリース",
    NoticeChannel.dm_letter: "DM（書面）",
}


class NoticeStatus(enum.StrEnum):
    draft = "draft"  # 下書き: editable, awaiting approvals
    approved = "approved"  # 承認済み: every required department approved this revision
    published = "published"  # 公開中: this revision is the current published version


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (UniqueConstraint("org_id", "launch_key", name="uq_incidents_launch_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    # Idempotency: launching twice with the same key returns the first incident.
    launch_key: Mapped[str] = mapped_column(String(128))
    title: Mapped[str] = mapped_column(String(300))
    pack_id: Mapped[str] = mapped_column(String(64))
    pack_version: Mapped[str] = mapped_column(String(32))
    incident_type: Mapped[str] = mapped_column(String(32))
    state: Mapped[IncidentState] = mapped_column(
        Enum(IncidentState, native_enum=False, length=16, values_callable=enum_values)
    )
    is_drill: Mapped[bool] = mapped_column(Boolean, default=False)  # 訓練
    # Unguessable path segment of the public notice page (/n/{public_slug}).
    public_slug: Mapped[str] = mapped_column(String(32), unique=True)
    queue_name: Mapped[str] = mapped_column(String(100))
    hotline: Mapped[str] = mapped_column(String(32), default="")
    hours: Mapped[str] = mapped_column(String(200), default="")
    params: Mapped[dict[str, Any]] = mapped_column(JSON)  # launch values as given
    rendered: Mapped[dict[str, Any]] = mapped_column(JSON)  # RenderedPack, frozen at launch
    staffing: Mapped[dict[str, Any]] = mapped_column(JSON)  # the pack's assumptions + overrides
    launched_by_label: Mapped[str] = mapped_column(String(254))
    launched_at: Mapped[datetime]
    state_changed_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    final_report: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)


class AffectedRange(Base):
    """対象製品: a model and an inclusive serial range (or one lot) for the serial check."""

    __tablename__ = "incident_affected_ranges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    model: Mapped[str] = mapped_column(String(64))  # normalised (NFKC, upper, no spaces); "" = any
    serial_start: Mapped[str] = mapped_column(String(64))  # normalised, same length as end
    serial_end: Mapped[str] = mapped_column(String(64))


class Notice(Base):
    """One notice of an incident on one channel; its text is a draft until approved."""

    __tablename__ = "incident_notices"
    __table_args__ = (UniqueConstraint("incident_id", "channel", name="uq_notice_channel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[NoticeChannel] = mapped_column(
        Enum(NoticeChannel, native_enum=False, length=16, values_callable=enum_values)
    )
    title: Mapped[str] = mapped_column(String(300), default="")  # title or email subject
    body: Mapped[str] = mapped_column(Text)
    # Department values (auth.enums.Department) whose approval each revision needs.
    required_departments: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[NoticeStatus] = mapped_column(
        Enum(NoticeStatus, native_enum=False, length=16, values_callable=enum_values)
    )
    revision: Mapped[int] = mapped_column(Integer, default=1)  # bumps on every edit
    updated_at: Mapped[datetime]
    updated_by_label: Mapped[str] = mapped_column(String(254))


class NoticeApproval(Base):
    """An approval of one revision by one department; an edit makes older approvals void."""

    __tablename__ = "incident_notice_approvals"
    __table_args__ = (
        UniqueConstraint("notice_id", "revision", "department", name="uq_notice_approval"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    notice_id: Mapped[int] = mapped_column(
        ForeignKey("incident_notices.id", ondelete="CASCADE"), index=True
    )
    revision: Mapped[int] = mapped_column(Integer)
    department: Mapped[str] = mapped_column(String(32))
    approved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    approved_by_label: Mapped[str] = mapped_column(String(254))
    approved_at: Mapped[datetime]
    comment: Mapped[str] = mapped_column(Text, default="")


class NoticeVersion(Base):
    """A published version: immutable; the newest one of a notice is what customers see."""

    __tablename__ = "incident_notice_versions"
    __table_args__ = (UniqueConstraint("notice_id", "version", name="uq_notice_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    notice_id: Mapped[int] = mapped_column(
        ForeignKey("incident_notices.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[NoticeChannel] = mapped_column(
        Enum(NoticeChannel, native_enum=False, length=16, values_callable=enum_values)
    )
    version: Mapped[int] = mapped_column(Integer)  # 1, 2, … per notice
    revision: Mapped[int] = mapped_column(Integer)  # the approved draft revision it came from
    title: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text)
    change_note: Mapped[str] = mapped_column(Text, default="")  # 更新内容, shown in the history
    # [{"department", "by", "at"}] of the approvals this version was published under.
    approvals: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    published_at: Mapped[datetime]
    published_by_label: Mapped[str] = mapped_column(String(254))


class TimelineEvent(Base):
    """One line of the incident timeline (launch, approvals, publications, notifications, …).

    The audit trail proves who changed what; the timeline is the story told to people, in
    Japanese, and goes into the final report.
    """

    __tablename__ = "incident_timeline"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    occurred_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(48))  # launch, notice.approved, notify.sent, …
    summary: Mapped[str] = mapped_column(Text)  # Japanese, one line
    actor_label: Mapped[str] = mapped_column(String(254))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
