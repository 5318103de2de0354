"""Rows of contacts for the tenant-isolation test: a customer and their contact."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from hikeshi.clock import Clock
from hikeshi.contacts import service
from hikeshi.contacts.models import Channel
from hikeshi.contacts.schemas import ContactCreate

SAMPLE_BODIES: dict[str, dict[str, Any]] = {
    "/api/v1/orgs/{org_id}/contacts": {"channel": "phone_in", "phone": "03-9999-0000"},
    "/api/v1/orgs/{org_id}/contacts/bulk": {"items": [{"channel": "chat", "subject": "侵入"}]},
    "/api/v1/orgs/{org_id}/contacts/{contact_id}": {"classification": "harassment"},
}


def seed(*, session: Session, org_id: int, clock: Clock) -> dict[str, int]:
    result = service.intake(
        session=session,
        org_id=org_id,
        data=ContactCreate(
            channel=Channel.phone_in,
            phone="03-1234-5678",
            name="シード 太郎",
            subject="シードの問い合わせ",
            idempotency_key="seed",
        ),
        operator_id=None,
        operator_label="seed",
        clock=clock,
    )
    assert result.customer_id is not None
    return {"contact_id": result.contact_id, "customer_id": result.customer_id}
