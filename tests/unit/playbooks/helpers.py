"""Copy a shipped pack to a temporary directory and break it in a precise place."""

from __future__ import annotations

import shutil
from pathlib import Path

from hikeshi.playbooks import BUILTIN_PACKS_DIR, PackError

PACK_IDS = ("recall", "data_breach", "accident_disaster", "outage", "firestorm")


def copy_pack(tmp_path: Path, pack_id: str = "recall") -> Path:
    target = tmp_path / pack_id
    shutil.copytree(BUILTIN_PACKS_DIR / pack_id, target)
    return target


def edit(file: Path, old: str, new: str) -> None:
    text = file.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {file}"
    file.write_text(text.replace(old, new), encoding="utf-8")


def line_of(file: Path, needle: str) -> int:
    """1-based number of the only line containing ``needle``."""
    lines = [i for i, line in enumerate(file.read_text("utf-8").splitlines(), 1) if needle in line]
    assert len(lines) == 1, f"{needle!r} is on lines {lines} of {file}"
    return lines[0]


def only(errors: list[PackError], field: str) -> PackError:
    matching = [e for e in errors if e.field == field]
    assert len(matching) == 1, f"expected one error on {field}, got {[str(e) for e in errors]}"
    return matching[0]
