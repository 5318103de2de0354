"""Rows of notify for the tenant-isolation test: a contact and a delivery per organisation."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from hikeshi.auth.enums import Department
from hikeshi.clock import Clock
from hikeshi.notify import service
from hikeshi.notify.models import ContactChannel
from hikeshi.notify.schemas import ContactCreate

SAMPLE_BODIES: dict[str, dict[str, Any]] = {
    "/api/v1/orgs/{org_id}/roster/contacts": {
        "department": "法務",
        "name": "侵入テスト",
        "channel": "email",
        "address": "intruder@example.jp",
    },
    "/api/v1/orgs/{org_id}/roster/contacts/{roster_contact_id}": {
        "name": "侵入テスト",
        "is_active": False,
    },
}


def seed(*, session: Session, org_id: int, clock: Clock) -> dict[str, int]:
    contact = service.create_contact(
        session=session,
        org_id=org_id,
        data=ContactCreate(
            department=Department.legal,
            name="法務 当番",
            channel=ContactChannel.email,
            address=f"legal-{org_id}@example.jp",
        ),
        clock=clock,
    )
    (delivery,) = service.queue_deliveries(
        session=session,
        org_id=org_id,
        incident_id=None,
        department=Department.legal,
        trigger="seed",
        subject="連絡テスト",
        body="テスト",
        is_drill=True,
        clock=clock,
    )
    # A failed delivery, so that a retry by the wrong organisation would otherwise succeed.
    delivery.status = "failed"
    session.flush()
    return {"roster_contact_id": contact.id, "delivery_id": delivery.id}
