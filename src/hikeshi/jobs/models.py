"""The durable job queue's tables: queued jobs and the next slot of each periodic job."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hikeshi.db import Base


class JobStatus(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    DEAD = "dead"


ACTIVE_STATUSES = (JobStatus.PENDING, JobStatus.RUNNING)


class Job(Base):
    """One unit of background work. Rows are kept after they finish, as an operations record."""

    __tablename__ = "jobs"
    # Plumbing, not business state: a handler's own writes are audited under `job:<name>`.
    __audited__ = False
    __table_args__ = (Index("ix_jobs_status_run_at", "status", "run_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    key: Mapped[str | None] = mapped_column(String(200))
    # Equals `key` while pending or running and NULL afterwards; NULLs never collide, so the
    # plain UNIQUE gives "one active job per key" on SQLite and PostgreSQL alike.
    active_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    org_id: Mapped[int | None] = mapped_column(Integer, index=True)  # no FK: jobs outlive rows
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    run_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.PENDING)
    # Counts starts (claims), so a job that keeps killing its worker also ends up dead.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # NULL means the handler's registered default.
    max_attempts: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    locked_by: Mapped[str | None] = mapped_column(String(200))
    locked_until: Mapped[datetime | None]
    # Fencing token, new on every claim: a worker whose lease was taken over cannot commit.
    lease_token: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class JobSchedule(Base):
    """When each periodic job is next due; its row lock keeps two workers from both firing."""

    __tablename__ = "job_schedules"
    __audited__ = False

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    next_run_at: Mapped[datetime]
    last_enqueued_at: Mapped[datetime | None]
