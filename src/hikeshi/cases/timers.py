"""The escalation climb and the SLA clock of a case.

Acknowledgement timers are jobs in the database queue (``case.ack_timeout``), keyed
``case.ack:{case_id}:{round}:{level}`` so that scheduling twice queues one job, and they survive
restarts. A timer acts only while the case still stands at the payload's level and round and is
unacknowledged, so a job run twice (or a stale one) has no second effect.

The SLA clock keeps no state: ``sla.start/pause/resume/stop`` case events are replayed through
``hikeshi.calendar.SlaClock`` on the policy's business calendar.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hikeshi.calendar import SlaClock, SlaState, SlaStatus
from hikeshi.cases import policies
from hikeshi.cases.models import Case, CaseEvent, CaseState, EscalationPolicy
from hikeshi.clock import Clock, format_jst
from hikeshi.events.service import publish_after_commit
from hikeshi.incidents.models import Incident
from hikeshi.incidents.service import record_timeline
from hikeshi.jobs.queue import enqueue
from hikeshi.notify import service as notify_service

JOB_ACK_TIMEOUT = "case.ack_timeout"
SYSTEM_LABEL = "hikeshi:escalation"
ACTIVE_STATES = (CaseState.open, CaseState.waiting_customer, CaseState.waiting_department)
SLA_WARN_FRACTION = 0.2


def ack_job_key(case_id: int, round_: int, level: int) -> str:
    return f"case.ack:{case_id}:{round_}:{level}"


# --- history ----------------------------------------------------------------------------------


def add_event(
    session: Session,
    case: Case,
    *,
    kind: str,
    summary: str,
    actor_label: str,
    clock: Clock,
    detail: dict[str, Any] | None = None,
) -> CaseEvent:
    event = CaseEvent(
        org_id=case.org_id,
        case_id=case.id,
        at=clock.now(),
        kind=kind,
        summary=summary,
        actor_label=actor_label,
        detail=detail,
    )
    session.add(event)
    return event


def on_incident_timeline(
    session: Session, case: Case, *, summary: str, actor_label: str, clock: Clock
) -> None:
    """An 'escalation' line on the incident's timeline for incident-linked cases."""
    if case.incident_id is None:
        return
    incident = session.get(Incident, case.incident_id)
    if incident is None:
        return
    record_timeline(
        session=session,
        incident=incident,
        kind="escalation",
        summary=summary,
        actor_label=actor_label,
        clock=clock,
        detail={"case_id": case.id, "level": case.level, "round": case.round},
    )


def publish(session: Session, case: Case, type_: str, clock: Clock, **extra: Any) -> None:
    data: dict[str, Any] = {
        "case_id": case.id,
        "title": case.title,
        "level": case.level,
        "round": case.round,
        "tier": str(case.tier),
        "at_jst": format_jst(clock.now()),
        **extra,
    }
    publish_after_commit(session, org_id=case.org_id, type=type_, data=data)


# --- the climb --------------------------------------------------------------------------------


def level_of(policy: EscalationPolicy, level: int) -> dict[str, Any]:
    levels = policy.levels or policies.DEFAULT_LEVELS
    return levels[min(max(level, 1), len(levels)) - 1]


def notify_level(
    session: Session, case: Case, policy: EscalationPolicy, *, clock: Clock, why: str
) -> int:
    """Tell the current level's target: a board event always; deliveries for a department.

    Returns the number of deliveries queued."""
    target = str(level_of(policy, case.level)["target"])
    department = policies.target_department(target)
    label = policies.target_label(target)
    queued = 0
    if department is not None:
        is_drill = False
        if case.incident_id is not None:
            incident = session.get(Incident, case.incident_id)
            is_drill = bool(incident and incident.is_drill)
        deliveries = notify_service.queue_deliveries(
            session=session,
            org_id=case.org_id,
            incident_id=case.incident_id,
            department=department,
            trigger=f"case:{case.id}:{case.round}:{case.level}",
            subject=f"【エスカレーション】{case.title}",
            body=(
                f"ケース #{case.id}「{case.title}」が{label}にエスカレーションされました。\n"
                f"理由：{why}\n受領（確認）をお願いします。"
            ),
            is_drill=is_drill,
            clock=clock,
        )
        queued = len(deliveries)
    publish(
        session,
        case,
        "case.level_up" if case.level > 1 or case.round > 1 else "case.escalated",
        clock,
        target=target,
        target_label=label,
        reason=why,
        deliveries=queued,
    )
    return queued


def schedule_ack_timer(
    session: Session, case: Case, policy: EscalationPolicy, *, clock: Clock
) -> datetime:
    """Queue the acknowledgement timer of the case's current level and round."""
    minutes = int(level_of(policy, case.level)["ack_minutes"])
    run_at = policies.ack_deadline(policy, clock.now(), minutes)
    enqueue(
        session=session,
        name=JOB_ACK_TIMEOUT,
        payload={"case_id": case.id, "round": case.round, "level": case.level},
        run_at=run_at,
        key=ack_job_key(case.id, case.round, case.level),
        org_id=case.org_id,
        clock=clock,
    )
    return run_at


