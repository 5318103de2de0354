"""Browser tests: a real ``uvicorn`` server process, Debian's Chromium driven by Playwright
(never a downloaded browser), and a screenshot plus trace under ``test-results/`` on failure."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from hikeshi.audit.service import make_audited_session_factory, set_actor, system_actor
from hikeshi.auth import service as auth_service
from hikeshi.auth.enums import Role
from hikeshi.auth.models import Organisation
from hikeshi.clock import SystemClock
from hikeshi.db import make_engine
from hikeshi.demo import seed_demo
from tests.conftest import require_or_skip
from tests.dbutil import create_database, drop_database
from tests.servers import free_port, hikeshi_env, stop, wait_healthy

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RESULTS = Path(__file__).resolve().parents[2] / "test-results"


class ServerProcess:
    """``uvicorn hikeshi.main:create_app --factory`` on a fixed port, restartable."""

    def __init__(self, db_url: str) -> None:
        self.db_url = db_url
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        RESULTS.mkdir(exist_ok=True)
        self.log = (RESULTS / "e2e-server.log").open("wb")

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "hikeshi.main:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--timeout-graceful-shutdown",
                "2",
            ],
            env=hikeshi_env(self.db_url, HIKESHI_LOG_JSON="false"),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_healthy(self.base_url, self.proc, timeout=30)

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
            self.proc = None

    def close(self) -> None:
        self.stop()
        self.log.close()


@dataclass(frozen=True)
class Server:
    base_url: str
    org_id: int
    api_token: str  # a supervisor-role integration token for the first demo organisation
    process: ServerProcess


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    db_url = create_database(tmp_path_factory.mktemp("e2e"))
    engine = make_engine(db_url)
    sessions = make_audited_session_factory(engine)
    seed_demo(sessions=sessions, clock=SystemClock())
    with sessions() as session:
        set_actor(session, system_actor("e2e-seed"))
        org = session.scalars(select(Organisation).where(Organisation.slug == "acme-foods")).one()
        raw, _ = auth_service.issue_api_token(
            session=session,
            org_id=org.id,
            name="e2e",
            role=Role.supervisor,
            issuer_role=Role.admin,
            created_by_id=None,
            expires_at=None,
            clock=SystemClock(),
        )
        org_id = org.id
        session.commit()
    engine.dispose()

    process = ServerProcess(db_url)
    try:
        process.start()
        yield Server(base_url=process.base_url, org_id=org_id, api_token=raw, process=process)
    finally:
        process.close()
        drop_database(db_url)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_or_skip(CHROMIUM.exists(), f"Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=30_000)
        try:
            yield b
        finally:
            b.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


_FAILED = pytest.StashKey[bool]()

NewPage = Callable[..., Any]


@pytest.fixture
def new_page(browser: Any, request: pytest.FixtureRequest) -> Iterator[NewPage]:
    """``new_page(width=..., height=...)``: a page in its own context (its own cookies),
    traced; on failure the screenshot and trace land in ``test-results/<test>/``."""
    contexts: list[Any] = []

    def make(width: int = 1280, height: int = 800) -> Any:
        context = browser.new_context(
            viewport={"width": width, "height": height}, locale="ja-JP", timezone_id="Asia/Tokyo"
        )
        context.set_default_timeout(10_000)
        context.tracing.start(screenshots=True, snapshots=True)
        contexts.append(context)
        return context.new_page()

    yield make

    failed = request.node.stash.get(_FAILED, True)
    folder = RESULTS / re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)
    for index, context in enumerate(contexts):
        try:
            if failed:
                folder.mkdir(parents=True, exist_ok=True)
                for n, page in enumerate(context.pages):
                    page.screenshot(
                        path=str(folder / f"context{index}-page{n}.png"), full_page=True
                    )
                context.tracing.stop(path=str(folder / f"context{index}-trace.zip"))
            else:
                context.tracing.stop()
        finally:
            context.close()
