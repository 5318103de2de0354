"""An escalation timer survives SIGKILL of its worker process and climbs exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import IO

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hikeshi.audit.service import make_audited_session_factory, set_actor, system_actor
from hikeshi.auth import service as auth_service
from hikeshi.auth.enums import Department
from hikeshi.cases import service, timers
from hikeshi.cases.models import Case, CaseEvent
from hikeshi.clock import SystemClock
from hikeshi.contacts.models import Channel, Contact
from hikeshi.db import make_engine
from hikeshi.jobs.models import Job, JobStatus
from hikeshi.notify import service as notify_service
from hikeshi.notify.models import ContactChannel, Delivery
from hikeshi.notify.schemas import ContactCreate
from tests.integration.jobs.test_sigkill import _kill, _stop_cleanly, wait_for

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[3]


class Workers:
    def __init__(self, url: str, tmp_path: Path) -> None:
        self.url, self.tmp_path = url, tmp_path
        self.procs: list[tuple[subprocess.Popen[bytes], IO[bytes]]] = []

    def start(self) -> tuple[subprocess.Popen[bytes], Path]:
        log_path = self.tmp_path / f"worker-{len(self.procs)}.log"
        log_file = log_path.open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.cases.worker_main", self.url, "1.5"],
            cwd=REPO,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=dict(os.environ),
        )
        self.procs.append((proc, log_file))
        wait_for(
            lambda: "worker started" in log_path.read_text(),
            "worker start",
            proc=proc,
            log=log_path,
        )
        return proc, log_path

    def close(self) -> None:
        for proc, log_file in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
            log_file.close()


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


def _escalate_due_soon(sessions: sessionmaker[Session]) -> int:
    clock = SystemClock()
    with sessions() as s:
        set_actor(s, system_actor("test"))
        org = auth_service.create_org(session=s, slug="kill", name="強制終了テスト", clock=clock)
        notify_service.create_contact(
            session=s,
            org_id=org.id,
            data=ContactCreate(
                department=Department.customer_relations,
                name="相談室",
                channel=ContactChannel.email,
                address="soudan@example.jp",
            ),
            clock=clock,
        )
        now = clock.now()
        contact = Contact(
            org_id=org.id,
            channel=Channel.phone_in,
            subject="強制終了",
            started_at=now,
            created_at=now,
            updated_at=now,
        )
        s.add(contact)
        s.flush()
        case = service.escalate_contact(
            session=s,
            org_id=org.id,
            contact_id=contact.id,
            actor_label="op",
            user_id=None,
            clock=clock,
        )
        # Bring the SV's acknowledgement deadline to 1.5 s from now (the real one is business time).
        job = s.scalars(select(Job).where(Job.key == timers.ack_job_key(case.id, 1, 1))).one()
        job.run_at = now + timedelta(seconds=1.5)
        s.commit()
        return case.id


def _effects(sessions: sessionmaker[Session], case_id: int) -> tuple[int, int, int]:
    with sessions() as s:
        case = s.get(Case, case_id)
        assert case is not None
        ups = (
            s.scalar(
                select(func.count())
                .select_from(CaseEvent)
                .where(CaseEvent.case_id == case_id, CaseEvent.kind == "level_up")
            )
            or 0
        )
        deliveries = s.scalar(select(func.count()).select_from(Delivery)) or 0
        s.rollback()
        return case.level, ups, deliveries


def test_ack_timer_survives_sigkill_and_climbs_once(
    sessions: sessionmaker[Session], workers: Workers
) -> None:
    first, _ = workers.start()
    case_id = _escalate_due_soon(sessions)
    time.sleep(0.3)  # polled, not yet due
    _kill(first)
    assert _effects(sessions, case_id) == (1, 0, 0)

    second, log = workers.start()
    wait_for(lambda: _effects(sessions, case_id)[0] == 2, "the climb", log=log)
    time.sleep(0.5)  # a duplicate would show up now
    assert _effects(sessions, case_id) == (2, 1, 1)
    _stop_cleanly(second)
    third, _ = workers.start()  # another restart: nothing new happens
    time.sleep(0.5)
    assert _effects(sessions, case_id) == (2, 1, 1)
    _stop_cleanly(third)
    with sessions() as s:
        statuses = s.scalars(select(Job.status).where(Job.name == timers.JOB_ACK_TIMEOUT)).all()
        assert sorted(statuses) == sorted([JobStatus.DONE, JobStatus.PENDING])  # level 2 armed
