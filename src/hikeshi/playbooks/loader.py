"""Loading, discovering and validating playbook packs.

A pack is a directory ``<id>/`` holding ``pack.yaml`` and optionally more ``*.yaml`` files whose
top-level keys are merged in (the shipped packs keep ``faq.yaml`` and ``notices.yaml`` apart).
The directory name must equal the pack ``id``. A single YAML file can be validated on its own.

Validation reports every error it can find, each as a :class:`PackError` with file, line, column
and dotted field: YAML syntax errors first (nothing else is checked in a file that does not
parse), then schema errors, placeholder and length errors, and cross-field errors.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pydantic import ValidationError

from hikeshi.errors import ValidationFailed
from hikeshi.playbooks.checks import Issue, semantic_issues, template_issues
from hikeshi.playbooks.locate import PackError, Source, schema_errors
from hikeshi.playbooks.schemas import Pack

BUILTIN_PACKS_DIR = Path(__file__).resolve().parent / "packs"
PACK_FILE = "pack.yaml"
_SUFFIXES = (".yaml", ".yml")


class PackValidationError(ValidationFailed):
    """A pack (or several, during discovery) did not validate; ``errors`` lists every problem."""

    code = "playbook.invalid"
    default_ja = "対応フロー・マニュアル（パック）に誤りがあります"
    default_en = "The playbook pack is invalid"

    def __init__(self, errors: list[PackError]) -> None:
        self.errors = errors
        summary = "\n".join(str(e) for e in errors)
        super().__init__(
            f"{len(errors)} error(s) in playbook pack:\n{summary}",
            fields={"errors": [str(e) for e in errors]},
        )


def _pack_files(path: Path) -> tuple[list[Path], str | None]:
    """The files making up the pack at ``path`` and the id its directory implies."""
    if path.is_dir():
        directory = path
    elif path.name == PACK_FILE:
        directory = path.parent
    else:
        return [path], None
    others = sorted(p for p in directory.iterdir() if p.suffix in _SUFFIXES and p.name != PACK_FILE)
    return [directory / PACK_FILE, *[p for p in others if p.is_file()]], directory.name


def _check(path: Path) -> tuple[Pack | None, list[PackError]]:
    files, expected_id = _pack_files(path)
    source = Source(primary=files[0])
    if not files[0].is_file():
        return None, [PackError(files[0], 1, 1, "", f"{files[0].name} not found")]
    for file in files:
        source.add_file(file)
    if source.errors:
        return None, _sorted(source.errors)
    errors: list[PackError] = []
    pack: Pack | None = None
    try:
        pack = Pack.model_validate(source.raw)
    except ValidationError as exc:
        errors += schema_errors(source, exc)
    issues = template_issues(source.raw)
    if pack is not None:
        issues += semantic_issues(pack)
        if expected_id is not None and pack.id != expected_id:
            message = f"id '{pack.id}' must equal its directory name '{expected_id}'"
            issues.append(Issue(("id",), message))
    errors += [source.issue_error(issue) for issue in issues]
    return (pack if not errors else None), _sorted(errors)


def _sorted(errors: Iterable[PackError]) -> list[PackError]:
    return sorted(set(errors), key=lambda e: (str(e.file), e.line, e.column, e.field, e.message))


def pack_dirs(path: Path) -> list[Path]:
    """``path`` itself if it is a pack directory, else its subdirectories that are packs."""
    if (path / PACK_FILE).is_file():
        return [path]
    return sorted(p for p in path.iterdir() if (p / PACK_FILE).is_file())


def load_pack(path: Path | str) -> Pack:
    """Load and fully validate one pack (a directory, its pack.yaml, or a single YAML file)."""
    pack, errors = _check(Path(path))
    if errors or pack is None:
        raise PackValidationError(errors)
    return pack


def check_path(path: Path | str) -> list[tuple[Path, Pack | None, list[PackError]]]:
    """Validate a pack, a directory of packs, or a single YAML file; one row per pack found."""
    path = Path(path)
    if not path.exists():
        return [(path, None, [PackError(path, 1, 1, "", "no such file or directory")])]
    if path.is_file():
        return [(path, *_check(path))]
    dirs = pack_dirs(path)
    if not dirs:
        message = f"no {PACK_FILE} in this directory or its subdirectories"
        return [(path, None, [PackError(path, 1, 1, "", message)])]
    return [(d, *_check(d)) for d in dirs]


def validate_path(path: Path | str) -> list[PackError]:
    """Every error in the pack(s) at ``path``; an empty list means valid."""
    return [error for _, _, errors in check_path(path) for error in errors]


def discover_packs(extra_dirs: Iterable[Path | str] = ()) -> dict[str, Pack]:
    """The shipped packs plus packs in ``extra_dirs`` (each a pack or a directory of packs).

    A later directory's pack replaces an earlier one with the same id, so a customised copy of a
    shipped pack wins. Any invalid pack raises :class:`PackValidationError` listing every error.
    """
    packs: dict[str, Pack] = {}
    errors: list[PackError] = []
    for directory in (BUILTIN_PACKS_DIR, *map(Path, extra_dirs)):
        for _, pack, pack_errors in check_path(directory):
            errors += pack_errors
            if pack is not None:
                packs[pack.id] = pack
    if errors:
        raise PackValidationError(errors)
    return packs


def validate_command(paths: list[Path]) -> tuple[int, list[str]]:
    """``hikeshi playbook validate PATH...``: exit code (0 valid, 1 invalid, 2 usage) and lines."""
    if not paths:
        return 2, ["usage: hikeshi playbook validate PATH [PATH...]"]
    lines: list[str] = []
    error_count = pack_count = 0
    for path in paths:
        for target, pack, errors in check_path(path):
            pack_count += 1
            error_count += len(errors)
            lines += [str(error) for error in errors]
            if pack is not None and not errors:
                lines.append(
                    f"OK {target}: {pack.id} {pack.version} {pack.title}"
                    f" (FAQ {len(pack.faq)}件, パラメーター {len(pack.parameters)}件)"
                )
    if error_count:
        lines.append(f"{error_count} error(s) in {pack_count} pack(s)")
        return 1, lines
    lines.append(f"{pack_count} pack(s) valid")
    return 0, lines
