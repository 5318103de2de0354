"""Contact intake and handling through the JSON API, on a real database."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from hikeshi.audit.models import AuditEvent
from hikeshi.clock import FrozenClock
from hikeshi.contacts.models import Contact, Customer
from tests.integration.contacts.floor import Floor, open_floor

WEBHOOK = {
    "channel": "web_form",
    "phone": "０３－１２３４－５６７８",
    "email": "Hanako.Yamada@Example.JP",
    "name": "山田 花子",
    "subject": "ヒーターが対象か知りたい",
    "notes": "Webフォームから",
    "source": "webform",
}


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 23, 1, 0, tzinfo=UTC))


@pytest.fixture
def floor(fresh_db_url: str, clock: FrozenClock) -> Iterator[Floor]:
    yield from open_floor(fresh_db_url, clock)


def test_replaying_the_same_webhook_100_times_creates_one_contact(floor: Floor) -> None:
    body = {**WEBHOOK, "idempotency_key": "webform-delivery-42"}
    first = floor.client.post(floor.api("/contacts"), json=body, headers=floor.token)
    assert first.status_code == 201, first.text
    assert first.json()["created"] is True
    contact_id = first.json()["contact"]["id"]
    for _ in range(99):
        again = floor.client.post(floor.api("/contacts"), json=body, headers=floor.token)
        assert again.status_code == 200
        assert again.json() == {"created": False, "contact": first.json()["contact"]}
    assert floor.count(Contact) == 1
    assert floor.count(Customer) == 1
    assert floor.count(AuditEvent, action="contacts.create") == 1
    # The key may come as a header too (webhook senders often put it there).
    header = {**floor.token, "Idempotency-Key": "webform-delivery-42"}
    replay = floor.client.post(floor.api("/contacts"), json=WEBHOOK, headers=header)
    assert replay.status_code == 200
    assert replay.json()["contact"]["id"] == contact_id


def test_concurrent_replays_from_threads_create_one_contact(floor: Floor) -> None:
    body = {**WEBHOOK, "idempotency_key": "race-1"}
    codes: list[int] = []
    ids: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def post() -> None:
        barrier.wait()
        for _ in range(5):
            resp = floor.client.post(floor.api("/contacts"), json=body, headers=floor.token)
            with lock:
                codes.append(resp.status_code)
                ids.append(resp.json()["contact"]["id"])

    threads = [threading.Thread(target=post) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(set(codes)) in ([200, 201], [201])
    assert codes.count(201) == 1
    assert len(set(ids)) == 1
    assert floor.count(Contact) == 1


def test_phone_and_email_are_normalised_and_the_customer_matched(floor: Floor) -> None:
    first = floor.client.post(floor.api("/contacts"), json=WEBHOOK, headers=floor.token).json()
    customer_id = first["contact"]["customer_id"]
    customer = floor.client.get(
        floor.api(f"/customers/{customer_id}"), headers=floor.headers["operator"]
    ).json()["customer"]
    assert customer["phone_e164"] == "+81312345678"
    assert customer["phone_display"] == "03-1234-5678"
    assert customer["email"] == "hanako.yamada@example.jp"
    # Another notation of the same number, on another channel: the same customer.
    second = floor.client.post(
        floor.api("/contacts"),
        json={"channel": "phone_in", "phone": "+81 3 1234 5678", "subject": "二回目"},
        headers=floor.token,
    ).json()
    assert second["contact"]["customer_id"] == customer_id
    by_mail = floor.client.post(
        floor.api("/contacts"),
        json={"channel": "email", "email": "HANAKO.YAMADA@example.jp", "subject": "三回目"},
        headers=floor.token,
    ).json()
    assert by_mail["contact"]["customer_id"] == customer_id
    mobile = floor.client.post(
        floor.api("/contacts"),
        json={"channel": "phone_in", "phone": "09012345678"},
        headers=floor.token,
    ).json()
    other = floor.client.get(
        floor.api(f"/customers/{mobile['contact']['customer_id']}"), headers=floor.token
    ).json()["customer"]
    assert other["phone_display"] == "090-1234-5678"
    assert floor.count(Customer) == 2
    # The full history, newest first.
    detail = floor.client.get(floor.api(f"/customers/{customer_id}"), headers=floor.token).json()
    subjects = [c["subject"] for c in detail["contacts"]]
    assert subjects == ["三回目", "二回目", WEBHOOK["subject"]]
    found = floor.client.get(floor.api("/customers?q=03-1234-5678"), headers=floor.token).json()
    assert [c["id"] for c in found["data"]] == [customer_id]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"channel": "phone_in", "phone": "03-1234"}, "phone"),
        ({"channel": "phone_in", "phone": "電話番号"}, "phone"),
        ({"channel": "email", "email": "not-an-address"}, "email"),
        ({"channel": "chat", "customer_id": 999999}, "customer_id"),
        ({"channel": "chat", "incident_id": 999999}, "incident_id"),
        (
            {
                "channel": "chat",
                "started_at": "2026-11-23T10:00:00+09:00",
                "ended_at": "2026-11-23T09:00:00+09:00",
            },
            "ended_at",
        ),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    floor: Floor, body: dict[str, object], field: str
) -> None:
    audit_before = floor.count(AuditEvent)
    resp = floor.client.post(floor.api("/contacts"), json=body, headers=floor.token)
    assert resp.status_code in (404, 422), resp.text
    assert field in resp.json()["error"]["fields"]
    assert floor.count(Contact) == 0
    assert floor.count(Customer) == 0
    assert floor.count(AuditEvent) == audit_before


def test_bulk_is_all_or_nothing_with_errors_by_index(floor: Floor) -> None:
    items = [
        {"channel": "email", "email": f"c{i}@example.jp", "idempotency_key": f"b-{i}"}
        for i in range(10)
    ]
    items[3]["phone"] = "0000"
    items[7]["customer_id"] = 424242
    resp = floor.client.post(
        floor.api("/contacts/bulk"), json={"items": items}, headers=floor.token
    )
    assert resp.status_code == 422
    fields = resp.json()["error"]["fields"]
    assert set(fields) == {"items.3.phone", "items.7.customer_id"}
    assert floor.count(Contact) == 0
    assert floor.count(Customer) == 0

    del items[3]["phone"]
    del items[7]["customer_id"]
    items.append({**items[0]})  # the same key twice in one request: one contact
    ok = floor.client.post(floor.api("/contacts/bulk"), json={"items": items}, headers=floor.token)
    assert ok.status_code == 201, ok.text
    assert ok.json()["created"] == 10
    assert ok.json()["existing"] == 1
    assert ok.json()["ids"][10] == ok.json()["ids"][0]
    again = floor.client.post(
        floor.api("/contacts/bulk"), json={"items": items}, headers=floor.token
    )
    assert again.status_code == 200
    assert again.json()["ids"] == ok.json()["ids"]
    assert floor.count(Contact) == 10
    assert floor.count(Customer) == 10
    too_many = floor.client.post(
        floor.api("/contacts/bulk"),
        json={"items": [{"channel": "chat"}] * 1001},
        headers=floor.token,
    )
    assert too_many.status_code == 422


def test_classification_patch_is_audited_and_incident_checked(floor: Floor) -> None:
    created = floor.client.post(floor.api("/contacts"), json=WEBHOOK, headers=floor.token).json()
    contact_id = created["contact"]["id"]
    resp = floor.client.patch(
        floor.api(f"/contacts/{contact_id}"),
        json={
            "classification": "complaint",
            "priority": "P1",
            "incident_id": floor.incident_id,
            "transcript": "お客様：まだ返金されない",
        },
        headers=floor.headers["operator"],
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["classification"] == "complaint"
    assert resp.json()["incident_id"] == floor.incident_id
    rows = floor.rows(
        select(AuditEvent.before, AuditEvent.after, AuditEvent.actor_label).where(
            AuditEvent.action == "contacts.update", AuditEvent.entity_id == str(contact_id)
        )
    )
    assert len(rows) == 1
    before, after, actor = rows[0]
    assert before["classification"] is None
    assert after["classification"] == "complaint"
    assert after["priority"] == "P1"
    assert actor == "operator@floor.example.jp"
    bad = floor.client.patch(
        floor.api(f"/contacts/{contact_id}"),
        json={"incident_id": 987654, "classification": "harassment"},
        headers=floor.headers["operator"],
    )
    assert bad.status_code == 404
    assert "incident_id" in bad.json()["error"]["fields"]
    unknown = floor.client.patch(
        floor.api(f"/contacts/{contact_id}"),
        json={"classification": "angry"},
        headers=floor.headers["operator"],
    )
    assert unknown.status_code == 422
    got = floor.client.get(floor.api(f"/contacts/{contact_id}"), headers=floor.token).json()
    assert got["classification"] == "complaint"
    listed = floor.client.get(
        floor.api("/contacts?classification=complaint"), headers=floor.token
    ).json()
    assert [c["id"] for c in listed["data"]] == [contact_id]


def test_help_request_alerts_the_board_and_is_audited(floor: Floor) -> None:
    created = floor.client.post(floor.api("/contacts"), json=WEBHOOK, headers=floor.token).json()
    contact_id = created["contact"]["id"]
    floor.events.clear()
    resp = floor.client.post(
        floor.api(f"/contacts/{contact_id}/help"), headers=floor.headers["operator"]
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["help_requested_at"] is not None
    helps = [e for e in floor.events if e.type == "contact.help_requested"]
    assert len(helps) == 1
    assert helps[0].org_id == floor.org_id
    assert helps[0].data["operator"] == "operator@floor.example.jp"
    assert helps[0].data["subject"] == WEBHOOK["subject"]
    rows = floor.rows(
        select(AuditEvent.after).where(
            AuditEvent.action == "contacts.update", AuditEvent.entity_id == str(contact_id)
        )
    )
    assert any("help_requested_at" in after for (after,) in rows)


def test_specialist_can_read_but_not_write(floor: Floor) -> None:
    created = floor.client.post(floor.api("/contacts"), json=WEBHOOK, headers=floor.token).json()
    contact_id = created["contact"]["id"]
    specialist = floor.headers["specialist"]
    assert floor.client.get(floor.api("/contacts"), headers=specialist).status_code == 200
    assert (
        floor.client.post(floor.api("/contacts"), json=WEBHOOK, headers=specialist).status_code
        == 403
    )
    assert (
        floor.client.patch(
            floor.api(f"/contacts/{contact_id}"),
            json={"classification": "inquiry"},
            headers=specialist,
        ).status_code
        == 403
    )
    assert (
        floor.client.post(floor.api(f"/contacts/{contact_id}/help"), headers=specialist).status_code
        == 403
    )
    assert floor.count(Contact) == 1
