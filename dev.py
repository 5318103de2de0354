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
import subprocess
import sys
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
