"""The 連絡体制 page and the notify JSON API through the real application."""

from __future__ import annotations

import re

from hikeshi.audit.service import set_actor, system_actor
from hikeshi.auth.enums import Department
from hikeshi.notify import service
from hikeshi.notify.models import ContactChannel, DeliveryStatus
from hikeshi.notify.schemas import ContactCreate
from tests.integration.web.test_pages import MANAGER, OPERATOR, Site, csrf, form_token, login

HOOK = "https://hooks.slack.com/services/T000/B000/page-secret-token"


def _org_id(site: Site) -> int:
    match = re.search(r'data-org-id="(\d+)"', site.client.get("/roster").text)
    assert match
    return int(match.group(1))


def test_manager_adds_a_contact_and_sees_it_masked(site: Site) -> None:
    assert login(site.client, MANAGER).status_code == 303
    page = site.client.get("/roster")
    assert page.status_code == 200
    assert "部署ごとの連絡先" in page.text and "連絡先を追加" in page.text
    resp = site.client.post(
        "/roster/contacts",
        data={
            "department": "広報",
            "name": "広報 当番",
            "channel": "slack",
            "address": HOOK,
            "csrf_token": form_token(page.text),
        },
    )
    assert resp.status_code == 303
    page = site.client.get(resp.headers["location"])
    assert "連絡先を登録しました" in page.text
    assert "広報 当番" in page.text
    assert "https://hooks.slack.com/…oken" in page.text
    assert "page-secret-token" not in page.text


def test_bad_address_is_refused_in_japanese_without_echoing_it(site: Site) -> None:
    login(site.client, MANAGER)
    token = form_token(site.client.get("/roster").text)
    resp = site.client.post(
        "/roster/contacts",
        data={
            "department": "法務",
            "name": "法務",
            "channel": "teams",
            "address": "ftp://x.example/secret-value",
            "csrf_token": token,
        },
    )
    assert resp.status_code == 422
    assert "Webhook の URL" in resp.text
    assert "secret-value" not in resp.text


def test_operator_reads_but_cannot_change(site: Site) -> None:
    login(site.client, OPERATOR)
    page = site.client.get("/roster")
    assert page.status_code == 200
    assert "連絡先を追加" not in page.text
    resp = site.client.post(
        "/roster/contacts",
        data={
            "department": "法務",
            "name": "x",
            "channel": "email",
            "address": "x@example.jp",
            "csrf_token": csrf(site.client, "/roster"),
        },
    )
    assert resp.status_code == 403


def test_failed_delivery_shows_its_error_and_is_sent_again_from_the_page(site: Site) -> None:
    login(site.client, MANAGER)
    ctx = site.client.app.state.ctx  # type: ignore[attr-defined]
    org_id = _org_id(site)
    with ctx.sessions() as s:
        set_actor(s, system_actor("test"))
        service.create_contact(
            session=s,
            org_id=org_id,
            data=ContactCreate(
                department=Department.legal,
                name="法務",
                channel=ContactChannel.email,
                address="l@example.jp",
            ),
            clock=site.clock,
        )
        (d,) = service.queue_deliveries(
            session=s,
            org_id=org_id,
            incident_id=None,
            department=Department.legal,
            trigger="on_launch",
            subject="立ち上げ",
            body="本文",
            is_drill=True,
            clock=site.clock,
        )
        d.status = DeliveryStatus.failed.value
        d.attempts = 5
        d.last_error = "webhook answered HTTP 500: server_error"
        s.commit()
        delivery_id = d.id
    page = site.client.get("/roster")
    assert "【訓練】立ち上げ" in page.text
    assert "失敗" in page.text and "HTTP 500" in page.text
    assert f"/roster/deliveries/{delivery_id}/retry" in page.text
    resp = site.client.post(
        f"/roster/deliveries/{delivery_id}/retry", data={"csrf_token": form_token(page.text)}
    )
    assert resp.status_code == 303
    page = site.client.get(resp.headers["location"])
    assert "再送を受け付けました" in page.text and "送信待ち" in page.text

    api = site.client.get(
        f"/api/v1/orgs/{org_id}/deliveries", headers={"x-csrf-token": csrf(site.client)}
    )
    assert api.status_code == 200
    (row,) = api.json()["data"]
    assert row["status"] == "queued" and row["is_drill"] is True
    contacts = site.client.get(f"/api/v1/orgs/{org_id}/roster/contacts").json()["data"]
    assert contacts[0]["masked_address"] == "l***@example.jp"
    assert "address" not in contacts[0]
