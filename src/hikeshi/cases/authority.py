"""権限: the authority matrix and the decisions checked against it.

Per organisation, role and kind (返金 refund / 補償 compensation / 交換 exchange) a rule says how
many yen a person of that role may grant alone. Without a rule the default below applies:

============  ========  ==========  ==========
role          返金      補償        交換
============  ========  ==========  ==========
operator             0           0      30,000
supervisor      30,000      10,000     100,000
specialist      30,000      10,000     100,000
manager        300,000     100,000   1,000,000
admin                0           0           0
============  ========  ==========  ==========

A system administrator manages the system, not money: by default they may neither grant nor
approve (an organisation that wants otherwise adds a rule). ``0`` means "may not grant alone".

A decision within the requester's limit is ``recorded`` at once. Above it, it waits
(``pending_approval``) until someone whose own limit covers the amount approves it — in
practice the next role up (operator → supervisor → manager). Self-approval is refused. A
decision over authority can only become ``recorded`` through :func:`approve_decision`, which
writes the approver on the row; every change is in the audit chain and on the case history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from hikeshi.auth.enums import Role
from hikeshi.cases.models import (
    AuthorityRule,
    Case,
    CaseEvent,
    CaseState,
    Decision,
    DecisionKind,
    DecisionStatus,
)
from hikeshi.clock import Clock
from hikeshi.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from hikeshi.events.service import publish_after_commit

MAX_AMOUNT_YEN = 100_000_000  # above this an amount is a typo, not a decision

KIND_LABELS_JA: dict[DecisionKind, str] = {
    DecisionKind.refund: "返金",
    DecisionKind.compensation: "補償",
    DecisionKind.exchange: "交換",
}
STATUS_LABELS_JA: dict[DecisionStatus, str] = {
    DecisionStatus.pending_approval: "承認待ち",
    DecisionStatus.recorded: "決定済み",
    DecisionStatus.rejected: "却下",
}

DEFAULT_LIMITS: dict[Role, dict[DecisionKind, int]] = {
    Role.operator: {
        DecisionKind.refund: 0,
        DecisionKind.compensation: 0,
        DecisionKind.exchange: 30_000,
    },
    Role.supervisor: {
        DecisionKind.refund: 30_000,
        DecisionKind.compensation: 10_000,
        DecisionKind.exchange: 100_000,
    },
    Role.specialist: {
        DecisionKind.refund: 30_000,
        DecisionKind.compensation: 10_000,
        DecisionKind.exchange: 100_000,
    },
    Role.manager: {
        DecisionKind.refund: 300_000,
        DecisionKind.compensation: 100_000,
        DecisionKind.exchange: 1_000_000,
    },
    Role.admin: {
        DecisionKind.refund: 0,
        DecisionKind.compensation: 0,
        DecisionKind.exchange: 0,
    },
}
# Who is asked next when a request is above the requester's limit.
NEXT_ROLE: dict[Role, Role] = {
    Role.operator: Role.supervisor,
    Role.specialist: Role.manager,
    Role.supervisor: Role.manager,
    Role.manager: Role.manager,
    Role.admin: Role.manager,
}


def yen(amount: int) -> str:
    return f"{amount:,}円"


# --- validation -------------------------------------------------------------------------------


def parse_role(value: str, field: str = "role") -> Role:
    try:
        return Role(value)
    except ValueError:
        raise ValidationFailed(
            f"unknown role {value!r}",
            message_ja="役割が正しくありません",
            fields={field: value},
        ) from None


def parse_kind(value: str | DecisionKind) -> DecisionKind:
    try:
        return DecisionKind(value)
    except ValueError:
        raise ValidationFailed(
            f"unknown decision kind {value!r}",
            message_ja="種類は 返金・補償・交換 のいずれかです",
            fields={"kind": value},
        ) from None


def check_amount(amount: int, field: str = "amount_yen", *, allow_zero: bool = False) -> int:
    low = 0 if allow_zero else 1
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < low:
        raise ValidationFailed(
            f"{field} must be an integer of at least {low}",
            message_ja=f"金額は{low}円以上の整数で入力してください",
            fields={field: amount},
        )
    if amount > MAX_AMOUNT_YEN:
        raise ValidationFailed(
            f"{field} above {MAX_AMOUNT_YEN}",
            message_ja=f"金額が大きすぎます（上限 {yen(MAX_AMOUNT_YEN)}）",
            fields={field: amount},
        )
    return amount


# --- the matrix -------------------------------------------------------------------------------


def limit_for(*, session: Session, org_id: int, role: Role, kind: DecisionKind) -> int:
    rule = session.scalar(
        select(AuthorityRule).where(
            AuthorityRule.org_id == org_id,
            AuthorityRule.role == role.value,
            AuthorityRule.kind == kind,
        )
    )
    return rule.max_amount_yen if rule is not None else DEFAULT_LIMITS[role][kind]


@dataclass(frozen=True)
class MatrixCell:
    role: Role
    kind: DecisionKind
    max_amount_yen: int
    rule_id: int | None  # None: the built-in default


def matrix(*, session: Session, org_id: int) -> list[MatrixCell]:
    rules = {
        (r.role, r.kind): r
        for r in session.scalars(select(AuthorityRule).where(AuthorityRule.org_id == org_id))
    }
    cells = []
    for role in Role:
        for kind in DecisionKind:
            rule = rules.get((role.value, kind))
            cells.append(
                MatrixCell(
                    role=role,
                    kind=kind,
                    max_amount_yen=rule.max_amount_yen if rule else DEFAULT_LIMITS[role][kind],
                    rule_id=rule.id if rule else None,
                )
            )
    return cells


def list_rules(*, session: Session, org_id: int) -> Sequence[AuthorityRule]:
    return session.scalars(
        select(AuthorityRule)
        .where(AuthorityRule.org_id == org_id)
        .order_by(AuthorityRule.role, AuthorityRule.kind)
    ).all()


def get_rule(*, session: Session, org_id: int, rule_id: int) -> AuthorityRule:
    rule = session.get(AuthorityRule, rule_id)
    if rule is None or rule.org_id != org_id:
        raise NotFound(
            f"authority rule {rule_id} not found",
            message_ja="権限の設定が見つかりません",
            fields={"rule_id": rule_id},
        )
    return rule


def set_rule(
    *, session: Session, org_id: int, role: str, kind: str, max_amount_yen: int
) -> AuthorityRule:
    """Create or change the rule of (role, kind); the audit chain keeps the old value."""
    checked_role = parse_role(role)
    checked_kind = parse_kind(kind)
    check_amount(max_amount_yen, "max_amount_yen", allow_zero=True)
    rule = session.scalar(
        select(AuthorityRule).where(
            AuthorityRule.org_id == org_id,
            AuthorityRule.role == checked_role.value,
            AuthorityRule.kind == checked_kind,
        )
    )
    if rule is None:
        rule = AuthorityRule(
            org_id=org_id,
            role=checked_role.value,
            kind=checked_kind,
            max_amount_yen=max_amount_yen,
        )
        session.add(rule)
    else:
        rule.max_amount_yen = max_amount_yen
    session.flush()
    return rule


def update_rule(
    *, session: Session, org_id: int, rule_id: int, max_amount_yen: int
) -> AuthorityRule:
    rule = get_rule(session=session, org_id=org_id, rule_id=rule_id)
    check_amount(max_amount_yen, "max_amount_yen", allow_zero=True)
    rule.max_amount_yen = max_amount_yen
    session.flush()
    return rule


def delete_rule(*, session: Session, org_id: int, rule_id: int) -> None:
    """Back to the built-in default for that role and kind."""
    rule = get_rule(session=session, org_id=org_id, rule_id=rule_id)
    session.delete(rule)
    session.flush()


# --- decisions --------------------------------------------------------------------------------


def _case(session: Session, org_id: int, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None or case.org_id != org_id:
        raise NotFound(
            f"case {case_id} not found",
            message_ja="エスカレーション案件が見つかりません",
            fields={"case_id": case_id},
        )
    return case


def get_decision(*, session: Session, org_id: int, decision_id: int) -> Decision:
    decision = session.get(Decision, decision_id)
    if decision is None or decision.org_id != org_id:
        raise NotFound(
            f"decision {decision_id} not found",
            message_ja="判断が見つかりません",
            fields={"decision_id": decision_id},
        )
    return decision


def list_decisions(
    *,
    session: Session,
    org_id: int,
    case_id: int | None = None,
    status: DecisionStatus | None = None,
) -> Sequence[Decision]:
    query = select(Decision).where(Decision.org_id == org_id)
    if case_id is not None:
        _case(session, org_id, case_id)
        query = query.where(Decision.case_id == case_id)
    if status is not None:
        query = query.where(Decision.status == status)
    return session.scalars(query.order_by(Decision.requested_at, Decision.id)).all()


def _event(
    session: Session,
    decision: Decision,
    kind: str,
    summary: str,
    actor_label: str,
    clock: Clock,
    extra: dict[str, object] | None = None,
) -> None:
    session.add(
        CaseEvent(
            org_id=decision.org_id,
            case_id=decision.case_id,
            at=clock.now(),
            kind=kind,
            summary=summary,
            actor_label=actor_label,
            detail={
                "decision_id": decision.id,
                "kind": decision.kind.value,
                "amount_yen": decision.amount_yen,
                **(extra or {}),
            },
        )
    )
    publish_after_commit(
        session,
        org_id=decision.org_id,
        type=kind,
        data={
            "decision_id": decision.id,
            "case_id": decision.case_id,
            "status": decision.status.value,
        },
    )


def request_decision(
    *,
    session: Session,
    org_id: int,
    case_id: int,
    kind: str | DecisionKind,
    amount_yen: int,
    description: str,
    role: Role | str,
    actor_label: str,
    clock: Clock,
) -> Decision:
    """Record a refund, compensation or exchange; above the requester's limit it waits for an
    approval (``pending_approval``). Everything is checked before anything is written."""
    checked_kind = parse_kind(kind)
    check_amount(amount_yen)
    checked_role = role if isinstance(role, Role) else parse_role(role)
    text = description.strip()
    if not text:
        raise ValidationFailed(
            "description is required",
            message_ja="内容を入力してください",
            fields={"description": "required"},
        )
    case = _case(session, org_id, case_id)
    if case.state is CaseState.closed:
        raise Conflict("case is closed", message_ja="完了した案件には判断を記録できません")
    limit = limit_for(session=session, org_id=org_id, role=checked_role, kind=checked_kind)
    now = clock.now()
    within = amount_yen <= limit
    decision = Decision(
        org_id=org_id,
        case_id=case.id,
        kind=checked_kind,
        amount_yen=amount_yen,
        description=text[:4000],
        status=DecisionStatus.recorded if within else DecisionStatus.pending_approval,
        requested_by_label=actor_label,
        requested_role=checked_role.value,
        requested_at=now,
        decided_at=now if within else None,
    )
    session.add(decision)
    session.flush()
    label = f"{KIND_LABELS_JA[checked_kind]} {yen(amount_yen)}"
    if within:
        _event(
            session,
            decision,
            "decision.recorded",
            f"{label} を決定（権限内: 上限 {yen(limit)}）",
            actor_label,
            clock,
        )
    else:
        nxt = NEXT_ROLE[checked_role]
        _event(
            session,
            decision,
            "decision.requested",
            f"{label} の承認を依頼（権限の上限 {yen(limit)} を超えるため"
            f"{nxt.label_ja}の承認が必要）",
            actor_label,
            clock,
            {"limit_yen": limit, "next_role": nxt.value},
        )
    case.updated_at = now
    return decision


def approve_decision(
    *,
    session: Session,
    org_id: int,
    decision_id: int,
    role: Role | str,
    actor_label: str,
    clock: Clock,
) -> Decision:
    """承認: only by someone else whose own limit covers the amount."""
    checked_role = role if isinstance(role, Role) else parse_role(role)
    decision = get_decision(session=session, org_id=org_id, decision_id=decision_id)
    if decision.status is not DecisionStatus.pending_approval:
        raise Conflict(
            f"decision is {decision.status.value}",
            message_ja=f"この判断は既に「{STATUS_LABELS_JA[decision.status]}」です",
        )
    if actor_label == decision.requested_by_label:
        raise PermissionDenied(
            "self-approval is not allowed",
            message_ja="自分が依頼した判断は承認できません。上位の役割の方に承認を依頼してください",
        )
    limit = limit_for(session=session, org_id=org_id, role=checked_role, kind=decision.kind)
    if decision.amount_yen > limit:
        raise PermissionDenied(
            f"approver limit {limit} is below {decision.amount_yen}",
            message_ja=(
                f"{checked_role.label_ja}が承認できる{KIND_LABELS_JA[decision.kind]}は"
                f"{yen(limit)}までです。{yen(decision.amount_yen)}の承認には上位の役割が必要です"
            ),
            fields={"amount_yen": decision.amount_yen, "limit_yen": limit},
        )
    now = clock.now()
    decision.status = DecisionStatus.recorded
    decision.approved_by_label = actor_label
    decision.approved_role = checked_role.value
    decision.decided_at = now
    session.flush()
    _event(
        session,
        decision,
        "decision.approved",
        f"{KIND_LABELS_JA[decision.kind]} {yen(decision.amount_yen)} を承認"
        f"（{checked_role.label_ja}）",
        actor_label,
        clock,
    )
    return decision


def reject_decision(
    *,
    session: Session,
    org_id: int,
    decision_id: int,
    role: Role | str,
    reason: str,
    actor_label: str,
    clock: Clock,
) -> Decision:
    checked_role = role if isinstance(role, Role) else parse_role(role)
    decision = get_decision(session=session, org_id=org_id, decision_id=decision_id)
    if decision.status is not DecisionStatus.pending_approval:
        raise Conflict(
            f"decision is {decision.status.value}",
            message_ja=f"この判断は既に「{STATUS_LABELS_JA[decision.status]}」です",
        )
    decision.status = DecisionStatus.rejected
    decision.approved_by_label = actor_label
    decision.approved_role = checked_role.value
    decision.decided_at = clock.now()
    session.flush()
    _event(
        session,
        decision,
        "decision.rejected",
        f"{KIND_LABELS_JA[decision.kind]} {yen(decision.amount_yen)} を却下",
        actor_label,
        clock,
        {"reason": reason.strip()[:2000]},
    )
    return decision
