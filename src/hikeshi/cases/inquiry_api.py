"""JSON API of 部署照会 (department inquiries), the authority matrix (権限) and decisions.

The request and response models live here rather than in ``cases/schemas.py`` (owned by the
escalation work) so that the two streams of work do not edit one file.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from hikeshi.auth.permissions import Permission
from hikeshi.cases import authority, inquiries, survey
from hikeshi.cases.models import DecisionStatus
from hikeshi.deps import CtxDep, CurrentOrg, CurrentPrincipal, Require, TxDep, _refuse
from hikeshi.errors import PermissionDenied

router = APIRouter(prefix="/orgs/{org_id}", tags=["inquiries", "authority"])
READ = [Depends(Require(Permission.cases_read))]
MANAGE = [Depends(Require(Permission.cases_manage))]
ANSWER = [Depends(Require(Permission.inquiries_answer))]
APPROVE = [Depends(Require(Permission.decisions_approve))]
POLICIES = [Depends(Require(Permission.policies_manage))]
DECIDERS = (Permission.cases_escalate, Permission.cases_manage, Permission.inquiries_answer)


def require_decider(request: Request, ctx: CtxDep, principal: CurrentPrincipal) -> None:
    """Operators, supervisors, managers and specialists may ask for a decision."""
    if not any(principal.can(p) for p in DECIDERS):
        _refuse(
            ctx,
            request,
            "auth.permission_denied",
            actor=principal.actor,
            org_id=principal.current_org_id,
            reason="missing cases:escalate, cases:manage or inquiries:answer",
        )
        raise PermissionDenied()


DECIDE = [Depends(require_decider)]


# --- schemas ----------------------------------------------------------------------------------


class InquiryAsk(BaseModel):
    department: str = Field(max_length=32, description="法務, 広報, … or legal, pr, …")
    question: str = Field(max_length=8000)
    due_at: datetime


class InquiryAnswer(BaseModel):
    answer: str = Field(max_length=8000)


class InquiryExplanation(BaseModel):
    customer_satisfied: bool
    customer_response: str = Field(default="", max_length=8000)


class InquiryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    case_id: int
    round: int
    department: str
    question: str
    due_at: datetime
    asked_by_label: str
    asked_at: datetime
    answer: str
    answered_by_label: str
    answered_at: datetime | None
    explained_at: datetime | None
    customer_satisfied: bool | None
    customer_response: str


class InquiryList(BaseModel):
    data: list[InquiryOut]
    count: int
    can_ask_next: bool | None = None


class RuleIn(BaseModel):
    role: str = Field(max_length=16)
    kind: str = Field(max_length=16)
    max_amount_yen: int


class RuleUpdate(BaseModel):
    max_amount_yen: int


class RuleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    role: str
    kind: str
    max_amount_yen: int


class MatrixCellOut(BaseModel):
    role: str
    kind: str
    max_amount_yen: int
    rule_id: int | None


class MatrixOut(BaseModel):
    data: list[MatrixCellOut]
    rules: list[RuleOut]


class DecisionIn(BaseModel):
    kind: str = Field(max_length=16)
    amount_yen: int
    description: str = Field(max_length=4000)


class DecisionReject(BaseModel):
    reason: str = Field(default="", max_length=2000)


class DecisionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    case_id: int
    kind: str
    amount_yen: int
    description: str
    status: str
    requested_by_label: str
    requested_role: str
    requested_at: datetime
    approved_by_label: str
    approved_role: str
    decided_at: datetime | None


class DecisionList(BaseModel):
    data: list[DecisionOut]
    count: int


class SurveyLink(BaseModel):
    token: str
    path: str


# --- inquiries --------------------------------------------------------------------------------


@router.get("/cases/{case_id}/inquiries", dependencies=READ)
def list_case_inquiries(org: CurrentOrg, case_id: int, tx: TxDep) -> InquiryList:
    with tx() as session:
        rounds = inquiries.list_rounds(session=session, org_id=org.org_id, case_id=case_id)
        data = [InquiryOut.model_validate(r) for r in rounds]
        return InquiryList(data=data, count=len(data), can_ask_next=inquiries.can_ask_next(rounds))


@router.post("/cases/{case_id}/inquiries", dependencies=MANAGE, status_code=201)
def ask_inquiry(
    org: CurrentOrg, case_id: int, body: InquiryAsk, tx: TxDep, ctx: CtxDep
) -> InquiryOut:
    with tx() as session:
        item = inquiries.ask(
            session=session,
            org_id=org.org_id,
            case_id=case_id,
            department=body.department,
            question=body.question,
            due_at=body.due_at,
            actor_label=org.principal.label,
            clock=ctx.clock,
        )
        return InquiryOut.model_validate(item)


@router.get("/inquiries", dependencies=READ)
def inquiry_inbox(org: CurrentOrg, tx: TxDep, department: str | None = None) -> InquiryList:
    """Unanswered inquiries by due date; a specialist sees only their own department's."""
    principal = org.principal
    if principal.department is not None and not principal.can(Permission.cases_manage):
        dept: str | None = principal.department.value
    elif department:
        dept = inquiries.parse_department(department).value
    else:
        dept = None
    with tx() as session:
        items = inquiries.inbox(session=session, org_id=org.org_id, department=dept)
        data = [InquiryOut.model_validate(i) for i in items]
        return InquiryList(data=data, count=len(data))


