"""Reading pack YAML with positions, and turning error locations into file:line:column.

PyYAML's composed nodes keep their marks; a pydantic error ``loc`` such as
``("notices", "sms", "body")`` is walked down those nodes to the line and column of the value
(or, for an unknown or missing field, of the key).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from hikeshi.playbooks.checks import Issue
from hikeshi.playbooks.render import Loc, dotted
from hikeshi.playbooks.schemas import fields_at

_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _PackLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text: parameter types decide what a value means."""


_PackLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True)
class PackError:
    """One problem in a pack, where it is, and which field (dotted, e.g. ``notices.sms.body``)."""

    file: Path
    line: int
    column: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        field_ = f" {self.field}:" if self.field else ""
        return f"{where}:{field_} {self.message}"


@dataclass(frozen=True)
class _Entry:
    file: Path
    key: Node
    value: Node


@dataclass
class Source:
    """The YAML files of one pack, merged: each top-level key remembers its file and nodes."""

    primary: Path
    raw: dict[str, Any] = field(default_factory=dict)
    index: dict[str, _Entry] = field(default_factory=dict)
    lines: dict[Path, list[str]] = field(default_factory=dict)
    errors: list[PackError] = field(default_factory=list)

    def add_file(self, file: Path) -> None:
        """Read one file into the merged pack, recording syntax and duplicate-key errors."""
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.errors.append(PackError(file, 1, 1, "", f"cannot read file: {exc}"))
            return
        self.lines[file] = text.splitlines()
        try:
            root = yaml.compose(text, Loader=_PackLoader)
            if root is None:
                self.errors.append(PackError(file, 1, 1, "", "file is empty"))
                return
            if not isinstance(root, MappingNode):
                self.errors.append(_at(file, root, "", "top level must be a mapping of fields"))
                return
            self._duplicate_keys(file, root, ())
            loader = _PackLoader("")
            for key, value in root.value:
                name = str(key.value)
                first = self.index.get(name)
                if first is not None and first.file == file:
                    continue  # a duplicate key in the same file, reported above
                if first is not None:
                    where = f"{first.file.name}:{first.key.start_mark.line + 1}"
                    self.errors.append(_at(file, key, name, f"already defined at {where}"))
                    continue
                self.index[name] = _Entry(file, key, value)
                self.raw[name] = loader.construct_object(value, deep=True)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            problem = "; ".join(str(p) for p in (exc.context, exc.problem) if p)
            self.errors.append(PackError(file, line, col, "", f"YAML syntax error: {problem}"))
        except yaml.YAMLError as exc:
            self.errors.append(PackError(file, 1, 1, "", f"YAML error: {exc}"))

    def _duplicate_keys(self, file: Path, node: Node, loc: Loc) -> None:
        if isinstance(node, MappingNode):
            seen: set[str] = set()
            for key, value in node.value:
                name = str(key.value)
                if name in seen:
                    self.errors.append(_at(file, key, dotted((*loc, name)), "duplicate key"))
                seen.add(name)
                self._duplicate_keys(file, value, (*loc, name))
        elif isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                self._duplicate_keys(file, item, (*loc, index))

    def error(self, loc: Loc, message: str, *, at_key: bool = False) -> PackError:
        return self.issue_error(Issue(loc, message), at_key=at_key)

    def issue_error(self, issue: Issue, *, at_key: bool = False) -> PackError:
        """Place an issue: the value's position, or the key's for unknown/missing fields."""
        loc = issue.loc
        entry = self.index.get(str(loc[0])) if loc else None
        if entry is None:
            return PackError(self.primary, 1, 1, dotted(loc), issue.message)
        key, node, matched = entry.key, entry.value, 1
        for seg in loc[1:]:
            child = _child(node, seg)
            if child is None:
                break
            key, node = child
            matched += 1
        use_value = matched == len(loc) and not at_key and isinstance(node, ScalarNode)
        target = node if use_value else key
        line, col = target.start_mark.line + 1, target.start_mark.column + 1
        if use_value and issue.template_line is not None:
            line, col = self._template_position(entry.file, node, issue, line, col)
        return PackError(entry.file, line, col, dotted(loc), issue.message)

    def _template_position(
        self, file: Path, node: Node, issue: Issue, line: int, col: int
    ) -> tuple[int, int]:
        block = getattr(node, "style", None) in ("|", ">")
        guess = line + (issue.template_line or 1) - (0 if block else 1)
        lines = self.lines.get(file, [])
        if issue.needle is None:
            return guess, col if guess == line else 1
        candidates = [guess, *range(line, node.end_mark.line + 2)]
        for number in candidates:
            if 1 <= number <= len(lines) and issue.needle in lines[number - 1]:
                return number, lines[number - 1].index(issue.needle) + 1
        return line, col


def _at(file: Path, node: Node, field_: str, message: str) -> PackError:
    return PackError(file, node.start_mark.line + 1, node.start_mark.column + 1, field_, message)


def _child(node: Node, seg: str | int) -> tuple[Node, Node] | None:
    if isinstance(node, MappingNode):
        return next(((k, v) for k, v in node.value if str(k.value) == str(seg)), None)
    if isinstance(node, SequenceNode) and isinstance(seg, int) and 0 <= seg < len(node.value):
        item: Node = node.value[seg]
        return item, item
    return None


def _message(error: Any) -> str:
    loc: Loc = tuple(error["loc"])
    kind: str = error["type"]
    if kind == "extra_forbidden":
        allowed = fields_at(loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        listing = f" (allowed: {', '.join(allowed)})" if allowed else ""
        return f"unknown field '{loc[-1]}'{hint}{listing}"
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "missing":
        return f"missing required field '{loc[-1]}'" if loc else message
    value = error.get("input")
    if isinstance(value, str | int | float) and len(str(value)) <= 40 and kind != "value_error":
        message += f" (got {value!r})"
    return message


def schema_errors(source: Source, exc: ValidationError) -> list[PackError]:
    kinds: dict[str, Literal["key", "value"]] = {"extra_forbidden": "key", "missing": "key"}
    return [
        source.error(tuple(e["loc"]), _message(e), at_key=kinds.get(e["type"], "value") == "key")
        for e in exc.errors(include_url=False)
    ]
