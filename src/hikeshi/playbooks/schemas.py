"""The playbook pack (対応フロー・マニュアル) schema.

A pack is a directory ``<id>/pack.yaml`` (plus optional sibling ``*.yaml`` files such as
``faq.yaml`` that hold more top-level keys). Every model forbids unknown fields, so a misspelt key
is an error that names its file and line (see :mod:`hikeshi.playbooks.loader`).

The checks that need more than one field (placeholders, rendered lengths, unique ids, roster
coverage) live in :mod:`hikeshi.playbooks.checks`; :func:`hikeshi.playbooks.loader.load_pack` runs
both, so load packs through it rather than calling ``Pack.model_validate`` directly.
"""

from __future__ import annotations

import re
import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from hikeshi.auth.enums import Department
from hikeshi.playbooks.values import ParamType, coerce_value

IncidentType = Literal["recall", "data_breach", "accident_disaster", "outage", "firestorm"]
# Quick classification: 問い合わせ / 要望 / 建設的な意見 / クレーム / 不当要求 / カスハラ
Classification = Literal[
    "inquiry", "request", "opinion", "complaint", "unreasonable_demand", "harassment"
]
# 暴言 / 脅迫 / 人格否定 / 不当要求 / 長時間拘束 / SNS晒し / 差別 / 性的
HarassmentCategory = Literal[
    "abuse",
    "threat",
    "personal_attack",
    "unreasonable_demand",
    "long_hold",
    "sns_exposure",
    "discrimination",
    "sexual",
]
Priority = Literal["P1", "P2", "P3"]  # P1 = act now (safety, media, legal); P3 = same day
Trigger = Literal[
    "on_launch",
    "on_notice_draft",
    "on_notice_published",
    "on_escalation",
    "on_harassment",
    "on_media_inquiry",
    "daily_report",
    "on_close",
]
RosterChannel = Literal["email", "slack", "teams", "phone"]

DEFAULT_APPROVERS: tuple[Department, ...] = (Department.pr, Department.legal)
NOTICE_CHANNELS = ("web", "email", "sms", "sns", "press_release", "dm_letter")
SMS_LIMIT = 70  # characters, counted as Python len() of the rendered text
SNS_LIMIT = 140

_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$"
)


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def _semver(value: str) -> str:
    if not _SEMVER.match(value):
        raise ValueError(f"{value!r} is not a semantic version like 1.0.0 (quote it in YAML)")
    return value


def _target(value: str) -> str:
    if value == "supervisor":
        return value
    prefix, _, department = value.partition(":")
    names = [d.value for d in Department]
    if prefix != "department" or department not in names:
        raise ValueError(
            f"{value!r} is not 'supervisor' or 'department:<部署>' "
            f"with 部署 one of {', '.join(names)}"
        )
    return value


Text = Annotated[str, AfterValidator(_not_blank)]
Slug = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
SemVer = Annotated[str, AfterValidator(_semver)]
Target = Annotated[str, AfterValidator(_target)]  # "supervisor" or "department:<部署>"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Parameter(_Model):
    """A declared placeholder. ``example`` is used to render-check every template."""

    name: Slug
    label_ja: Text
    type: ParamType
    required: bool = True
    example: Any
    help_ja: str | None = None

    @field_validator("example")
    @classmethod
    def _example_fits_type(cls, value: Any, info: ValidationInfo) -> Any:
        type_ = info.data.get("type")
        if type_ is not None:
            coerce_value(type_, value)
        return value


class Script(_Model):
    opening: Text  # お詫び: the first words after the greeting
    closing: Text
    hold: Text | None = None  # 保留のお願い
    callback: Text | None = None  # 折り返しのご案内


class SituationStep(_Model):
    id: Slug
    question: Text
    purpose: Text
    record_as: Slug | None = None  # the contact-record field the answer goes to


class Condition(_Model):
    """One test, or ``all``/``any`` of nested conditions. Exactly one key must be set."""

    all: list[Condition] | None = Field(default=None, min_length=1)
    any: list[Condition] | None = Field(default=None, min_length=1)
    any_keywords: list[Text] | None = Field(default=None, min_length=1)
    classification_in: list[Classification] | None = Field(default=None, min_length=1)
    harassment_in: list[HarassmentCategory] | None = Field(default=None, min_length=1)
    amount_over_yen: int | None = Field(default=None, ge=0)
    repeat_contacts_over: int | None = Field(default=None, ge=0)
    anger_level_at_least: int | None = Field(default=None, ge=1, le=5)

    @model_validator(mode="after")
    def _exactly_one(self) -> Condition:
        if len(self.keys()) != 1:
            allowed = ", ".join(type(self).model_fields)
            found = ", ".join(self.keys()) or "nothing"
            raise ValueError(f"a condition needs exactly one of {allowed} (found {found})")
        return self

    def keys(self) -> list[str]:
        return [name for name in type(self).model_fields if getattr(self, name) is not None]


