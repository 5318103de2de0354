"""Rows of cases for the tenant-isolation test: a policy, a contact escalated to a case, and a
next action per organisation."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from hikeshi.cases import actions, policies, service
from hikeshi.cases.schemas import NextActionCreate, PolicyCreate
from hikeshi.clock import Clock
from hikeshi.contacts.models import Channel, Contact

SAMPLE_BODIES: dict[str, dict[str, Any]] = {
    "/api/v1/orgs/{org_id}/escalation-policies": {
        "name": "侵入テスト",
        "levels": [{"target": "supervisor", "ack_minutes": 5}],
        "calendar": {"always_open": True},
    },
    "/api/v1/orgs/{org_id}/escalation-policies/{policy_id}": {"name": "侵入テスト"},
    "/api/v1/orgs/{org_id}/cases/{case_id}/state": {"state": "resolved", "note": "侵入"},
    "/api/v1/orgs/{org_id}/cases/{case_id}/owner": {"owner_label": "侵入"},
    "/api/v1/orgs/{org_id}/cases/{case_id}/tier": {"tier": "specialist", "department": "法務"},
    "/api/v1/orgs/{org_id}/cases/{case_id}/handover": {"facts": "侵入"},
    "/api/v1/orgs/{org_id}/cases/{case_id}/handover/confirm": {"note": "侵入"},
    "/api/v1/orgs/{org_id}/next-actions": {"description": "侵入", "promise": "本日中"},
}


def seed(*, session: Session, org_id: int, clock: Clock) -> dict[str, int]:
    policy = policies.create_policy(
        session=session,
        org_id=org_id,
        data=PolicyCreate.model_validate(
            {
                "name": "標準",
                "levels": [
                    {"target": "supervisor", "ack_minutes": 10},
                    {"target": "department:法務", "ack_minutes": 30},
                ],
                "is_default": True,
            }
        ),
        clock=clock,
    )
    now = clock.now()
    contact = Contact(
        org_id=org_id,
        channel=Channel.phone_in,
        subject="シードの問い合わせ",
        started_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(contact)
    session.flush()
    case = service.escalate_contact(
        session=session,
        org_id=org_id,
        contact_id=contact.id,
        actor_label="seed",
        user_id=None,
        clock=clock,
    )
    action = actions.create_action(
        session=session,
        org_id=org_id,
        data=NextActionCreate(case_id=case.id, description="折り返し", promise="翌営業日まで"),
        actor_label="seed",
        user_id=None,
        clock=clock,
    )
    return {"policy_id": policy.id, "case_id": case.id, "action_id": action.id}
