"""API shapes of contacts and deliveries. Contact addresses go out masked only."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from hikeshi.auth.enums import Department
from hikeshi.notify.models import ContactChannel


class ContactBase(BaseModel):
    department: Department
    name: str = Field(min_length=1, max_length=200, examples=["法務部 当番"])
    channel: ContactChannel


class ContactCreate(ContactBase):
    address: str = Field(
        min_length=3,
        max_length=2000,
        description="Email address, or the Slack/Teams incoming-webhook URL (kept secret)",
        examples=["legal@example.jp"],
    )


class ContactUpdate(BaseModel):
    department: Department | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    channel: ContactChannel | None = None
    address: str | None = Field(default=None, min_length=3, max_length=2000)
    is_active: bool | None = None


class ContactPublic(ContactBase):
    model_config = ConfigDict(from_attributes=True)
    id: int
    org_id: int
    masked_address: str
    is_active: bool
    created_at: datetime


class ContactsPublic(BaseModel):
    data: list[ContactPublic]
    count: int


class DeliveryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    org_id: int
    incident_id: int | None
    contact_id: int
    department: str
    channel: str
    recipient: str
    trigger: str
    subject: str
    body: str
    is_drill: bool
    status: str
    attempts: int
    max_attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None


class DeliveriesPublic(BaseModel):
    data: list[DeliveryPublic]
    count: int
