"""Department contacts (連絡先) and the deliveries of messages to them (送信記録)."""

from __future__ import annotations

import enum
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hikeshi.db import Base


class ContactChannel(enum.StrEnum):
    email = "email"
    slack = "slack"
    teams = "teams"


CHANNEL_LABELS_JA: dict[str, str] = {
    ContactChannel.email: "メール",
    ContactChannel.slack: "Slack",
    ContactChannel.teams: "Microsoft Teams",
}


class DeliveryStatus(enum.StrEnum):
    queued = "queued"  # 送信待ち: a job will try it
    retrying = "retrying"  # 再試行中: an attempt failed, the next one is scheduled
    sent = "sent"  # 送信済み: the server or webhook accepted it
    failed = "failed"  # 失敗: every attempt failed; a person may retry it


STATUS_LABELS_JA: dict[str, str] = {
    DeliveryStatus.queued: "送信待ち",
    DeliveryStatus.retrying: "再試行中",
    DeliveryStatus.sent: "送信済み",
    DeliveryStatus.failed: "失敗",
}


def mask_address(channel: str, address: str) -> str:
    """What people and the API see: webhook URLs are secrets (whoever has one can post)."""
    if channel == ContactChannel.email:
        local, _, domain = address.partition("@")
        return f"{local[:1]}***@{domain}" if domain else "***"
    parts = urlsplit(address)
    tail = address[-4:] if len(address) > 24 else ""
    return f"{parts.scheme}://{parts.hostname or ''}/…{tail}"


class DepartmentContact(Base):
    """Where one department is reached on one channel (an address or an incoming webhook)."""

    __tablename__ = "department_contacts"
    # The webhook URL is the credential: never copy it into the audit trail.
    __audit_redact__ = ("address",)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    department: Mapped[str] = mapped_column(String(32))  # a hikeshi.auth.enums.Department value
    name: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(16))  # a ContactChannel value
    address: Mapped[str] = mapped_column(String(2000))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]

    @property
    def masked_address(self) -> str:
        return mask_address(self.channel, self.address)


class Delivery(Base):
    """One message to one contact, and what became of it. Audited: who was told what, when,
    and whether it arrived is part of the incident's record."""

    __tablename__ = "notify_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), index=True
    )
    # Contacts with deliveries are deactivated, never deleted (the service refuses).
    contact_id: Mapped[int] = mapped_column(ForeignKey("department_contacts.id"), index=True)
    department: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(300))  # masked address, for display
    trigger: Mapped[str] = mapped_column(String(64))  # e.g. on_launch
    subject: Mapped[str] = mapped_column(String(300))  # as sent, 【訓練】 included for drills
    body: Mapped[str] = mapped_column(Text)
    is_drill: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.queued)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime | None]
