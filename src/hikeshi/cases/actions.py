"""Next actions (ネクストアクション): promises with deadlines that the system makes sure are kept.

A deadline is explicit (``due_at``) or a promise in the customer's words, computed in
Asia/Tokyo on the case's policy calendar (the organisation's default policy otherwise):

* 「本日中」 → ``end_of_business_day`` (the close of today, or of the next business day when
  today is closed or already past closing)
* 「翌営業日まで」 → ``next_business_day_end``
* 「N時間以内」 → N hours of business time

A reminder job runs ``remind_minutes`` before the deadline (board event ``action.reminder``);
the overdue job at the deadline raises ``action.overdue`` on the board and, for a case,
escalates it one level. Both are keyed per action and check the action's state, so a run
twice has no second effect.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hikeshi.calendar import BusinessCalendar, to_jst
from hikeshi.cases import policies, timers
from hikeshi.cases.models import Case, NextAction, NextActionStatus
from hikeshi.cases.schemas import NextActionCreate
from hikeshi.clock import Clock, format_jst
from hikeshi.contacts.models import Contact
from hikeshi.errors import Conflict, NotFound, ValidationFailed
from hikeshi.events.service import publish_after_commit
from hikeshi.jobs.queue import enqueue

JOB_REMINDER = "action.reminder"
JOB_OVERDUE = "action.overdue"
TODAY = "本日中"
NEXT_BUSINESS_DAY = "翌営業日まで"
_HOURS = re.compile(r"^(\d{1,3})時間以内$")
PROMISE_EXAMPLES = (TODAY, NEXT_BUSINESS_DAY, "2時間以内")


def due_for_promise(promise: str, *, calendar: BusinessCalendar, now: datetime) -> datetime:
    """The deadline (JST) of a spoken promise; ValidationFailed naming ``promise`` otherwise."""
    text = unicodedata.normalize("NFKC", promise).strip()
    text = text.removesuffix("に折り返します").removesuffix("にご連絡します")
    if text in (TODAY, "今日中"):
        return calendar.end_of_business_day(now)
    if text in (NEXT_BUSINESS_DAY, "翌営業日中", "翌営業日"):
        return calendar.next_business_day_end(now)
    match = _HOURS.match(text)
    if match and 1 <= int(match.group(1)) <= 240:
        return calendar.add_business_time(now, timedelta(hours=int(match.group(1))))
    raise ValidationFailed(
        f"promise: {promise!r} is not understood (use {', '.join(PROMISE_EXAMPLES)})",
        message_ja="期限の言い方が不明です（本日中・翌営業日まで・N時間以内）",
        fields={"promise": "unknown promise"},
    )


def _calendar_for(
    session: Session, org_id: int, case: Case | None, clock: Clock
) -> BusinessCalendar:
    if case is not None:
        policy = policies.policy_of_case(session=session, case=case, clock=clock)
    else:
        policy = policies.default_policy(session=session, org_id=org_id, clock=clock)
    return policies.calendar_of(policy)


def get_action(
    *, session: Session, org_id: int, action_id: int, for_update: bool = False
) -> NextAction:
    action = session.get(NextAction, action_id, with_for_update=for_update)
    if action is None or action.org_id != org_id:
        raise NotFound(
            f"next action {action_id} not found",
            message_ja="ネクストアクションが見つかりません",
            fields={"action_id": action_id},
        )
    return action


def list_actions(
    *,
    session: Session,
    org_id: int,
    case_id: int | None = None,
    status: NextActionStatus | None = NextActionStatus.open,
) -> Sequence[NextAction]:
    """By deadline, soonest (and overdue) first."""
    stmt = select(NextAction).where(NextAction.org_id == org_id)
    if case_id is not None:
        stmt = stmt.where(NextAction.case_id == case_id)
    if status is not None:
        stmt = stmt.where(NextAction.status == status)
    return session.scalars(stmt.order_by(NextAction.due_at, NextAction.id)).all()


def is_overdue(action: NextAction, now: datetime) -> bool:
    return action.status is NextActionStatus.open and action.due_at <= now


def create_action(
    *,
    session: Session,
    org_id: int,
    data: NextActionCreate,
    actor_label: str,
    user_id: int | None,
    clock: Clock,
) -> NextAction:
    """A promise with a deadline; nothing is written when a field is wrong."""
    now = clock.now()
    case: Case | None = None
    contact_id = data.contact_id
    if data.case_id is not None:
        case = session.get(Case, data.case_id)
        if case is None or case.org_id != org_id:
            raise NotFound(
                f"case {data.case_id} not found",
                message_ja="ケースが見つかりません",
                fields={"case_id": data.case_id},
            )
        if case.state not in timers.ACTIVE_STATES:
            raise Conflict(
                f"case {case.id} is {case.state.value}",
                message_ja="解決・完了したケースにはネクストアクションを登録できません",
                fields={"case_id": case.id},
            )
        if contact_id is None:
            contact_id = case.contact_id
    if contact_id is not None:
        contact = session.get(Contact, contact_id)
        if contact is None or contact.org_id != org_id:
            raise NotFound(
                f"contact {contact_id} not found",
                message_ja="問い合わせが見つかりません",
                fields={"contact_id": contact_id},
            )
        if case is not None and case.contact_id != contact_id:
            raise ValidationFailed(
                f"contact {contact_id} is not the contact of case {case.id}",
                message_ja="ケースと問い合わせが一致しません",
                fields={"contact_id": "does not match case"},
            )
    if case is None and contact_id is None:
        raise ValidationFailed(
            "case_id or contact_id required",
            message_ja="ケースまたは問い合わせを指定してください",
            fields={"case_id": "required"},
        )
    if data.due_at is not None and data.promise:
        raise ValidationFailed(
            "give due_at or promise, not both",
            message_ja="期限は日時か言い方のどちらかで指定してください",
            fields={"due_at": "both given"},
        )
    if data.due_at is not None:
        if data.due_at.tzinfo is None:
            raise ValidationFailed(
                "due_at: a timezone is required (e.g. +09:00)",
                message_ja="期限にはタイムゾーンが必要です",
                fields={"due_at": "naive datetime"},
            )
        due = data.due_at
        promised_as = ""
    elif data.promise:
        calendar = _calendar_for(session, org_id, case, clock)
        due = due_for_promise(data.promise, calendar=calendar, now=now)
        promised_as = unicodedata.normalize("NFKC", data.promise).strip()[:100]
    else:
        raise ValidationFailed(
            "due_at or promise required",
            message_ja="期限を指定してください",
            fields={"due_at": "required"},
        )
    if due <= now:
        raise ValidationFailed(
            f"due_at: impossible deadline {due.isoformat()} is not after now",
            message_ja="期限が過去の日時です",
            fields={"due_at": "impossible deadline"},
        )
    remind_at: datetime | None = due - timedelta(minutes=data.remind_minutes)
    if data.remind_minutes == 0 or remind_at is None or remind_at <= now:
        remind_at = None
    action = NextAction(
        org_id=org_id,
        case_id=case.id if case else None,
        contact_id=contact_id,
        description=data.description.strip(),
        promised_as=promised_as,
        due_at=due,
        remind_at=remind_at,
        status=NextActionStatus.open,
        owner_id=user_id,
        owner_label=(data.owner_label.strip() or actor_label)[:254],
        created_at=now,
    )
    session.add(action)
    session.flush()
    if case is not None:
        timers.add_event(
            session,
            case,
            kind="action.created",
            summary=f"ネクストアクション：{action.description}（期限 {format_jst(due)}"
            + (f"・{promised_as}" if promised_as else "")
            + "）",
            actor_label=actor_label,
            clock=clock,
            detail={"action_id": action.id},
        )
    if remind_at is not None:
        enqueue(
            session=session,
            name=JOB_REMINDER,
            payload={"action_id": action.id},
            run_at=remind_at,
            key=f"{JOB_REMINDER}:{action.id}",
            org_id=org_id,
            clock=clock,
        )
    enqueue(
        session=session,
        name=JOB_OVERDUE,
        payload={"action_id": action.id},
        run_at=due,
        key=f"{JOB_OVERDUE}:{action.id}",
        org_id=org_id,
        clock=clock,
    )
    session.flush()
    return action


def _finish(
    session: Session,
    org_id: int,
    action_id: int,
    status: NextActionStatus,
    actor_label: str,
    clock: Clock,
) -> NextAction:
    action = get_action(session=session, org_id=org_id, action_id=action_id, for_update=True)
    if action.status is not NextActionStatus.open:
        raise Conflict(
            f"next action {action_id} is already {action.status.value}",
            message_ja="このネクストアクションは既に完了または取消済みです",
            fields={"action_id": action_id},
        )
    action.status = status
    action.done_at = clock.now()
    if action.case_id is not None:
        case = session.get(Case, action.case_id)
        if case is not None:
            word = "完了" if status is NextActionStatus.done else "取消"
            late = "（期限超過後）" if action.due_at <= clock.now() else ""
            timers.add_event(
                session,
                case,
                kind=f"action.{status.value}",
                summary=f"ネクストアクション{word}{late}：{action.description}",
                actor_label=actor_label,
                clock=clock,
                detail={"action_id": action.id},
            )
    session.flush()
    return action


def complete_action(
    *, session: Session, org_id: int, action_id: int, actor_label: str, clock: Clock
) -> NextAction:
    return _finish(session, org_id, action_id, NextActionStatus.done, actor_label, clock)


def cancel_action(
    *, session: Session, org_id: int, action_id: int, actor_label: str, clock: Clock
) -> NextAction:
    return _finish(session, org_id, action_id, NextActionStatus.cancelled, actor_label, clock)


def _board(session: Session, action: NextAction, type_: str, clock: Clock) -> None:
    publish_after_commit(
        session,
        org_id=action.org_id,
        type=type_,
        data={
            "action_id": action.id,
            "case_id": action.case_id,
            "description": action.description,
            "due_at_jst": format_jst(action.due_at),
            "owner": action.owner_label,
            "at_jst": format_jst(clock.now()),
        },
    )


def handle_reminder(*, session: Session, action_id: int, clock: Clock) -> str:
    action = session.get(NextAction, action_id, with_for_update=True)
    if action is None or action.status is not NextActionStatus.open:
        return "closed"
    _board(session, action, "action.reminder", clock)
    return "reminded"


def handle_overdue(*, session: Session, action_id: int, clock: Clock) -> str:
    """At the deadline: alert, record, escalate the case one level. Once per action."""
    action = session.get(NextAction, action_id, with_for_update=True)
    if action is None or action.status is not NextActionStatus.open:
        return "closed"
    if action.overdue_alerted_at is not None:
        return "already"
    now = clock.now()
    if action.due_at > now:
        return "early"  # pragma: no cover - the job runs at due_at
    action.overdue_alerted_at = now
    _board(session, action, "action.overdue", clock)
    if action.case_id is not None:
        case = session.get(Case, action.case_id, with_for_update=True)
        if case is not None and case.state in timers.ACTIVE_STATES:
            timers.add_event(
                session,
                case,
                kind="action.overdue",
                summary=f"約束の期限（{format_jst(action.due_at)}）を過ぎました：{action.description}",
                actor_label=timers.SYSTEM_LABEL,
                clock=clock,
                detail={"action_id": action.id},
            )
            timers.escalate_one_level(
                session,
                case,
                why=f"約束の期限超過（{to_jst(action.due_at):%m/%d %H:%M}）",
                actor_label=timers.SYSTEM_LABEL,
                clock=clock,
            )
    session.flush()
    return "overdue"
