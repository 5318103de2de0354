"""部署照会: a supervisor asks a department whether an exception is possible, by a due date; the
department answers in Hikeshi; the answer is explained to the customer; if the customer is not
satisfied, the next round begins. Every round is kept (``round`` 1, 2, …).

A round is asked only when the case has no round yet, or the last one was answered, explained
and left the customer unsatisfied. Asking puts the case in 部署照会中 (``waiting_department``);
the answer puts it back to 対応中 (``open``). Each step adds a case event
(``inquiry.asked`` / ``inquiry.answered`` / ``inquiry.explained``); the department is told by
the notification roster (a job per contact, sent after commit). A job at the due date
(``inquiry.overdue``) reminds the department and marks the case history if no answer came.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hikeshi.auth.enums import Department, Role
from hikeshi.cases.models import Case, CaseEvent, CaseState, DepartmentInquiry
from hikeshi.clock import Clock, format_jst
from hikeshi.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from hikeshi.events.service import publish_after_commit
from hikeshi.incidents.models import Incident
from hikeshi.jobs.queue import enqueue
from hikeshi.notify import service as notify_service

EVENT_ASKED = "inquiry.asked"
EVENT_ANSWERED = "inquiry.answered"
EVENT_EXPLAINED = "inquiry.explained"
EVENT_OVERDUE = "inquiry.overdue"
JOB_OVERDUE = "inquiry.overdue"  # handler in hikeshi.cases.inquiry_jobs
MAX_DUE = timedelta(days=90)  # a due date further away is a typo, not a deadline
TEXT_LIMIT = 8000


def get_case(*, session: Session, org_id: int, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None or case.org_id != org_id:
        raise NotFound(
            f"case {case_id} not found",
            message_ja="エスカレーション案件が見つかりません",
            fields={"case_id": case_id},
        )
    return case


def get_inquiry(*, session: Session, org_id: int, inquiry_id: int) -> DepartmentInquiry:
    item = session.get(DepartmentInquiry, inquiry_id)
    if item is None or item.org_id != org_id:
        raise NotFound(
            f"inquiry {inquiry_id} not found",
            message_ja="部署照会が見つかりません",
            fields={"inquiry_id": inquiry_id},
        )
    return item


def list_rounds(*, session: Session, org_id: int, case_id: int) -> Sequence[DepartmentInquiry]:
    get_case(session=session, org_id=org_id, case_id=case_id)
    return session.scalars(
        select(DepartmentInquiry)
        .where(DepartmentInquiry.org_id == org_id, DepartmentInquiry.case_id == case_id)
        .order_by(DepartmentInquiry.round)
    ).all()


def inbox(
    *, session: Session, org_id: int, department: str | None = None
) -> Sequence[DepartmentInquiry]:
    """Unanswered inquiries, the earliest due date first; one department's or all."""
    query = select(DepartmentInquiry).where(
        DepartmentInquiry.org_id == org_id, DepartmentInquiry.answered_at.is_(None)
    )
    if department is not None:
        query = query.where(DepartmentInquiry.department == department)
    return session.scalars(query.order_by(DepartmentInquiry.due_at, DepartmentInquiry.id)).all()


def parse_department(value: str) -> Department:
    """Accepts the Japanese name (法務) or the code (legal)."""
    text = (value or "").strip()
    for dept in Department:
        if text in (dept.value, dept.name):
            return dept
    raise ValidationFailed(
        f"unknown department {value!r}",
        message_ja="部署が正しくありません（"
        + "・".join(d.value for d in Department)
        + " のいずれか）",
        fields={"department": value},
    )


