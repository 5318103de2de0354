from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from hikeshi.auth import service as auth_service
from hikeshi.clock import FrozenClock
from hikeshi.config import Settings
from hikeshi.incidents.models import Incident, IncidentState
from hikeshi.jobs.registry import load_handlers
from hikeshi.jobs.worker import Worker
from tests.integration.notify.servers import Inbox, Webhook, smtp_server, webhook_server
from tests.integration.web.test_pages import site  # noqa: F401 - the web UI fixture
from tests.servers import TEST_SECRET


@pytest.fixture
def org_id(session: Session, clock: FrozenClock) -> int:
    org = auth_service.create_org(
        session=session, slug="notify-test", name="通知テスト株式会社", clock=clock
    )
    return org.id


def make_incident(session: Session, org_id: int, clock: FrozenClock, *, is_drill: bool) -> Incident:
    now = clock.now()
    incident = Incident(
        org_id=org_id,
        launch_key=f"launch-{is_drill}-{now.timestamp()}",
        title="電気ケトル KT-200 リコール",
        pack_id="recall",
        pack_version="1",
        incident_type="recall",
        state=IncidentState.active,
        is_drill=is_drill,
        public_slug=f"slug{int(now.timestamp())}{int(is_drill)}",
        queue_name="リコール窓口",
        hotline="0120-000-000",
        hours="9:00-18:00",
        params={},
        rendered={},
        staffing={},
        launched_by_label="test",
        launched_at=now,
        state_changed_at=now,
        closed_at=None,
    )
    session.add(incident)
    session.flush()
    return incident


@pytest.fixture
def inbox_port() -> Iterator[tuple[Inbox, int]]:
    with smtp_server() as pair:
        yield pair


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    with webhook_server() as hook:
        yield hook


@pytest.fixture
def notify_settings(inbox_port: tuple[Inbox, int]) -> Settings:
    settings = Settings(
        environment="test",
        secret_key=TEST_SECRET,
        smtp_host="127.0.0.1",
        smtp_port=inbox_port[1],
        smtp_from="hikeshi@example.jp",
        webhook_timeout_seconds=5.0,
    )
    return settings


@pytest.fixture
def worker(
    sessions: sessionmaker[Session], clock: FrozenClock, notify_settings: Settings
) -> Worker:
    return Worker(
        settings=notify_settings,
        sessions=sessions,
        registry=load_handlers(),
        clock=clock,
        worker_id="notify-test",
        lease_seconds=int(timedelta(seconds=60).total_seconds()),
    )
