"""Pages of 部署照会 (department inquiries), decisions and the authority matrix (権限).

- ``/escalations/inquiries``: the department inbox (a specialist sees their own department's
  unanswered inquiries, the earliest due date first; supervisors and managers see all).
- ``/escalations/{case_id}/inquiries``: every round of one case, the forms to ask, answer and
  record the customer's reaction, and the case's decisions (返金・補償・交換) with approval.
- ``/escalations/authority``: the matrix, editable with ``policies:manage``, and the decisions
  waiting for approval.

Plain forms with the session's CSRF token; a refusal the person can fix re-renders the page
with the Japanese message (and the field) instead of an error page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import RedirectResponse, Response

from hikeshi.auth.enums import ROLE_LABELS_JA, Department, Role
from hikeshi.auth.permissions import Permission
from hikeshi.cases import authority, inquiries
from hikeshi.cases.inquiry_api import require_decider
from hikeshi.cases.models import CASE_STATE_LABELS_JA, DecisionKind, DecisionStatus
from hikeshi.clock import JST
from hikeshi.deps import CtxDep, Principal, Require, Transaction, TxDep
from hikeshi.errors import HikeshiError, ValidationFailed
from hikeshi.web import ui
from hikeshi.web.pages import UserDep

router = APIRouter(include_in_schema=False)
FormStr = Annotated[str, Form()]
PATH = "/escalations"
CanRead = [Depends(Require(Permission.cases_read))]
CanManage = [Depends(Require(Permission.cases_manage))]
CanAnswer = [Depends(Require(Permission.inquiries_answer))]
CanApprove = [Depends(Require(Permission.decisions_approve))]
CanPolicies = [Depends(Require(Permission.policies_manage))]
CanDecide = [Depends(require_decider)]

NOTICES = {
    "asked": "部署照会を送りました。部署に通知しています",
    "answered": "回答を登録しました",
    "explained": "お客様への説明結果を記録しました",
    "recorded": "判断を記録しました",
    "pending": "権限を超えるため承認待ちにしました。上位の役割の方に承認を依頼してください",
    "approved": "承認しました",
    "rejected": "却下しました",
    "rule": "権限表を更新しました",
    "rule_deleted": "既定値に戻しました",
}


def parse_jst_local(value: str, field: str = "due_at") -> datetime:
    """``<input type="datetime-local">`` (JST wall time) → an aware datetime."""
    text = (value or "").strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(
            f"{field} is not a date and time",
            message_ja="日時を正しく入力してください",
            fields={field: value},
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=JST)


def _int(value: str, field: str) -> int:
    try:
        return int(value.replace(",", "").strip())
    except ValueError:
        raise ValidationFailed(
            f"{field} is not a number",
            message_ja="数字で入力してください",
            fields={field: value},
        ) from None


# --- inbox ------------------------------------------------------------------------------------


@router.get(f"{PATH}/inquiries", dependencies=CanRead)
def inbox_page(principal: UserDep, tx: TxDep, ctx: CtxDep, department: str = "") -> Response:
    with tx() as session:
        chrome, org_id = ui.chrome_and_org(session=session, principal=principal, path=PATH)
        own = principal.department if principal.role is Role.specialist else None
        chosen: str | None = own.value if own else None
        if chosen is None and department:
            chosen = next((d.value for d in Department if department == d.value), None)
        items = inquiries.inbox(session=session, org_id=org_id, department=chosen)
        return ui.page(
            "cases/inquiries/inbox.html",
            {
                "items": items,
                "department": chosen,
                "departments": [d.value for d in Department],
                "fixed_department": own is not None,
                "now": ctx.clock.now(),
            },
            chrome=chrome,
        )


# --- one case ---------------------------------------------------------------------------------


def _case_page(
    tx: Transaction,
    principal: Principal,
    case_id: int,
    *,
    notice: str = "",
    error: HikeshiError | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    with tx() as session:
        chrome, org_id = ui.chrome_and_org(session=session, principal=principal, path=PATH)
        case = inquiries.get_case(session=session, org_id=org_id, case_id=case_id)
        rounds = list(inquiries.list_rounds(session=session, org_id=org_id, case_id=case_id))
        decisions = authority.list_decisions(session=session, org_id=org_id, case_id=case_id)
        dept = principal.department.value if principal.department else None
        return ui.page(
            "cases/inquiries/case.html",
            {
                "case": case,
                "state_label": CASE_STATE_LABELS_JA[case.state],
                "rounds": rounds,
                "decisions": decisions,
                "can_ask": principal.can(Permission.cases_manage)
                and inquiries.can_ask_next(rounds)
                and case.state.value not in ("resolved", "closed"),
                "can_explain": principal.can(Permission.cases_manage),
                "my_department": dept if principal.role is Role.specialist else None,
                "can_decide": any(
                    principal.can(p)
                    for p in (
                        Permission.cases_escalate,
                        Permission.cases_manage,
                        Permission.inquiries_answer,
                    )
                ),
                "can_approve": principal.can(Permission.decisions_approve),
                "departments": [d.value for d in Department],
                "kinds": authority.KIND_LABELS_JA,
                "status_labels": authority.STATUS_LABELS_JA,
                "pending": DecisionStatus.pending_approval,
                "notice": NOTICES.get(notice),
                "error": error.message_ja if error else None,
                "error_fields": sorted(error.fields) if error else [],
                "form": form or {},
            },
            chrome=chrome,
            status_code=error.http_status if error else 200,
        )


@router.get(f"{PATH}/{{case_id:int}}/inquiries", dependencies=CanRead)
def case_page(case_id: int, principal: UserDep, tx: TxDep, notice: str = "") -> Response:
    return _case_page(tx, principal, case_id, notice=notice)


@router.post(f"{PATH}/{{case_id:int}}/inquiries", dependencies=CanManage)
def ask_submit(
    case_id: int,
    principal: UserDep,
    tx: TxDep,
    ctx: CtxDep,
    department: FormStr = "",
    question: FormStr = "",
    due_at: FormStr = "",
) -> Response:
    form = {"department": department, "question": question, "due_at": due_at}
    try:
        with tx() as session:
            _, org_id = ui.chrome_and_org(session=session, principal=principal, path=PATH)
            inquiries.ask(
                session=session,
                org_id=org_id,
                case_id=case_id,
                department=department,
                question=question,
                due_at=parse_jst_local(due_at),
                actor_label=principal.label,
                clock=ctx.clock,
            )
    except HikeshiError as exc:
        if exc.http_status == 404:
            raise
        return _case_page(tx, principal, case_id, error=exc, form=form)
    return RedirectResponse(f"{PATH}/{case_id}/inquiries?notice=asked", status_code=303)


def _inquiry_case(tx: Transaction, principal: Principal, inquiry_id: int) -> int:
    with tx() as session:
        _, org_id = ui.chrome_and_org(session=session, principal=principal, path=PATH)
        return inquiries.get_inquiry(session=session, org_id=org_id, inquiry_id=inquiry_id).case_id


@router.post(f"{PATH}/inquiries/{{inquiry_id:int}}/answer", dependencies=CanAnswer)
def answer_submit(
    inquiry_id: int, principal: UserDep, tx: TxDep, ctx: CtxDep, answer: FormStr = ""
) -> Response:
    case_id = _inquiry_case(tx, principal, inquiry_id)
    try:
        with tx() as session:
            _, org_id = ui.chrome_and_org(session=session, principal=principal, path=PATH)
            inquiries.answer(
                session=session,
                org_id=org_id,
                inquiry_id=inquiry_id,
                answer_text=answer,
                role=principal.role,
                department=principal.department,
                actor_label=principal.label,
                clock=ctx.clock,
            )
    except HikeshiError as exc:
        return _case_page(tx, principal, case_id, error=exc, form={"answer": answer})
    return RedirectResponse(f"{PATH}/{case_id}/inquiries?notice=answered", status_code=303)


@router.post(f"{PATH}/inquiries/{{inquiry_id:int}}/explain", dependencies=CanManage)
def explain_submit(
    inquiry_id: int,
    principal: UserDep,
    tx: TxDep,
    ctx: CtxDep,
    satisfied: FormStr = "",
    customer_response: FormStr = "",
) -> Response:
    case_id = _inquiry_case(tx, principal, inquiry_id)
    try:
        if satisfied not in ("yes", "no"):
            raise ValidationFailed(
                "satisfied must be yes or no",
                message_ja="ご納得いただけたかどうかを選んでください",
                fields={"satisfied": satisfied},
            )
        with tx() as session:
            _, org_id = ui.chrome_and_org(session=session, principal=principal, path=PATH)
            inquiries.record_explanation(
                session=session,
                org_id=org_id,
                inquiry_id=inquiry_id,
                satisfied=satisfied == "yes",
                customer_response=customer_response,
                actor_label=principal.label,
                clock=ctx.clock,
            )
    except HikeshiError as exc:
        return _case_page(
            tx, principal, case_id, error=exc, form={"customer_response": customer_response}
        )
    return RedirectResponse(f"{PATH}/{case_id}/inquiries?notice=explained", status_code=303)


# --- decisions --------------------------------------------------------------------------------


@router.post(f"{PATH}/{{case_id:int}}/decisions", dependencies=CanDecide)
def decision_submit(
    case_id: int,
    principal: UserDep,
    tx: TxDep,
    ctx: CtxDep,
    kind: FormStr = "",
    amount_yen: FormStr = "",
    description: FormStr = "",
) -> Response:
    form = {"kind": kind, "amount_yen": amount_yen, "description": description}
    try:
        with tx() as session:
            _, org_id = ui.chrome_and_org(session=session, principal=principal, path=PATH)
            item = authority.request_decision(
                session=session,
                org_id=org_id,
                case_id=case_id,
                kind=kind,
                amount_yen=_int(amount_yen, "amount_yen"),
                description=description,
                role=principal.role,
                actor_label=principal.label,
                clock=ctx.clock,
            )
            status = item.status
    except HikeshiError as exc:
        if exc.http_status == 404:
            raise
        return _case_page(tx, principal, case_id, error=exc, form=form)
    notice = "recorded" if status is DecisionStatus.recorded else "pending"
    return RedirectResponse(f"{PATH}/{case_id}/inquiries?notice={notice}", status_code=303)


def _decide(
    decision_id: int, principal: Principal, tx: TxDep, ctx: CtxDep, *, approve: bool, reason: str
) -> Response:
    with tx() as session:
        _, org_id = ui.chrome_and_org(session=session, principal=principal, path=PATH)
        case_id = authority.get_decision(
            session=session, org_id=org_id, decision_id=decision_id
        ).case_id
    try:
        with tx() as session:
            if approve:
                authority.approve_decision(
                    session=session,
                    org_id=org_id,
                    decision_id=decision_id,
                    role=principal.role,
                    actor_label=principal.label,
                    clock=ctx.clock,
                )
            else:
                authority.reject_decision(
                    session=session,
                    org_id=org_id,
                    decision_id=decision_id,
                    role=principal.role,
                    reason=reason,
                    actor_label=principal.label,
                    clock=ctx.clock,
                )
    except HikeshiError as exc:
        return _case_page(tx, principal, case_id, error=exc)
    notice = "approved" if approve else "rejected"
    return RedirectResponse(f"{PATH}/{case_id}/inquiries?notice={notice}", status_code=303)


@router.post(f"{PATH}/decisions/{{decision_id:int}}/approve", dependencies=CanApprove)
def approve_submit(decision_id: int, principal: UserDep, tx: TxDep, ctx: CtxDep) -> Response:
    return _decide(decision_id, principal, tx, ctx, approve=True, reason="")


@router.post(f"{PATH}/decisions/{{decision_id:int}}/reject", dependencies=CanApprove)
def reject_submit(
    decision_id: int, principal: UserDep, tx: TxDep, ctx: CtxDep, reason: FormStr = ""
) -> Response:
    return _decide(decision_id, principal, tx, ctx, approve=False, reason=reason)


# --- authority matrix -------------------------------------------------------------------------


def _authority_page(
    tx: Transaction,
    principal: Principal,
    *,
    notice: str = "",
    error: HikeshiError | None = None,
) -> Response:
    with tx() as session:
        chrome, org_id = ui.chrome_and_org(session=session, principal=principal, path=PATH)
        cells = authority.matrix(session=session, org_id=org_id)
        grid = {(c.role, c.kind): c for c in cells}
        pending = authority.list_decisions(
            session=session, org_id=org_id, status=DecisionStatus.pending_approval
        )
        return ui.page(
            "cases/inquiries/authority.html",
            {
                "roles": list(Role),
                "role_labels": ROLE_LABELS_JA,
                "kinds": list(DecisionKind),
                "kind_labels": authority.KIND_LABELS_JA,
                "grid": grid,
                "next_role": authority.NEXT_ROLE,
                "pending": pending,
                "can_edit": principal.can(Permission.policies_manage),
                "can_approve": principal.can(Permission.decisions_approve),
                "notice": NOTICES.get(notice),
                "error": error.message_ja if error else None,
            },
            chrome=chrome,
            status_code=error.http_status if error else 200,
        )


@router.get(f"{PATH}/authority", dependencies=CanRead)
def authority_page(principal: UserDep, tx: TxDep, notice: str = "") -> Response:
    return _authority_page(tx, principal, notice=notice)


@router.post(f"{PATH}/authority", dependencies=CanPolicies)
def authority_submit(
    principal: UserDep,
    tx: TxDep,
    role: FormStr = "",
    kind: FormStr = "",
    max_amount_yen: FormStr = "",
) -> Response:
    try:
        with tx() as session:
            _, org_id = ui.chrome_and_org(session=session, principal=principal, path=PATH)
            authority.set_rule(
                session=session,
                org_id=org_id,
                role=role,
                kind=kind,
                max_amount_yen=_int(max_amount_yen, "max_amount_yen"),
            )
    except HikeshiError as exc:
        return _authority_page(tx, principal, error=exc)
    return RedirectResponse(f"{PATH}/authority?notice=rule", status_code=303)


@router.post(f"{PATH}/authority/{{rule_id:int}}/delete", dependencies=CanPolicies)
def authority_delete(rule_id: int, principal: UserDep, tx: TxDep) -> Response:
    with tx() as session:
        _, org_id = ui.chrome_and_org(session=session, principal=principal, path=PATH)
        authority.delete_rule(session=session, org_id=org_id, rule_id=rule_id)
    return RedirectResponse(f"{PATH}/authority?notice=rule_deleted", status_code=303)
