"""Group commit for single-contact intake: many concurrent requests, one transaction.

A webhook burst sends thousands of single contacts a second. Committing each in its own
transaction spends most of the time on per-transaction costs (the audit chain's head row lock,
round trips, a WAL flush per commit). Here each request hands its validated contact to a
writer thread and waits; the writer takes everything that has queued up, stores it with one
set-based write (:func:`hikeshi.contacts.intake.store`) and commits once, then answers every
waiting request. Nobody is answered before their contact is durably committed.

There is no timer: a lone request is written at once, and under load batches grow by
themselves while the previous commit is in flight. ``writers`` threads let the next batch be
prepared while one commits (the audit head lock is taken last, so they overlap up to it).
When a whole batch fails for a reason that is not one request's (a lost connection), each
request is retried alone, so one bad request never fails its neighbours.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from hikeshi.clock import Clock
from hikeshi.contacts.intake import IntakeRequest, IntakeResult, store
from hikeshi.errors import HikeshiError

log = logging.getLogger(__name__)
_STOP = object()
_RETRIES = 3


class IntakeCommitter:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        *,
        max_batch: int = 500,
        writers: int = 2,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._writers = writers
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closed = False
        self.batches = 0  # for /metrics and tests: how many transactions carried the requests
        self.items = 0

    def submit(self, request: IntakeRequest) -> Future[IntakeResult]:
        future: Future[IntakeResult] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("intake committer is closed")
            if not self._threads:
                for n in range(self._writers):
                    t = threading.Thread(target=self._run, name=f"intake-writer-{n}", daemon=True)
                    t.start()
                    self._threads.append(t)
        self._queue.put((request, future))
        return future

    async def intake(self, request: IntakeRequest) -> IntakeResult:
        return await asyncio.wrap_future(self.submit(request))

    def close(self, timeout: float = 10.0) -> None:
        """Finish what is queued, then stop the writers."""
        with self._lock:
            self._closed = True
            threads, self._threads = self._threads, []
        for _ in threads:
            self._queue.put(_STOP)
        for t in threads:
            t.join(timeout)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch = [first]
            stop = False
            while len(batch) < self._max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP:
                    stop = True
                    break
                batch.append(more)
            self._write(batch)  # type: ignore[arg-type]
            if stop:
                return

    def _write(self, batch: Sequence[tuple[IntakeRequest, Future[IntakeResult]]]) -> None:
        live = [(r, f) for r, f in batch if f.set_running_or_notify_cancel()]
        if not live:
            return
        try:
            outcomes = self._commit([r for r, _ in live])
        except Exception as exc:
            if len(live) == 1:
                live[0][1].set_exception(exc)
                return
            log.warning("intake batch of %d failed (%s); retrying one by one", len(live), exc)
            for item in live:
                try:
                    outcome = self._commit([item[0]])[0]
                except Exception as single_exc:
                    item[1].set_exception(single_exc)
                else:
                    _settle(item[1], outcome)
            return
        for (_, future), outcome in zip(live, outcomes, strict=True):
            _settle(future, outcome)

    def _commit(self, requests: list[IntakeRequest]) -> list[IntakeResult | HikeshiError]:
        for attempt in range(_RETRIES):
            try:
                with self._sessions() as session:
                    outcomes = store(
                        session=session,
                        requests=requests,
                        clock=self._clock,
                        all_or_nothing=False,
                        savepoint=False,
                    )
                    session.commit()
                break
            except IntegrityError:
                # Another writer stored one of these keys first: run again, which answers
                # those requests with the stored contact.
                if attempt == _RETRIES - 1:
                    raise
        self.batches += 1
        self.items += len(requests)
        return outcomes


def _settle(future: Future[IntakeResult], outcome: IntakeResult | HikeshiError) -> None:
    if isinstance(outcome, HikeshiError):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
