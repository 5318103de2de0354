"""Cases: escalate a contact, acknowledge, move through states and tiers, the handover card.

Every function works in the caller's transaction and raises before it writes anything when the
input is wrong (unknown contact, case, user or department; a second acknowledgement; a state
move that is not allowed), so nothing is half-written. Row changes are audited by the session;
each also appends a ``CaseEvent`` (the case's history and SLA clock).

Escalating a contact that already has an active case is a Conflict naming ``contact_id`` and
the existing ``case_id`` (the console can open that case instead).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import case as sql_case
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from hikeshi.auth import service as auth_service
from hikeshi.auth.enums import Department
from hikeshi.auth.models import User
from hikeshi.calendar import SlaStatus
from hikeshi.cases import policies, timers
from hikeshi.cases.models import (
    CASE_STATE_LABELS_JA,
    Case,
    CaseEvent,
    CaseState,
    HandoverCard,
    Tier,
)
from hikeshi.cases.schemas import HandoverUpdate
from hikeshi.clock import Clock
from hikeshi.contacts.models import (
    CLASSIFICATION_LABELS_JA,
    Classification,
    Contact,
    ContactStatus,
)
from hikeshi.errors import Conflict, NotFound, ValidationFailed
from hikeshi.notify import service as notify_service

TIER_LABELS_JA: dict[Tier, str] = {
    Tier.operator: "一次対応",
    Tier.supervisor: "二次対応（SV）",
    Tier.specialist: "専門部署",
}
CONFIRM_SENTENCE = "私なりに、これまでの経緯をこのように理解していますが…"

# Allowed moves and what they do to the SLA clock.
TRANSITIONS: dict[CaseState, frozenset[CaseState]] = {
    CaseState.open: frozenset(
        {CaseState.waiting_customer, CaseState.waiting_department, CaseState.resolved}
    ),
    CaseState.waiting_customer: frozenset(
        {CaseState.open, CaseState.waiting_department, CaseState.resolved}
    ),
    CaseState.waiting_department: frozenset(
        {CaseState.open, CaseState.waiting_customer, CaseState.resolved}
    ),
    CaseState.resolved: frozenset({CaseState.closed}),
    CaseState.closed: frozenset(),
}

EMOTION_HINTS: dict[Classification, str] = {
    Classification.complaint: "ご不満・お怒りがあります（何に対してかを確認してください）",
    Classification.unreasonable_demand: "不当要求の可能性があります（要求内容と言動を記録）",
    Classification.harassment: "カスハラの可能性があります（毅然とした対応・録音の継続）",
    Classification.request: "ご要望があります",
    Classification.opinion: "建設的なご意見です",
    Classification.inquiry: "お問い合わせです",
}


# --- reads ------------------------------------------------------------------------------------


def get_case(*, session: Session, org_id: int, case_id: int, for_update: bool = False) -> Case:
    case = session.get(Case, case_id, with_for_update=for_update)
    if case is None or case.org_id != org_id:
        raise NotFound(
            f"case {case_id} not found",
            message_ja="ケースが見つかりません",
            fields={"case_id": case_id},
        )
    return case


def list_cases(
    *, session: Session, org_id: int, state: CaseState | None = None, active_only: bool = False
) -> Sequence[Case]:
    """Unacknowledged first, then by escalation time (oldest first)."""
    stmt = select(Case).where(Case.org_id == org_id)
    if state is not None:
        stmt = stmt.where(Case.state == state)
    elif active_only:
        stmt = stmt.where(Case.state.in_(timers.ACTIVE_STATES))
    unacked_first = sql_case((Case.acknowledged_at.is_(None), 0), else_=1)
    return session.scalars(stmt.order_by(unacked_first, Case.escalated_at, Case.id)).all()


def case_events(*, session: Session, org_id: int, case_id: int) -> Sequence[CaseEvent]:
    get_case(session=session, org_id=org_id, case_id=case_id)
    return session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.at, CaseEvent.id)
    ).all()


def sla_of(*, session: Session, case: Case, clock: Clock) -> SlaStatus | None:
    policy = policies.policy_of_case(session=session, case=case, clock=clock)
    return timers.sla_status(session, case, policy, now=clock.now())


def level_target(*, session: Session, case: Case, clock: Clock) -> str:
    policy = policies.policy_of_case(session=session, case=case, clock=clock)
    return str(timers.level_of(policy, case.level)["target"])


# --- escalation -------------------------------------------------------------------------------


def _prefill(contact: Contact) -> dict[str, str]:
    facts = "\n".join(part for part in (contact.subject.strip(), contact.notes.strip()) if part)
    history_parts = []
    if contact.operator_label:
        history_parts.append(f"一次対応：{contact.operator_label}")
    if contact.transcript.strip():
        history_parts.append(contact.transcript.strip())
    emotion = ""
    if contact.classification is not None:
        label = CLASSIFICATION_LABELS_JA[contact.classification]
        emotion = f"【{label}】{EMOTION_HINTS[contact.classification]}"
    return {"emotion": emotion, "facts": facts, "history": "\n".join(history_parts)}


def escalate_contact(
    *,
    session: Session,
    org_id: int,
    contact_id: int,
    actor_label: str,
    user_id: int | None,
    clock: Clock,
    reason: str = "",
) -> Case:
    """Open a case at the supervisor tier (level 1 of the policy) from a contact.

    The handover card is pre-filled from the contact, the contact becomes ``escalated``, the
    SLA clock starts, the first acknowledgement timer is queued and ``case.escalated`` goes
    to the board after commit. Unknown contact: NotFound(contact_id). Contact with an active
    case: Conflict(contact_id, case_id).
    """
    contact = session.get(Contact, contact_id, with_for_update=True)
    if contact is None or contact.org_id != org_id:
        raise NotFound(
            f"contact {contact_id} not found",
            message_ja="問い合わせが見つかりません",
            fields={"contact_id": contact_id},
        )
    existing = session.scalars(
        select(Case.id)
        .where(Case.contact_id == contact_id, Case.state.in_(timers.ACTIVE_STATES))
        .limit(1)
    ).first()
    if existing is not None:
        raise Conflict(
            f"contact {contact_id} is already escalated (case {existing})",
            message_ja=f"この問い合わせは既にエスカレーション済みです（ケース #{existing}）",
            fields={"contact_id": contact_id, "case_id": existing},
        )
    policy = policies.policy_for(
        session=session, org_id=org_id, incident_id=contact.incident_id, clock=clock
    )
    now = clock.now()
    title = contact.subject.strip() or f"問い合わせ #{contact.id}"
    case = Case(
        org_id=org_id,
        contact_id=contact.id,
        customer_id=contact.customer_id,
        incident_id=contact.incident_id,
        policy_id=policy.id,
        title=title[:300],
        tier=Tier.supervisor,
        department=None,
        state=CaseState.open,
        owner_id=None,
        owner_label="",
        level=1,
        round=1,
        acknowledged_at=None,
        acknowledged_by_label="",
        escalated_at=now,
        escalation_count=1,
        created_at=now,
        updated_at=now,
    )
    session.add(case)
    session.flush()
    session.add(HandoverCard(org_id=org_id, case_id=case.id, updated_at=now, **_prefill(contact)))
    contact.status = ContactStatus.escalated
    contact.updated_at = now
    why = reason.strip() or "一次対応からのエスカレーション"
    timers.add_event(
        session,
        case,
        kind="escalated",
        summary=f"二次対応へエスカレーションしました：{why}",
        actor_label=actor_label,
        clock=clock,
        detail={"contact_id": contact.id, "user_id": user_id, "policy_id": policy.id},
    )
    timers.add_event(
        session, case, kind="sla.start", summary="SLA計測開始", actor_label=actor_label, clock=clock
    )
    timers.on_incident_timeline(
        session,
        case,
        summary=f"ケース #{case.id}「{case.title}」を二次対応へエスカレーション：{why}",
        actor_label=actor_label,
        clock=clock,
    )
    session.flush()
    timers.notify_level(session, case, policy, clock=clock, why=why)
    timers.schedule_ack_timer(session, case, policy, clock=clock)
    session.flush()
    return case


def acknowledge(
    *,
    session: Session,
    org_id: int,
    case_id: int,
    actor_label: str,
    user_id: int | None,
    clock: Clock,
) -> Case:
    """受領: stops the climb. A second acknowledgement is a Conflict (既に受領済みです)."""
    case = get_case(session=session, org_id=org_id, case_id=case_id, for_update=True)
    if case.acknowledged_at is not None:
        raise Conflict(
            f"case {case_id} was already acknowledged by {case.acknowledged_by_label}",
            message_ja=f"既に受領済みです（{case.acknowledged_by_label}）",
            fields={"case_id": case_id},
        )
    if case.state not in timers.ACTIVE_STATES:
        raise Conflict(
            f"case {case_id} is {case.state.value}",
            message_ja="完了したケースは受領できません",
            fields={"case_id": case_id},
        )
    now = clock.now()
    case.acknowledged_at = now
    case.acknowledged_by_label = actor_label
    if case.owner_id is None and not case.owner_label:
        case.owner_id = user_id
        case.owner_label = actor_label
    case.updated_at = now
    timers.add_event(
        session,
        case,
        kind="acknowledged",
        summary=f"{actor_label} が受領しました（{case.level}段目）",
        actor_label=actor_label,
        clock=clock,
        detail={"level": case.level, "round": case.round},
    )
    session.flush()
    timers.publish(session, case, "case.acknowledged", clock, by=actor_label)
    return case


def change_state(
    *,
    session: Session,
    org_id: int,
    case_id: int,
    to: CaseState,
    actor_label: str,
    clock: Clock,
    note: str = "",
) -> Case:
    case = get_case(session=session, org_id=org_id, case_id=case_id, for_update=True)
    before = case.state
    if to not in TRANSITIONS[before]:
        raise Conflict(
            f"case {case_id}: {before.value} → {to.value} is not allowed",
            message_ja=(
                f"「{CASE_STATE_LABELS_JA[before]}」から「{CASE_STATE_LABELS_JA[to]}」には"
                "変更できません"
            ),
            fields={"state": to.value},
        )
    now = clock.now()
    case.state = to
    case.updated_at = now
    summary = f"状態を「{CASE_STATE_LABELS_JA[before]}」→「{CASE_STATE_LABELS_JA[to]}」に変更"
    if note.strip():
        summary += f"：{note.strip()}"
    timers.add_event(
        session,
        case,
        kind="state",
        summary=summary,
        actor_label=actor_label,
        clock=clock,
        detail={"from": before.value, "to": to.value},
    )
    sla_kind: str | None = None
    if to is CaseState.waiting_customer:
        sla_kind = "sla.pause"
    elif before is CaseState.waiting_customer and to in (
        CaseState.open,
        CaseState.waiting_department,
    ):
        sla_kind = "sla.resume"
    elif to is CaseState.resolved:
        sla_kind = "sla.stop"
        case.resolved_at = now
        if note.strip():
            case.resolution = note.strip()
    if sla_kind is not None:
        label = {
            "sla.pause": "SLA一時停止（お客様待ち）",
            "sla.resume": "SLA再開",
            "sla.stop": "SLA停止（解決）",
        }[sla_kind]
        timers.add_event(
            session, case, kind=sla_kind, summary=label, actor_label=actor_label, clock=clock
        )
    session.flush()
    if sla_kind == "sla.resume" and case.acknowledged_at is None:
        # The climb was held while waiting on the customer: arm the level's timer again.
        policy = policies.policy_of_case(session=session, case=case, clock=clock)
        timers.schedule_ack_timer(session, case, policy, clock=clock)
    if to is CaseState.closed:
        contact = session.get(Contact, case.contact_id)
        if contact is not None and contact.status is ContactStatus.escalated:
            contact.status = ContactStatus.closed
            contact.updated_at = now
    timers.publish(
        session, case, "case.state_changed", clock, state=to.value, label=CASE_STATE_LABELS_JA[to]
    )
    return case


def assign_owner(
    *,
    session: Session,
    org_id: int,
    case_id: int,
    owner_id: int | None,
    owner_label: str,
    actor_label: str,
    clock: Clock,
) -> Case:
    case = get_case(session=session, org_id=org_id, case_id=case_id, for_update=True)
    label = owner_label.strip()
    if owner_id is not None:
        user = session.get(User, owner_id)
        if (
            user is None
            or not user.is_active
            or org_id not in auth_service.org_ids_of(session=session, user_id=owner_id)
        ):
            raise NotFound(
                f"user {owner_id} not found in this organisation",
                message_ja="担当者が見つかりません",
                fields={"owner_id": owner_id},
            )
        label = label or user.display_name or user.email
    if owner_id is None and not label:
        raise ValidationFailed(
            "owner_id or owner_label required",
            message_ja="担当者を指定してください",
            fields={"owner_id": "required"},
        )
    before = case.owner_label
    case.owner_id, case.owner_label = owner_id, label[:254]
    case.updated_at = clock.now()
    timers.add_event(
        session,
        case,
        kind="owner",
        summary=f"担当者を {before or '（なし）'} → {label} に変更",
        actor_label=actor_label,
        clock=clock,
        detail={"owner_id": owner_id},
    )
    session.flush()
    return case


def change_tier(
    *,
    session: Session,
    org_id: int,
    case_id: int,
    tier: Tier,
    department: str | None,
    actor_label: str,
    clock: Clock,
    note: str = "",
) -> Case:
    """Move the case between tiers; a specialist tier needs a department. Moving up again
    (a re-escalation) adds to ``escalation_count`` and notifies the department."""
    case = get_case(session=session, org_id=org_id, case_id=case_id, for_update=True)
    if case.state not in timers.ACTIVE_STATES:
        raise Conflict(
            f"case {case_id} is {case.state.value}",
            message_ja="完了したケースは変更できません",
            fields={"case_id": case_id},
        )
    dept: Department | None = None
    if tier is Tier.specialist:
        if not department or department not in {d.value for d in Department}:
            raise ValidationFailed(
                f"department: {department!r} is not a department",
                message_ja="専門部署を選んでください",
                fields={"department": "unknown department"},
            )
        dept = Department(department)
    elif department:
        raise ValidationFailed(
            "department is only for the specialist tier",
            message_ja="部署は専門部署への引き継ぎでのみ指定できます",
            fields={"department": "not_allowed"},
        )
    order = list(Tier)
    up = order.index(tier) > order.index(case.tier) or (
        tier is Tier.specialist and dept is not None and dept.value != case.department
    )
    before = (case.tier, case.department)
    case.tier = tier
    case.department = dept.value if dept else None
    now = clock.now()
    case.updated_at = now
    if up:
        case.escalation_count += 1
    where = dept.value if dept else TIER_LABELS_JA[tier]
    summary = f"{TIER_LABELS_JA[before[0]]}{'（' + before[1] + '）' if before[1] else ''} → {where}"
    if note.strip():
        summary += f"：{note.strip()}"
    timers.add_event(
        session,
        case,
        kind="tier",
        summary=summary,
        actor_label=actor_label,
        clock=clock,
        detail={"tier": tier.value, "department": case.department, "re_escalation": up},
    )
    if up:
        timers.on_incident_timeline(
            session,
            case,
            summary=f"ケース #{case.id}：{summary}",
            actor_label=actor_label,
            clock=clock,
        )
    session.flush()
    if dept is not None and up:
        notify_service.queue_deliveries(
            session=session,
            org_id=org_id,
            incident_id=case.incident_id,
            department=dept,
            trigger=f"case:{case.id}:tier:{case.escalation_count}",
            subject=f"【専門部署対応】{case.title}",
            body=f"ケース #{case.id}「{case.title}」の対応をお願いします。\n{note.strip()}",
            is_drill=False,
            clock=clock,
        )
    timers.publish(
        session, case, "case.escalated" if up else "case.tier_changed", clock, target_label=where
    )
    return case


# --- handover ---------------------------------------------------------------------------------


def get_handover(*, session: Session, org_id: int, case_id: int) -> HandoverCard:
    """The case's card; a case made without one (e.g. imported) shows a blank, unsaved card."""
    case = get_case(session=session, org_id=org_id, case_id=case_id)
    card = session.scalars(select(HandoverCard).where(HandoverCard.case_id == case.id)).first()
    if card is None:
        card = HandoverCard(
            org_id=case.org_id,
            case_id=case.id,
            emotion="",
            facts="",
            history="",
            demands="",
            promises="",
            confirmed_at=None,
            confirmed_by_label="",
            confirmation_note="",
            updated_at=case.updated_at,
        )
    return card


