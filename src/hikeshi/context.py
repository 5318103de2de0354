"""Everything a request, a job or a CLI command needs, built once from Settings."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from hikeshi.audit.service import make_audited_session_factory
from hikeshi.clock import Clock, SystemClock
from hikeshi.config import Settings
from hikeshi.db import make_engine
from hikeshi.events import service as events
from hikeshi.events.bus import LocalBus, make_bus


@dataclass
class AppContext:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock
    bus: LocalBus

    @classmethod
    def build(cls, settings: Settings, *, clock: Clock | None = None) -> AppContext:
        if settings.effective_database_url.startswith("sqlite"):
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(settings.effective_database_url)
        clock = clock or SystemClock()
        bus = make_bus(settings.redis_url)
        sessions = make_audited_session_factory(engine, clock=clock)
        events.install(sessions, bus)
        return cls(settings=settings, engine=engine, sessions=sessions, clock=clock, bus=bus)

    def dispose(self) -> None:
        self.engine.dispose()
