"""KPIs on a fixture with known answers (tests/integration/kpis/fixture.py).

Population (contacts started 11/14–11/20 JST, drills excluded): c1 c2 c3 c4 c5 c6 c8 c9 = 8.
(c_old and c0 started before the period; c7 belongs to the drill incident.)
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from hikeshi.cases import kpis
from hikeshi.clock import FrozenClock
from hikeshi.errors import ValidationFailed
from tests.integration.kpis.fixture import Month, build_month, j


@pytest.fixture
def month(session: Session, clock: FrozenClock) -> Month:
    clock.set(j(20, 10))
    return build_month(session, clock)


def _table(session: Session, month: Month, **kw: object) -> tuple[kpis.Kpis, list[kpis.KpiRow]]:
    period = kpis.period_from_days(
        first_day=date(2026, 11, 14), last_day=date(2026, 11, 20), now=j(20, 10)
    )
    return kpis.kpi_table(
        session=session,
        org_id=month.org_id,
        start=period.start,
        end=period.end,
        now=j(20, 10),
        **kw,  # type: ignore[arg-type]
    )


def test_totals_match_the_hand_computed_answers(session: Session, month: Month) -> None:
    total, rows = _table(session, month)
    assert rows == []
    assert total.contacts == 8
    # Escalation: c1 (k1), c3 (k3), c4 (k4) became cases → 3/8.
    assert (total.escalated, total.escalation_rate) == (3, 3 / 8)
    # Resolution: k1 and k3 resolved, k4 open → 2/3.
    assert (total.cases, total.resolved) == (3, 2)
    assert total.resolution_rate == pytest.approx(2 / 3)
    # Recurrence base: contacts with customer and classification: c1 c2 c3 c4 c5 c8 c9 = 7
    # (c6 has no customer). Recurrences: c1 (A complaint c0 five days before), c4 (B complaint
    # c3 two days before), c8 (C request c5 three hours before) = 3. Not: c2 (A's first
    # inquiry), c3 (B's first), c5 (C's earlier request c_old is 18 days before), c9 (A's
    # earlier opinion c7 is a drill).
    assert (total.recurrences, total.recurrence_base) == (3, 7)
    # Re-escalation: k3 and k4 have escalation_count 2 → 2/3.
    assert total.reescalated == 2
    # Secondary AHT: k1 2h (7,200s), k3 24h (86,400s) → mean 46,800s.
    assert total.aht_seconds == pytest.approx(46_800)
    # CSAT: k1 4, k3 2 → 3.0 over 2 answers (k0 is before the period, k7 is a drill).
    assert (total.csat_mean, total.csat_responses) == (3.0, 2)
    # Deadlines due in the period and already due or done: a1 kept, a2 late, a3 overdue,
    # a6 kept (its contact c0 started earlier, but it was due in the period) = 2/4.
    # Not: a4 (due tomorrow, still open), a5 (drill), a7 (cancelled).
    assert (total.actions_kept, total.actions_due) == (2, 4)
    assert total.deadline_kept_rate == 0.5


def test_per_incident_operator_and_window(session: Session, month: Month) -> None:
    real, _ = _table(session, month, incident_id=month.real_incident)
    # Real incident: c1 c2 c3 c5 c6 c8 c9 = 7 (c4 had no incident); cases k1 k3.
    assert (real.contacts, real.escalated, real.cases, real.resolved) == (7, 2, 2, 2)
    # Recurrences c1, c8 over base c1 c2 c3 c5 c8 c9.
    assert (real.recurrences, real.recurrence_base) == (2, 6)
    # Actions a1, a2, a6 (a3 belongs to c4, outside the incident).
    assert (real.actions_kept, real.actions_due) == (2, 3)

    drill, _ = _table(session, month, incident_id=month.drill_incident)
    assert drill.contacts == 0 and drill.cases == 0

    _, by_operator = _table(session, month, group_by="operator")
    got = {r.key: (r.kpis.contacts, r.kpis.escalated) for r in by_operator}
    # op1: c1 c2 c6 c8 (c1 escalated); op2: c3 c4 c5 c9 (c3, c4 escalated).
    assert got == {"op1": (4, 1), "op2": (4, 2)}

    _, by_day = _table(session, month, group_by="day")
    assert [r.key for r in by_day] == [f"2026-11-{d}" for d in range(14, 21)]
    assert sum(r.kpis.contacts for r in by_day) == 8

    short, _ = _table(session, month, recurrence_days=1)
    # One-day window: only c8 (three hours after c5) recurs.
    assert (short.recurrences, short.recurrence_base) == (1, 7)


def test_bad_periods_are_refused() -> None:
    with pytest.raises(ValidationFailed) as err:
        kpis.period_from_days(
            first_day=date(2026, 11, 20), last_day=date(2026, 11, 1), now=j(20, 10)
        )
    assert "start" in err.value.fields
    with pytest.raises(ValidationFailed):
        kpis.period_from_days(first_day=date(2024, 1, 1), last_day=date(2026, 1, 1), now=j(20, 10))
    with pytest.raises(ValidationFailed) as window:
        kpis.check_window(0)
    assert "recurrence_days" in window.value.fields
