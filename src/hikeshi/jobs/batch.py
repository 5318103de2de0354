"""Batches where one bad item never stops the rest (Frappe's per-ticket catch, log, commit).

Two shapes, because the right unit of isolation depends on where the batch runs:

* ``run_batch`` — inside a job handler: each item in a savepoint of the job's session. A failed
  item rolls back alone; the others commit with the job, exactly once. (Opening new transactions
  there would escape the job's fence, and on SQLite wait on the job's own write lock.)
* ``run_batch_in_transactions`` — outside a job (CLI, maintenance): each item commits on its own,
  so progress survives a crash half-way. Items must then be safe to redo.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from hikeshi.audit.service import Actor, set_actor

log = logging.getLogger("hikeshi.jobs")
T = TypeVar("T")


@dataclass
class ItemFailure(Generic[T]):
    item: T
    error: str


@dataclass
class BatchResult(Generic[T]):
    succeeded: list[T] = field(default_factory=list)
    failed: list[ItemFailure[T]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed


def _failed(result: BatchResult[T], label: str, item: T, describe: Callable[[T], str]) -> None:
    error = traceback.format_exc(limit=8)
    result.failed.append(ItemFailure(item, error))
    log.exception("batch item failed", extra={"batch": label, "item": describe(item)})


def run_batch(
    *,
    session: Session,
    items: Iterable[T],
    fn: Callable[[Session, T], None],
    label: str,
    describe: Callable[[T], str] = repr,
) -> BatchResult[T]:
    """Run ``fn(session, item)`` for each item in its own savepoint of ``session``."""
    result: BatchResult[T] = BatchResult()
    for item in items:
        try:
            with session.begin_nested():
                fn(session, item)
        except Exception:
            _failed(result, label, item, describe)
        else:
            result.succeeded.append(item)
    _summary(label, result)
    return result


def run_batch_in_transactions(
    *,
    sessions: sessionmaker[Session],
    actor: Actor,
    items: Iterable[T],
    fn: Callable[[Session, T], None],
    label: str,
    describe: Callable[[T], str] = repr,
) -> BatchResult[T]:
    """Run ``fn(session, item)`` for each item in a transaction of its own."""
    result: BatchResult[T] = BatchResult()
    for item in items:
        with sessions() as session:
            set_actor(session, actor)
            try:
                fn(session, item)
                session.commit()
            except Exception:
                session.rollback()
                _failed(result, label, item, describe)
            else:
                result.succeeded.append(item)
    _summary(label, result)
    return result


def _summary(label: str, result: BatchResult[T]) -> None:
    level = logging.WARNING if result.failed else logging.INFO
    log.log(
        level,
        "batch finished",
        extra={"batch": label, "succeeded": len(result.succeeded), "failed": len(result.failed)},
    )
