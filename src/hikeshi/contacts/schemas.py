"""API shapes of contacts (問い合わせ・応対) and customers."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from hikeshi.contacts.models import Channel, Classification, ContactStatus, Priority

MAX_BULK = 1000


class ContactCreate(BaseModel):
    """One contact from any channel. The customer is ``customer_id`` when known, otherwise
    matched (or created) by normalised phone number or e-mail within the organisation."""

    model_config = ConfigDict(extra="forbid")

    channel: Channel
    idempotency_key: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="A replay with the same key returns the first contact instead of a new one "
        "(the Idempotency-Key header is accepted too).",
    )
    customer_id: int | None = None
    phone: str | None = Field(default=None, max_length=40, description="Any Japanese notation")
    email: str | None = Field(default=None, max_length=254)
    name: str | None = Field(default=None, max_length=200)
    name_kana: str | None = Field(default=None, max_length=200)
    incident_id: int | None = None
    classification: Classification | None = None
    priority: Priority = Priority.p3
    subject: str = Field(default="", max_length=300)
    notes: str = Field(default="", max_length=20000)
    transcript: str = Field(default="", max_length=200000)
    source: str = Field(default="api", max_length=100)
    started_at: datetime | None = None
    ended_at: datetime | None = None


class ContactUpdate(BaseModel):
    """Fields an operator changes during or after the contact; all optional, only those sent
    are applied (``incident_id: null`` unlinks the incident)."""

    model_config = ConfigDict(extra="forbid")

    classification: Classification | None = None
    priority: Priority | None = None
    status: ContactStatus | None = None
    subject: str | None = Field(default=None, max_length=300)
    notes: str | None = Field(default=None, max_length=20000)
    transcript: str | None = Field(default=None, max_length=200000)
    incident_id: int | None = None
    ended_at: datetime | None = None


class CustomerPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    name_kana: str
    phone_e164: str | None
    phone_display: str = ""
    email: str | None
    notes: str
    created_at: datetime
    updated_at: datetime


class CustomersPublic(BaseModel):
    data: list[CustomerPublic]
    count: int


class ContactPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    idempotency_key: str | None
    customer_id: int | None
    incident_id: int | None
    channel: Channel
    classification: Classification | None
    priority: Priority
    status: ContactStatus
    subject: str
    notes: str
    transcript: str
    operator_id: int | None
    operator_label: str
    source: str
    started_at: datetime
    ended_at: datetime | None
    help_requested_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ContactsPublic(BaseModel):
    data: list[ContactPublic]
    count: int


class IntakeResponse(BaseModel):
    created: bool = Field(description="False when the idempotency key had been seen before")
    contact: ContactPublic


class BulkIntake(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[ContactCreate] = Field(min_length=1, max_length=MAX_BULK)


class BulkIntakeResponse(BaseModel):
    created: int
    existing: int
    ids: list[int] = Field(description="Contact ids in the order of the request's items")


class CustomerDetail(BaseModel):
    customer: CustomerPublic
    contacts: list[ContactPublic] = Field(description="The customer's full history, newest first")
