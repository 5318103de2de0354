from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hikeshi.audit.models import AuditEvent
from hikeshi.audit.service import REDACTED
from hikeshi.auth import service as auth_service
from hikeshi.auth.enums import Department
from hikeshi.clock import FrozenClock
from hikeshi.errors import Conflict, NotFound, ValidationFailed
from hikeshi.jobs.models import Job
from hikeshi.notify import service
from hikeshi.notify.models import ContactChannel, DeliveryStatus
from hikeshi.notify.schemas import ContactCreate, ContactUpdate

HOOK = "https://hooks.slack.com/services/T000/B000/very-secret-token"


@pytest.fixture
def org_id(session: Session, clock: FrozenClock) -> int:
    return auth_service.create_org(session=session, slug="n-unit", name="単体", clock=clock).id


def _add(
    session: Session,
    org_id: int,
    clock: FrozenClock,
    channel: ContactChannel = ContactChannel.slack,
    address: str = HOOK,
    department: Department = Department.legal,
) -> int:
    data = ContactCreate(department=department, name="当番", channel=channel, address=address)
    return service.create_contact(session=session, org_id=org_id, data=data, clock=clock).id


def _queue(session: Session, org_id: int, clock: FrozenClock, **kw: object) -> list[int]:
    args: dict[str, object] = {
        "incident_id": None,
        "department": Department.legal,
        "trigger": "on_launch",
        "subject": "立ち上げ",
        "body": "本文",
        "is_drill": False,
    }
    args.update(kw)
    out = service.queue_deliveries(session=session, org_id=org_id, clock=clock, **args)  # type: ignore[arg-type]
    return [d.id for d in out]


def test_one_delivery_and_one_job_per_active_contact(
    session: Session, clock: FrozenClock, org_id: int
) -> None:
    a = _add(session, org_id, clock)
    b = _add(session, org_id, clock, ContactChannel.email, "legal@example.jp")
    off = _add(session, org_id, clock, ContactChannel.email, "old@example.jp")
    _add(session, org_id, clock, department=Department.pr)
    service.update_contact(
        session=session, org_id=org_id, contact_id=off, data=ContactUpdate(is_active=False)
    )
    ids = _queue(session, org_id, clock, is_drill=True)
    deliveries = [service.get_delivery(session=session, org_id=org_id, delivery_id=i) for i in ids]
    assert [d.contact_id for d in deliveries] == [a, b]
    assert all(
        d.status == DeliveryStatus.queued and d.subject == "【訓練】立ち上げ" for d in deliveries
    )
    assert "very-secret-token" not in deliveries[0].recipient
    keys = session.scalars(select(Job.key).where(Job.name == "notify.deliver")).all()
    assert sorted(k or "" for k in keys) == sorted(f"notify.deliver:{i}" for i in ids)


def test_department_without_contacts_gets_nothing(
    session: Session, clock: FrozenClock, org_id: int
) -> None:
    assert _queue(session, org_id, clock, department=Department.hr) == []


def test_addresses_are_validated_per_channel(
    session: Session, clock: FrozenClock, org_id: int
) -> None:
    with pytest.raises(ValidationFailed):
        _add(session, org_id, clock, ContactChannel.email, "not-an-address")
    with pytest.raises(ValidationFailed):
        _add(session, org_id, clock, ContactChannel.teams, "javascript:alert(1)")
    cid = _add(session, org_id, clock, ContactChannel.email, "legal@example.jp")
    with pytest.raises(ValidationFailed):  # a webhook channel needs a webhook address
        service.update_contact(
            session=session,
            org_id=org_id,
            contact_id=cid,
            data=ContactUpdate(channel=ContactChannel.slack),
        )


def test_webhook_url_is_redacted_in_the_audit_trail(
    session: Session, clock: FrozenClock, org_id: int
) -> None:
    cid = _add(session, org_id, clock)
    session.flush()
    event = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "department_contacts.create", AuditEvent.entity_id == str(cid)
        )
    ).one()
    assert event.after is not None and event.after["address"] == REDACTED
    assert "very-secret-token" not in str(event.after)


def test_only_failed_deliveries_are_retried_and_used_contacts_are_kept(
    session: Session, clock: FrozenClock, org_id: int
) -> None:
    cid = _add(session, org_id, clock)
    (did,) = _queue(session, org_id, clock)
    with pytest.raises(Conflict):
        service.retry_delivery(session=session, org_id=org_id, delivery_id=did, clock=clock)
    with pytest.raises(Conflict):
        service.delete_contact(session=session, org_id=org_id, contact_id=cid)
    with pytest.raises(NotFound):
        service.retry_delivery(session=session, org_id=org_id + 999, delivery_id=did, clock=clock)
    unused = _add(session, org_id, clock, ContactChannel.email, "x@example.jp")
    service.delete_contact(session=session, org_id=org_id, contact_id=unused)
    assert [c.id for c in service.list_contacts(session=session, org_id=org_id)] == [cid]


def test_channels_of_the_roster_entry_limit_the_contacts(
    session: Session, clock: FrozenClock, org_id: int
) -> None:
    _add(session, org_id, clock)  # slack
    mail = _add(session, org_id, clock, ContactChannel.email, "legal@example.jp")
    ids = _queue(session, org_id, clock, channels=["email", "phone"])
    (only,) = [service.get_delivery(session=session, org_id=org_id, delivery_id=i) for i in ids]
    assert only.contact_id == mail
    assert _queue(session, org_id, clock, channels=["phone"]) == []
