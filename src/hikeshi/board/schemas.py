from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["info", "warning", "urgent"]


class AnnouncementBase(BaseModel):
    body: str = Field(min_length=1, max_length=2000, examples=["本日18時から回収受付を延長します"])
    severity: Severity = "info"


class AnnouncementCreate(AnnouncementBase):
    pass


class AnnouncementPublic(AnnouncementBase):
    model_config = ConfigDict(from_attributes=True)
    id: int
    org_id: int
    author_label: str
    created_at: datetime


class AnnouncementsPublic(BaseModel):
    data: list[AnnouncementPublic]
    count: int
