"""Contacts (問い合わせ・応対): one record per contact on any channel, and their customers.

A customer is matched by normalised phone number (E.164) or e-mail, so the operator sees the
whole history at once and nobody is asked the same thing twice.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
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


class Channel(enum.StrEnum):
    phone_in = "phone_in"  # 電話（受電）
    phone_out = "phone_out"  # 電話（架電）
    email = "email"
    web_form = "web_form"
    chat = "chat"
    sns = "sns"


CHANNEL_LABELS_JA: dict[Channel, str] = {
    Channel.phone_in: "電話（受電）",
    Channel.phone_out: "電話（架電）",
    Channel.email: "メール",
    Channel.web_form: "Webフォーム",
    Channel.chat: "チャット",
    Channel.sns: "SNS",
}


class Classification(enum.StrEnum):
    inquiry = "inquiry"  # 問い合わせ
    request = "request"  # 要望
    opinion = "opinion"  # 建設的な意見
    complaint = "complaint"  # クレーム
    unreasonable_demand = "unreasonable_demand"  # 不当要求
    harassment = "harassment"  # ハラスメント


CLASSIFICATION_LABELS_JA: dict[Classification, str] = {
    Classification.inquiry: "問い合わせ",
    Classification.request: "要望",
    Classification.opinion: "建設的な意見",
    Classification.complaint: "クレーム",
    Classification.unreasonable_demand: "不当要求",
    Classification.harassment: "ハラスメント",
}


class Priority(enum.StrEnum):
    p1 = "P1"  # act now: safety, media, legal
    p2 = "P2"
    p3 = "P3"


class ContactStatus(enum.StrEnum):
    open = "open"  # 応対中
    escalated = "escalated"  # エスカレーション済み (a case carries it on)
    closed = "closed"  # 完了


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (
        Index("ix_customers_org_phone", "org_id", "phone_e164"),
        Index("ix_customers_org_email", "org_id", "email"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200), default="")
    name_kana: Mapped[str] = mapped_column(String(200), default="")
    phone_e164: Mapped[str | None] = mapped_column(String(20), default=None)  # +81…
    email: Mapped[str | None] = mapped_column(String(254), default=None)  # lower case
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = (
        # A replayed webhook with the same key never creates a second contact.
        UniqueConstraint("org_id", "idempotency_key", name="uq_contacts_idempotency_key"),
        Index("ix_contacts_org_started", "org_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    idempotency_key: Mapped[str | None] = mapped_column(String(200), default=None)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True, default=None
    )
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), index=True, default=None
    )
    channel: Mapped[Channel] = mapped_column(
        Enum(Channel, native_enum=False, length=16, values_callable=enum_values)
    )
    classification: Mapped[Classification | None] = mapped_column(
        Enum(Classification, native_enum=False, length=32, values_callable=enum_values),
        default=None,
    )
    priority: Mapped[Priority] = mapped_column(
        Enum(Priority, native_enum=False, length=4, values_callable=enum_values),
        default=Priority.p3,
    )
    status: Mapped[ContactStatus] = mapped_column(
        Enum(ContactStatus, native_enum=False, length=16, values_callable=enum_values),
        default=ContactStatus.open,
    )
    subject: Mapped[str] = mapped_column(String(300), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    transcript: Mapped[str] = mapped_column(Text, default="")
    operator_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    operator_label: Mapped[str] = mapped_column(String(254), default="")
    source: Mapped[str] = mapped_column(String(100), default="")  # webhook name, "console", …
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    help_requested_at: Mapped[datetime | None] = mapped_column(default=None)  # 手上げ
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