@router.get("/inquiries/{inquiry_id}", dependencies=READ)
def get_inquiry(org: CurrentOrg, inquiry_id: int, tx: TxDep) -> InquiryOut:
    with tx() as session:
        item = inquiries.get_inquiry(session=session, org_id=org.org_id, inquiry_id=inquiry_id)
        return InquiryOut.model_validate(item)


@router.post("/inquiries/{inquiry_id}/answer", dependencies=ANSWER)
def answer_inquiry(
    org: CurrentOrg, inquiry_id: int, body: InquiryAnswer, tx: TxDep, ctx: CtxDep
) -> InquiryOut:
    with tx() as session:
        item = inquiries.answer(
            session=session,
            org_id=org.org_id,
            inquiry_id=inquiry_id,
            answer_text=body.answer,
            role=org.principal.role,
            department=org.principal.department,
            actor_label=org.principal.label,
            clock=ctx.clock,
        )
        return InquiryOut.model_validate(item)


@router.post("/inquiries/{inquiry_id}/explanation", dependencies=MANAGE)
def explain_inquiry(
    org: CurrentOrg, inquiry_id: int, body: InquiryExplanation, tx: TxDep, ctx: CtxDep
) -> InquiryOut:
    with tx() as session:
        item = inquiries.record_explanation(
            session=session,
            org_id=org.org_id,
            inquiry_id=inquiry_id,
            satisfied=body.customer_satisfied,
            customer_response=body.customer_response,
            actor_label=org.principal.label,
            clock=ctx.clock,
        )
        return InquiryOut.model_validate(item)


# --- authority matrix -------------------------------------------------------------------------


@router.get("/authority", dependencies=READ)
def get_matrix(org: CurrentOrg, tx: TxDep) -> MatrixOut:
    with tx() as session:
        cells = authority.matrix(session=session, org_id=org.org_id)
        rules = authority.list_rules(session=session, org_id=org.org_id)
        return MatrixOut(
            data=[
                MatrixCellOut(
                    role=c.role.value,
                    kind=c.kind.value,
                    max_amount_yen=c.max_amount_yen,
                    rule_id=c.rule_id,
                )
                for c in cells
            ],
            rules=[RuleOut.model_validate(r) for r in rules],
        )


@router.post("/authority/rules", dependencies=POLICIES)
def set_rule(org: CurrentOrg, body: RuleIn, tx: TxDep) -> RuleOut:
    """Create or change the limit of one role and kind."""
    with tx() as session:
        rule = authority.set_rule(
            session=session,
            org_id=org.org_id,
            role=body.role,
            kind=body.kind,
            max_amount_yen=body.max_amount_yen,
        )
        return RuleOut.model_validate(rule)


