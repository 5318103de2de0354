"""Sending one message: SMTP email, Slack and Microsoft Teams incoming webhooks.

Standard library only (smtplib, urllib). Every failure a channel can meet is raised as
:class:`DeliveryError` with a short message that never contains the webhook URL or a password,
because it is stored on the delivery and shown to people.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import urllib.error
import urllib.request
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import urlsplit

from hikeshi.config import Settings

ERROR_LIMIT = 500
SLACK_HEADER_LIMIT = 150  # Slack: header block plain_text, max 150 characters
SLACK_SECTION_LIMIT = 3000  # Slack: section block text, max 3000 characters
USER_AGENT = "Hikeshi-notify/1"


class DeliveryError(Exception):
    """The channel did not accept the message; safe to store and show."""

    def __init__(self, message: str) -> None:
        super().__init__(message[:ERROR_LIMIT])


def is_webhook_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("https", "http") and bool(parts.hostname)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- email -------------------------------------------------------------------------------------


def build_email(*, sender: str, to: str, subject: str, body: str) -> EmailMessage:
    msg = EmailMessage()  # UTF-8; the Japanese subject is RFC 2047-encoded by the policy
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    msg.set_content(body)
    return msg


def send_email(settings: Settings, *, to: str, subject: str, body: str) -> None:
    if not settings.smtp_host:
        raise DeliveryError("email is not configured (HIKESHI_SMTP_HOST is unset)")
    msg = build_email(sender=settings.smtp_from, to=to, subject=subject, body=body)
    try:
        with smtplib.SMTP(
            settings.smtp_host, settings.smtp_port, timeout=settings.webhook_timeout_seconds
        ) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username and settings.smtp_password is not None:
                smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
            smtp.send_message(msg)
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"SMTP authentication failed ({exc.smtp_code})") from None
    except smtplib.SMTPResponseException as exc:
        raw = exc.smtp_error
        detail = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        raise DeliveryError(f"SMTP {exc.smtp_code}: {detail}") from None
    except smtplib.SMTPRecipientsRefused as exc:
        codes = ", ".join(str(code) for code, _ in exc.recipients.values())
        raise DeliveryError(f"SMTP recipient refused ({codes})") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"SMTP error: {type(exc).__name__}: {exc}") from None


# --- webhooks ----------------------------------------------------------------------------------


def post_json(url: str, payload: dict[str, Any], *, timeout: float) -> None:
    """POST ``payload``; anything but a 2xx answer is a :class:`DeliveryError`."""
    if not is_webhook_url(url):
        raise DeliveryError("webhook URL must be http(s)")
    request = urllib.request.Request(  # noqa: S310 - http(s) only, checked above
        url,
        data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status = response.status
            response.read(1024)
    except urllib.error.HTTPError as exc:
        body = exc.read(200).decode("utf-8", "replace").strip()
        raise DeliveryError(f"webhook answered HTTP {exc.code}: {body}".rstrip(": ")) from None
    except urllib.error.URLError as exc:
        raise DeliveryError(f"webhook unreachable: {exc.reason}") from None
    except (TimeoutError, OSError) as exc:
        raise DeliveryError(f"webhook error: {type(exc).__name__}: {exc}") from None
    if not 200 <= status < 300:
        raise DeliveryError(f"webhook answered HTTP {status}")


def slack_payload(*, subject: str, body: str) -> dict[str, Any]:
    """Slack incoming webhook: ``text`` is the notification fallback, ``blocks`` the layout."""
    return {
        "text": f"{subject}\n{body}",
        "blocks": [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": _clip(subject, SLACK_HEADER_LIMIT)},
            },
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": _clip(body, SLACK_SECTION_LIMIT)},
            },
        ],
    }


def teams_payload(*, subject: str, body: str, is_drill: bool = False) -> dict[str, Any]:
    """Microsoft Teams incoming webhook (and Workflows): a message carrying an Adaptive Card."""
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {
                "type": "TextBlock",
                "text": subject,
                "weight": "Bolder",
                "size": "Medium",
                "wrap": True,
                **({"color": "Attention"} if is_drill else {}),
            },
            {"type": "TextBlock", "text": body, "wrap": True},
        ],
    }
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


def post_slack(url: str, *, subject: str, body: str, timeout: float) -> None:
    post_json(url, slack_payload(subject=subject, body=body), timeout=timeout)


def post_teams(
    url: str, *, subject: str, body: str, timeout: float, is_drill: bool = False
) -> None:
    post_json(url, teams_payload(subject=subject, body=body, is_drill=is_drill), timeout=timeout)
