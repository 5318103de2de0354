"""Deliveries reach real endpoints through the job queue: a local SMTP server (aiosmtpd) and a
local HTTP server standing in for Slack and Microsoft Teams incoming webhooks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hikeshi.audit.service import set_actor, system_actor
from hikeshi.auth.enums import Department
from hikeshi.clock import FrozenClock
from hikeshi.config import Settings
from hikeshi.incidents.models import Incident, TimelineEvent
from hikeshi.jobs.models import Job, JobStatus
from hikeshi.jobs.worker import Worker
from hikeshi.notify import service
from hikeshi.notify.models import ContactChannel, Delivery, DeliveryStatus
from hikeshi.notify.schemas import ContactCreate
from tests.integration.notify.conftest import make_incident
from tests.integration.notify.servers import Inbox, Webhook
from tests.servers import free_port


def _contact(
    session: Session, org_id: int, clock: FrozenClock, channel: ContactChannel, address: str
) -> int:
    contact = service.create_contact(
        session=session,
        org_id=org_id,
        data=ContactCreate(
            department=Department.legal, name="法務 当番", channel=channel, address=address
        ),
        clock=clock,
    )
    return contact.id


def _launch(
    session: Session, org_id: int, clock: FrozenClock, *, is_drill: bool
) -> tuple[int, list[int]]:
    """What the incident launch does: the incident and its messages in one transaction."""
    incident = make_incident(session, org_id, clock, is_drill=is_drill)
    deliveries = service.queue_deliveries(
        session=session,
        org_id=org_id,
        incident_id=incident.id,
        department=Department.legal,
        trigger="on_launch",
        subject="緊急対応を開始しました：電気ケトル KT-200 リコール",
        body="法務部のご確認をお願いします。\n告知文の承認が必要です。",
        is_drill=is_drill,
        clock=clock,
    )
    session.commit()
    return incident.id, [d.id for d in deliveries]


def _delivery(sessions: sessionmaker[Session], delivery_id: int) -> Delivery:
    with sessions() as s:
        d = s.get(Delivery, delivery_id)
        assert d is not None
        return d


def test_drill_email_reaches_a_real_smtp_server_marked_as_drill(
    session: Session,
    sessions: sessionmaker[Session],
    clock: FrozenClock,
    org_id: int,
    worker: Worker,
    inbox_port: tuple[Inbox, int],
    notify_settings: Settings,
) -> None:
    inbox, _ = inbox_port
    _contact(session, org_id, clock, ContactChannel.email, "legal@example.jp")
    _, (delivery_id,) = _launch(session, org_id, clock, is_drill=True)
    assert inbox.messages == []  # nothing leaves before the job runs

    assert worker.run_once() == 1

    assert len(inbox.messages) == 1
    msg = inbox.messages[0]
    assert inbox.recipients[0] == ["legal@example.jp"]
    assert msg["Subject"] == "【訓練】緊急対応を開始しました：電気ケトル KT-200 リコール"
    assert msg["From"] == "hikeshi@example.jp"
    text = msg.get_content()
    assert text.startswith("【訓練】これは訓練です。")
    assert "告知文の承認が必要です。" in text
    delivery = _delivery(sessions, delivery_id)
    assert delivery.status == DeliveryStatus.sent
    assert delivery.attempts == 1
    assert delivery.sent_at == clock.now()


def test_real_incident_email_has_no_drill_mark(
    session: Session,
    clock: FrozenClock,
    org_id: int,
    worker: Worker,
    inbox_port: tuple[Inbox, int],
    notify_settings: Settings,
) -> None:
    inbox, _ = inbox_port
    _contact(session, org_id, clock, ContactChannel.email, "legal@example.jp")
    _launch(session, org_id, clock, is_drill=False)
    worker.run_once()
    assert inbox.messages[0]["Subject"] == "緊急対応を開始しました：電気ケトル KT-200 リコール"
    assert "訓練" not in inbox.messages[0].get_content()


def test_slack_message_in_the_documented_incoming_webhook_shape(
    session: Session,
    clock: FrozenClock,
    org_id: int,
    worker: Worker,
    webhook: Webhook,
    notify_settings: Settings,
) -> None:
    _contact(session, org_id, clock, ContactChannel.slack, webhook.url)
    _launch(session, org_id, clock, is_drill=True)
    worker.run_once()

    (payload,) = webhook.requests
    assert webhook.content_types[0].startswith("application/json")
    assert payload["text"].startswith("【訓練】緊急対応を開始しました")
    header, section = payload["blocks"]
    assert header == {
        "type": "header",
        "text": {
            "type": "plain_text",
            "text": "【訓練】緊急対応を開始しました：電気ケトル KT-200 リコール",
        },
    }
    assert section["type"] == "section"
    assert section["text"]["type"] == "mrkdwn"
    assert section["text"]["text"].startswith("【訓練】")


def test_teams_message_is_an_adaptive_card(
    session: Session,
    clock: FrozenClock,
    org_id: int,
    worker: Worker,
    webhook: Webhook,
    notify_settings: Settings,
) -> None:
    _contact(session, org_id, clock, ContactChannel.teams, webhook.url)
    _launch(session, org_id, clock, is_drill=True)
    worker.run_once()

    (payload,) = webhook.requests
    assert payload["type"] == "message"
    (attachment,) = payload["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    title, text = card["body"]
    assert title["type"] == "TextBlock" and title["wrap"] is True
    assert title["text"].startswith("【訓練】")
    assert text["type"] == "TextBlock" and "法務部のご確認" in text["text"]


def test_failing_webhook_is_retried_visibly_and_never_undoes_the_launch(
    session: Session,
    sessions: sessionmaker[Session],
    clock: FrozenClock,
    org_id: int,
    worker: Worker,
    webhook: Webhook,
    notify_settings: Settings,
) -> None:
    webhook.status = 500
    _contact(session, org_id, clock, ContactChannel.slack, webhook.url)
    incident_id, (delivery_id,) = _launch(session, org_id, clock, is_drill=False)

    assert worker.run_once() == 1
    first = _delivery(sessions, delivery_id)
    assert first.status == DeliveryStatus.retrying
    assert first.attempts == 1
    assert first.last_error is not None and "HTTP 500" in first.last_error
    assert "SECRET" not in first.last_error  # the webhook URL is never written down
    assert first.next_attempt_at == clock.now() + timedelta(seconds=30)
    # The launch stands, and the job of the failed attempt finished normally.
    with sessions() as s:
        assert s.get(Incident, incident_id) is not None
        jobs = s.scalars(select(Job).where(Job.name == "notify.deliver").order_by(Job.id)).all()
        assert [j.status for j in jobs] == [JobStatus.DONE, JobStatus.PENDING]
        assert jobs[1].run_at == first.next_attempt_at

    # Not before the backoff …
    assert worker.run_once() == 0
    clock.advance(timedelta(seconds=30))
    # … then again, and again with a doubled wait.
    assert worker.run_once() == 1
    second = _delivery(sessions, delivery_id)
    assert (second.status, second.attempts) == (DeliveryStatus.retrying, 2)
    assert second.next_attempt_at == clock.now() + timedelta(minutes=1)
    assert len(webhook.requests) == 2

    webhook.status = 200
    clock.advance(timedelta(minutes=1))
    assert worker.run_once() == 1
    done = _delivery(sessions, delivery_id)
    assert (done.status, done.attempts, done.last_error) == (DeliveryStatus.sent, 3, None)
    assert done.sent_at == clock.now()


def test_after_the_last_attempt_it_shows_failed_and_can_be_sent_again(
    session: Session,
    sessions: sessionmaker[Session],
    clock: FrozenClock,
    org_id: int,
    worker: Worker,
    webhook: Webhook,
    notify_settings: Settings,
) -> None:
    webhook.status = 503
    _contact(session, org_id, clock, ContactChannel.teams, webhook.url)
    _, (delivery_id,) = _launch(session, org_id, clock, is_drill=False)
    for _ in range(service.MAX_ATTEMPTS):
        assert worker.run_once() == 1
        clock.advance(service.RETRY_CAP)
    failed = _delivery(sessions, delivery_id)
    assert failed.status == DeliveryStatus.failed
    assert failed.attempts == service.MAX_ATTEMPTS
    assert failed.next_attempt_at is None
    assert failed.last_error is not None and "HTTP 503" in failed.last_error
    assert worker.run_once() == 0  # nothing more is scheduled
    # The failure is on the incident's timeline, where the final report will show it.
    with sessions() as s:
        kinds = s.scalars(
            select(TimelineEvent.summary).where(
                TimelineEvent.incident_id == failed.incident_id,
                TimelineEvent.kind == "notify.failed",
            )
        ).all()
    assert len(kinds) == 1 and "失敗" in kinds[0] and "HTTP 503" in kinds[0]

    webhook.status = 200
    with sessions() as s:
        set_actor(s, system_actor("test-person"))
        service.retry_delivery(session=s, org_id=org_id, delivery_id=delivery_id, clock=clock)
        s.commit()
    assert worker.run_once() == 1
    sent = _delivery(sessions, delivery_id)
    assert sent.status == DeliveryStatus.sent
    assert sent.attempts == service.MAX_ATTEMPTS + 1


def test_unreachable_smtp_is_recorded_not_raised(
    session: Session,
    sessions: sessionmaker[Session],
    clock: FrozenClock,
    org_id: int,
    worker: Worker,
    notify_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dead = notify_settings.model_copy(update={"smtp_port": free_port()})
    worker.settings = dead
    _contact(session, org_id, clock, ContactChannel.email, "legal@example.jp")
    _, (delivery_id,) = _launch(session, org_id, clock, is_drill=False)
    assert worker.run_once() == 1
    d = _delivery(sessions, delivery_id)
    assert d.status == DeliveryStatus.retrying
    assert d.last_error is not None and d.last_error.startswith("SMTP error")
