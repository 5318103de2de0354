"""JSON API of escalation: policies, cases, the handover card, next actions and the SV board."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from sqlalchemy.orm import Session

from hikeshi.auth.permissions import Permission
from hikeshi.cases import actions, policies, service
from hikeshi.cases.models import Case, CaseState, HandoverCard, NextAction, NextActionStatus
from hikeshi.cases.schemas import (
    BoardPublic,
    CaseCreate,
    CaseDetail,
    CaseEventPublic,
    CaseEventsPublic,
    CasePublic,
    CasesPublic,
    HandoverConfirm,
    HandoverPublic,
    HandoverUpdate,
    NextActionCreate,
    NextActionPublic,
    NextActionsPublic,
    OwnerChange,
    PoliciesPublic,
    PolicyCreate,
    PolicyPublic,
    PolicyUpdate,
    SlaPublic,
    StateChange,
    TierChange,
)
from hikeshi.clock import Clock
from hikeshi.deps import CtxDep, CurrentOrg, Require, TxDep

router = APIRouter(prefix="/orgs/{org_id}", tags=["cases"])
READ = [Depends(Require(Permission.cases_read))]
ESCALATE = [Depends(Require(Permission.cases_escalate))]
MANAGE = [Depends(Require(Permission.cases_manage))]
POLICIES = [Depends(Require(Permission.policies_manage))]


# --- serialisation (shared with the pages) ----------------------------------------------------


def case_public(session: Session, case: Case, clock: Clock) -> CasePublic:
    out = CasePublic.model_validate(case)
    status = service.sla_of(session=session, case=case, clock=clock)
    if status is not None:
        out.sla = SlaPublic(
            state=status.state.value,
            label=status.state.label,
            due_at=status.due_at,
            remaining_minutes=int(status.remaining.total_seconds() // 60),
            elapsed_minutes=int(status.elapsed.total_seconds() // 60),
            breached=status.breached,
        )
    out.level_target = service.level_target(session=session, case=case, clock=clock)
    return out


def action_public(action: NextAction, clock: Clock) -> NextActionPublic:
    out = NextActionPublic.model_validate(action)
    out.overdue = actions.is_overdue(action, clock.now())
    return out


def handover_public(card: HandoverCard) -> HandoverPublic:
    return HandoverPublic.model_validate(card)


def board(session: Session, org_id: int, clock: Clock) -> BoardPublic:
    cases = service.list_cases(session=session, org_id=org_id, active_only=True)
    items = actions.list_actions(session=session, org_id=org_id)
    return BoardPublic(
        cases=[case_public(session, c, clock) for c in cases],
        next_actions=[action_public(a, clock) for a in items],
    )


# --- policies ---------------------------------------------------------------------------------


@router.get("/escalation-policies", dependencies=READ)
def list_policies(org: CurrentOrg, tx: TxDep) -> PoliciesPublic:
    with tx() as session:
        data = [
            PolicyPublic.model_validate(p)
            for p in policies.list_policies(session=session, org_id=org.org_id)
        ]
    return PoliciesPublic(data=data, count=len(data))


@router.post("/escalation-policies", dependencies=POLICIES, status_code=201)
def create_policy(org: CurrentOrg, body: PolicyCreate, tx: TxDep, ctx: CtxDep) -> PolicyPublic:
    with tx() as session:
        policy = policies.create_policy(
            session=session, org_id=org.org_id, data=body, clock=ctx.clock
        )
        return PolicyPublic.model_validate(policy)


@router.get("/escalation-policies/{policy_id}", dependencies=READ)
def get_policy(org: CurrentOrg, policy_id: int, tx: TxDep) -> PolicyPublic:
    with tx() as session:
        policy = policies.get_policy(session=session, org_id=org.org_id, policy_id=policy_id)
        return PolicyPublic.model_validate(policy)


@router.put("/escalation-policies/{policy_id}", dependencies=POLICIES)
def update_policy(
    org: CurrentOrg, policy_id: int, body: PolicyUpdate, tx: TxDep, ctx: CtxDep
) -> PolicyPublic:
    with tx() as session:
        policy = policies.update_policy(
            session=session, org_id=org.org_id, policy_id=policy_id, data=body, clock=ctx.clock
        )
        return PolicyPublic.model_validate(policy)


@router.delete("/escalation-policies/{policy_id}", dependencies=POLICIES, status_code=204)
def delete_policy(org: CurrentOrg, policy_id: int, tx: TxDep) -> Response:
    with tx() as session:
        policies.delete_policy(session=session, org_id=org.org_id, policy_id=policy_id)
    return Response(status_code=204)


# --- cases ------------------------------------------------------------------------------------


@router.post("/cases", dependencies=ESCALATE, status_code=201)
def escalate(org: CurrentOrg, body: CaseCreate, tx: TxDep, ctx: CtxDep) -> CasePublic:
    with tx() as session:
        case = service.escalate_contact(
            session=session,
            org_id=org.org_id,
            contact_id=body.contact_id,
            actor_label=org.principal.label,
            user_id=org.principal.user_id,
            clock=ctx.clock,
            reason=body.reason,
        )
        return case_public(session, case, ctx.clock)


@router.get("/cases", dependencies=READ)
def list_cases(
    org: CurrentOrg, tx: TxDep, ctx: CtxDep, state: CaseState | None = None
) -> CasesPublic:
    with tx() as session:
        items = service.list_cases(session=session, org_id=org.org_id, state=state)
        data = [case_public(session, c, ctx.clock) for c in items]
    return CasesPublic(data=data, count=len(data))


@router.get("/cases/{case_id}", dependencies=READ)
def get_case(org: CurrentOrg, case_id: int, tx: TxDep, ctx: CtxDep) -> CaseDetail:
    with tx() as session:
        case = service.get_case(session=session, org_id=org.org_id, case_id=case_id)
        card = service.get_handover(session=session, org_id=org.org_id, case_id=case_id)
        events = service.case_events(session=session, org_id=org.org_id, case_id=case_id)
        items = actions.list_actions(
            session=session, org_id=org.org_id, case_id=case_id, status=None
        )
        return CaseDetail(
            case=case_public(session, case, ctx.clock),
            handover=handover_public(card),
            events=[CaseEventPublic.model_validate(e) for e in events],
            next_actions=[action_public(a, ctx.clock) for a in items],
        )


@router.get("/cases/{case_id}/events", dependencies=READ)
def case_events(org: CurrentOrg, case_id: int, tx: TxDep) -> CaseEventsPublic:
    with tx() as session:
        events = service.case_events(session=session, org_id=org.org_id, case_id=case_id)
        data = [CaseEventPublic.model_validate(e) for e in events]
    return CaseEventsPublic(data=data, count=len(data))


@router.post("/cases/{case_id}/acknowledge", dependencies=MANAGE)
def acknowledge(org: CurrentOrg, case_id: int, tx: TxDep, ctx: CtxDep) -> CasePublic:
    with tx() as session:
        case = service.acknowledge(
            session=session,
            org_id=org.org_id,
            case_id=case_id,
            actor_label=org.principal.label,
            user_id=org.principal.user_id,
            clock=ctx.clock,
        )
        return case_public(session, case, ctx.clock)


@router.post("/cases/{case_id}/state", dependencies=MANAGE)
def change_state(
    org: CurrentOrg, case_id: int, body: StateChange, tx: TxDep, ctx: CtxDep
) -> CasePublic:
    with tx() as session:
        case = service.change_state(
            session=session,
            org_id=org.org_id,
            case_id=case_id,
            to=body.state,
            actor_label=org.principal.label,
            clock=ctx.clock,
            note=body.note,
        )
        return case_public(session, case, ctx.clock)


@router.post("/cases/{case_id}/owner", dependencies=MANAGE)
def assign_owner(
    org: CurrentOrg, case_id: int, body: OwnerChange, tx: TxDep, ctx: CtxDep
) -> CasePublic:
    with tx() as session:
        case = service.assign_owner(
            session=session,
            org_id=org.org_id,
            case_id=case_id,
            owner_id=body.owner_id,
            owner_label=body.owner_label,
            actor_label=org.principal.label,
            clock=ctx.clock,
        )
        return case_public(session, case, ctx.clock)


@router.post("/cases/{case_id}/tier", dependencies=MANAGE)
def change_tier(
    org: CurrentOrg, case_id: int, body: TierChange, tx: TxDep, ctx: CtxDep
) -> CasePublic:
    with tx() as session:
        case = service.change_tier(
            session=session,
            org_id=org.org_id,
            case_id=case_id,
            tier=body.tier,
            department=body.department,
            actor_label=org.principal.label,
            clock=ctx.clock,
            note=body.note,
        )
        return case_public(session, case, ctx.clock)


@router.get("/cases/{case_id}/handover", dependencies=READ)
def get_handover(org: CurrentOrg, case_id: int, tx: TxDep) -> HandoverPublic:
    with tx() as session:
        card = service.get_handover(session=session, org_id=org.org_id, case_id=case_id)
        return handover_public(card)


@router.put("/cases/{case_id}/handover", dependencies=MANAGE)
def update_handover(
    org: CurrentOrg, case_id: int, body: HandoverUpdate, tx: TxDep, ctx: CtxDep
) -> HandoverPublic:
    with tx() as session:
        card = service.update_handover(
            session=session,
            org_id=org.org_id,
            case_id=case_id,
            data=body,
            actor_label=org.principal.label,
            clock=ctx.clock,
        )
        return handover_public(card)


@router.post("/cases/{case_id}/handover/confirm", dependencies=MANAGE)
def confirm_handover(
    org: CurrentOrg, case_id: int, body: HandoverConfirm, tx: TxDep, ctx: CtxDep
) -> HandoverPublic:
    with tx() as session:
        card = service.confirm_handover(
            session=session,
            org_id=org.org_id,
            case_id=case_id,
            actor_label=org.principal.label,
            clock=ctx.clock,
            note=body.note,
        )
        return handover_public(card)


# --- next actions -----------------------------------------------------------------------------


@router.get("/next-actions", dependencies=READ)
def list_next_actions(
    org: CurrentOrg,
    tx: TxDep,
    ctx: CtxDep,
    status: NextActionStatus | None = NextActionStatus.open,
    case_id: int | None = None,
) -> NextActionsPublic:
    with tx() as session:
        items = actions.list_actions(
            session=session, org_id=org.org_id, case_id=case_id, status=status
        )
        data = [action_public(a, ctx.clock) for a in items]
    return NextActionsPublic(data=data, count=len(data))


@router.post("/next-actions", dependencies=MANAGE, status_code=201)
def create_next_action(
    org: CurrentOrg, body: NextActionCreate, tx: TxDep, ctx: CtxDep
) -> NextActionPublic:
    with tx() as session:
        action = actions.create_action(
            session=session,
            org_id=org.org_id,
            data=body,
            actor_label=org.principal.label,
            user_id=org.principal.user_id,
            clock=ctx.clock,
        )
        return action_public(action, ctx.clock)


@router.post("/next-actions/{action_id}/done", dependencies=MANAGE)
def complete_next_action(
    org: CurrentOrg, action_id: int, tx: TxDep, ctx: CtxDep
) -> NextActionPublic:
    with tx() as session:
        action = actions.complete_action(
            session=session,
            org_id=org.org_id,
            action_id=action_id,
            actor_label=org.principal.label,
            clock=ctx.clock,
        )
        return action_public(action, ctx.clock)


@router.post("/next-actions/{action_id}/cancel", dependencies=MANAGE)
def cancel_next_action(org: CurrentOrg, action_id: int, tx: TxDep, ctx: CtxDep) -> NextActionPublic:
    with tx() as session:
        action = actions.cancel_action(
            session=session,
            org_id=org.org_id,
            action_id=action_id,
            actor_label=org.principal.label,
            clock=ctx.clock,
        )
        return action_public(action, ctx.clock)


# --- the supervisor board ---------------------------------------------------------------------


@router.get("/escalation-board", dependencies=READ)
def escalation_board(org: CurrentOrg, tx: TxDep, ctx: CtxDep) -> BoardPublic:
    with tx() as session:
        return board(session, org.org_id, ctx.clock)
