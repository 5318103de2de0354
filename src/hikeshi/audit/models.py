from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hikeshi.db import Base

GENESIS_HASH = "0" * 64


class AuditEvent(Base):
    """One appended row. ``hash`` covers every field and ``prev_hash`` links the chain."""

    __tablename__ = "audit_events"
    __audited__ = False

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    occurred_at: Mapped[datetime]
    # No foreign keys: evidence must outlive the rows it speaks of.
    org_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_label: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100), index=True)
    entity_type: Mapped[str | None] = mapped_column(String(100))
    entity_id: Mapped[str | None] = mapped_column(String(100))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The chain's tip, updated in the same transaction as each append.

    Without it, deleting the newest rows would leave a chain that still verifies.
    """

    __tablename__ = "audit_head"
    __audited__ = False

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