@router.put("/authority/rules/{rule_id}", dependencies=POLICIES)
def update_rule(org: CurrentOrg, rule_id: int, body: RuleUpdate, tx: TxDep) -> RuleOut:
    with tx() as session:
        rule = authority.update_rule(
            session=session, org_id=org.org_id, rule_id=rule_id, max_amount_yen=body.max_amount_yen
        )
        return RuleOut.model_validate(rule)


@router.delete("/authority/rules/{rule_id}", dependencies=POLICIES, status_code=204)
def delete_rule(org: CurrentOrg, rule_id: int, tx: TxDep) -> None:
    with tx() as session:
        authority.delete_rule(session=session, org_id=org.org_id, rule_id=rule_id)


# --- decisions --------------------------------------------------------------------------------


@router.get("/cases/{case_id}/decisions", dependencies=READ)
def list_case_decisions(org: CurrentOrg, case_id: int, tx: TxDep) -> DecisionList:
    with tx() as session:
        items = authority.list_decisions(session=session, org_id=org.org_id, case_id=case_id)
        data = [DecisionOut.model_validate(d) for d in items]
        return DecisionList(data=data, count=len(data))


@router.post("/cases/{case_id}/decisions", dependencies=DECIDE, status_code=201)
def request_decision(
    org: CurrentOrg, case_id: int, body: DecisionIn, tx: TxDep, ctx: CtxDep
) -> DecisionOut:
    """Recorded at once within the requester's authority, otherwise ``pending_approval``."""
    with tx() as session:
        item = authority.request_decision(
            session=session,
            org_id=org.org_id,
            case_id=case_id,
            kind=body.kind,
            amount_yen=body.amount_yen,
            description=body.description,
            role=org.principal.role,
            actor_label=org.principal.label,
            clock=ctx.clock,
        )
        return DecisionOut.model_validate(item)


@router.get("/decisions", dependencies=READ)
def list_decisions(
    org: CurrentOrg, tx: TxDep, status: DecisionStatus | None = None
) -> DecisionList:
    with tx() as session:
        items = authority.list_decisions(session=session, org_id=org.org_id, status=status)
        data = [DecisionOut.model_validate(d) for d in items]
        return DecisionList(data=data, count=len(data))


@router.get("/decisions/{decision_id}", dependencies=READ)
def get_decision(org: CurrentOrg, decision_id: int, tx: TxDep) -> DecisionOut:
    with tx() as session:
        item = authority.get_decision(session=session, org_id=org.org_id, decision_id=decision_id)
        return DecisionOut.model_validate(item)


@router.post("/decisions/{decision_id}/approve", dependencies=APPROVE)
def approve_decision(org: CurrentOrg, decision_id: int, tx: TxDep, ctx: CtxDep) -> DecisionOut:
    with tx() as session:
        item = authority.approve_decision(
            session=session,
            org_id=org.org_id,
            decision_id=decision_id,
            role=org.principal.role,
            actor_label=org.principal.label,
            clock=ctx.clock,
        )
        return DecisionOut.model_validate(item)


@router.post("/decisions/{decision_id}/reject", dependencies=APPROVE)
def reject_decision(
    org: CurrentOrg, decision_id: int, body: DecisionReject, tx: TxDep, ctx: CtxDep
) -> DecisionOut:
    with tx() as session:
        item = authority.reject_decision(
            session=session,
            org_id=org.org_id,
            decision_id=decision_id,
            role=org.principal.role,
            reason=body.reason,
            actor_label=org.principal.label,
            clock=ctx.clock,
        )
        return DecisionOut.model_validate(item)


# --- CSAT survey link -------------------------------------------------------------------------


@router.post("/cases/{case_id}/survey", dependencies=MANAGE)
def survey_link(org: CurrentOrg, case_id: int, tx: TxDep) -> SurveyLink:
    """The one-time survey link of a resolved case (made on first call, then the same)."""
    with tx() as session:
        token = survey.ensure_survey_token(session=session, org_id=org.org_id, case_id=case_id)
        return SurveyLink(token=token, path=f"/survey/{token}")
