#!/usr/bin/env python3
"""Bootstrap and run Hikeshi with nothing but python3 (>= 3.11) and pip.

    python3 dev.py demo     # install into .venv if needed, then start the demo on :8000
    python3 dev.py test     # install dev tools if needed, then run the whole test suite
    python3 dev.py lint     # ruff + mypy --strict
    python3 dev.py lock     # refresh requirements*.lock from the current .venv

Installs are pinned by requirements.lock / requirements-dev.lock (no index URLs in them) and
skipped when nothing changed since the last install.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"


def run(*cmd: str | Path, env: dict[str, str] | None = None) -> None:
    result = subprocess.run([str(c) for c in cmd], cwd=ROOT, env=env, check=False)
    if result.returncode != 0:
        sys.exit(result.returncode)


def ensure_venv(dev: bool) -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"Hikeshi needs Python 3.11 or newer (this is {sys.version.split()[0]})")
    if not PY.exists():
        print("creating .venv …", flush=True)
        run(sys.executable, "-m", "venv", VENV)
        run(PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    lock = ROOT / ("requirements-dev.lock" if dev else "requirements.lock")
    digest = hashlib.sha256(lock.read_bytes() + (ROOT / "pyproject.toml").read_bytes()).hexdigest()
    stamp = VENV / f".installed-{'dev' if dev else 'runtime'}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    print(f"installing dependencies from {lock.name} …", flush=True)
    run(PY, "-m", "pip", "install", "--quiet", "-r", lock)
    run(PY, "-m", "pip", "install", "--quiet", "--no-deps", "-e", ROOT)
    stamp.write_text(digest)


def _names(requirements: list[str]) -> set[str]:
    return {
        re.split(r"[\[<>=!~; ]", r, maxsplit=1)[0].lower().replace("_", "-") for r in requirements
    }


def check_locks() -> None:
    """Every dependency declared in pyproject.toml is pinned in the lock that installs it, so a
    fresh machine gets what the code imports (a forgotten pin fails here, not in CI's tests)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = _names(project["dependencies"])
    dev = _names(project["optional-dependencies"]["dev"])
    for lock, wanted in (("requirements.lock", runtime), ("requirements-dev.lock", runtime | dev)):
        lines = (ROOT / lock).read_text(encoding="utf-8").splitlines()
        pinned = _names([ln for ln in lines if ln and not ln.startswith("#")])
        missing = sorted(wanted - pinned)
        if missing:
            sys.exit(f"{lock} does not pin {', '.join(missing)} (declared in pyproject.toml)")


def main(argv: list[str]) -> None:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return
    cmd, rest = argv[0], argv[1:]
    if cmd == "demo":
        ensure_venv(dev=False)
        os.execv(BIN / "hikeshi", [str(BIN / "hikeshi"), "demo", *rest])
    elif cmd == "test":
        ensure_venv(dev=True)
        run(PY, "-m", "pytest", *rest)
    elif cmd == "lint":
        check_locks()
        ensure_venv(dev=True)
        paths = [p for p in ("src", "tests", "bench", "dev.py") if (ROOT / p).exists()]
        run(PY, "-m", "ruff", "check", *paths)
        run(PY, "-m", "ruff", "format", "--check", *paths)
        run(PY, "-m", "mypy", "src")
    elif cmd == "lock":
        frozen = subprocess.run(
            [str(PY), "-m", "pip", "freeze", "--exclude-editable"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        lines = [ln for ln in frozen.splitlines() if ln and not ln.startswith(("-e", "hikeshi"))]
        (ROOT / "requirements-dev.lock").write_text("\n".join(lines) + "\n")
        print("wrote requirements-dev.lock; edit requirements.lock for the runtime subset")
    else:
        sys.exit(f"unknown command {cmd!r}; see python3 dev.py --help")


if __name__ == "__main__":
    main(sys.argv[1:])
