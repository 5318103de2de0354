"""Rows of 部署照会, the authority matrix and decisions for the tenant-isolation test: a contact,
its case, one open inquiry, one decision waiting for approval and one authority rule.

The ``{case_id}`` of the inquiry and decision routes comes from ``seed_cases.py``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from hikeshi.cases.models import (
    AuthorityRule,
    Case,
    CaseState,
    Decision,
    DecisionKind,
    DecisionStatus,
    DepartmentInquiry,
    Tier,
)
from hikeshi.clock import Clock
from hikeshi.contacts.models import Channel, Contact

SAMPLE_BODIES: dict[str, dict[str, Any]] = {
    "/api/v1/orgs/{org_id}/cases/{case_id}/inquiries": {
        "department": "法務",
        "question": "侵入テスト",
        "due_at": "2099-01-01T00:00:00+09:00",
    },
    "/api/v1/orgs/{org_id}/inquiries/{inquiry_id}/answer": {"answer": "侵入"},
    "/api/v1/orgs/{org_id}/inquiries/{inquiry_id}/explanation": {"customer_satisfied": False},
    "/api/v1/orgs/{org_id}/authority/rules": {
        "role": "operator",
        "kind": "refund",
        "max_amount_yen": 99_999,
    },
    "/api/v1/orgs/{org_id}/authority/rules/{rule_id}": {"max_amount_yen": 99_999},
    "/api/v1/orgs/{org_id}/cases/{case_id}/decisions": {
        "kind": "refund",
        "amount_yen": 1,
        "description": "侵入",
    },
    "/api/v1/orgs/{org_id}/decisions/{decision_id}/reject": {"reason": "侵入"},
}


def seed(*, session: Session, org_id: int, clock: Clock) -> dict[str, int]:
    now = clock.now()
    contact = Contact(
        org_id=org_id,
        channel=Channel.phone_in,
        subject="返金のご要望",
        operator_label="seed-operator",
        started_at=now - timedelta(hours=2),
        created_at=now,
        updated_at=now,
    )
    session.add(contact)
    session.flush()
    case = Case(
        org_id=org_id,
        contact_id=contact.id,
        title="返金の例外対応",
        tier=Tier.supervisor,
        state=CaseState.waiting_department,
        escalated_at=now - timedelta(hours=1),
        created_at=now,
        updated_at=now,
    )
    session.add(case)
    session.flush()
    inquiry = DepartmentInquiry(
        org_id=org_id,
        case_id=case.id,
        round=1,
        department="法務",
        question="例外対応は可能でしょうか",
        due_at=now + timedelta(days=2),
        asked_by_label="seed",
        asked_at=now,
    )
    decision = Decision(
        org_id=org_id,
        case_id=case.id,
        kind=DecisionKind.refund,
        amount_yen=50_000,
        description="全額返金",
        status=DecisionStatus.pending_approval,
        requested_by_label="seed",
        requested_role="operator",
        requested_at=now,
    )
    rule = AuthorityRule(
        org_id=org_id, role="supervisor", kind=DecisionKind.refund, max_amount_yen=40_000
    )
    session.add_all([inquiry, decision, rule])
    session.flush()
    # {case_id} is filled by seed_cases.py (a case with its handover card, which the case
    # routes need); this seed's own case only carries the inquiry and the decision.
    return {
        "inquiry_id": inquiry.id,
        "decision_id": decision.id,
        "rule_id": rule.id,
    }
