"""The worker loop: schedule periodic jobs, claim due jobs, run them; stop cleanly on request.

It runs as a daemon thread inside ``hikeshi serve`` (``start_worker_thread``) or as its own
process (``hikeshi worker`` → ``run_worker_process``). Any number of workers may share a
database; the queue's leases and locks keep each job to one of them.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import uuid
from datetime import timedelta
from types import FrameType

from sqlalchemy.orm import Session, sessionmaker

from hikeshi.audit.service import set_actor, system_actor
from hikeshi.clock import Clock, SystemClock
from hikeshi.config import Settings
from hikeshi.context import AppContext
from hikeshi.jobs.queue import Outcome, claim, run_claimed
from hikeshi.jobs.registry import JobRegistry, load_handlers
from hikeshi.jobs.scheduler import schedule_due

log = logging.getLogger("hikeshi.jobs")


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    """Stateless between ticks, so one instance may be driven from any thread."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        registry: JobRegistry,
        clock: Clock | None = None,
        worker_id: str | None = None,
        poll_seconds: float = 1.0,
        lease_seconds: float = 60.0,
        max_jobs_per_tick: int = 100,
        settings: Settings | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.registry = registry
        self.clock: Clock = clock or SystemClock()
        self.worker_id = worker_id or default_worker_id()
        self.poll_seconds = poll_seconds
        self.lease = timedelta(seconds=lease_seconds)
        self.max_jobs_per_tick = max_jobs_per_tick

    def schedule(self) -> int:
        """Enqueue due periodic jobs; returns how many."""
        if not self.registry.periodic_jobs():
            return 0
        with self.sessions() as session:
            set_actor(session, system_actor("job:scheduler"))
            jobs = schedule_due(session=session, registry=self.registry, clock=self.clock)
            session.commit()
        return len(jobs)

    def run_next(self) -> Outcome | None:
        """Claim and run one due job; None when nothing is due."""
        with self.sessions() as session:
            claims = claim(
                session=session,
                registry=self.registry,
                worker_id=self.worker_id,
                lease=self.lease,
                clock=self.clock,
            )
            session.commit()  # the lease must be durable before the handler starts
        if not claims:
            return None
        return run_claimed(
            sessions=self.sessions,
            registry=self.registry,
            claimed=claims[0],
            worker_id=self.worker_id,
            clock=self.clock,
            settings=self.settings,
        )

    def run_once(self, stop: threading.Event | None = None) -> int:
        """One tick: schedule, then run due jobs until none is left; returns jobs run."""
        self.schedule()
        count = 0
        while count < self.max_jobs_per_tick and not (stop is not None and stop.is_set()):
            if self.run_next() is None:
                break
            count += 1
        return count

    def run_forever(self, stop: threading.Event) -> None:
        fields = {"worker_id": self.worker_id, "jobs": len(self.registry.names())}
        log.info("worker started", extra=fields)
        while not stop.is_set():
            try:
                ran = self.run_once(stop)
            except Exception:
                # The database may be restarting; keep the worker alive and try again.
                log.exception("worker tick failed", extra={"worker_id": self.worker_id})
                ran = 0
            if ran < self.max_jobs_per_tick:
                stop.wait(self.poll_seconds)
        log.info("worker stopped", extra={"worker_id": self.worker_id})


class WorkerThread:
    """A worker on a daemon thread (inside the web server).

    Daemon, so a stuck handler cannot hold the process open; its lease then expires and another
    worker reruns it from scratch, since the unfinished run committed nothing.
    """

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=worker.run_forever, args=(self._stop,), name="hikeshi-worker", daemon=True
        )

    def start(self) -> WorkerThread:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> bool:
        """Ask the loop to stop after the current job; True if it stopped within ``timeout``."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()


def start_worker_thread(
    *,
    sessions: sessionmaker[Session],
    settings: Settings,
    clock: Clock | None = None,
    registry: JobRegistry | None = None,
) -> WorkerThread:
    """Start the embedded worker (``hikeshi serve``); call ``.stop()`` on shutdown."""
    worker = Worker(
        sessions=sessions,
        registry=registry or load_handlers(),
        clock=clock,
        poll_seconds=settings.worker_poll_seconds,
        lease_seconds=settings.job_lease_seconds,
        settings=settings,
    )
    return WorkerThread(worker).start()


def run_worker_process(
    settings: Settings,
    *,
    registry: JobRegistry | None = None,
    lease_seconds: float | None = None,
    worker_id: str | None = None,
) -> None:
    """Run a worker in this (main) thread until SIGTERM or SIGINT (``hikeshi worker``).

    The first signal lets the current job finish; a second one kills the process the usual way.
    """
    ctx = AppContext.build(settings)
    worker = Worker(
        sessions=ctx.sessions,
        registry=registry or load_handlers(),
        clock=ctx.clock,
        worker_id=worker_id,
        poll_seconds=settings.worker_poll_seconds,
        lease_seconds=lease_seconds if lease_seconds is not None else settings.job_lease_seconds,
        settings=settings,
    )
    stop = threading.Event()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("worker stopping", extra={"worker_id": worker.worker_id, "signal": signum})
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        stop.set()

    for sig in previous:
        signal.signal(sig, _on_signal)
    try:
        worker.run_forever(stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        ctx.dispose()