def _next_step(policy: EscalationPolicy, level: int, round_: int) -> tuple[int, int] | None:
    """(level, round) after ``level`` in ``round_``; None once the last round is used up."""
    count = len(policy.levels or policies.DEFAULT_LEVELS)
    if level < count:
        return level + 1, round_
    if round_ < policy.repeat + 1:
        return 1, round_ + 1
    return None


def move_to_level(
    session: Session,
    case: Case,
    policy: EscalationPolicy,
    *,
    level: int,
    round_: int,
    why: str,
    actor_label: str,
    clock: Clock,
) -> None:
    """Stand the case at ``level``/``round_``, record it, notify and arm the next timer."""
    before = (case.level, case.round)
    case.level, case.round = level, round_
    case.updated_at = clock.now()
    target = str(level_of(policy, level)["target"])
    summary = (
        f"{policies.target_label(target)}へエスカレーションしました"
        f"（{level}段目・{round_}巡目）：{why}"
    )
    add_event(
        session,
        case,
        kind="level_up",
        summary=summary,
        actor_label=actor_label,
        clock=clock,
        detail={"from": list(before), "level": level, "round": round_, "target": target},
    )
    on_incident_timeline(
        session, case, summary=f"ケース #{case.id}：{summary}", actor_label=actor_label, clock=clock
    )
    session.flush()
    notify_level(session, case, policy, clock=clock, why=why)
    schedule_ack_timer(session, case, policy, clock=clock)


def handle_ack_timeout(
    *, session: Session, case_id: int, round_: int, level: int, clock: Clock
) -> str:
    """The ``case.ack_timeout`` job. Returns what happened (for logs and tests)."""
    case = session.get(Case, case_id, with_for_update=True)
    if case is None:
        return "gone"
    if case.acknowledged_at is not None:
        return "acknowledged"
    if case.state not in ACTIVE_STATES:
        return "inactive"
    if (case.level, case.round) != (level, round_):
        return "stale"  # the case moved on (an earlier run, or an overdue promise)
    if case.state is CaseState.waiting_customer:
        # Paused: the climb resumes with a fresh timer when the customer answers.
        return "paused"
    policy = policies.policy_of_case(session=session, case=case, clock=clock)
    step = _next_step(policy, level, round_)
    minutes = int(level_of(policy, level)["ack_minutes"])
    if step is None:
        add_event(
            session,
            case,
            kind="escalation.exhausted",
            summary="最終段階まで受領されませんでした。至急対応してください",
            actor_label=SYSTEM_LABEL,
            clock=clock,
            detail={"level": level, "round": round_},
        )
        publish(session, case, "case.unacknowledged", clock)
        return "exhausted"
    move_to_level(
        session,
        case,
        policy,
        level=step[0],
        round_=step[1],
        why=f"{minutes}分以内に受領されませんでした",
        actor_label=SYSTEM_LABEL,
        clock=clock,
    )
    return "climbed"


def escalate_one_level(
    session: Session, case: Case, *, why: str, actor_label: str, clock: Clock
) -> None:
    """A forced climb (an overdue promise): next level (the last stays last), a new
    acknowledgement is needed, and the re-escalation counts."""
    policy = policies.policy_of_case(session=session, case=case, clock=clock)
    count = len(policy.levels or policies.DEFAULT_LEVELS)
    case.escalation_count += 1
    case.acknowledged_at = None
    case.acknowledged_by_label = ""
    level = min(case.level + 1, count)
    if level == case.level:
        # Already at the top: the same level again, in a new round so the timer key is fresh.
        move_to_level(
            session,
            case,
            policy,
            level=level,
            round_=case.round + 1,
            why=why,
            actor_label=actor_label,
            clock=clock,
        )
    else:
        move_to_level(
            session,
            case,
            policy,
            level=level,
            round_=case.round,
            why=why,
            actor_label=actor_label,
            clock=clock,
        )


# --- SLA --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseSla:
    status: SlaStatus

    @property
    def state(self) -> SlaState:
        return self.status.state

    @property
    def label(self) -> str:
        return self.status.state.label


def sla_events(session: Session, case_id: int) -> list[tuple[str, datetime]]:
    rows = session.execute(
        select(CaseEvent.kind, CaseEvent.at)
        .where(CaseEvent.case_id == case_id, CaseEvent.kind.like("sla.%"))
        .order_by(CaseEvent.at, CaseEvent.id)
    ).all()
    return [(kind.removeprefix("sla."), at) for kind, at in rows]


def sla_status(
    session: Session, case: Case, policy: EscalationPolicy, *, now: datetime
) -> SlaStatus | None:
    events = sla_events(session, case.id)
    if not events:
        return None
    clock = SlaClock(
        policies.calendar_of(policy),
        timedelta(minutes=policy.sla_minutes),
        warn_fraction=SLA_WARN_FRACTION,
    )
    try:
        return clock.status(events, now)
    except ValueError:
        return None
