from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from hikeshi.auth.models import Organisation
from hikeshi.clock import format_jst


def test_aware_times_round_trip_as_utc(session: Session) -> None:
    jst = timezone(timedelta(hours=9))
    org = Organisation(slug="tz", name="tz", created_at=datetime(2026, 11, 20, 9, 30, tzinfo=jst))
    session.add(org)
    session.flush()
    session.expire(org)
    assert org.created_at == datetime(2026, 11, 20, 0, 30, tzinfo=UTC)
    assert org.created_at.tzinfo is not None
    assert format_jst(org.created_at) == "2026/11/20 09:30"


def test_naive_time_is_refused(session: Session) -> None:
    session.add(Organisation(slug="naive", name="n", created_at=datetime(2026, 1, 1)))
    with pytest.raises(StatementError, match="naive"):
        session.flush()
