"""Rendering pack templates with launch parameters.

Templates are Jinja2 (``{{ product_name }}``) rendered in a sandbox with ``StrictUndefined``, as
plain text (no HTML escaping: whoever puts a notice into HTML escapes it there). Lengths are
counted as Python ``len`` of the rendered text, i.e. in Unicode code points: SMS ≤ 70, SNS ≤ 140.

:data:`TEMPLATE_FIELDS` is the one list of the pack fields that may hold placeholders; the
validator (:mod:`hikeshi.playbooks.checks`) and :func:`render_pack` both walk it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from jinja2 import StrictUndefined, TemplateError, meta
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, ConfigDict

from hikeshi.errors import ValidationFailed
from hikeshi.playbooks.schemas import (
    SMS_LIMIT,
    SNS_LIMIT,
    FaqEntry,
    FirmResponses,
    Notices,
    Pack,
    Parameter,
    RosterEntry,
    Script,
    SituationStep,
)
from hikeshi.playbooks.values import coerce_value, jdate, num

Loc = tuple[str | int, ...]

TEMPLATE_FIELDS: tuple[tuple[str, ...], ...] = (
    ("script", "*"),
    ("situation_check", "*", "question"),
    ("faq", "*", "question"),
    ("faq", "*", "answer"),
    ("notices", "*", "title"),
    ("notices", "*", "subject"),
    ("notices", "*", "body"),
    ("roster", "*", "told"),
    ("firm_responses", "recording_notice"),
    ("firm_responses", "*", "line"),
    ("firm_responses", "situations", "*", "line"),
)
LENGTH_LIMITS: dict[Loc, tuple[str, int]] = {
    ("notices", "sms", "body"): ("SMS", SMS_LIMIT),
    ("notices", "sns", "body"): ("SNS post", SNS_LIMIT),
}


def _environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        undefined=StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True
    )
    env.filters["jdate"] = jdate
    env.filters["num"] = num
    return env


ENV = _environment()


class RenderError(ValidationFailed):
    """A template could not be rendered with the given parameters."""

    code = "playbook.render"
    default_ja = "テンプレートを差し込みできませんでした"
    default_en = "Could not render the playbook template"


def is_template_field(loc: Loc) -> bool:
    return any(
        len(pattern) == len(loc)
        and all(p == "*" or p == str(seg) for p, seg in zip(pattern, loc, strict=True))
        for pattern in TEMPLATE_FIELDS
    )


def walk_strings(data: object, loc: Loc = ()) -> Iterator[tuple[Loc, str]]:
    """Every string in a (raw or dumped) pack with its location."""
    if isinstance(data, str):
        yield loc, data
    elif isinstance(data, Mapping):
        for key, value in data.items():
            yield from walk_strings(value, (*loc, str(key)))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from walk_strings(value, (*loc, index))


def placeholders(template: str) -> set[str]:
    """The variables a template reads (jinja2.TemplateSyntaxError if it does not parse)."""
    return set(meta.find_undeclared_variables(ENV.parse(template)))


def dotted(loc: Loc) -> str:
    return ".".join(str(seg) for seg in loc)


def render(template: str, params: Mapping[str, object]) -> str:
    """Render one template; RenderError names the missing parameter or the template problem."""
    try:
        missing = sorted(placeholders(template) - set(params))
        if missing:
            raise RenderError(
                f"missing parameter {', '.join(missing)}",
                message_ja=f"パラメーター {', '.join(missing)} が指定されていません",
                fields={"parameters": missing},
            )
        return ENV.from_string(template).render(dict(params))
    except TemplateError as exc:
        raise RenderError(f"template error: {exc}", fields={"error": str(exc)}) from exc
    except ValueError as exc:  # a filter was given the wrong kind of value
        raise RenderError(f"template error: {exc}", fields={"error": str(exc)}) from exc


def example_values(parameters: list[Parameter]) -> dict[str, object]:
    return {p.name: coerce_value(p.type, p.example) for p in parameters}


def resolve_params(pack: Pack, params: Mapping[str, object]) -> dict[str, object]:
    """Check launch values against the declared parameters and coerce them to their types."""
    unknown = sorted(set(params) - {p.name for p in pack.parameters})
    if unknown:
        raise RenderError(
            f"unknown parameter {', '.join(unknown)} (not declared by pack {pack.id})",
            message_ja=f"パラメーター {', '.join(unknown)} はこのパックにありません",
            fields={"parameters": unknown},
        )
    missing = [p for p in pack.parameters if p.required and params.get(p.name) is None]
    if missing:
        names = ", ".join(p.name for p in missing)
        labels = "、".join(f"{p.label_ja}（{p.name}）" for p in missing)
        raise RenderError(
            f"missing parameter {names}",
            message_ja=f"{labels}が指定されていません",
            fields={"parameters": [p.name for p in missing]},
        )
    values: dict[str, object] = {}
    for p in pack.parameters:
        raw = params.get(p.name)
        if raw is None:
            values[p.name] = ""
            continue
        try:
            values[p.name] = coerce_value(p.type, raw)
        except ValueError as exc:
            raise RenderError(
                f"parameter {p.name}: {exc}",
                message_ja=f"{p.label_ja}（{p.name}）の値が正しくありません: {exc}",
                fields={"parameter": p.name},
            ) from exc
    return values


def length_problem(loc: Loc, text: str) -> str | None:
    limit = LENGTH_LIMITS.get(loc)
    if limit is None or len(text) <= limit[1]:
        return None
    return f"{limit[0]} is {len(text)} characters (limit {limit[1]})"


class RenderedPack(BaseModel):
    """A pack with every template filled in: what the launch step stores on the incident."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pack_id: str
    pack_version: str
    title: str
    params: dict[str, str]
    script: Script
    situation_check: list[SituationStep]
    faq: list[FaqEntry]
    notices: Notices
    roster: list[RosterEntry]
    firm_responses: FirmResponses


def _render_tree(data: Any, values: Mapping[str, object], loc: Loc = ()) -> Any:
    if isinstance(data, str):
        if not is_template_field(loc):
            return data
        try:
            text = render(data, values)
        except RenderError as exc:
            exc.fields = {**exc.fields, "field": dotted(loc)}
            raise RenderError(
                f"{dotted(loc)}: {exc.message_en}", message_ja=exc.message_ja, fields=exc.fields
            ) from exc
        problem = length_problem(loc, text)
        if problem:
            raise RenderError(
                f"{dotted(loc)}: {problem}",
                message_ja=f"{dotted(loc)}: 差し込み後 {len(text)} 文字で上限を超えています",
                fields={"field": dotted(loc), "length": len(text)},
            )
        return text
    if isinstance(data, dict):
        return {k: _render_tree(v, values, (*loc, str(k))) for k, v in data.items()}
    if isinstance(data, list):
        return [_render_tree(v, values, (*loc, i)) for i, v in enumerate(data)]
    return data


def render_pack(pack: Pack, params: Mapping[str, object]) -> RenderedPack:
    """Fill every template of ``pack`` with ``params`` (RenderError on any problem)."""
    values = resolve_params(pack, params)
    dumped = pack.model_dump(mode="json")
    rendered = _render_tree(dumped, values)
    return RenderedPack(
        pack_id=pack.id,
        pack_version=pack.version,
        title=pack.title,
        params={name: str(value) for name, value in values.items()},
        script=rendered["script"],
        situation_check=rendered["situation_check"],
        faq=rendered["faq"],
        notices=rendered["notices"],
        roster=rendered["roster"],
        firm_responses=rendered["firm_responses"],
    )
