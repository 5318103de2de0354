"""Job handlers of notify: ``notify.deliver`` sends one delivery (one attempt)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from hikeshi.config import get_settings
from hikeshi.jobs.registry import JobContext, registry
from hikeshi.notify import service


# Channel failures are retried by the service (recorded on the delivery); the queue's own
# retries only cover unexpected errors (database trouble, a bug).
@registry.job(name=service.JOB_DELIVER, max_attempts=3)
def deliver(*, session: Session, payload: dict[str, Any], ctx: JobContext) -> None:
    service.attempt_delivery(
        session=session,
        delivery_id=int(payload["delivery_id"]),
        # The worker passes its process settings; a bare runner falls back to the environment.
        settings=ctx.settings or get_settings(),
        clock=ctx.clock,
    )
