"""API shapes of incidents, notices and the timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hikeshi.incidents.models import IncidentState, NoticeChannel, NoticeStatus


class LaunchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pack_id: str = Field(min_length=1, max_length=64)
    launch_key: str = Field(
        min_length=1,
        max_length=128,
        description="Idempotency key: launching again with the same key returns the first "
        "incident instead of creating a second one.",
    )
    params: dict[str, Any] = Field(description="Values for the pack's declared parameters")
    title: str | None = Field(default=None, max_length=300)
    is_drill: bool = False
    staffing: dict[str, Any] = Field(
        default_factory=dict, description="Overrides of the pack's staffing assumptions"
    )


class IncidentSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    pack_id: str
    pack_version: str
    incident_type: str
    state: IncidentState
    is_drill: bool
    queue_name: str
    hotline: str
    hours: str
    public_slug: str
    launched_by_label: str
    launched_at: datetime
    closed_at: datetime | None


class IncidentDetail(IncidentSummary):
    params: dict[str, Any]
    rendered: dict[str, Any]
    staffing: dict[str, Any]
    final_report: dict[str, Any] | None


class LaunchResponse(BaseModel):
    created: bool
    incident: IncidentDetail


class IncidentList(BaseModel):
    data: list[IncidentSummary]
    count: int


class StateChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: IncidentState
    note: str = Field(default="", max_length=2000)


class ApprovalOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    department: str
    revision: int
    approved_by_label: str
    approved_at: datetime
    comment: str


class NoticeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    incident_id: int
    channel: NoticeChannel
    title: str
    body: str
    required_departments: list[str]
    status: NoticeStatus
    revision: int
    updated_at: datetime
    updated_by_label: str
    approvals: list[ApprovalOut] = Field(
        default_factory=list, description="Approvals of the current revision"
    )
    missing_departments: list[str] = Field(default_factory=list)


class NoticeList(BaseModel):
    data: list[NoticeOut]
    count: int


class NoticeEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(default="", max_length=300)
    body: str = Field(min_length=1, max_length=20_000)


class NoticeApprove(BaseModel):
    model_config = ConfigDict(extra="forbid")

    revision: int = Field(ge=1, description="The revision the approver read")
    comment: str = Field(default="", max_length=2000)


class NoticePublish(BaseModel):
    model_config = ConfigDict(extra="forbid")

    change_note: str = Field(default="", max_length=2000)


class NoticeVersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    notice_id: int
    channel: NoticeChannel
    version: int
    revision: int
    title: str
    body: str
    change_note: str
    approvals: list[dict[str, Any]]
    published_at: datetime
    published_by_label: str


class NoticeVersionList(BaseModel):
    data: list[NoticeVersionOut]
    count: int


class TimelineEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    occurred_at: datetime
    kind: str
    summary: str
    actor_label: str
    detail: dict[str, Any] | None


class Timeline(BaseModel):
    data: list[TimelineEventOut]
    count: int


class SerialCheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1, max_length=128)
    serial: str = Field(min_length=1, max_length=128)


class SerialCheckResult(BaseModel):
    affected: bool
    message: str
    next_steps: str
    hotline: str
    hours: str
