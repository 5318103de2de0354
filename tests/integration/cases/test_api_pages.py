"""The cases API and pages over HTTP: permissions, error shapes, the board, the pages."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from hikeshi.audit.service import set_actor, system_actor
from hikeshi.auth import service as auth_service
from hikeshi.auth.enums import Role
from hikeshi.cases.models import Case, EscalationPolicy, NextAction
from hikeshi.clock import SystemClock
from hikeshi.contacts.models import Channel, Contact
from hikeshi.main import create_app
from tests.dbutil import create_database, drop_database
from tests.integration.api.conftest import bearer, settings_for


class Site:
    def __init__(self, client: TestClient, url: str) -> None:
        self.client = client
        self.url = url
        self.tokens: dict[Role, str] = {}
        self.cookies: dict[Role, dict[str, str]] = {}
        self.org_id = 0

    def api(self, path: str) -> str:
        return f"/api/v1/orgs/{self.org_id}{path}"

    def contact(self, subject: str = "ケトルの不具合") -> int:
        sessions = self.client.app.state.ctx.sessions  # type: ignore[attr-defined]
        with sessions() as s:
            set_actor(s, system_actor("test"))
            now = SystemClock().now()
            c = Contact(
                org_id=self.org_id,
                channel=Channel.email,
                subject=subject,
                notes="交換希望",
                started_at=now,
                created_at=now,
                updated_at=now,
            )
            s.add(c)
            s.commit()
            return c.id


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    url = create_database(Path(tmp_path_factory.mktemp("cases-api")))
    app = create_app(settings_for(url))
    with TestClient(app) as client:
        st = Site(client, url)
        sessions = app.state.ctx.sessions
        clock = SystemClock()
        with sessions() as s:
            set_actor(s, system_actor("test-seed"))
            org = auth_service.create_org(
                session=s, slug="cases-web", name="ケース株式会社", clock=clock
            )
            st.org_id = org.id
            for role in (Role.operator, Role.supervisor, Role.manager):
                user = auth_service.create_user(
                    session=s,
                    email=f"{role.value}@cases.example.jp",
                    display_name=role.label_ja,
                    password="cases-password-2026",
                    role=role,
                    department=None,
                    org_ids=[org.id],
                    clock=clock,
                )
                raw, _ = auth_service.issue_api_token(
                    session=s,
                    org_id=org.id,
                    name=role.value,
                    role=role,
                    issuer_role=Role.admin,
                    created_by_id=None,
                    expires_at=None,
                    clock=clock,
                )
                st.tokens[role] = raw
                cookie, web = auth_service.start_web_session(
                    session=s,
                    user=user,
                    ttl=timedelta(hours=1),
                    clock=clock,
                    org_ids=frozenset({org.id}),
                )
                name = app.state.ctx.settings.session_cookie_name
                st.cookies[role] = {"Cookie": f"{name}={cookie}", "x-csrf-token": web.csrf_token}
            s.commit()
        yield st
    drop_database(url)


def post(site: Site, role: Role, path: str, body: dict[str, Any] | None = None) -> Any:
    return site.client.post(site.api(path), headers=bearer(site.tokens[role]), json=body or {})


def test_escalate_acknowledge_twice_and_operator_refused(site: Site) -> None:
    contact_id = site.contact()
    resp = post(site, Role.operator, "/cases", {"contact_id": contact_id, "reason": "上の者を出せ"})
    assert resp.status_code == 201, resp.text
    case = resp.json()
    assert case["sla"]["label"] == "対応中" and case["level_target"] == "supervisor"
    again = post(site, Role.operator, "/cases", {"contact_id": contact_id})
    assert again.status_code == 409 and again.json()["error"]["fields"]["contact_id"] == contact_id
    missing = post(site, Role.operator, "/cases", {"contact_id": 987654})
    assert missing.status_code == 404 and "contact_id" in missing.json()["error"]["fields"]

    assert post(site, Role.operator, f"/cases/{case['id']}/acknowledge").status_code == 403
    ok = post(site, Role.supervisor, f"/cases/{case['id']}/acknowledge")
    assert ok.status_code == 200 and ok.json()["acknowledged_at"]
    second = post(site, Role.supervisor, f"/cases/{case['id']}/acknowledge")
    assert second.status_code == 409
    assert second.json()["error"]["fields"] == {"case_id": case["id"]}


def test_bad_input_is_named_and_nothing_is_written(site: Site) -> None:
    case = post(site, Role.operator, "/cases", {"contact_id": site.contact()}).json()
    sessions = site.client.app.state.ctx.sessions  # type: ignore[attr-defined]
    past = post(
        site,
        Role.supervisor,
        "/next-actions",
        {"case_id": case["id"], "description": "x", "due_at": "2020-01-01T10:00:00+09:00"},
    )
    assert past.status_code == 422 and "due_at" in past.json()["error"]["fields"]
    tier = post(
        site,
        Role.supervisor,
        f"/cases/{case['id']}/tier",
        {"tier": "specialist", "department": "営業"},
    )
    assert tier.status_code == 422 and "department" in tier.json()["error"]["fields"]
    unknown = post(site, Role.supervisor, "/cases/999999/acknowledge")
    assert unknown.status_code == 404 and unknown.json()["error"]["fields"] == {"case_id": 999999}
    policy = post(
        site,
        Role.manager,
        "/escalation-policies",
        {"name": "x", "levels": [{"target": "department:営業", "ack_minutes": 5}]},
    )
    assert policy.status_code == 422 and "levels[0].target" in policy.json()["error"]["fields"]
    policy = post(
        site,
        Role.manager,
        "/escalation-policies",
        {"name": "x", "levels": [{"target": "supervisor", "ack_minutes": 0}]},
    )
    assert "levels[0].ack_minutes" in policy.json()["error"]["fields"]
    policy = post(
        site,
        Role.manager,
        "/escalation-policies",
        {
            "name": "x",
            "levels": [{"target": "supervisor", "ack_minutes": 5}],
            "calendar": {"hours": {"mon": [["25:00", "18:00"]]}},
        },
    )
    assert policy.status_code == 422
    assert any(k.startswith("calendar.hours") for k in policy.json()["error"]["fields"])
    with sessions() as s:
        c = s.get(Case, case["id"])
        assert c is not None and c.tier.value == "supervisor"
        assert (
            s.scalar(
                select(func.count()).select_from(NextAction).where(NextAction.case_id == case["id"])
            )
            == 0
        )
        assert (
            s.scalar(
                select(func.count())
                .select_from(EscalationPolicy)
                .where(EscalationPolicy.name == "x")
            )
            == 0
        )


def test_board_orders_unacknowledged_first_and_actions_by_due(site: Site) -> None:
    a = post(site, Role.operator, "/cases", {"contact_id": site.contact("A")}).json()
    b = post(site, Role.operator, "/cases", {"contact_id": site.contact("B")}).json()
    post(site, Role.supervisor, f"/cases/{a['id']}/acknowledge")
    r1 = post(
        site,
        Role.supervisor,
        "/next-actions",
        {"case_id": b["id"], "description": "後", "promise": "翌営業日まで"},
    )
    r2 = post(
        site,
        Role.supervisor,
        "/next-actions",
        {"case_id": b["id"], "description": "先", "promise": "本日中"},
    )
    assert r1.status_code == 201 and r2.status_code == 201
    board = site.client.get(
        site.api("/escalation-board"), headers=bearer(site.tokens[Role.supervisor])
    ).json()
    ids = [c["id"] for c in board["cases"]]
    assert ids.index(b["id"]) < ids.index(a["id"])
    dues = [x["due_at"] for x in board["next_actions"]]
    assert dues == sorted(dues)
    detail = site.client.get(
        site.api(f"/cases/{b['id']}"), headers=bearer(site.tokens[Role.operator])
    ).json()
    assert len(detail["next_actions"]) == 2 and detail["handover"]["facts"].startswith("B")
    kinds = [e["kind"] for e in detail["events"]]
    assert kinds[:2] == ["escalated", "sla.start"] and "action.created" in kinds


def test_pages_render_and_forms_work(site: Site) -> None:
    case = post(site, Role.operator, "/cases", {"contact_id": site.contact("ページ")}).json()
    sv = site.cookies[Role.supervisor]
    page = site.client.get("/escalations", headers=sv)
    assert page.status_code == 200 and "ページ" in page.text and "未受領" in page.text
    detail = site.client.get(f"/escalations/{case['id']}", headers=sv)
    assert detail.status_code == 200
    assert 'id="ack-button"' in detail.text and "私なりに、これまでの経緯" in detail.text
    assert "お客様に確認しました" in detail.text
    form = {"csrf_token": sv["x-csrf-token"]}
    headers = {"Cookie": sv["Cookie"]}
    r = site.client.post(
        f"/escalations/{case['id']}/acknowledge", data=form, headers=headers, follow_redirects=False
    )
    assert r.status_code == 303
    r = site.client.post(f"/escalations/{case['id']}/acknowledge", data=form, headers=headers)
    assert r.status_code == 409 and "既に受領済みです" in r.text

    def submit(path: str, **data: str) -> str:
        resp = site.client.post(
            path, data={**form, **data}, headers=headers, follow_redirects=False
        )
        assert resp.status_code == 303, resp.text
        return str(site.client.get(resp.headers["location"], headers=sv).text)

    assert "お客様に確認済み" in submit(
        f"/escalations/{case['id']}/handover/confirm", note="相違なし"
    )
    assert "折り返し" in submit(
        f"/escalations/{case['id']}/actions", description="折り返し", promise="本日中"
    )
    assert "保留" in submit(f"/escalations/{case['id']}/state", state="waiting_customer")
    op = site.client.get(f"/escalations/{case['id']}", headers=site.cookies[Role.operator])
    assert op.status_code == 200 and 'id="ack-button"' not in op.text
    pol = site.client.get("/escalations/policies", headers=site.cookies[Role.manager])
    assert pol.status_code == 200 and "標準エスカレーション" in pol.text
    mgr = site.cookies[Role.manager]
    r = site.client.post(
        "/escalations/policies",
        headers={"Cookie": mgr["Cookie"]},
        data={
            "csrf_token": mgr["x-csrf-token"],
            "name": "夜間24時間",
            "levels": "supervisor,5",
            "repeat": "1",
            "sla_minutes": "120",
            "calendar": '{"always_open": true}',
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "夜間24時間" in site.client.get("/escalations/policies", headers=mgr).text
    r = site.client.post(
        "/escalations/policies",
        headers={"Cookie": mgr["Cookie"]},
        data={"csrf_token": mgr["x-csrf-token"], "name": "誤り", "levels": "department:営業,5"},
    )
    assert r.status_code == 422 and "通知先が不正" in r.text
