"""Contacts, queuing deliveries in the caller's transaction, and sending them from the job.

Retries are the delivery's own: a failed attempt is recorded on the row (attempts, last_error,
next_attempt_at) and the next attempt is a new ``notify.deliver`` job, both committed with the
job. Raising instead would roll the record of the failure back along with the job's work.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Sequence
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hikeshi.auth.enums import Department
from hikeshi.clock import Clock
from hikeshi.config import Settings
from hikeshi.errors import Conflict, NotFound, ValidationFailed
from hikeshi.events.service import publish_after_commit
from hikeshi.incidents.models import TimelineEvent
from hikeshi.jobs.queue import enqueue
from hikeshi.notify import channels as transport
from hikeshi.notify.models import (
    CHANNEL_LABELS_JA,
    ContactChannel,
    Delivery,
    DeliveryStatus,
    DepartmentContact,
    mask_address,
)
from hikeshi.notify.schemas import ContactCreate, ContactUpdate

log = logging.getLogger("hikeshi.notify")

JOB_DELIVER = "notify.deliver"
DRILL_MARK = "【訓練】"
DRILL_NOTE = "【訓練】これは訓練です。実際の事案ではありません。"
MAX_ATTEMPTS = 5
RETRY_BASE = timedelta(seconds=30)
RETRY_CAP = timedelta(minutes=15)
SUBJECT_LIMIT = 300
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


# --- contacts ----------------------------------------------------------------------------------


def _check_address(channel: ContactChannel | str, address: str) -> str:
    address = address.strip()
    if channel == ContactChannel.email:
        if not _EMAIL.match(address):
            raise ValidationFailed(
                "invalid email address",
                message_ja="メールアドレスの形式が正しくありません",
                fields={"address": "invalid"},
            )
    elif not transport.is_webhook_url(address):
        raise ValidationFailed(
            "invalid webhook URL",
            message_ja="Webhook の URL（https://…）を入力してください",
            fields={"address": "invalid"},
        )
    return address


def create_contact(
    *, session: Session, org_id: int, data: ContactCreate, clock: Clock
) -> DepartmentContact:
    contact = DepartmentContact(
        org_id=org_id,
        department=data.department.value,
        name=data.name.strip(),
        channel=data.channel.value,
        address=_check_address(data.channel, data.address),
        is_active=True,
        created_at=clock.now(),
    )
    session.add(contact)
    session.flush()
    return contact


def get_contact(*, session: Session, org_id: int, contact_id: int) -> DepartmentContact:
    contact = session.get(DepartmentContact, contact_id)
    if contact is None or contact.org_id != org_id:
        raise NotFound("contact not found", message_ja="連絡先が見つかりません")
    return contact


def list_contacts(
    *, session: Session, org_id: int, department: Department | None = None
) -> Sequence[DepartmentContact]:
    stmt = select(DepartmentContact).where(DepartmentContact.org_id == org_id)
    if department is not None:
        stmt = stmt.where(DepartmentContact.department == department.value)
    return session.scalars(stmt.order_by(DepartmentContact.department, DepartmentContact.id)).all()


def update_contact(
    *, session: Session, org_id: int, contact_id: int, data: ContactUpdate
) -> DepartmentContact:
    contact = get_contact(session=session, org_id=org_id, contact_id=contact_id)
    changes = data.model_dump(exclude_unset=True)
    channel = changes.get("channel") or contact.channel
    if "address" in changes and changes["address"] is not None:
        contact.address = _check_address(channel, changes["address"])
    elif "channel" in changes and changes["channel"] not in (None, contact.channel):
        # The stored address belongs to the old channel; a new one must come with it.
        _check_address(channel, contact.address)
    if changes.get("channel") is not None:
        contact.channel = ContactChannel(changes["channel"]).value
    if changes.get("department") is not None:
        contact.department = Department(changes["department"]).value
    if changes.get("name") is not None:
        contact.name = str(changes["name"]).strip()
    if changes.get("is_active") is not None:
        contact.is_active = bool(changes["is_active"])
    session.flush()
    return contact


def delete_contact(*, session: Session, org_id: int, contact_id: int) -> None:
    """Only a contact nobody was ever sent to; otherwise deactivate it (the record stays)."""
    contact = get_contact(session=session, org_id=org_id, contact_id=contact_id)
    used = session.scalar(select(Delivery.id).where(Delivery.contact_id == contact.id).limit(1))
    if used is not None:
        raise Conflict(
            "contact has deliveries; deactivate it instead",
            message_ja="送信記録がある連絡先は削除できません。無効にしてください",
        )
    session.delete(contact)
    session.flush()


# --- deliveries --------------------------------------------------------------------------------


def mark_drill(subject: str, body: str, is_drill: bool) -> tuple[str, str]:
    """訓練 messages say so at the start of the subject and of the text, always."""
    if not is_drill:
        return subject, body
    if not subject.startswith(DRILL_MARK):
        subject = DRILL_MARK + subject
    if not body.startswith(DRILL_MARK):
        body = f"{DRILL_NOTE}\n\n{body}"
    return subject, body


def _job_key(delivery_id: int, attempt: int) -> str:
    # The first attempt's key is the plain one; later attempts are enqueued while the job of
    # the previous one is still active (it holds the plain key), so they need keys of their own.
    plain = f"{JOB_DELIVER}:{delivery_id}"
    return plain if attempt <= 1 else f"{plain}:{attempt}"


def _enqueue_attempt(session: Session, delivery: Delivery, clock: Clock) -> None:
    enqueue(
        session=session,
        name=JOB_DELIVER,
        payload={"delivery_id": delivery.id},
        run_at=delivery.next_attempt_at,
        key=_job_key(delivery.id, delivery.attempts + 1),
        org_id=delivery.org_id,
        clock=clock,
    )


def queue_deliveries(
    *,
    session: Session,
    org_id: int,
    incident_id: int | None,
    department: Department | str,
    trigger: str,
    subject: str,
    body: str,
    is_drill: bool,
    clock: Clock,
    channels: Collection[str] | None = None,
) -> list[Delivery]:
    """One delivery and one job per active contact of ``department``, in the caller's
    transaction (nothing is sent before it commits). No contact: ``[]``; the caller records
    that gap on its timeline.

    ``channels`` (a playbook RosterEntry's ``channels``) limits the contacts to those channels;
    values without a contact channel (``phone``) are ignored. ``None`` means every channel."""
    dept = Department(department)
    subject, body = mark_drill(subject.strip(), body, is_drill)
    if len(subject) > SUBJECT_LIMIT:
        subject = subject[: SUBJECT_LIMIT - 1] + "…"
    stmt = select(DepartmentContact).where(
        DepartmentContact.org_id == org_id,
        DepartmentContact.department == dept.value,
        DepartmentContact.is_active.is_(True),
    )
    if channels is not None:
        stmt = stmt.where(DepartmentContact.channel.in_([str(c) for c in channels]))
    contacts = session.scalars(stmt.order_by(DepartmentContact.id)).all()
    now = clock.now()
    out: list[Delivery] = []
    for contact in contacts:
        delivery = Delivery(
            org_id=org_id,
            incident_id=incident_id,
            contact_id=contact.id,
            department=dept.value,
            channel=contact.channel,
            recipient=mask_address(contact.channel, contact.address),
            trigger=trigger,
            subject=subject,
            body=body,
            is_drill=is_drill,
            status=DeliveryStatus.queued.value,
            attempts=0,
            max_attempts=MAX_ATTEMPTS,
            last_error=None,
            created_at=now,
            sent_at=None,
            next_attempt_at=None,
        )
        session.add(delivery)
        session.flush()
        _enqueue_attempt(session, delivery, clock)
        out.append(delivery)
    return out


def get_delivery(*, session: Session, org_id: int, delivery_id: int) -> Delivery:
    delivery = session.get(Delivery, delivery_id)
    if delivery is None or delivery.org_id != org_id:
        raise NotFound("delivery not found", message_ja="送信記録が見つかりません")
    return delivery


def list_deliveries(
    *, session: Session, org_id: int, incident_id: int | None = None, limit: int = 100
) -> Sequence[Delivery]:
    stmt = select(Delivery).where(Delivery.org_id == org_id)
    if incident_id is not None:
        stmt = stmt.where(Delivery.incident_id == incident_id)
    return session.scalars(stmt.order_by(Delivery.id.desc()).limit(limit)).all()


def retry_delivery(*, session: Session, org_id: int, delivery_id: int, clock: Clock) -> Delivery:
    """A person sends a failed delivery again: a fresh round of attempts, starting now."""
    delivery = get_delivery(session=session, org_id=org_id, delivery_id=delivery_id)
    if delivery.status != DeliveryStatus.failed:
        raise Conflict(
            "only a failed delivery can be retried",
            message_ja="再送できるのは失敗した送信だけです",
        )
    delivery.status = DeliveryStatus.queued.value
    delivery.max_attempts = delivery.attempts + MAX_ATTEMPTS
    delivery.next_attempt_at = None
    session.flush()
    _enqueue_attempt(session, delivery, clock)
    return delivery


def retry_delay(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min … capped at 15 min."""
    return min(RETRY_BASE * (1 << min(max(attempts - 1, 0), 20)), RETRY_CAP)


def _send(delivery: Delivery, contact: DepartmentContact, settings: Settings) -> None:
    timeout = settings.webhook_timeout_seconds
    if not contact.is_active:
        raise transport.DeliveryError("contact was deactivated")
    if contact.channel == ContactChannel.email:
        transport.send_email(
            settings, to=contact.address, subject=delivery.subject, body=delivery.body
        )
    elif contact.channel == ContactChannel.slack:
        transport.post_slack(
            contact.address, subject=delivery.subject, body=delivery.body, timeout=timeout
        )
    elif contact.channel == ContactChannel.teams:
        transport.post_teams(
            contact.address,
            subject=delivery.subject,
            body=delivery.body,
            timeout=timeout,
            is_drill=delivery.is_drill,
        )
    else:  # pragma: no cover - the column only holds ContactChannel values
        raise transport.DeliveryError(f"unknown channel {contact.channel!r}")


def attempt_delivery(
    *, session: Session, delivery_id: int, settings: Settings, clock: Clock
) -> Delivery | None:
    """One attempt, run by the ``notify.deliver`` job. Never raises for a channel failure:
    it is recorded here and the next attempt is queued (or the delivery is failed)."""
    delivery = session.get(Delivery, delivery_id, with_for_update=True)
    if delivery is None or delivery.status not in (DeliveryStatus.queued, DeliveryStatus.retrying):
        return delivery  # gone, already sent, or failed and not retried: nothing to do
    contact = session.get(DepartmentContact, delivery.contact_id)
    delivery.attempts += 1
    try:
        if contact is None:  # pragma: no cover - contacts with deliveries are not deleted
            raise transport.DeliveryError("contact no longer exists")
        _send(delivery, contact, settings)
    except transport.DeliveryError as exc:
        delivery.last_error = str(exc)
        log.warning(
            "delivery attempt failed",
            extra={
                "delivery_id": delivery.id,
                "channel": delivery.channel,
                "attempt": delivery.attempts,
                "error": delivery.last_error,
            },
        )
        if delivery.attempts >= delivery.max_attempts:
            delivery.status = DeliveryStatus.failed.value
            delivery.next_attempt_at = None
            _outcome_on_timeline(session, delivery, clock)
            # Nobody should learn at the morning meeting that 法務 was never told.
            publish_after_commit(
                session,
                org_id=delivery.org_id,
                type="notify.failed",
                data={
                    "delivery_id": delivery.id,
                    "department": delivery.department,
                    "channel": delivery.channel,
                    "attempts": delivery.attempts,
                },
            )
        else:
            delivery.status = DeliveryStatus.retrying.value
            delivery.next_attempt_at = clock.now() + retry_delay(delivery.attempts)
            session.flush()
            _enqueue_attempt(session, delivery, clock)
    else:
        delivery.status = DeliveryStatus.sent.value
        delivery.sent_at = clock.now()
        delivery.next_attempt_at = None
        delivery.last_error = None
        _outcome_on_timeline(session, delivery, clock)
    session.flush()
    return delivery


def _outcome_on_timeline(session: Session, delivery: Delivery, clock: Clock) -> None:
    """Sent and finally-failed messages go on the incident's timeline (and final report)."""
    if delivery.incident_id is None:
        return
    channel = CHANNEL_LABELS_JA.get(str(delivery.channel), str(delivery.channel))
    mark = "【訓練】" if delivery.is_drill else ""
    if delivery.status == DeliveryStatus.sent.value:
        kind, summary = "notify.sent", f"{mark}{delivery.department}へ{channel}で送信しました"
    else:
        kind = "notify.failed"
        summary = (
            f"{mark}{delivery.department}への{channel}送信に失敗しました"
            f"（{delivery.attempts}回）：{delivery.last_error or ''}"
        )
    session.add(
        TimelineEvent(
            org_id=delivery.org_id,
            incident_id=delivery.incident_id,
            occurred_at=clock.now(),
            kind=kind,
            summary=summary,
            actor_label="hikeshi:notify",
            detail={"delivery_id": delivery.id, "recipient": delivery.recipient},
        )
    )