class EscalationRule(_Model):
    id: Slug
    description: Text
    when: Condition
    to: Target
    priority: Priority = "P2"


class FaqEntry(_Model):
    id: Slug
    question: Text
    answer: Text
    tags: list[Text] = Field(min_length=1)


def _approvers() -> list[Department]:
    return list(DEFAULT_APPROVERS)


class _Notice(_Model):
    body: Text
    approvers: list[Department] = Field(default_factory=_approvers, min_length=1)


class TitledNotice(_Notice):  # Webお知らせ, プレスリリース, DM (書面)
    title: Text


class EmailNotice(_Notice):
    subject: Text


class ShortNotice(_Notice):  # SMS (≤ 70 characters), SNS post (≤ 140 characters)
    pass


class Notices(_Model):
    web: TitledNotice
    email: EmailNotice
    sms: ShortNotice
    sns: ShortNotice
    press_release: TitledNotice
    dm_letter: TitledNotice


class RosterEntry(_Model):
    """連絡体制: which department is told what, when, and over which channels."""

    department: Department
    responsibility: Text
    told: Text
    when: list[Trigger] = Field(min_length=1)
    channels: list[RosterChannel] = Field(min_length=1)


class TeamRole(_Model):
    role: Text
    responsibilities: list[Text] = Field(min_length=1)
    count: int = Field(ge=1, le=10_000)  # people at launch; workforce planning scales operators


class ServiceLevel(_Model):
    target_percent: int = Field(ge=1, le=100)
    answer_within_seconds: int = Field(ge=1, le=600)


class Staffing(_Model):
    contact_rate: float = Field(gt=0, le=1)  # share of affected customers who contact us
    aht_seconds: int = Field(ge=30, le=7200)
    service_level: ServiceLevel
    peak_day: int = Field(ge=1, le=60)  # day 1 = the day of the announcement
    peak_day_share: float = Field(gt=0, le=1)  # share of all contacts arriving on the peak day
    duration_days: int = Field(ge=1, le=365)
    self_service_deflection: float = Field(default=0.0, ge=0, lt=1)
    shrinkage: float = Field(default=0.3, ge=0, lt=1)
    max_occupancy: float = Field(default=0.85, gt=0, le=1)
    notes: str | None = None


class FirmStage(_Model):
    when: Text
    line: Text


class FirmSituation(_Model):
    id: Slug
    category: HarassmentCategory
    situation: Text
    line: Text


class FirmResponses(_Model):
    """毅然とした対応: 録音のお知らせ, then the staged 警告 → SV交代 → 終話, then per situation."""

    recording_notice: Text
    warning: FirmStage
    sv_takeover: FirmStage
    end_call: FirmStage
    situations: list[FirmSituation] = Field(min_length=1)


class Pack(_Model):
    id: Slug
    version: SemVer
    incident_type: IncidentType
    title: Text
    description: Text
    parameters: list[Parameter] = Field(min_length=1)
    script: Script
    situation_check: list[SituationStep] = Field(min_length=1)
    escalation_rules: list[EscalationRule] = Field(min_length=1)
    faq: list[FaqEntry] = Field(min_length=12)
    notices: Notices
    roster: list[RosterEntry] = Field(min_length=1)
    team_roles: list[TeamRole] = Field(min_length=1)
    staffing: Staffing
    firm_responses: FirmResponses

    def parameter(self, name: str) -> Parameter | None:
        return next((p for p in self.parameters if p.name == name), None)


def _unwrap(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def _annotation_at(loc: tuple[str | int, ...]) -> Any:
    annotation: Any = Pack
    for seg in loc:
        annotation = _unwrap(annotation)
        if isinstance(seg, int):
            if get_origin(annotation) is not list:
                return None
            annotation = get_args(annotation)[0]
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(seg)
            if field is None:
                return None
            annotation = field.annotation
        else:
            return None
    return _unwrap(annotation)


def fields_at(loc: tuple[str | int, ...]) -> list[str]:
    """The field names the schema allows at ``loc`` ([] if ``loc`` is not a model)."""
    annotation = _annotation_at(loc)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return []


def is_schema_path(loc: tuple[str | int, ...]) -> bool:
    """Whether ``loc`` names a place the schema knows (so not inside an unknown field)."""
    return _annotation_at(loc) is not None
