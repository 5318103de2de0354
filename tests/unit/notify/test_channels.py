from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy

from hikeshi.notify import channels, service
from hikeshi.notify.models import mask_address


def test_drill_marks_subject_and_text_once() -> None:
    subject, body = service.mark_drill("立ち上げ", "本文", True)
    assert subject == "【訓練】立ち上げ"
    assert body.startswith("【訓練】これは訓練です。") and body.endswith("本文")
    assert service.mark_drill(subject, body, True) == (subject, body)
    assert service.mark_drill("立ち上げ", "本文", False) == ("立ち上げ", "本文")


def test_email_is_utf8_with_an_encoded_japanese_subject() -> None:
    msg = channels.build_email(
        sender="hikeshi@example.jp",
        to="legal@example.jp",
        subject="【訓練】回収のお知らせ",
        body="本文です",
    )
    raw = msg.as_bytes()
    assert "回収".encode() not in raw.split(b"\n\n", 1)[0]  # headers are RFC 2047-encoded
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["Subject"] == "【訓練】回収のお知らせ"
    assert parsed.get_content_charset() == "utf-8"


def test_slack_payload_respects_block_limits() -> None:
    payload = channels.slack_payload(subject="件" * 200, body="本" * 4000)
    header, section = payload["blocks"]
    assert len(header["text"]["text"]) == channels.SLACK_HEADER_LIMIT
    assert len(section["text"]["text"]) == channels.SLACK_SECTION_LIMIT
    assert payload["text"].startswith("件")


def test_teams_payload_is_a_message_with_one_adaptive_card() -> None:
    payload = channels.teams_payload(subject="件名", body="本文", is_drill=True)
    assert payload["type"] == "message"
    card = payload["attachments"][0]["content"]
    assert payload["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert card["body"][0]["color"] == "Attention"


def test_only_http_webhooks_are_accepted() -> None:
    assert channels.is_webhook_url("https://hooks.slack.com/services/T/B/x")
    assert not channels.is_webhook_url("file:///etc/passwd")
    assert not channels.is_webhook_url("ftp://example.jp/x")
    try:
        channels.post_json("file:///etc/passwd", {}, timeout=1)
    except channels.DeliveryError as exc:
        assert "http" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("file: URL was posted")


def test_addresses_are_masked() -> None:
    assert mask_address("email", "legal@example.jp") == "l***@example.jp"
    masked = mask_address("slack", "https://hooks.slack.com/services/T000/B000/XXXXsecretZZ")
    assert masked == "https://hooks.slack.com/…etZZ"
    assert "secret" not in masked


def test_retry_delay_doubles_and_is_capped() -> None:
    assert [service.retry_delay(n) for n in (1, 2, 3)] == [
        timedelta(seconds=30),
        timedelta(minutes=1),
        timedelta(minutes=2),
    ]
    assert service.retry_delay(50) == service.RETRY_CAP


def test_deliveries_partial_renders_with_only_a_list() -> None:
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from hikeshi.web import ui

    row = SimpleNamespace(
        id=7,
        created_at=datetime(2026, 11, 20, 1, 0, tzinfo=UTC),
        department="法務",
        channel="teams",
        recipient="https://example.jp/…abcd",
        is_drill=True,
        subject="【訓練】立ち上げ",
        status="retrying",
        next_attempt_at=datetime(2026, 11, 20, 1, 1, tzinfo=UTC),
        last_error="webhook answered HTTP 500",
        attempts=1,
        max_attempts=5,
        sent_at=None,
    )
    html = ui.render("notify/_deliveries.html", {"deliveries": [row]})
    assert "再試行中" in html and "HTTP 500" in html and "Microsoft Teams" in html
    assert "再送" not in html  # no retry button unless asked for
    assert "送信記録はまだありません" in ui.render("notify/_deliveries.html", {"deliveries": []})
