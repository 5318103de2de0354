"""Named job handlers and periodic jobs.

Handlers register on a :class:`JobRegistry`; the application's handlers go on the module-level
``registry``, from the modules listed in ``HANDLER_MODULES`` (listed, not discovered, so a worker
never runs without a handler merely because nothing happened to import its module).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.orm import Session

from hikeshi.clock import Clock
from hikeshi.config import Settings

log = logging.getLogger("hikeshi.jobs")

DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_BACKOFF = timedelta(seconds=30)
DEFAULT_BACKOFF_CAP = timedelta(hours=1)

# Modules whose import registers handlers on `registry`; later domains append themselves here.
HANDLER_MODULES: list[str] = [
    "hikeshi.notify.jobs",
    "hikeshi.cases.jobs",
    "hikeshi.cases.inquiry_jobs",
]


@dataclass
class JobContext:
    """What a handler may know about the run it is part of."""

    job_id: int
    name: str
    key: str | None
    org_id: int | None
    attempt: int
    max_attempts: int
    scheduled_for: datetime
    worker_id: str
    clock: Clock
    # The process's settings (SMTP host, webhook timeouts…); None only in bare unit tests.
    settings: Settings | None = None
    _on_commit: list[Callable[[], None]] = field(default_factory=list, repr=False)

    def on_commit(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` after the job's transaction commits (e.g. a call to a vendor).

        At most once: if the process dies right after the commit, ``fn`` is lost. Work that
        must happen should be its own job, enqueued in this transaction.
        """
        self._on_commit.append(fn)

    def committed(self) -> None:
        """Called by the worker once the job's transaction has committed."""
        callbacks, self._on_commit = self._on_commit, []
        for fn in callbacks:
            try:
                fn()
            except Exception:
                log.exception(
                    "job on_commit callback failed",
                    extra={"job_id": self.job_id, "job_name": self.name},
                )


class Handler(Protocol):
    def __call__(self, *, session: Session, payload: dict[str, Any], ctx: JobContext) -> None: ...


@dataclass(frozen=True)
class JobSpec:
    name: str
    handler: Handler
    max_attempts: int
    backoff: timedelta
    backoff_cap: timedelta

    def delay_after(self, attempts: int) -> timedelta:
        """Exponential backoff: base, 2×base, 4×base … capped."""
        exponent = max(attempts - 1, 0)
        if exponent >= 40:  # 2**40 × anything sensible is past any cap; avoid overflow
            return self.backoff_cap
        return min(self.backoff * (1 << exponent), self.backoff_cap)


@dataclass(frozen=True)
class PeriodicSpec:
    name: str
    every: timedelta


class UnknownJob(KeyError):
    pass


class JobRegistry:
    def __init__(self) -> None:
        self._jobs: dict[str, JobSpec] = {}
        self._periodic: dict[str, PeriodicSpec] = {}

    def job(
        self,
        *,
        name: str,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        backoff: timedelta = DEFAULT_BACKOFF,
        backoff_cap: timedelta = DEFAULT_BACKOFF_CAP,
    ) -> Callable[[Handler], Handler]:
        """Register ``handler(*, session, payload, ctx)`` under ``name``.

        The handler runs in one transaction with the job's completion: it must not commit, and
        its writes land exactly once. Side effects outside the database go through
        ``ctx.on_commit`` or, better, a job of their own.
        """
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if backoff < timedelta(0) or backoff_cap < backoff:
            raise ValueError("need 0 <= backoff <= backoff_cap")

        def decorator(handler: Handler) -> Handler:
            if name in self._jobs:
                raise ValueError(f"job {name!r} is already registered")
            self._jobs[name] = JobSpec(name, handler, max_attempts, backoff, backoff_cap)
            return handler

        return decorator

    def periodic(
        self,
        *,
        name: str,
        every: timedelta,
        max_attempts: int = 1,
        backoff: timedelta = DEFAULT_BACKOFF,
    ) -> Callable[[Handler], Handler]:
        """Register a job that the scheduler enqueues once per ``every``-long slot.

        Slots are aligned to the Unix epoch, so all workers agree on them. Missed slots (the
        system was down) collapse into one run. One attempt by default: the next slot retries.
        """
        if every <= timedelta(0):
            raise ValueError("every must be positive")
        register = self.job(
            name=name, max_attempts=max_attempts, backoff=backoff, backoff_cap=max(backoff, every)
        )

        def decorator(handler: Handler) -> Handler:
            register(handler)
            self._periodic[name] = PeriodicSpec(name, every)
            return handler

        return decorator

    def get(self, name: str) -> JobSpec:
        try:
            return self._jobs[name]
        except KeyError:
            raise UnknownJob(name) from None

    def names(self) -> list[str]:
        return sorted(self._jobs)

    def periodic_jobs(self) -> list[PeriodicSpec]:
        return [self._periodic[n] for n in sorted(self._periodic)]


registry = JobRegistry()


def load_handlers() -> JobRegistry:
    """The application registry with every handler module imported."""
    for module in HANDLER_MODULES:
        importlib.import_module(module)
    return registry
