"""A job survives SIGKILL of its worker, while waiting or mid-run, and runs exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hikeshi.audit.models import AuditEvent
from hikeshi.audit.service import make_audited_session_factory, set_actor, system_actor
from hikeshi.clock import SystemClock
from hikeshi.db import make_engine
from hikeshi.jobs.models import Job, JobStatus
from hikeshi.jobs.queue import enqueue

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[3]
LEASE_SECONDS = "1.5"


class Workers:
    """Starts worker processes and guarantees they are gone when the test ends."""

    def __init__(self, url: str, tmp_path: Path) -> None:
        self.url, self.tmp_path = url, tmp_path
        self.procs: list[tuple[subprocess.Popen[bytes], Path, IO[bytes]]] = []

    def start(self) -> tuple[subprocess.Popen[bytes], Path]:
        log_path = self.tmp_path / f"worker-{len(self.procs)}.log"
        log_file = log_path.open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.jobs.worker_main", self.url, LEASE_SECONDS],
            cwd=REPO,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=dict(os.environ),
        )
        self.procs.append((proc, log_path, log_file))
        wait_for(
            lambda: "worker started" in log_path.read_text(),
            f"{log_path.name} start",
            proc=proc,
            log=log_path,
        )
        return proc, log_path

    def close(self) -> None:
        for proc, _, log_file in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
            log_file.close()


def wait_for(
    cond: Callable[[], bool],
    what: str,
    *,
    timeout: float = 15.0,
    proc: subprocess.Popen[bytes] | None = None,
    log: Path | None = None,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.05)
    detail = log.read_text() if log is not None and log.exists() else ""
    pytest.fail(f"timed out waiting for {what}\n{detail}")


@pytest.fixture
def sessions(fresh_db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(fresh_db_url)
    yield make_audited_session_factory(engine)
    engine.dispose()


@pytest.fixture
def workers(fresh_db_url: str, tmp_path: Path) -> Iterator[Workers]:
    ws = Workers(fresh_db_url, tmp_path)
    try:
        yield ws
    finally:
        ws.close()


def _enqueue(sessions: sessionmaker[Session], **kwargs: Any) -> int:
    with sessions() as s:
        set_actor(s, system_actor("test"))
        job = enqueue(session=s, name="test.effect", clock=SystemClock(), **kwargs)
        s.commit()
        return job.id


def _state(sessions: sessionmaker[Session], job_id: int) -> tuple[str, list[Any]]:
    with sessions() as s:
        job = s.get(Job, job_id)
        assert job is not None
        effects = [
            e.detail
            for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "test.effect"))
        ]
        s.rollback()
        return job.status, effects


def _kill(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=10) == -signal.SIGKILL


def _stop_cleanly(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0


def test_job_scheduled_for_later_survives_sigkill_and_runs_once(
    sessions: sessionmaker[Session], workers: Workers
) -> None:
    first, _ = workers.start()
    job_id = _enqueue(
        sessions, run_at=SystemClock().now() + timedelta(seconds=1.5), key="sigkill:waiting"
    )
    time.sleep(0.3)  # the worker has polled and found it not yet due
    _kill(first)
    assert _state(sessions, job_id) == (JobStatus.PENDING, [])

    second, log = workers.start()
    wait_for(lambda: _state(sessions, job_id)[0] == JobStatus.DONE, "the job", log=log)
    time.sleep(0.5)  # give a duplicate run every chance to show up
    status, effects = _state(sessions, job_id)
    assert status == JobStatus.DONE
    assert len(effects) == 1
    _stop_cleanly(second)


def test_job_killed_mid_run_is_rerun_once_after_its_lease_expires(
    sessions: sessionmaker[Session], workers: Workers, tmp_path: Path
) -> None:
    hang_file = tmp_path / "hanging"
    job_id = _enqueue(sessions, payload={"hang_file": str(hang_file)})
    first, log = workers.start()
    wait_for(hang_file.exists, "the first attempt to start", log=log)
    _kill(first)  # mid-run: its effect was written but not committed
    assert _state(sessions, job_id) == (JobStatus.RUNNING, [])

    second, log = workers.start()
    wait_for(lambda: _state(sessions, job_id)[0] == JobStatus.DONE, "the rerun", log=log)
    time.sleep(0.5)
    status, effects = _state(sessions, job_id)
    assert status == JobStatus.DONE
    assert [e["attempt"] for e in effects] == [2]  # attempt 1's write died with its worker
    _stop_cleanly(second)
    with sessions() as s:
        job = s.get(Job, job_id)
        assert job is not None
        assert job.attempts == 2
        assert s.scalar(select(func.count()).select_from(Job)) == 1
