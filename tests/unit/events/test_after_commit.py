from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from hikeshi.audit.service import make_audited_session_factory, set_actor, system_actor
from hikeshi.events import service as events
from hikeshi.events.bus import LiveEvent, LocalBus


class RecordingBus(LocalBus):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[LiveEvent] = []

    def publish(self, event: LiveEvent) -> None:
        self.seen.append(event)
        super().publish(event)


@pytest.fixture
def wired(engine: Engine) -> tuple[sessionmaker[Session], RecordingBus]:
    bus = RecordingBus()
    factory = make_audited_session_factory(engine)
    events.install(factory, bus)
    return factory, bus


def test_published_only_after_commit(wired: tuple[sessionmaker[Session], RecordingBus]) -> None:
    factory, bus = wired
    with factory() as s:
        set_actor(s, system_actor("t"))
        events.publish_after_commit(s, org_id=1, type="t.one", data={"n": 1})
        assert bus.seen == []  # not before the commit
        s.commit()
    assert [e.type for e in bus.seen] == ["t.one"]


def test_rolled_back_event_never_published(
    wired: tuple[sessionmaker[Session], RecordingBus],
) -> None:
    factory, bus = wired
    with factory() as s:
        events.publish_after_commit(s, org_id=1, type="t.lost", data={})
        s.rollback()
        events.publish_after_commit(s, org_id=1, type="t.kept", data={})
        s.commit()
    assert [e.type for e in bus.seen] == ["t.kept"]


def test_failed_commit_does_not_publish(wired: tuple[sessionmaker[Session], RecordingBus]) -> None:
    factory, bus = wired
    from hikeshi.auth.models import Organisation

    with factory() as s:
        # No actor: the audit hook refuses the flush inside commit, so the commit fails.
        s.add(Organisation(slug="x-fail", name="x", created_at=s.info["clock"].now()))
        events.publish_after_commit(s, org_id=1, type="t.failed", data={})
        with pytest.raises(Exception, match="without an actor"):
            s.commit()
        s.rollback()
    assert bus.seen == []


def test_local_bus_delivers_to_subscribers_of_that_org_only() -> None:
    async def scenario() -> list[str]:
        bus = LocalBus()
        await bus.start()
        got: list[str] = []
        async with bus.subscribe(1) as stream:
            # Published from another thread, as the after-commit hook does in the server.
            await asyncio.to_thread(bus.publish, LiveEvent(org_id=2, type="other", data={}))
            await asyncio.to_thread(bus.publish, LiveEvent(org_id=1, type="mine", data={}))
            event = await asyncio.wait_for(anext(aiter(stream)), timeout=2)
            got.append(event.type)
        assert bus.subscriber_count() == 0
        return got

    assert asyncio.run(scenario()) == ["mine"]
