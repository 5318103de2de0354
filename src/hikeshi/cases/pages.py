"""エスカレーション pages: the SV list (cases with SLA badges, open promises by deadline), the
case (handover card and its confirmation with the customer, 受領, state, tier, owner, timeline,
next actions) and the escalation policies.

Plain server-rendered forms with the session's CSRF token; each POST is one transaction through
the services, and a refusal the person can fix re-renders the page with the Japanese message.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from hikeshi.auth.enums import Department
from hikeshi.auth.permissions import Permission
from hikeshi.calendar import BusinessCalendar
from hikeshi.cases import actions, policies, service
from hikeshi.cases.api import action_public, board, case_public
from hikeshi.cases.models import CASE_STATE_LABELS_JA, CaseState, Tier
from hikeshi.cases.schemas import HandoverUpdate, NextActionCreate, PolicyCreate
from hikeshi.clock import Clock
from hikeshi.deps import CtxDep, Principal, Require, Transaction, TxDep
from hikeshi.errors import Conflict, HikeshiError, NotFound, ValidationFailed
from hikeshi.web import ui
from hikeshi.web.pages import UserDep

router = APIRouter(include_in_schema=False)
FormStr = Annotated[str, Form()]
PATH = "/escalations"
CanRead = [Depends(Require(Permission.cases_read))]
CanManage = [Depends(Require(Permission.cases_manage))]
CanPolicies = [Depends(Require(Permission.policies_manage))]

SLA_TAGS = {
    "on_track": "tag-ok",
    "at_risk": "tag-warn",
    "breached": "tag-danger",
    "paused": "tag-muted",
    "done": "tag-muted",
}
NOTICES = {
    "ack": "受領しました。エスカレーションの通知は止まりました",
    "state": "状態を変更しました",
    "tier": "担当の段階を変更しました",
    "owner": "担当者を変更しました",
    "handover": "引き継ぎカードを保存しました",
    "confirmed": "お客様への確認を記録しました",
    "action": "ネクストアクションを登録しました",
    "done": "ネクストアクションを完了にしました",
    "cancelled": "ネクストアクションを取り消しました",
    "policy": "ポリシーを保存しました",
}
HANDOVER_FIELDS = (
    ("emotion", "感情面（お客様が何にお怒りか）"),
    ("facts", "事実関係"),
    ("history", "経緯（これまでに試したこと）"),
    ("demands", "お客様の要望"),
    ("promises", "お約束したこと"),
)


# --- list -------------------------------------------------------------------------------------


@router.get(PATH, dependencies=CanRead)
def case_list(principal: UserDep, tx: TxDep, ctx: CtxDep) -> Response:
    with tx() as session:
        chrome = ui.load_chrome(session=session, principal=principal, path=PATH)
        data: dict[str, Any] = {"cases": [], "next_actions": []}
        if chrome.org_id is not None:
            data = board(session, chrome.org_id, ctx.clock).model_dump()
        return ui.page(
            "cases/list.html",
            {
                **data,
                "sla_tags": SLA_TAGS,
                "state_labels": {s.value: label for s, label in CASE_STATE_LABELS_JA.items()},
                "target_label": policies.target_label,
                "can_policies": principal.can(Permission.policies_manage),
            },
            chrome=chrome,
        )


# --- the case ---------------------------------------------------------------------------------


def _case_page(
    tx: Transaction,
    principal: Principal,
    case_id: int,
    clock: Clock,
    *,
    notice: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    with tx() as session:
        chrome, org_id = ui.chrome_and_org(session=session, principal=principal, path=PATH)
        case = service.get_case(session=session, org_id=org_id, case_id=case_id)
        card = service.get_handover(session=session, org_id=org_id, case_id=case_id)
        events = service.case_events(session=session, org_id=org_id, case_id=case_id)
        items = actions.list_actions(session=session, org_id=org_id, case_id=case_id, status=None)
        public = case_public(session, case, clock)
        return ui.page(
            "cases/detail.html",
            {
                "case": public,
                "card": card,
                "fields": HANDOVER_FIELDS,
                "confirm_sentence": service.CONFIRM_SENTENCE,
                "events": events,
                "next_actions": [action_public(a, clock) for a in items],
                "sla_tags": SLA_TAGS,
                "state_label": CASE_STATE_LABELS_JA[case.state],
                "state_targets": [
                    (t.value, CASE_STATE_LABELS_JA[t])
                    for t in CaseState
                    if t in service.TRANSITIONS[case.state]
                ],
                "tier_label": service.TIER_LABELS_JA[case.tier],
                "tiers": [(t.value, label) for t, label in service.TIER_LABELS_JA.items()],
                "departments": [d.value for d in Department],
                "target_label": policies.target_label(public.level_target),
                "can_manage": principal.can(Permission.cases_manage),
                "promises": actions.PROMISE_EXAMPLES,
                "notice": NOTICES.get(notice),
                "error": error,
            },
            chrome=chrome,
            status_code=status_code,
        )


@router.get(f"{PATH}/{{case_id:int}}", dependencies=CanRead)
def case_detail(
    case_id: int, principal: UserDep, tx: TxDep, ctx: CtxDep, notice: str = ""
) -> Response:
    return _case_page(tx, principal, case_id, ctx.clock, notice=notice)


def _run(
    tx: Transaction,
    principal: Principal,
    case_id: int,
    clock: Clock,
    notice: str,
    work: Any,
) -> Response:
    """One use case; a fixable refusal re-renders the case page with its message."""
    try:
        with tx() as session:
            _, org_id = ui.chrome_and_org(session=session, principal=principal, path=PATH)
            work(session, org_id)
    except (Conflict, ValidationFailed) as exc:
        return _case_page(
            tx, principal, case_id, clock, error=exc.message_ja, status_code=exc.http_status
        )
    return RedirectResponse(f"{PATH}/{case_id}?notice={notice}", status_code=303)


@router.post(f"{PATH}/{{case_id:int}}/acknowledge", dependencies=CanManage)
def case_acknowledge(case_id: int, principal: UserDep, tx: TxDep, ctx: CtxDep) -> Response:
    return _run(
        tx,
        principal,
        case_id,
        ctx.clock,
        "ack",
        lambda s, org_id: service.acknowledge(
            session=s,
            org_id=org_id,
            case_id=case_id,
            actor_label=principal.label,
            user_id=principal.user_id,
            clock=ctx.clock,
        ),
    )


@router.post(f"{PATH}/{{case_id:int}}/state", dependencies=CanManage)
def case_state(
    case_id: int,
    principal: UserDep,
    tx: TxDep,
    ctx: CtxDep,
    state: FormStr = "",
    note: FormStr = "",
) -> Response:
    target = next((s for s in CaseState if s.value == state), None)
    if target is None:
        return _case_page(
            tx, principal, case_id, ctx.clock, error="変更後の状態を選んでください", status_code=422
        )
    return _run(
        tx,
        principal,
        case_id,
        ctx.clock,
        "state",
        lambda s, org_id: service.change_state(
            session=s,
            org_id=org_id,
            case_id=case_id,
            to=target,
            actor_label=principal.label,
            clock=ctx.clock,
            note=note[:2000],
        ),
    )


@router.post(f"{PATH}/{{case_id:int}}/tier", dependencies=CanManage)
def case_tier(
    case_id: int,
    principal: UserDep,
    tx: TxDep,
    ctx: CtxDep,
    tier: FormStr = "",
    department: FormStr = "",
    note: FormStr = "",
) -> Response:
    target = next((t for t in Tier if t.value == tier), None)
    if target is None:
        return _case_page(
            tx, principal, case_id, ctx.clock, error="段階を選んでください", status_code=422
        )
    return _run(
        tx,
        principal,
        case_id,
        ctx.clock,
        "tier",
        lambda s, org_id: service.change_tier(
            session=s,
            org_id=org_id,
            case_id=case_id,
            tier=target,
            department=department or None,
            actor_label=principal.label,
            clock=ctx.clock,
            note=note[:2000],
        ),
    )


@router.post(f"{PATH}/{{case_id:int}}/owner", dependencies=CanManage)
def case_owner(
    case_id: int, principal: UserDep, tx: TxDep, ctx: CtxDep, owner_label: FormStr = ""
) -> Response:
    return _run(
        tx,
        principal,
        case_id,
        ctx.clock,
        "owner",
        lambda s, org_id: service.assign_owner(
            session=s,
            org_id=org_id,
            case_id=case_id,
            owner_id=None,
            owner_label=owner_label[:254],
            actor_label=principal.label,
            clock=ctx.clock,
        ),
    )


@router.post(f"{PATH}/{{case_id:int}}/handover", dependencies=CanManage)
def case_handover(
    case_id: int,
    principal: UserDep,
    tx: TxDep,
    ctx: CtxDep,
    emotion: FormStr = "",
    facts: FormStr = "",
    history: FormStr = "",
    demands: FormStr = "",
    promises: FormStr = "",
) -> Response:
    try:
        data = HandoverUpdate(
            emotion=emotion, facts=facts, history=history, demands=demands, promises=promises
        )
    except ValidationError:
        return _case_page(
            tx, principal, case_id, ctx.clock, error="入力が長すぎます", status_code=422
        )
    return _run(
        tx,
        principal,
        case_id,
        ctx.clock,
        "handover",
        lambda s, org_id: service.update_handover(
            session=s,
            org_id=org_id,
            case_id=case_id,
            data=data,
            actor_label=principal.label,
            clock=ctx.clock,
        ),
    )


@router.post(f"{PATH}/{{case_id:int}}/handover/confirm", dependencies=CanManage)
def case_handover_confirm(
    case_id: int, principal: UserDep, tx: TxDep, ctx: CtxDep, note: FormStr = ""
) -> Response:
    return _run(
        tx,
        principal,
        case_id,
        ctx.clock,
        "confirmed",
        lambda s, org_id: service.confirm_handover(
            session=s,
            org_id=org_id,
            case_id=case_id,
            actor_label=principal.label,
            clock=ctx.clock,
            note=note[:2000],
        ),
    )


@router.post(f"{PATH}/{{case_id:int}}/actions", dependencies=CanManage)
def case_action_create(
    case_id: int,
    principal: UserDep,
    tx: TxDep,
    ctx: CtxDep,
    description: FormStr = "",
    promise: FormStr = "",
) -> Response:
    try:
        data = NextActionCreate(
            case_id=case_id, description=description.strip(), promise=promise.strip() or None
        )
    except ValidationError:
        return _case_page(
            tx, principal, case_id, ctx.clock, error="内容を入力してください", status_code=422
        )
    return _run(
        tx,
        principal,
        case_id,
        ctx.clock,
        "action",
        lambda s, org_id: actions.create_action(
            session=s,
            org_id=org_id,
            data=data,
            actor_label=principal.label,
            user_id=principal.user_id,
            clock=ctx.clock,
        ),
    )


@router.post(f"{PATH}/{{case_id:int}}/actions/{{action_id:int}}/{{verb}}", dependencies=CanManage)
def case_action_finish(
    case_id: int, action_id: int, verb: str, principal: UserDep, tx: TxDep, ctx: CtxDep
) -> Response:
    if verb not in ("done", "cancel"):
        raise NotFound("unknown action", message_ja="見つかりません")
    finish = actions.complete_action if verb == "done" else actions.cancel_action

    def work(session: Session, org_id: int) -> None:
        action = actions.get_action(session=session, org_id=org_id, action_id=action_id)
        if action.case_id != case_id:
            raise NotFound("next action not in case", fields={"action_id": action_id})
        finish(
            session=session,
            org_id=org_id,
            action_id=action_id,
            actor_label=principal.label,
            clock=ctx.clock,
        )

    return _run(tx, principal, case_id, ctx.clock, "done" if verb == "done" else "cancelled", work)


# --- policies ---------------------------------------------------------------------------------


def _policies_page(
    tx: Transaction,
    principal: Principal,
    clock: Clock,
    *,
    notice: str = "",
    error: str | None = None,
    draft: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    with tx() as session:
        chrome, org_id = ui.chrome_and_org(session=session, principal=principal, path=PATH)
        items = policies.list_policies(session=session, org_id=org_id)
        default_calendar = json.dumps(BusinessCalendar().to_config(), ensure_ascii=False)
        return ui.page(
            "cases/policies.html",
            {
                "policies": items,
                "target_label": policies.target_label,
                "can_manage": principal.can(Permission.policies_manage),
                "departments": [d.value for d in Department],
                "notice": NOTICES.get(notice),
                "error": error,
                "draft": draft
                or {
                    "name": "",
                    "levels": "supervisor,10\ndepartment:お客様相談室,30\ndepartment:経営,60",
                    "repeat": "0",
                    "sla_minutes": "240",
                    "calendar": default_calendar,
                },
            },
            chrome=chrome,
            status_code=status_code,
        )


@router.get(f"{PATH}/policies", dependencies=CanRead)
def policy_list(principal: UserDep, tx: TxDep, ctx: CtxDep, notice: str = "") -> Response:
    return _policies_page(tx, principal, ctx.clock, notice=notice)


def _parse_levels(text: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, line in enumerate(x.strip() for x in text.splitlines()):
        if not line:
            continue
        target, _, minutes = line.rpartition(",")
        if not target or not minutes.strip().isdigit():
            raise ValidationFailed(
                f"levels[{i}]: expected target,minutes",
                message_ja=f"{i + 1}行目：「通知先,分」の形で入力してください",
                fields={f"levels[{i}]": "format"},
            )
        out.append({"target": target.strip(), "ack_minutes": int(minutes)})
    return out


@router.post(f"{PATH}/policies", dependencies=CanPolicies)
def policy_create(
    principal: UserDep,
    tx: TxDep,
    ctx: CtxDep,
    name: FormStr = "",
    levels: FormStr = "",
    repeat: FormStr = "0",
    sla_minutes: FormStr = "240",
    calendar: FormStr = "{}",
    is_default: FormStr = "",
) -> Response:
    draft = {
        "name": name,
        "levels": levels,
        "repeat": repeat,
        "sla_minutes": sla_minutes,
        "calendar": calendar,
    }
    try:
        try:
            config = json.loads(calendar or "{}")
        except json.JSONDecodeError:
            raise ValidationFailed(
                "calendar: not JSON", message_ja="営業時間の設定がJSONになっていません"
            ) from None
        try:
            data = PolicyCreate.model_validate(
                {
                    "name": name.strip(),
                    "levels": _parse_levels(levels),
                    "repeat": int(repeat or 0),
                    "sla_minutes": int(sla_minutes or 240),
                    "calendar": config if isinstance(config, dict) else {},
                    "is_default": bool(is_default),
                }
            )
        except (ValidationError, ValueError):
            raise ValidationFailed(
                "invalid policy", message_ja="名称・段階・回数・SLA（分）を確認してください"
            ) from None
        with tx() as session:
            _, org_id = ui.chrome_and_org(session=session, principal=principal, path=PATH)
            policies.create_policy(session=session, org_id=org_id, data=data, clock=ctx.clock)
    except HikeshiError as exc:
        if not isinstance(exc, ValidationFailed | Conflict | NotFound):
            raise
        return _policies_page(
            tx, principal, ctx.clock, error=exc.message_ja, draft=draft, status_code=422
        )
    return RedirectResponse(f"{PATH}/policies?notice=policy", status_code=303)
