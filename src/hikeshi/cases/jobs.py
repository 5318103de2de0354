"""Job handlers of cases: the acknowledgement climb and the next-action reminders/alerts.

Each handler re-reads the row and acts only when its state still calls for it, so a job that
runs twice (or late, after the case moved on) has no second effect.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

# A worker may run without the web stack: every table the case rows point to (users,
# customers, incidents) must be mapped before the first flush resolves their foreign keys.
import hikeshi.models_registry  # noqa: F401
from hikeshi.cases import actions, timers
from hikeshi.jobs.registry import JobContext, registry


@registry.job(name=timers.JOB_ACK_TIMEOUT)
def ack_timeout(*, session: Session, payload: dict[str, Any], ctx: JobContext) -> None:
    timers.handle_ack_timeout(
        session=session,
        case_id=int(payload["case_id"]),
        round_=int(payload["round"]),
        level=int(payload["level"]),
        clock=ctx.clock,
    )


@registry.job(name=actions.JOB_REMINDER)
def action_reminder(*, session: Session, payload: dict[str, Any], ctx: JobContext) -> None:
    actions.handle_reminder(session=session, action_id=int(payload["action_id"]), clock=ctx.clock)


@registry.job(name=actions.JOB_OVERDUE)
def action_overdue(*, session: Session, payload: dict[str, Any], ctx: JobContext) -> None:
    actions.handle_overdue(session=session, action_id=int(payload["action_id"]), clock=ctx.clock)
