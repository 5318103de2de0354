from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from hikeshi.risks.models import Priority


class RiskBase(BaseModel):
    title: str = Field(min_length=1, max_length=200, examples=["主力製品の発火事故によるリコール"])
    category: str = Field(min_length=1, max_length=50, examples=["技術的"])
    likelihood: int = Field(ge=1, le=5, description="発生可能性 1–5")
    impact: int = Field(ge=1, le=5, description="影響度 1–5")
    owner: str = Field(default="", max_length=200, examples=["品質保証部 山田"])
    review_date: date | None = None
    playbook_id: str | None = Field(default=None, max_length=64, examples=["recall"])
    notes: str = Field(default="", max_length=4000)


class RiskCreate(RiskBase):
    pass


class RiskUpdate(BaseModel):
    """Every field optional; only the fields sent are changed."""

    title: str | None = Field(default=None, min_length=1, max_length=200)
    category: str | None = Field(default=None, min_length=1, max_length=50)
    likelihood: int | None = Field(default=None, ge=1, le=5)
    impact: int | None = Field(default=None, ge=1, le=5)
    owner: str | None = Field(default=None, max_length=200)
    review_date: date | None = None
    playbook_id: str | None = Field(default=None, max_length=64)
    notes: str | None = Field(default=None, max_length=4000)


class RiskPublic(RiskBase):
    model_config = ConfigDict(from_attributes=True)
    id: int
    org_id: int
    priority: Priority
    priority_label: str
    review_overdue: bool
    created_at: datetime
    updated_at: datetime
    updated_by_label: str


class RisksPublic(BaseModel):
    data: list[RiskPublic]
    count: int


class MatrixPublic(BaseModel):
    """``levels[likelihood - 1][impact - 1]``; ``is_default`` when the organisation has none."""

    levels: list[list[Priority]]
    extra_categories: list[str]
    categories: list[str]
    is_default: bool
    labels: dict[str, str]


class MatrixUpdate(BaseModel):
    levels: list[list[Priority]] | None = Field(default=None, min_length=5, max_length=5)
    extra_categories: list[str] | None = Field(default=None, max_length=50)


class HeatCell(BaseModel):
    likelihood: int
    impact: int
    priority: Priority
    count: int


class HeatmapPublic(BaseModel):
    cells: list[HeatCell]
    total: int


class ImportResult(BaseModel):
    created: int
