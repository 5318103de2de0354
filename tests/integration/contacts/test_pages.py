"""The operator console: script and FAQ search, customer history, quick classification,
手上げ and エスカレーション, through the server-rendered pages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from hikeshi.audit.models import AuditEvent
from hikeshi.clock import FrozenClock
from hikeshi.contacts.models import Classification, Contact, Customer
from tests.integration.contacts.floor import Floor, open_floor


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 23, 1, 0, tzinfo=UTC))


@pytest.fixture
def floor(fresh_db_url: str, clock: FrozenClock) -> Iterator[Floor]:
    yield from open_floor(fresh_db_url, clock)


def _form(floor: Floor, who: str) -> dict[str, str]:
    return {"csrf_token": floor.headers[who]["x-csrf-token"]}


def _cookie(floor: Floor, who: str) -> dict[str, str]:
    return {"Cookie": floor.headers[who]["Cookie"]}


def _new_contact(floor: Floor, **fields: str) -> int:
    data = {
        **_form(floor, "operator"),
        "channel": "phone_in",
        "phone": "03-1234-5678",
        "name": "山田 花子",
        "subject": "返金について",
        "incident_id": str(floor.incident_id),
        "form_key": "k1",
        **fields,
    }
    resp = floor.client.post(
        "/contacts/console", data=data, headers=_cookie(floor, "operator"), follow_redirects=False
    )
    assert resp.status_code == 303, resp.text
    match = re.match(r"/contacts/(\d+)\?", resp.headers["location"])
    assert match
    return int(match.group(1))


def test_console_shows_script_faq_and_search_results(floor: Floor) -> None:
    page = floor.client.get("/contacts/console", headers=_cookie(floor, "operator"))
    assert page.status_code == 200
    assert 'id="script-opening"' in page.text
    assert 'id="faq"' in page.text
    assert "<script>" not in page.text  # CSP: no inline scripts
    found = floor.client.get(
        f"/contacts/console?incident_id={floor.incident_id}&q=ヘンキン 返金",
        headers=_cookie(floor, "operator"),
    )
    assert found.status_code == 200
    assert 'id="search-results"' in found.text
    assert "返金" in found.text.split('id="search-results"')[1].split("</ol>")[0]
    none = floor.client.get("/contacts/console?q=zzzzqqqq", headers=_cookie(floor, "operator"))
    assert 'id="no-hits"' in none.text


def test_new_contact_then_history_classification_help_and_escalation(floor: Floor) -> None:
    first = _new_contact(floor)
    second = _new_contact(floor, phone="０３（１２３４）５６７８", subject="二回目", form_key="k2")
    assert floor.count(Customer) == 1
    page = floor.client.get(f"/contacts/{second}", headers=_cookie(floor, "operator"))
    assert page.status_code == 200
    history = page.text.split('id="history"')[1].split("</ol>")[0]
    assert history.index(f"/contacts/{second}") < history.index(f"/contacts/{first}")
    assert "03-1234-5678" in page.text

    # The same form sent twice (a double click) is one contact.
    again = _new_contact(floor, subject="二回目", form_key="k2")
    assert again == second
    assert floor.count(Contact) == 2

    resp = floor.client.post(
        f"/contacts/{second}/classify",
        data={**_form(floor, "operator"), "classification": "harassment"},
        headers=_cookie(floor, "operator"),
        follow_redirects=False,
    )
    assert resp.status_code == 303
    rows = floor.rows(
        select(AuditEvent.after).where(
            AuditEvent.action == "contacts.update", AuditEvent.entity_id == str(second)
        )
    )
    assert [after.get("classification") for (after,) in rows] == ["harassment"]

    floor.events.clear()
    resp = floor.client.post(
        f"/contacts/{second}/help",
        data=_form(floor, "operator"),
        headers=_cookie(floor, "operator"),
        follow_redirects=False,
    )
    assert resp.status_code == 303
    assert [e.type for e in floor.events] == ["contact.help_requested"]
    assert floor.events[0].data["subject"] == "二回目"
    shown = floor.client.get(resp.headers["location"], headers=_cookie(floor, "operator"))
    assert 'id="help-flag"' in shown.text

    resp = floor.client.post(
        f"/contacts/{second}/escalate",
        data={**_form(floor, "operator"), "reason": "責任者を出せと言われた"},
        headers=_cookie(floor, "operator"),
        follow_redirects=False,
    )
    assert resp.status_code == 303, resp.text
    with floor.client.app.state.ctx.sessions() as s:  # type: ignore[attr-defined]
        contact = s.get(Contact, second)
        assert contact is not None
        assert contact.status.value == "escalated"
        assert contact.classification is Classification.harassment


def test_bad_phone_rerenders_the_form_with_the_field(floor: Floor) -> None:
    resp = floor.client.post(
        "/contacts/console",
        data={
            **_form(floor, "operator"),
            "channel": "phone_in",
            "phone": "03-12",
            "subject": "残すべき件名",
        },
        headers=_cookie(floor, "operator"),
    )
    assert resp.status_code == 422
    assert "電話番号" in resp.text
    assert 'value="残すべき件名"' in resp.text
    assert floor.count(Contact) == 0


def test_specialist_reads_but_cannot_write(floor: Floor) -> None:
    contact_id = _new_contact(floor)
    page = floor.client.get(f"/contacts/{contact_id}", headers=_cookie(floor, "specialist"))
    assert page.status_code == 200
    assert 'id="classify-form"' not in page.text
    assert 'id="help-button"' not in page.text
    resp = floor.client.post(
        f"/contacts/{contact_id}/classify",
        data={**_form(floor, "specialist"), "classification": "inquiry"},
        headers=_cookie(floor, "specialist"),
    )
    assert resp.status_code == 403
    listing = floor.client.get("/contacts", headers=_cookie(floor, "specialist"))
    assert listing.status_code == 200
    assert 'id="open-console"' not in listing.text