def _text(value: str, field: str, label: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationFailed(
            f"{field} is required",
            message_ja=f"{label}を入力してください",
            fields={field: "required"},
        )
    if len(text) > TEXT_LIMIT:
        raise ValidationFailed(
            f"{field} is too long",
            message_ja=f"{label}は{TEXT_LIMIT}文字以内で入力してください",
            fields={field: "too_long"},
        )
    return text


def _event(
    session: Session,
    item: DepartmentInquiry,
    kind: str,
    summary: str,
    actor_label: str,
    clock: Clock,
    extra: dict[str, object] | None = None,
) -> None:
    session.add(
        CaseEvent(
            org_id=item.org_id,
            case_id=item.case_id,
            at=clock.now(),
            kind=kind,
            summary=summary,
            actor_label=actor_label,
            detail={
                "inquiry_id": item.id,
                "round": item.round,
                "department": item.department,
                **(extra or {}),
            },
        )
    )
    publish_after_commit(
        session,
        org_id=item.org_id,
        type=kind,
        data={
            "inquiry_id": item.id,
            "case_id": item.case_id,
            "round": item.round,
            "department": item.department,
        },
    )


def ask(
    *,
    session: Session,
    org_id: int,
    case_id: int,
    department: str,
    question: str,
    due_at: datetime,
    actor_label: str,
    clock: Clock,
) -> DepartmentInquiry:
    """Ask the next round. Every check runs before the first write."""
    case = get_case(session=session, org_id=org_id, case_id=case_id)
    dept = parse_department(department)
    text = _text(question, "question", "照会内容")
    now = clock.now()
    if due_at.tzinfo is None:
        raise ValidationFailed(
            "due_at needs a timezone",
            message_ja="回答期限にはタイムゾーンが必要です",
            fields={"due_at": "naive"},
        )
    if due_at <= now:
        raise ValidationFailed(
            "due_at is in the past",
            message_ja="回答期限が過去の日時です",
            fields={"due_at": due_at.isoformat()},
        )
    if due_at > now + MAX_DUE:
        raise ValidationFailed(
            "due_at is too far away",
            message_ja=f"回答期限は{MAX_DUE.days}日以内にしてください",
            fields={"due_at": due_at.isoformat()},
        )
    if case.state in (CaseState.resolved, CaseState.closed):
        raise Conflict(
            f"case is {case.state.value}",
            message_ja="解決・完了した案件には部署照会できません",
        )
    last = session.scalar(
        select(DepartmentInquiry)
        .where(DepartmentInquiry.case_id == case.id)
        .order_by(DepartmentInquiry.round.desc())
        .limit(1)
    )
    if last is not None:
        if last.answered_at is None:
            raise Conflict(
                "previous round is not answered",
                message_ja=f"第{last.round}回の照会への回答を待っています",
            )
        if last.explained_at is None:
            raise Conflict(
                "previous round is not explained to the customer",
                message_ja=f"第{last.round}回の回答をお客様に説明した結果を先に記録してください",
            )
        if last.customer_satisfied:
            raise Conflict(
                "the customer accepted the previous answer",
                message_ja="お客様は前回の回答にご納得されています",
            )
    item = DepartmentInquiry(
        org_id=org_id,
        case_id=case.id,
        round=(last.round + 1) if last is not None else 1,
        department=dept.value,
        question=text,
        due_at=due_at,
        asked_by_label=actor_label,
        asked_at=now,
    )
    session.add(item)
    session.flush()
    previous_state = case.state
    case.state = CaseState.waiting_department
    case.updated_at = now
    _event(
        session,
        item,
        EVENT_ASKED,
        f"{dept.value}へ部署照会（第{item.round}回、回答期限 {format_jst(due_at)}）",
        actor_label,
        clock,
        {"due_at": due_at.isoformat(), "previous_state": previous_state.value},
    )
    enqueue(
        session=session,
        name=JOB_OVERDUE,
        payload={"inquiry_id": item.id},
        run_at=due_at,
        key=f"{JOB_OVERDUE}:{item.id}",
        org_id=org_id,
        clock=clock,
    )
    _notify(session, case, item, actor_label, clock, overdue=False)
    return item


def _is_drill(session: Session, case: Case) -> bool:
    if case.incident_id is None:
        return False
    incident = session.get(Incident, case.incident_id)
    return bool(incident and incident.is_drill)


def _notify(
    session: Session,
    case: Case,
    item: DepartmentInquiry,
    actor_label: str,
    clock: Clock,
    *,
    overdue: bool,
) -> None:
    if overdue:
        subject = f"【期限超過】部署照会（第{item.round}回）: {case.title}"
        lead = "回答期限を過ぎた部署照会があります。至急回答してください。"
        trigger = EVENT_OVERDUE
    else:
        subject = f"部署照会（第{item.round}回）: {case.title}"
        lead = f"{actor_label} から部署照会が届きました。"
        trigger = EVENT_ASKED
    notify_service.queue_deliveries(
        session=session,
        org_id=case.org_id,
        incident_id=case.incident_id,
        department=item.department,
        trigger=trigger,
        subject=subject,
        body=(
            f"{item.department} 御中\n\n{lead}\n"
            f"回答期限: {format_jst(item.due_at)}\n\n{item.question}\n\n"
            "Hikeshi の「部署照会」から回答してください。"
        ),
        is_drill=_is_drill(session, case),
        clock=clock,
    )


def handle_overdue(*, session: Session, inquiry_id: int, clock: Clock) -> bool:
    """The due date passed: if still unanswered, remind the department and note it on the
    case. Re-reads the row, so a late or repeated run after the answer does nothing."""
    item = session.get(DepartmentInquiry, inquiry_id)
    if item is None or item.answered_at is not None or clock.now() < item.due_at:
        return False
    case = session.get(Case, item.case_id)
    if case is None:
        return False
    noted = session.scalars(
        select(CaseEvent.detail).where(
            CaseEvent.case_id == case.id, CaseEvent.kind == EVENT_OVERDUE
        )
    ).all()
    if any((d or {}).get("inquiry_id") == item.id for d in noted):
        return False  # a repeated run
    _event(
        session,
        item,
        EVENT_OVERDUE,
        f"{item.department}への第{item.round}回の照会が回答期限を過ぎました",
        "system:inquiry-overdue",
        clock,
    )
    _notify(session, case, item, "system", clock, overdue=True)
    return True


def answer(
    *,
    session: Session,
    org_id: int,
    inquiry_id: int,
    answer_text: str,
    role: Role,
    department: Department | None,
    actor_label: str,
    clock: Clock,
) -> DepartmentInquiry:
    """The department's answer: only a specialist of the asked department may give it."""
    item = get_inquiry(session=session, org_id=org_id, inquiry_id=inquiry_id)
    if role is not Role.specialist or department is None or department.value != item.department:
        raise PermissionDenied(
            f"only {item.department} may answer this inquiry",
            message_ja=f"この照会に回答できるのは{item.department}の担当者だけです",
        )
    text = _text(answer_text, "answer", "回答")
    if item.answered_at is not None:
        raise Conflict("already answered", message_ja="この照会には既に回答済みです")
    now = clock.now()
    item.answer = text
    item.answered_by_label = actor_label
    item.answered_at = now
    case = get_case(session=session, org_id=org_id, case_id=item.case_id)
    if case.state is CaseState.waiting_department:
        case.state = CaseState.open
    case.updated_at = now
    session.flush()
    _event(
        session,
        item,
        EVENT_ANSWERED,
        f"{item.department}が第{item.round}回の照会に回答"
        + ("（期限超過）" if now > item.due_at else ""),
        actor_label,
        clock,
        {"late": now > item.due_at},
    )
    return item


def record_explanation(
    *,
    session: Session,
    org_id: int,
    inquiry_id: int,
    satisfied: bool,
    customer_response: str,
    actor_label: str,
    clock: Clock,
) -> DepartmentInquiry:
    """What the customer said when the answer was explained; unsatisfied opens the next round."""
    item = get_inquiry(session=session, org_id=org_id, inquiry_id=inquiry_id)
    response = (customer_response or "").strip()
    if len(response) > TEXT_LIMIT:
        raise ValidationFailed(
            "customer_response is too long",
            message_ja=f"お客様の反応は{TEXT_LIMIT}文字以内で入力してください",
            fields={"customer_response": "too_long"},
        )
    if item.answered_at is None:
        raise Conflict("not answered yet", message_ja="まだ部署から回答がありません")
    if item.explained_at is not None:
        raise Conflict("already explained", message_ja="この回答の説明結果は記録済みです")
    now = clock.now()
    item.explained_at = now
    item.customer_satisfied = satisfied
    item.customer_response = response
    case = get_case(session=session, org_id=org_id, case_id=item.case_id)
    case.updated_at = now
    session.flush()
    _event(
        session,
        item,
        EVENT_EXPLAINED,
        f"第{item.round}回の回答をお客様に説明: "
        + ("ご納得いただけた" if satisfied else "ご納得いただけず（再照会が可能）"),
        actor_label,
        clock,
        {"satisfied": satisfied},
    )
    return item


def can_ask_next(rounds: Sequence[DepartmentInquiry]) -> bool:
    if not rounds:
        return True
    last = rounds[-1]
    return last.explained_at is not None and last.customer_satisfied is False
