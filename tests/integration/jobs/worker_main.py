"""A real worker process for the crash tests.

``python -m tests.integration.jobs.worker_main DATABASE_URL LEASE_SECONDS``
"""

from __future__ import annotations

import logging
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from hikeshi.audit.service import record
from hikeshi.config import Settings
from hikeshi.jobs.registry import JobContext, JobRegistry
from hikeshi.jobs.worker import run_worker_process

registry = JobRegistry()


@registry.job(name="test.effect", backoff=timedelta(seconds=1))
def effect(*, session: Session, payload: dict[str, Any], ctx: JobContext) -> None:
    """Writes its effect first, then (on attempt 1, if asked) hangs until it is killed."""
    record(
        session,
        action="test.effect",
        org_id=None,
        detail={"attempt": ctx.attempt, "worker": ctx.worker_id},
    )
    session.flush()
    if ctx.attempt == 1 and payload.get("hang_file"):
        Path(payload["hang_file"]).write_text(ctx.worker_id)
        time.sleep(120)


def main() -> None:
    url, lease = sys.argv[1], float(sys.argv[2])
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s"
    )
    settings = Settings(database_url=url, worker_poll_seconds=0.1)
    run_worker_process(settings, registry=registry, lease_seconds=lease)


if __name__ == "__main__":
    main()
