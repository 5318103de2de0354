"""With two server processes and Redis, an event committed in one reaches a client of the
other; an event from a rolled-back transaction never arrives."""

from __future__ import annotations

import json
import os
import queue
import threading
import time
import uuid

import httpx
import pytest
import redis

from hikeshi.audit.service import set_actor, system_actor
from hikeshi.auth.enums import Role
from hikeshi.board import service as board_service
from hikeshi.board.schemas import AnnouncementCreate
from hikeshi.config import Settings
from hikeshi.context import AppContext
from tests.conftest import require_or_skip
from tests.integration.api.conftest import build_world
from tests.servers import TEST_SECRET, running_server

REDIS_URL = os.environ.get("HIKESHI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def read_sse(
    url: str, token: str, out: queue.Queue[dict[str, object]], stop: threading.Event
) -> None:
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    try:
        with httpx.stream("GET", url, headers=headers, timeout=httpx.Timeout(5, read=30)) as resp:
            out.put({"status": resp.status_code})
            for line in resp.iter_lines():
                if stop.is_set():
                    return
                if line.startswith("data: "):
                    out.put(json.loads(line[6:]))
    except httpx.HTTPError as exc:
        if not stop.is_set():  # the server going away at the end of the test is expected
            out.put({"error": repr(exc)})


@pytest.mark.slow
@pytest.mark.redis
def test_event_crosses_processes_after_commit_only(fresh_db_url: str) -> None:
    require_or_skip(redis_available(), "Redis")
    world = build_world(fresh_db_url)
    # A channel of this test's own: pub/sub is shared by everything on the Redis server.
    channel = f"hikeshi-test:{uuid.uuid4().hex}"
    channel_env = {
        "HIKESHI_REDIS_URL": REDIS_URL,
        "HIKESHI_REDIS_EVENTS_CHANNEL": channel,
        "HIKESHI_RUN_WORKER_IN_SERVER": "false",
    }
    token = world.a.tokens[Role.supervisor]
    with (
        running_server(fresh_db_url, **channel_env) as server_a,
        running_server(fresh_db_url, **channel_env) as server_b,
    ):
        events: queue.Queue[dict[str, object]] = queue.Queue()
        stop = threading.Event()
        reader = threading.Thread(
            target=read_sse,
            daemon=True,
            args=(f"{server_b}/api/v1/orgs/{world.a.org_id}/events", token, events, stop),
        )
        reader.start()
        assert events.get(timeout=10) == {"status": 200}
        time.sleep(0.5)  # let the subscription settle on server B

        # A rolled-back transaction in a third process that shares the Redis bus.
        ctx = AppContext.build(
            Settings(
                database_url=fresh_db_url,
                redis_url=REDIS_URL,
                redis_events_channel=channel,
                environment="test",
                secret_key=TEST_SECRET,
            )
        )  # type: ignore[arg-type]
        marker = uuid.uuid4().hex[:8]
        with ctx.sessions() as s:
            set_actor(s, system_actor("test"))
            board_service.post_announcement(
                session=s,
                org_id=world.a.org_id,
                author_label="t",
                data=AnnouncementCreate(body=f"取消 {marker}"),
                clock=ctx.clock,
            )
            s.rollback()
        ctx.dispose()

        # A committed one, through server A's API.
        body = f"全体連絡 {marker}"
        resp = httpx.post(
            f"{server_a}/api/v1/orgs/{world.a.org_id}/announcements",
            headers={"Authorization": f"Bearer {token}"},
            json={"body": body, "severity": "urgent"},
            timeout=10,
        )
        assert resp.status_code == 201, resp.text

        first = events.get(timeout=10)
        assert first["type"] == "announcement.created"
        assert first["data"]["body"] == body  # type: ignore[index]
        time.sleep(1.0)
        leftovers = []
        while not events.empty():
            leftovers.append(events.get_nowait())
        stop.set()
        assert leftovers == [], f"unexpected events: {leftovers}"