def _card_for_write(session: Session, org_id: int, case_id: int) -> HandoverCard:
    card = get_handover(session=session, org_id=org_id, case_id=case_id)
    if inspect(card).transient:
        session.add(card)
        session.flush()
    return card


def update_handover(
    *,
    session: Session,
    org_id: int,
    case_id: int,
    data: HandoverUpdate,
    actor_label: str,
    clock: Clock,
) -> HandoverCard:
    """Edit the card; an edit after confirmation needs a new confirmation with the customer."""
    card = _card_for_write(session, org_id, case_id)
    changes = {k: v for k, v in data.model_dump(exclude_unset=True).items() if v is not None}
    changed = [k for k, v in changes.items() if getattr(card, k) != v]
    if not changed:
        return card
    for key in changed:
        setattr(card, key, changes[key])
    card.updated_at = clock.now()
    was_confirmed = card.confirmed_at is not None
    if was_confirmed:
        card.confirmed_at = None
        card.confirmed_by_label = ""
        card.confirmation_note = ""
    case = get_case(session=session, org_id=org_id, case_id=case_id)
    timers.add_event(
        session,
        case,
        kind="handover.updated",
        summary="引き継ぎカードを更新しました" + ("（再確認が必要です）" if was_confirmed else ""),
        actor_label=actor_label,
        clock=clock,
        detail={"fields": changed},
    )
    session.flush()
    return card


def confirm_handover(
    *,
    session: Session,
    org_id: int,
    case_id: int,
    actor_label: str,
    clock: Clock,
    note: str = "",
) -> HandoverCard:
    """「私なりに、これまでの経緯をこのように理解していますが…」 confirmed with the customer."""
    card = _card_for_write(session, org_id, case_id)
    now = clock.now()
    card.confirmed_at = now
    card.confirmed_by_label = actor_label
    card.confirmation_note = note.strip()
    case = get_case(session=session, org_id=org_id, case_id=case_id)
    timers.add_event(
        session,
        case,
        kind="handover.confirmed",
        summary="引き継ぎ内容をお客様に確認しました"
        + (f"：{note.strip()}" if note.strip() else ""),
        actor_label=actor_label,
        clock=clock,
    )
    session.flush()
    return card
