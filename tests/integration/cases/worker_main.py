"""A real worker process with the application's handlers, for the crash test.

``python -m tests.integration.cases.worker_main DATABASE_URL LEASE_SECONDS``
"""

from __future__ import annotations

import logging
import sys

from hikeshi.config import Settings
from hikeshi.jobs.worker import run_worker_process


def main() -> None:
    url, lease = sys.argv[1], float(sys.argv[2])
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s"
    )
    settings = Settings(database_url=url, worker_poll_seconds=0.1)
    run_worker_process(settings, lease_seconds=lease)


if __name__ == "__main__":
    main()
