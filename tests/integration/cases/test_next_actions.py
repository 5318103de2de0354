"""Next actions: promises computed in Asia/Tokyo business time, reminders, overdue escalation."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hikeshi.audit.models import AuditEvent
from hikeshi.audit.service import set_actor, system_actor
from hikeshi.cases import actions, service
from hikeshi.cases.models import Case, NextAction, NextActionStatus
from hikeshi.cases.schemas import HandoverUpdate, NextActionCreate
from hikeshi.clock import JST, FrozenClock
from hikeshi.contacts.models import Contact
from hikeshi.errors import Conflict, NotFound, ValidationFailed
from hikeshi.jobs.models import Job
from hikeshi.jobs.worker import Worker
from tests.integration.cases.conftest import Recorder, count_deliveries, count_events

FRIDAY_1750 = datetime(2026, 11, 20, 17, 50, tzinfo=JST)  # Monday 11/23 is 勤労感謝の日


def open_case(session: Session, org_id: int, contact: Contact, clock: FrozenClock) -> Case:
    case = service.escalate_contact(
        session=session,
        org_id=org_id,
        contact_id=contact.id,
        actor_label="op",
        user_id=None,
        clock=clock,
    )
    service.acknowledge(
        session=session, org_id=org_id, case_id=case.id, actor_label="sv", user_id=None, clock=clock
    )
    session.commit()
    return case


def promise(
    session: Session, org_id: int, case_id: int, clock: FrozenClock, **kw: object
) -> NextAction:
    action = actions.create_action(
        session=session,
        org_id=org_id,
        data=NextActionCreate.model_validate({"case_id": case_id, "description": "折り返し", **kw}),
        actor_label="sv",
        user_id=None,
        clock=clock,
    )
    session.commit()
    return action


@pytest.mark.parametrize(
    ("words", "due"),
    [
        ("本日中", datetime(2026, 11, 20, 18, 0, tzinfo=JST)),
        ("翌営業日まで", datetime(2026, 11, 24, 18, 0, tzinfo=JST)),
        ("2時間以内", datetime(2026, 11, 24, 10, 50, tzinfo=JST)),
        ("本日中に折り返します", datetime(2026, 11, 20, 18, 0, tzinfo=JST)),
        ("２時間以内", datetime(2026, 11, 24, 10, 50, tzinfo=JST)),
    ],
)
def test_callback_promised_friday_1750_before_a_holiday(
    session: Session,
    org_id: int,
    contact: Contact,
    clock: FrozenClock,
    words: str,
    due: datetime,
) -> None:
    clock.set(FRIDAY_1750)
    case = open_case(session, org_id, contact, clock)
    action = promise(session, org_id, case.id, clock, promise=words)
    assert action.due_at == due
    expected_remind = due - timedelta(minutes=30)
    assert action.remind_at == (expected_remind if expected_remind > FRIDAY_1750 else None)


def test_impossible_and_unknown_input_writes_nothing(
    session: Session, org_id: int, contact: Contact, clock: FrozenClock
) -> None:
    case = open_case(session, org_id, contact, clock)
    before_jobs = session.scalar(select(func.count()).select_from(Job))
    cases = [
        ({"due_at": (clock.now() - timedelta(minutes=1)).isoformat()}, ValidationFailed, "due_at"),
        ({"due_at": clock.now().isoformat()}, ValidationFailed, "due_at"),
        ({"promise": "そのうち"}, ValidationFailed, "promise"),
        ({}, ValidationFailed, "due_at"),
        ({"case_id": 999999, "promise": "本日中"}, NotFound, "case_id"),
        ({"case_id": None, "contact_id": 999999, "promise": "本日中"}, NotFound, "contact_id"),
    ]
    for extra, error, field in cases:
        body = {"case_id": case.id, "description": "x", **extra}
        with pytest.raises(error) as err:
            actions.create_action(
                session=session,
                org_id=org_id,
                data=NextActionCreate.model_validate(body),
                actor_label="sv",
                user_id=None,
                clock=clock,
            )
        assert field in err.value.fields, (extra, err.value.fields)
        session.rollback()
    assert session.scalar(select(func.count()).select_from(NextAction)) == 0
    assert session.scalar(select(func.count()).select_from(Job)) == before_jobs


def test_reminder_then_overdue_alerts_and_escalates_once(
    session: Session,
    sessions: sessionmaker[Session],
    org_id: int,
    contact: Contact,
    clock: FrozenClock,
    worker: Worker,
    bus: Recorder,
) -> None:
    case = open_case(session, org_id, contact, clock)  # Friday 10:00, acknowledged
    action = promise(session, org_id, case.id, clock, promise="2時間以内")  # due 12:00
    assert action.remind_at == datetime(2026, 11, 20, 11, 30, tzinfo=JST)
    clock.set(datetime(2026, 11, 20, 11, 30, tzinfo=JST))
    worker.run_once()
    assert len(bus.of("action.reminder")) == 1
    assert bus.of("action.overdue") == []
    clock.set(datetime(2026, 11, 20, 11, 59, 59, tzinfo=JST))
    worker.run_once()
    assert bus.of("action.overdue") == []
    clock.set(datetime(2026, 11, 20, 12, 0, tzinfo=JST))
    worker.run_once()
    worker.run_once()
    assert len(bus.of("action.overdue")) == 1
    with sessions() as s:
        c = s.get(Case, case.id)
        assert c is not None
        assert (c.level, c.escalation_count, c.acknowledged_at) == (2, 2, None)
        a = s.get(NextAction, action.id)
        assert a is not None and a.overdue_alerted_at is not None
        assert actions.is_overdue(a, clock.now())
    assert count_events(sessions, case.id, "action.overdue") == 1
    assert count_deliveries(sessions, "お客様相談室") == 1
    # A second run of the overdue handler changes nothing.
    with sessions() as s:
        set_actor(s, system_actor("test"))
        assert actions.handle_overdue(session=s, action_id=action.id, clock=clock) == "already"
        s.commit()
    assert count_deliveries(sessions, "お客様相談室") == 1


def test_done_action_is_not_alerted_and_cannot_be_done_twice(
    session: Session,
    org_id: int,
    contact: Contact,
    clock: FrozenClock,
    worker: Worker,
    bus: Recorder,
) -> None:
    case = open_case(session, org_id, contact, clock)
    action = promise(session, org_id, case.id, clock, promise="本日中")
    actions.complete_action(
        session=session, org_id=org_id, action_id=action.id, actor_label="sv", clock=clock
    )
    session.commit()
    with pytest.raises(Conflict):
        actions.cancel_action(
            session=session, org_id=org_id, action_id=action.id, actor_label="sv", clock=clock
        )
    session.rollback()
    clock.advance(timedelta(days=1))
    worker.run_once()
    assert bus.of("action.overdue") == [] and bus.of("action.reminder") == []
    assert session.get(NextAction, action.id).status is NextActionStatus.done  # type: ignore[union-attr]


def test_handover_confirmation_and_audit_rows(
    session: Session, org_id: int, contact: Contact, clock: FrozenClock
) -> None:
    case = open_case(session, org_id, contact, clock)
    service.confirm_handover(
        session=session,
        org_id=org_id,
        case_id=case.id,
        actor_label="sv",
        clock=clock,
        note="相違なし",
    )
    session.commit()
    card = service.update_handover(
        session=session,
        org_id=org_id,
        case_id=case.id,
        data=HandoverUpdate(demands="新品交換と謝罪"),
        actor_label="sv",
        clock=clock,
    )
    session.commit()
    assert card.demands == "新品交換と謝罪" and card.confirmed_at is None  # re-confirm needed
    card = service.confirm_handover(
        session=session,
        org_id=org_id,
        case_id=case.id,
        actor_label="sv",
        clock=clock,
        note="お客様に確認済み",
    )
    session.commit()
    assert card.confirmed_by_label == "sv" and card.confirmation_note == "お客様に確認済み"
    actions_seen = set(
        session.scalars(select(AuditEvent.action).where(AuditEvent.org_id == org_id)).all()
    )
    for expected in (
        "cases.create",
        "cases.update",
        "case_events.create",
        "handover_cards.create",
        "handover_cards.update",
        "contacts.update",
    ):
        assert expected in actions_seen, expected
