"""Job handlers of 部署照会: the reminder when an inquiry's due date passes unanswered."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

# A worker may run without the web stack: map every table the rows point to first.
import hikeshi.models_registry  # noqa: F401
from hikeshi.cases import inquiries
from hikeshi.jobs.registry import JobContext, registry


@registry.job(name=inquiries.JOB_OVERDUE)
def inquiry_overdue(*, session: Session, payload: dict[str, Any], ctx: JobContext) -> None:
    inquiries.handle_overdue(
        session=session, inquiry_id=int(payload["inquiry_id"]), clock=ctx.clock
    )
