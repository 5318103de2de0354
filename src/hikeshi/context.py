"""Everything a request, a job or a CLI command needs, built once from Settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from hikeshi.audit.service import make_audited_session_factory
from hikeshi.auth.token_cache import TokenCache
from hikeshi.clock import Clock, SystemClock
from hikeshi.config import Settings
from hikeshi.contacts.group_commit import IntakeCommitter
from hikeshi.db import make_engine
from hikeshi.events import service as events
from hikeshi.events.bus import LocalBus, make_bus
from hikeshi.ratelimit import RateLimiter, build_limiter

SERIAL_CHECK_WINDOW_SECONDS = 60
LOGIN_WINDOW_SECONDS = 300


@dataclass
class AppContext:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock
    bus: LocalBus
    # Shared through Redis when it is configured, so every process counts the same attempts.
    serial_check_limiter: RateLimiter
    login_limiter: RateLimiter
    # Single-contact intake (group commit); writer threads start with the first request.
    intake: IntakeCommitter
    # Verified API tokens → their principal, for api_token_cache_seconds.
    token_cache: TokenCache[Any]

    @classmethod
    def build(cls, settings: Settings, *, clock: Clock | None = None) -> AppContext:
        if settings.effective_database_url.startswith("sqlite"):
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(settings.effective_database_url)
        clock = clock or SystemClock()
        bus = make_bus(settings.redis_url, settings.redis_events_channel)
        sessions = make_audited_session_factory(engine, clock=clock)
        events.install(sessions, bus)
        return cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            clock=clock,
            bus=bus,
            serial_check_limiter=build_limiter(
                limit=settings.serial_check_per_minute,
                window_seconds=SERIAL_CHECK_WINDOW_SECONDS,
                clock=clock,
                redis_url=settings.redis_url,
            ),
            login_limiter=build_limiter(
                limit=settings.login_attempts_per_5_minutes,
                window_seconds=LOGIN_WINDOW_SECONDS,
                clock=clock,
                redis_url=settings.redis_url,
            ),
            intake=IntakeCommitter(
                sessions,
                clock,
                max_batch=settings.intake_max_batch,
                writers=settings.intake_writers,
            ),
            token_cache=TokenCache(settings.api_token_cache_seconds),
        )

    def dispose(self) -> None:
        self.intake.close()
        self.engine.dispose()
