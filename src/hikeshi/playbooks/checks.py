"""Checks that span fields: placeholders, rendered lengths, unique ids and the roster.

:func:`template_issues` works on the raw YAML data, so it runs (and reports) even when the
pydantic schema has refused other parts of the pack. :func:`semantic_issues` needs a valid
:class:`~hikeshi.playbooks.schemas.Pack`. Both return :class:`Issue` values located by the same
``loc`` tuples pydantic uses; the loader turns them into file:line:column.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from jinja2 import TemplateSyntaxError, meta, nodes

from hikeshi.auth.enums import Department
from hikeshi.playbooks.render import (
    ENV,
    Loc,
    RenderError,
    is_template_field,
    length_problem,
    render,
    walk_strings,
)
from hikeshi.playbooks.schemas import Pack, is_schema_path
from hikeshi.playbooks.values import ParamType, coerce_value

REQUIRED_DEPARTMENTS: tuple[Department, ...] = (
    Department.pr,
    Department.legal,
    Department.executive,
    Department.hr,
)
TECHNICAL_DEPARTMENTS: tuple[Department, ...] = (Department.quality, Department.engineering)
_PARAM_TYPES: tuple[ParamType, ...] = ("str", "date", "int", "phone", "serial_ranges", "lots")


@dataclass(frozen=True)
class Issue:
    loc: Loc
    message: str
    template_line: int | None = None  # 1-based line inside a multi-line template
    needle: str | None = None  # text to point the column at


def _declared(raw: Mapping[str, object]) -> tuple[set[str], dict[str, object]]:
    """Parameter names declared in the raw data, and coerced examples of the valid ones."""
    names: set[str] = set()
    examples: dict[str, object] = {}
    params = raw.get("parameters")
    for p in params if isinstance(params, list) else []:
        if not isinstance(p, Mapping) or not isinstance(p.get("name"), str):
            continue
        name = p["name"]
        names.add(name)
        type_ = p.get("type")
        if type_ in _PARAM_TYPES and "example" in p:
            with contextlib.suppress(ValueError):  # the schema reports a bad example
                examples[name] = coerce_value(type_, p["example"])
    return names, examples


def _name_line(ast: nodes.Template, name: str) -> int | None:
    for node in ast.find_all(nodes.Name):
        if node.name == name:
            return node.lineno
    return None


def _check_template(
    loc: Loc, text: str, declared: set[str], examples: Mapping[str, object]
) -> list[Issue]:
    try:
        ast = ENV.parse(text)
        ENV.compile(ast)  # unknown filters and tests are compile-time errors
    except TemplateSyntaxError as exc:
        return [Issue(loc, f"template does not parse: {exc.message}", exc.lineno)]
    used = set(meta.find_undeclared_variables(ast))
    issues = [
        Issue(
            loc,
            f"placeholder '{name}' is not declared in parameters",
            _name_line(ast, name),
            name,
        )
        for name in sorted(used - declared)
    ]
    if issues or not used <= set(examples):
        return issues  # cannot render-check without every example
    try:
        rendered = render(text, examples)
    except RenderError as exc:
        return [Issue(loc, f"does not render with the parameter examples: {exc.message_en}")]
    problem = length_problem(loc, rendered)
    if problem:
        return [Issue(loc, f"{problem} after rendering with the parameter examples")]
    return []


def template_issues(raw: Mapping[str, object]) -> list[Issue]:
    """Placeholder and length problems in every template field of a raw pack."""
    declared, examples = _declared(raw)
    issues: list[Issue] = []
    for loc, text in walk_strings(raw):
        if is_template_field(loc):
            issues.extend(_check_template(loc, text, declared, examples))
        elif ("{{" in text or "{%" in text) and is_schema_path(loc):
            issues.append(Issue(loc, "placeholders are not allowed in this field", 1, "{"))
    return issues


def _duplicates(items: Iterable[tuple[Loc, str]], what: str) -> list[Issue]:
    seen: dict[str, Loc] = {}
    issues = []
    for loc, key in items:
        if key in seen:
            issues.append(Issue(loc, f"duplicate {what} '{key}'"))
        seen.setdefault(key, loc)
    return issues


def semantic_issues(pack: Pack) -> list[Issue]:
    """Unique ids, roster coverage, and approvers/targets that the roster knows."""
    issues = _duplicates(
        ((("parameters", i, "name"), p.name) for i, p in enumerate(pack.parameters)), "parameter"
    )
    for key in ("situation_check", "escalation_rules", "faq"):
        entries = getattr(pack, key)
        issues += _duplicates((((key, i, "id"), e.id) for i, e in enumerate(entries)), "id")
    issues += _duplicates(
        (
            (("firm_responses", "situations", i, "id"), s.id)
            for i, s in enumerate(pack.firm_responses.situations)
        ),
        "id",
    )
    in_roster = {entry.department for entry in pack.roster}
    missing = [d.value for d in REQUIRED_DEPARTMENTS if d not in in_roster]
    if not in_roster & set(TECHNICAL_DEPARTMENTS):
        missing.append("品質保証 or 技術")
    if missing:
        issues.append(Issue(("roster",), f"roster has no entry for {', '.join(missing)}"))
    for channel in type(pack.notices).model_fields:
        notice = getattr(pack.notices, channel)
        for i, department in enumerate(notice.approvers):
            if department not in in_roster:
                loc: Loc = ("notices", channel, "approvers", i)
                issues.append(Issue(loc, f"approver {department.value} is not in the roster"))
    for i, rule in enumerate(pack.escalation_rules):
        _, _, department = rule.to.partition(":")
        if department and Department(department) not in in_roster:
            loc = ("escalation_rules", i, "to")
            issues.append(Issue(loc, f"escalation target {department} is not in the roster"))
    return issues
