"""Queue live events on the session; the bus sees them only after a successful commit."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from hikeshi.events.bus import EventBus, LiveEvent

_PENDING = "pending_live_events"


def publish_after_commit(
    session: Session, *, org_id: int, type: str, data: dict[str, Any]
) -> LiveEvent:
    live = LiveEvent(org_id=org_id, type=type, data=data)
    # Begin the transaction now, so a rollback of it (even one with no SQL) drops the event.
    session.connection()
    session.info.setdefault(_PENDING, []).append(live)
    return live


def install(factory: sessionmaker[Session], bus: EventBus) -> None:
    """Wire a session factory to a bus: publish on commit, forget on rollback."""

    def _after_commit(session: Session) -> None:
        pending: list[LiveEvent] = session.info.pop(_PENDING, [])
        for live in pending:
            bus.publish(live)

    def _after_soft_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
        # Only the outermost rollback forgets the use case's events; a nested savepoint
        # rollback leaves the outer transaction's events in place.
        if previous_transaction.parent is None:
            session.info.pop(_PENDING, None)

    event.listen(factory, "after_commit", _after_commit)
    event.listen(factory, "after_soft_rollback", _after_soft_rollback)
