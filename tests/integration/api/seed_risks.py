"""Rows of the risk register for the tenant-isolation test (see ``conftest.seeders``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from hikeshi.clock import Clock
from hikeshi.risks import service
from hikeshi.risks.schemas import MatrixUpdate, RiskCreate

RISK = {
    "title": "侵入テスト",
    "category": "評判",
    "likelihood": 5,
    "impact": 5,
    "owner": "intruder",
    "review_date": "2026-12-01",
    "playbook_id": None,
    "notes": "",
}

SAMPLE_BODIES: dict[str, dict[str, Any]] = {
    "/api/v1/orgs/{org_id}/risks": RISK,
    "/api/v1/orgs/{org_id}/risks/{risk_id}": RISK,
    "/api/v1/orgs/{org_id}/risks/matrix": {"extra_categories": ["侵入"]},
}


def seed(*, session: Session, org_id: int, clock: Clock) -> dict[str, int]:
    service.set_matrix(
        session=session,
        org_id=org_id,
        data=MatrixUpdate(extra_categories=["法令"]),
        actor_label="seed",
        clock=clock,
    )
    risk = service.create_risk(
        session=session,
        org_id=org_id,
        data=RiskCreate(
            title="製品の発火事故によるリコール",
            category="技術的",
            likelihood=2,
            impact=5,
            owner="品質保証部",
            review_date=date(2026, 12, 1),
            playbook_id="recall",
        ),
        actor_label="seed",
        clock=clock,
        playbooks=service.playbook_titles(),
    )
    return {"risk_id": risk.id}
