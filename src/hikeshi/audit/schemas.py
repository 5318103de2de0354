from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditEventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    seq: int
    occurred_at: datetime
    org_id: int | None
    actor_type: str
    actor_id: int | None
    actor_label: str
    action: str
    entity_type: str | None
    entity_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    detail: dict[str, Any] | None
    hash: str


class AuditEventsPublic(BaseModel):
    data: list[AuditEventPublic]
    next_before_seq: int | None
