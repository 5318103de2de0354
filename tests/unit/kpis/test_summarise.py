"""The pure KPI arithmetic, on rows written by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hikeshi.cases.kpis import (
    ActionRow,
    CaseRow,
    ContactRow,
    format_duration,
    format_rate,
    is_recurrence,
    period_from_days,
    summarise,
)


def t(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def contact(i: int, customer: int | None, cls: str | None, day: int) -> ContactRow:
    return ContactRow(
        id=i,
        customer_id=customer,
        classification=cls,
        started_at=t(day),
        incident_id=None,
        operator_label="op",
    )


def test_summarise_known_answers() -> None:
    contacts = [
        contact(1, 10, "complaint", 10),
        contact(2, 10, "complaint", 12),  # recurs: 2 days after #1
        contact(3, 11, "inquiry", 12),
        contact(4, None, "complaint", 13),  # no customer: outside the recurrence base
    ]
    cases = [
        CaseRow(
            contact_id=1,
            escalated_at=t(10, 1),
            resolved_at=t(10, 4),
            escalation_count=1,
            csat_score=5,
        ),
        CaseRow(
            contact_id=2,
            escalated_at=t(12, 1),
            resolved_at=None,
            escalation_count=3,
            csat_score=None,
        ),
        CaseRow(
            contact_id=99, escalated_at=t(1), resolved_at=t(2), escalation_count=1, csat_score=1
        ),  # another population's case: ignored
    ]
    actions = [
        ActionRow(contact_id=1, due_at=t(11), done_at=t(10, 23), status="done"),  # kept
        ActionRow(contact_id=2, due_at=t(13), done_at=None, status="open"),  # overdue
        ActionRow(contact_id=2, due_at=t(20), done_at=None, status="open"),  # not due yet
        ActionRow(contact_id=3, due_at=t(12), done_at=None, status="cancelled"),
    ]
    k = summarise(
        contacts=contacts,
        cases=cases,
        actions=actions,
        history=contacts,
        window=timedelta(days=7),
        now=t(15),
    )
    assert (k.contacts, k.escalated, k.escalation_rate) == (4, 2, 0.5)
    assert (k.cases, k.resolved, k.resolution_rate) == (2, 1, 0.5)
    assert (k.recurrences, k.recurrence_base) == (1, 3)
    assert (k.reescalated, k.reescalation_rate) == (1, 0.5)
    assert k.aht_seconds == 3 * 3600
    assert (k.csat_mean, k.csat_responses) == (5.0, 1)
    assert (k.actions_kept, k.actions_due, k.deadline_kept_rate) == (1, 2, 0.5)


def test_empty_population_has_no_rates() -> None:
    k = summarise(
        contacts=[], cases=[], actions=[], history=[], window=timedelta(days=7), now=t(15)
    )
    assert k.escalation_rate is None and k.resolution_rate is None
    assert k.aht_seconds is None and k.csat_mean is None
    assert format_rate(None) == "—" and format_rate(0.375) == "37.5%"
    assert format_duration(None) == "—" and format_duration(46_800) == "13時間00分"


def test_recurrence_window_edges() -> None:
    first = contact(1, 7, "complaint", 1)
    exactly = ContactRow(
        id=2,
        customer_id=7,
        classification="complaint",
        started_at=first.started_at + timedelta(days=7),
        incident_id=None,
        operator_label="",
    )
    later = ContactRow(
        id=3,
        customer_id=7,
        classification="complaint",
        started_at=first.started_at + timedelta(days=7, seconds=1),
        incident_id=None,
        operator_label="",
    )
    window = timedelta(days=7)
    assert is_recurrence(exactly, [first], window)
    assert not is_recurrence(later, [first], window)
    assert not is_recurrence(first, [first], window)  # never itself
    other_issue = ContactRow(
        id=4,
        customer_id=7,
        classification="inquiry",
        started_at=t(2),
        incident_id=None,
        operator_label="",
    )
    assert not is_recurrence(other_issue, [first], window)


def test_default_period_is_the_last_seven_jst_days() -> None:
    # 2026-11-20 16:00 UTC is already 11/21 01:00 in Japan.
    period = period_from_days(
        first_day=None, last_day=None, now=datetime(2026, 11, 20, 16, tzinfo=UTC)
    )
    assert (period.first_day, period.last_day) == (date(2026, 11, 15), date(2026, 11, 21))
    assert period.start.isoformat() == "2026-11-15T00:00:00+09:00"
    assert period.end - period.start == timedelta(days=7)
