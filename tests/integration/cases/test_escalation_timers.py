"""The escalation climb: exactly at the configured minute, once, across worker restarts."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hikeshi.audit.service import make_audited_session_factory, set_actor, system_actor
from hikeshi.cases import policies, service, timers
from hikeshi.cases.models import Case, CaseState
from hikeshi.cases.schemas import PolicyCreate
from hikeshi.clock import JST, FrozenClock
from hikeshi.contacts.models import Contact, ContactStatus
from hikeshi.errors import Conflict, NotFound
from hikeshi.incidents.models import TimelineEvent
from hikeshi.jobs.queue import enqueue
from hikeshi.jobs.registry import load_handlers
from hikeshi.jobs.worker import Worker
from tests.integration.cases.conftest import (
    Recorder,
    count_deliveries,
    count_events,
    make_contact,
)
from tests.integration.notify.conftest import make_incident

SOUDAN = "お客様相談室"


def escalate(session: Session, org_id: int, contact: Contact, clock: FrozenClock) -> Case:
    case = service.escalate_contact(
        session=session,
        org_id=org_id,
        contact_id=contact.id,
        actor_label="op@example.jp",
        user_id=None,
        clock=clock,
        reason="責任者を出せ",
    )
    session.commit()
    return case


def reload(sessions: sessionmaker[Session], case_id: int) -> Case:
    with sessions() as s:
        case = s.get(Case, case_id)
        assert case is not None
        s.expunge(case)
        return case


def test_escalation_prefills_handover_and_starts_clock(
    session: Session,
    sessions: sessionmaker[Session],
    org_id: int,
    contact: Contact,
    clock: FrozenClock,
    bus: Recorder,
) -> None:
    case = escalate(session, org_id, contact, clock)
    assert case.tier.value == "supervisor" and case.level == 1 and case.round == 1
    card = service.get_handover(session=session, org_id=org_id, case_id=case.id)
    assert "蓋が外れた" in card.facts and "交換を希望" in card.facts
    assert "責任者を出せ" in card.history and "クレーム" in card.emotion
    assert session.get(Contact, contact.id).status is ContactStatus.escalated  # type: ignore[union-attr]
    assert count_events(sessions, case.id, "sla.start") == 1
    assert [e.type for e in bus.events] == ["case.escalated"]
    sla = service.sla_of(session=session, case=case, clock=clock)
    assert sla is not None and sla.state.label == "対応中"


def test_second_escalation_of_a_contact_is_a_conflict(
    session: Session, org_id: int, contact: Contact, clock: FrozenClock
) -> None:
    case = escalate(session, org_id, contact, clock)
    with pytest.raises(Conflict) as err:
        escalate(session, org_id, contact, clock)
    assert err.value.fields == {"contact_id": contact.id, "case_id": case.id}


def test_unknown_contact_is_not_found(session: Session, org_id: int, clock: FrozenClock) -> None:
    with pytest.raises(NotFound) as err:
        service.escalate_contact(
            session=session,
            org_id=org_id,
            contact_id=999999,
            actor_label="x",
            user_id=None,
            clock=clock,
        )
    assert err.value.fields == {"contact_id": 999999}


def test_unacknowledged_escalation_climbs_at_exactly_the_configured_minute(
    session: Session,
    sessions: sessionmaker[Session],
    org_id: int,
    contact: Contact,
    clock: FrozenClock,
    worker: Worker,
    bus: Recorder,
) -> None:
    # Friday 2026-11-20 10:00 JST; the default policy gives the SV 10 business minutes.
    case = escalate(session, org_id, contact, clock)
    clock.set(datetime(2026, 11, 20, 10, 9, 59, tzinfo=JST))
    worker.run_once()
    assert reload(sessions, case.id).level == 1
    assert count_deliveries(sessions, SOUDAN) == 0

    clock.set(datetime(2026, 11, 20, 10, 10, tzinfo=JST))
    worker.run_once()
    climbed = reload(sessions, case.id)
    assert (climbed.level, climbed.round) == (2, 1)
    assert count_deliveries(sessions, SOUDAN) == 1
    assert count_events(sessions, case.id, "level_up") == 1
    assert len(bus.of("case.level_up")) == 1


def test_climb_runs_on_business_hours_over_a_holiday_weekend(
    session: Session,
    sessions: sessionmaker[Session],
    org_id: int,
    contact: Contact,
    clock: FrozenClock,
    worker: Worker,
) -> None:
    # Escalated Friday 17:55: 5 minutes left today; Sat, Sun and Monday 11/23 (勤労感謝の日)
    # are closed, so the SV's 10 minutes run out on Tuesday 9:05.
    clock.set(datetime(2026, 11, 20, 17, 55, tzinfo=JST))
    case = escalate(session, org_id, contact, clock)
    clock.set(datetime(2026, 11, 24, 9, 4, 59, tzinfo=JST))
    worker.run_once()
    assert reload(sessions, case.id).level == 1
    clock.set(datetime(2026, 11, 24, 9, 5, tzinfo=JST))
    worker.run_once()
    assert reload(sessions, case.id).level == 2


def test_acknowledgement_stops_the_climb_and_a_second_is_refused(
    session: Session,
    sessions: sessionmaker[Session],
    org_id: int,
    contact: Contact,
    clock: FrozenClock,
    worker: Worker,
    bus: Recorder,
) -> None:
    case = escalate(session, org_id, contact, clock)
    clock.advance(timedelta(minutes=5))
    service.acknowledge(
        session=session,
        org_id=org_id,
        case_id=case.id,
        actor_label="sv@example.jp",
        user_id=None,
        clock=clock,
    )
    session.commit()
    with pytest.raises(Conflict) as err:
        service.acknowledge(
            session=session,
            org_id=org_id,
            case_id=case.id,
            actor_label="sv2@example.jp",
            user_id=None,
            clock=clock,
        )
    assert "既に受領済みです" in err.value.message_ja
    session.rollback()
    clock.advance(timedelta(hours=3))
    worker.run_once()
    after = reload(sessions, case.id)
    assert after.level == 1 and after.acknowledged_by_label == "sv@example.jp"
    assert after.owner_label == "sv@example.jp"
    assert count_deliveries(sessions, SOUDAN) == 0
    assert len(bus.of("case.acknowledged")) == 1


def test_same_timer_run_twice_does_not_double_the_notification(
    session: Session,
    sessions: sessionmaker[Session],
    org_id: int,
    contact: Contact,
    clock: FrozenClock,
    worker: Worker,
    bus: Recorder,
) -> None:
    case = escalate(session, org_id, contact, clock)
    clock.advance(timedelta(minutes=10))
    worker.run_once()
    assert count_deliveries(sessions, SOUDAN) == 1
    # The same job again (a duplicate enqueue after the first finished, or a replay).
    with sessions() as s:
        set_actor(s, system_actor("test"))
        enqueue(
            session=s,
            name=timers.JOB_ACK_TIMEOUT,
            payload={"case_id": case.id, "round": 1, "level": 1},
            key=timers.ack_job_key(case.id, 1, 1),
            org_id=org_id,
            clock=clock,
        )
        s.commit()
    worker.run_once()
    with sessions() as s:
        set_actor(s, system_actor("test"))
        assert (
            timers.handle_ack_timeout(session=s, case_id=case.id, round_=1, level=1, clock=clock)
            == "stale"
        )
        s.commit()
    assert reload(sessions, case.id).level == 2
    assert count_deliveries(sessions, SOUDAN) == 1
    assert count_events(sessions, case.id, "level_up") == 1
    assert len(bus.of("case.level_up")) == 1


def test_restarted_worker_neither_loses_nor_doubles(
    session: Session,
    sessions: sessionmaker[Session],
    connection: object,
    org_id: int,
    contact: Contact,
    clock: FrozenClock,
    bus: Recorder,
) -> None:
    case = escalate(session, org_id, contact, clock)
    first = Worker(sessions=sessions, registry=load_handlers(), clock=clock, worker_id="w1")
    clock.advance(timedelta(minutes=5))
    first.run_once()  # nothing due yet
    del first  # "restart": a new worker with a session factory of its own
    fresh = make_audited_session_factory(
        connection,
        clock=clock,
        join_transaction_mode="create_savepoint",  # type: ignore[arg-type]
    )
    second = Worker(sessions=fresh, registry=load_handlers(), clock=clock, worker_id="w2")
    clock.advance(timedelta(minutes=5))
    assert second.run_once() >= 1
    second.run_once()
    third = Worker(sessions=fresh, registry=load_handlers(), clock=clock, worker_id="w3")
    third.run_once()
    assert reload(sessions, case.id).level == 2
    assert count_deliveries(sessions, SOUDAN) == 1
    assert count_events(sessions, case.id, "level_up") == 1
    # Level 2 (30 business minutes) climbs to 経営 once as well.
    clock.advance(timedelta(minutes=30))
    third.run_once()
    first_again = Worker(sessions=fresh, registry=load_handlers(), clock=clock, worker_id="w4")
    first_again.run_once()
    assert reload(sessions, case.id).level == 3
    assert count_events(sessions, case.id, "level_up") == 2


def test_repeat_restarts_from_level_one_then_stops(
    session: Session,
    sessions: sessionmaker[Session],
    org_id: int,
    clock: FrozenClock,
    worker: Worker,
    bus: Recorder,
) -> None:
    policy = policies.create_policy(
        session=session,
        org_id=org_id,
        clock=clock,
        data=PolicyCreate.model_validate(
            {
                "name": "24時間",
                "levels": [
                    {"target": "supervisor", "ack_minutes": 5},
                    {"target": "department:お客様相談室", "ack_minutes": 5},
                ],
                "repeat": 1,
                "calendar": {"always_open": True},
                "is_default": True,
            }
        ),
    )
    contact = make_contact(session, org_id, clock)
    session.commit()
    case = escalate(session, org_id, contact, clock)
    assert case.policy_id == policy.id
    seen = []
    for _ in range(5):
        clock.advance(timedelta(minutes=5))
        worker.run_once()
        c = reload(sessions, case.id)
        seen.append((c.level, c.round))
    assert seen == [(2, 1), (1, 2), (2, 2), (2, 2), (2, 2)]
    assert count_events(sessions, case.id, "escalation.exhausted") == 1
    assert count_deliveries(sessions, SOUDAN) == 2


def test_waiting_on_the_customer_holds_the_climb_and_pauses_the_sla(
    session: Session,
    sessions: sessionmaker[Session],
    org_id: int,
    contact: Contact,
    clock: FrozenClock,
    worker: Worker,
) -> None:
    # Friday 10:00: escalated; 16:00 waiting on the customer over the weekend and the holiday.
    case = escalate(session, org_id, contact, clock)
    service.acknowledge(
        session=session, org_id=org_id, case_id=case.id, actor_label="sv", user_id=None, clock=clock
    )
    session.commit()
    clock.set(datetime(2026, 11, 20, 12, 0, tzinfo=JST))
    service.change_state(
        session=session,
        org_id=org_id,
        case_id=case.id,
        to=CaseState.waiting_customer,
        actor_label="sv",
        clock=clock,
    )
    session.commit()
    clock.set(datetime(2026, 11, 24, 17, 0, tzinfo=JST))  # Tuesday
    sla = service.sla_of(session=session, case=case, clock=clock)
    assert sla is not None and sla.state.label == "保留"
    assert sla.elapsed == timedelta(hours=2)
    service.change_state(
        session=session,
        org_id=org_id,
        case_id=case.id,
        to=CaseState.open,
        actor_label="sv",
        clock=clock,
    )
    session.commit()
    clock.set(datetime(2026, 11, 24, 17, 30, tzinfo=JST))
    sla = service.sla_of(session=session, case=case, clock=clock)
    assert sla is not None and sla.elapsed == timedelta(hours=2, minutes=30)
    assert sla.state.label == "対応中"
    # Tuesday 17:00–18:00 and Wednesday from 9:00 count; 240 minutes run out Wed 10:00.
    clock.set(datetime(2026, 11, 25, 9, 15, tzinfo=JST))
    sla = service.sla_of(session=session, case=case, clock=clock)
    assert sla is not None and sla.elapsed == timedelta(hours=3, minutes=15)
    assert sla.state.label == "期限間近"
    assert sla.due_at == datetime(2026, 11, 25, 10, 0, tzinfo=JST)
    clock.set(datetime(2026, 11, 25, 10, 0, tzinfo=JST))
    sla = service.sla_of(session=session, case=case, clock=clock)
    assert sla is not None and sla.state.label == "期限超過"
    service.change_state(
        session=session,
        org_id=org_id,
        case_id=case.id,
        to=CaseState.resolved,
        actor_label="sv",
        clock=clock,
        note="交換で合意",
    )
    session.commit()
    sla = service.sla_of(session=session, case=case, clock=clock)
    assert sla is not None and sla.state.label == "完了"
    with pytest.raises(Conflict):
        service.change_state(
            session=session,
            org_id=org_id,
            case_id=case.id,
            to=CaseState.open,
            actor_label="sv",
            clock=clock,
        )


def test_incident_policy_and_timeline_line(
    session: Session,
    sessions: sessionmaker[Session],
    org_id: int,
    clock: FrozenClock,
    worker: Worker,
) -> None:
    incident = make_incident(session, org_id, clock, is_drill=False)
    own = policies.create_policy(
        session=session,
        org_id=org_id,
        clock=clock,
        data=PolicyCreate.model_validate(
            {
                "name": "リコール窓口",
                "incident_id": incident.id,
                "levels": [{"target": "department:お客様相談室", "ack_minutes": 15}],
                "calendar": {"always_open": True},
            }
        ),
    )
    contact = make_contact(session, org_id, clock, incident_id=incident.id)
    session.commit()
    case = escalate(session, org_id, contact, clock)
    assert case.policy_id == own.id and case.incident_id == incident.id
    assert count_deliveries(sessions, SOUDAN) == 1  # level 1 is the department itself
    clock.advance(timedelta(minutes=15))
    worker.run_once()
    assert count_events(sessions, case.id, "escalation.exhausted") == 1
    lines = session.scalars(
        select(TimelineEvent.summary).where(
            TimelineEvent.incident_id == incident.id, TimelineEvent.kind == "escalation"
        )
    ).all()
    assert len(lines) == 1 and f"#{case.id}" in lines[0]
