"""The crisis desk pages (緊急対応) through TestClient: launch from a pack (idempotent), notice
approval by 広報 and 法務 before publication, the lifecycle to 終了 with the final report, the
timeline, permissions, and 訓練 marked on every screen."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select

from hikeshi.audit.service import set_actor, system_actor
from hikeshi.auth import service as auth_service
from hikeshi.auth.enums import Department, Role
from hikeshi.auth.models import Organisation
from hikeshi.clock import FrozenClock
from hikeshi.config import Settings
from hikeshi.demo import DEMO_PASSWORD, seed_demo
from hikeshi.incidents import service
from hikeshi.incidents.models import Incident
from hikeshi.incidents.packs import get_pack
from hikeshi.main import create_app
from hikeshi.notify import service as notify_service
from hikeshi.notify.models import ContactChannel
from hikeshi.notify.schemas import ContactCreate
from hikeshi.playbooks.render import example_values
from tests.integration.web.test_pages import form_token, login
from tests.servers import TEST_SECRET

OPERATOR = "operator@demo.hikeshi.jp"
MANAGER = "manager@demo.hikeshi.jp"
LEGAL = "legal@demo.hikeshi.jp"  # 専門部署・法務 (demo)
PR = "pr@incidents.test"  # 専門部署・広報 (created here)
QUALITY = "quality@incidents.test"  # 専門部署・品質保証: not an approver of notices


@dataclass
class Site:
    client: TestClient
    clock: FrozenClock
    orgs: dict[str, int]

    def as_user(self, email: str) -> None:
        resp = login(self.client, email)
        assert resp.status_code == 303, resp.text

    def incidents(self) -> list[Incident]:
        ctx = self.client.app.state.ctx  # type: ignore[attr-defined]
        with ctx.sessions() as session:
            return list(session.scalars(select(Incident).order_by(Incident.id)))

    def get(self, path: str, status: int = 200) -> str:
        resp = self.client.get(path)
        assert resp.status_code == status, (path, resp.status_code, resp.text[:2000])
        text: str = resp.text
        return text


@pytest.fixture
def site(fresh_db_url: str) -> Iterator[Site]:
    clock = FrozenClock(datetime(2026, 11, 20, 1, 0, tzinfo=UTC))
    settings = Settings(
        database_url=fresh_db_url,
        environment="test",
        secret_key=TEST_SECRET,
        log_json=False,
        run_worker_in_server=False,
    )
    app = create_app(settings, clock=clock)
    seed_demo(sessions=app.state.ctx.sessions, clock=clock)
    with app.state.ctx.sessions() as session:
        set_actor(session, system_actor("test"))
        orgs = {o.slug: o.id for o in session.scalars(select(Organisation))}
        for email, dept in ((PR, Department.pr), (QUALITY, Department.quality)):
            auth_service.create_user(
                session=session,
                email=email,
                display_name=email.split("@")[0],
                password=DEMO_PASSWORD,
                role=Role.specialist,
                department=dept,
                org_ids=[orgs["acme-foods"]],
                clock=clock,
            )
        session.commit()
    with TestClient(app, follow_redirects=False) as client:
        yield Site(client=client, clock=clock, orgs=orgs)


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden field {name}"
    return match.group(1)


def launch_form_data(html: str, **overrides: str) -> dict[str, str]:
    """The launch form as the browser would post it, with the example values filled in."""
    data = {"csrf_token": form_token(html), "launch_key": hidden(html, "launch_key")}
    for name, value in re.findall(
        r'<input id="param-[a-z_]+" name="(param_[a-z_]+)" value="([^"]*)"', html
    ):
        data[name] = value
    for name, value in re.findall(
        r'<textarea id="param-[a-z_]+" name="(param_[a-z_]+)"[^>]*>([^<]*)</textarea>', html
    ):
        data[name] = value
    data.update(overrides)
    return data


def launch_recall(site: Site, **overrides: str) -> tuple[int, Response]:
    html = site.get("/incidents/launch/recall?example=1")
    resp = site.client.post("/incidents/launch/recall", data=launch_form_data(html, **overrides))
    assert resp.status_code == 303, resp.text[:3000]
    match = re.match(r"^/incidents/(\d+)\?notice=(launched|exists)$", resp.headers["location"])
    assert match, resp.headers["location"]
    return int(match.group(1)), resp


def notice_path(site: Site, incident_id: int, channel: str) -> str:
    html = site.get(f"/incidents/{incident_id}")
    match = re.search(
        rf'href="(/incidents/{incident_id}/notices/\d+)" id="notice-link-{channel}"', html
    )
    assert match, f"no {channel} notice link"
    return match.group(1)


def approve(site: Site, path: str) -> Response:
    html = site.get(path)
    assert 'id="approve-button"' in html
    resp: Response = site.client.post(
        f"{path}/approve",
        data={"csrf_token": form_token(html), "revision": hidden(html, "revision")},
    )
    return resp


# --- list and launch -------------------------------------------------------------------------


def test_manager_launches_from_the_pack_and_a_double_submit_stays_one(site: Site) -> None:
    site.as_user(MANAGER)
    listing = site.get("/incidents")
    assert 'id="launch-button"' in listing
    assert 'href="/risks"' in listing and 'href="/roster"' in listing
    assert "インシデントはまだありません" in listing

    choose = site.get("/incidents/launch")
    for pack_id in ("recall", "data_breach", "accident_disaster", "outage", "firestorm"):
        assert f'id="pack-{pack_id}"' in choose

    form = site.get("/incidents/launch/recall")
    assert 'type="date"' in form  # announce_date
    assert 'id="param-serial_ranges"' in form and 'id="is-drill"' in form
    assert "本体底面の銘板シール" in form  # the example as placeholder

    filled = site.get("/incidents/launch/recall?example=1")
    data = launch_form_data(filled, title="ケトル回収")
    first = site.client.post("/incidents/launch/recall", data=data)
    assert first.status_code == 303
    again = site.client.post("/incidents/launch/recall", data=data)
    assert again.status_code == 303
    assert first.headers["location"].split("?")[0] == again.headers["location"].split("?")[0]
    assert again.headers["location"].endswith("notice=exists")
    incidents = site.incidents()
    assert len(incidents) == 1
    incident = incidents[0]
    assert incident.title == "ケトル回収" and incident.org_id == site.orgs["acme-foods"]
    assert incident.launched_by_label == MANAGER and not incident.is_drill

    page = site.get(first.headers["location"])
    assert "立ち上げました" in page
    assert 'id="incident-state"' in page and "稼働中" in page
    assert "0120-123-456" in page and f'href="/n/{incident.public_slug}"' in page
    assert 'id="script-opening"' in page and 'id="situation-steps"' in page
    assert "毅然とした対応" in page and 'id="faq"' in page
    assert "48,000" in page  # affected units in the staffing table
    assert 'id="notice-link-web"' in page and 'id="notice-link-sms"' in page
    assert "drill-banner" not in page

    listing = site.get("/incidents")
    assert "ケトル回収" in listing
    assert re.search(
        r'data-state="active"><span[^>]*>稼働中</span> <strong class="num">1</strong>', listing
    )


def test_missing_and_wrong_parameters_are_shown_at_the_field(site: Site) -> None:
    site.as_user(MANAGER)
    html = site.get("/incidents/launch/recall?example=1")
    data = launch_form_data(html, param_product_name="", param_affected_units="四万八千")
    resp = site.client.post("/incidents/launch/recall", data=data)
    assert resp.status_code == 422
    assert 'id="param-product_name-error"' in resp.text
    assert "製品名を入力してください" in resp.text
    assert 'id="param-affected_units-error"' in resp.text
    assert hidden(resp.text, "launch_key") == data["launch_key"]  # a retry stays idempotent

    # A value the pack rejects (start after end) comes back from the service, at its field.
    data = launch_form_data(html, param_serial_ranges="2306999999〜2301000001")
    resp = site.client.post("/incidents/launch/recall", data=data)
    assert resp.status_code == 422
    assert 'id="param-serial_ranges-error"' in resp.text
    assert site.incidents() == []


def test_operator_reads_but_cannot_launch_or_change(site: Site) -> None:
    site.as_user(MANAGER)
    incident_id, _ = launch_recall(site)
    site.as_user(OPERATOR)
    listing = site.get("/incidents")
    assert 'id="launch-button"' not in listing
    site.get("/incidents/launch", status=403)
    site.get("/incidents/launch/recall", status=403)
    page = site.get(f"/incidents/{incident_id}")
    assert 'id="state-form"' not in page and 'id="close-form"' not in page
    token = form_token(page)
    resp = site.client.post(
        "/incidents/launch/recall", data={"csrf_token": token, "launch_key": "x"}
    )
    assert resp.status_code == 403
    resp = site.client.post(
        f"/incidents/{incident_id}/state", data={"csrf_token": token, "state": "closed"}
    )
    assert resp.status_code == 403
    web = notice_path(site, incident_id, "web")
    html = site.get(web)
    assert 'id="approve-button"' not in html and 'id="publish-button"' not in html
    assert 'id="edit-form"' not in html


def test_post_without_csrf_is_refused(site: Site) -> None:
    site.as_user(MANAGER)
    html = site.get("/incidents/launch/recall?example=1")
    data = launch_form_data(html)
    del data["csrf_token"]
    assert site.client.post("/incidents/launch/recall", data=data).status_code == 403
    assert site.incidents() == []


def test_other_organisation_incident_is_not_found(site: Site) -> None:
    ctx = site.client.app.state.ctx  # type: ignore[attr-defined]
    pack = get_pack(ctx.settings, "recall")
    with ctx.sessions() as session:
        set_actor(session, system_actor("test"))
        other = service.launch(
            session=session,
            org_id=site.orgs["sakura-denki"],
            pack=pack,
            params=example_values(pack.parameters),
            launch_key="other-org",
            actor_label="test",
            clock=site.clock,
        ).incident.id
        session.commit()
    site.as_user(OPERATOR)  # assigned to acme-foods only
    site.get(f"/incidents/{other}", status=404)
    site.get(f"/incidents/{other}/timeline", status=404)
    assert "さくら" not in site.get("/incidents")


# --- notices ---------------------------------------------------------------------------------


def test_pr_and_legal_approve_then_the_notice_is_published(site: Site) -> None:
    site.as_user(MANAGER)
    incident_id, _ = launch_recall(site)
    web = notice_path(site, incident_id, "web")

    html = site.get(web)
    assert 'id="notice-body"' in html and 'id="edit-form"' in html
    assert re.search(r'id="publish-button" disabled', html)
    assert "未承認: 広報・法務" in html
    early = site.client.post(f"{web}/publish", data={"csrf_token": form_token(html)})
    assert early.status_code == 409
    assert "承認が揃っていません" in early.text

    site.as_user(QUALITY)  # a department the notice does not name
    assert 'id="approve-button"' not in site.get(web)

    site.as_user(PR)
    resp = approve(site, web)
    assert resp.status_code == 303 and resp.headers["location"].endswith("notice=approved")
    html = site.get(web)
    assert 'id="approve-button"' not in html and "広報はこの版を承認済みです" in html
    assert re.search(r'data-department="広報" data-approved="true"', html)
    assert re.search(r'id="publish-button" disabled', html)

    site.as_user(LEGAL)
    # A stale revision (the approver read an older text) is refused, nothing recorded.
    html = site.get(web)
    stale = site.client.post(
        f"{web}/approve", data={"csrf_token": form_token(html), "revision": "99"}
    )
    assert stale.status_code == 409 and "文面が更新されています" in stale.text
    assert approve(site, web).status_code == 303

    site.as_user(MANAGER)
    html = site.get(web)
    assert "承認済み（未公開）" in html
    assert 'id="publish-button" disabled' not in html
    resp = site.client.post(
        f"{web}/publish", data={"csrf_token": form_token(html), "change_note": "初版"}
    )
    assert resp.status_code == 303
    html = site.get(web)
    assert 'id="notice-status" data-status="published"' in html
    assert re.search(r'data-version="1"', html) and "更新内容：初版" in html
    assert "pr@incidents.test" in html and LEGAL in html  # who approved the published version

    overview = site.get(f"/incidents/{incident_id}")
    assert re.search(r'data-channel="web" data-status="published"', overview)

    timeline = site.get(f"/incidents/{incident_id}/timeline")
    kinds = re.findall(r'data-kind="([a-z_.]+)"', timeline)
    assert kinds[0] == "launch"
    assert kinds.count("notice.approved") == 2 and "notice.published" in kinds
    assert "広報がWebお知らせ（第1版）を承認" in timeline
    assert "Webお知らせを公開（第1版）" in timeline
    assert "2026/11/20 10:00:00" in timeline  # JST


def test_editing_makes_a_new_revision_that_needs_approval_again(site: Site) -> None:
    site.as_user(MANAGER)
    incident_id, _ = launch_recall(site)
    sms = notice_path(site, incident_id, "sms")
    site.as_user(PR)
    assert approve(site, sms).status_code == 303

    site.as_user(MANAGER)
    html = site.get(sms)
    assert 'data-count-limit="70"' in html and 'id="notice-body-count"' in html
    assert 'id="notice-title"' not in html  # SMS has no title
    too_long = site.client.post(
        f"{sms}/edit",
        data={"csrf_token": form_token(html), "body": "あ" * 71, "revision": "1"},
    )
    assert too_long.status_code == 422 and "上限を超えています" in too_long.text
    assert "あ" * 71 in too_long.text  # the draft is kept for correction
    saved = site.client.post(
        f"{sms}/edit",
        data={
            "csrf_token": form_token(html),
            "body": "【ひので電機】回収のお知らせ",
            "revision": "1",
        },
    )
    assert saved.status_code == 303 and saved.headers["location"].endswith("notice=saved")
    html = site.get(sms)
    assert "第2版" in html and re.search(r'data-department="広報" data-approved="false"', html)
    # Saving from a page that showed an older revision does not overwrite the newer text.
    stale = site.client.post(
        f"{sms}/edit", data={"csrf_token": form_token(html), "body": "古い文面", "revision": "1"}
    )
    assert stale.status_code == 409

    js = site.client.get("/static/incidents.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert "data-count-limit" in js.text


# --- lifecycle, report, drills ---------------------------------------------------------------


def test_state_changes_and_closing_produces_the_final_report(site: Site) -> None:
    site.as_user(MANAGER)
    incident_id, _ = launch_recall(site)
    report = site.get(f"/incidents/{incident_id}/report")
    assert "終了後に作成されます" in report and 'id="print-button"' not in report

    page = site.get(f"/incidents/{incident_id}")
    assert 'id="state-scaling_down"' in page and 'id="state-closed"' in page
    assert 'id="state-preparing"' not in page  # not an allowed move from 稼働中
    token = form_token(page)
    bad = site.client.post(
        f"/incidents/{incident_id}/state", data={"csrf_token": token, "state": "preparing"}
    )
    assert bad.status_code == 409 and "稼働中から準備には変更できません" in bad.text
    resp = site.client.post(
        f"/incidents/{incident_id}/state",
        data={"csrf_token": token, "state": "scaling_down", "note": "入電が落ち着いた"},
    )
    assert resp.status_code == 303
    assert "縮小" in site.get(f"/incidents/{incident_id}")

    site.clock.set(datetime(2026, 11, 20, 9, 0, tzinfo=UTC))  # within the session TTL
    resp = site.client.post(
        f"/incidents/{incident_id}/state", data={"csrf_token": token, "state": "closed"}
    )
    assert resp.status_code == 303
    page = site.get(f"/incidents/{incident_id}")
    assert 'id="report-link"' in page and 'id="state-form"' not in page
    report = site.get(f"/incidents/{incident_id}/report")
    assert 'id="final-report"' in report and 'id="print-button"' in report
    assert "1. 事案の概要" in report and "5. 課題と教訓" in report
    assert "2026/11/20 18:00" in report  # closed, in JST
    assert "状態を稼働中から縮小に変更：入電が落ち着いた" in report
    assert "状態を縮小から終了に変更" in report

    # Closed: notices are frozen.
    web = notice_path(site, incident_id, "web")
    html = site.get(web)
    assert 'id="edit-form"' not in html
    resp = site.client.post(f"{web}/edit", data={"csrf_token": form_token(html), "body": "x"})
    assert resp.status_code == 409


def test_drill_is_marked_on_every_screen_and_not_counted(site: Site) -> None:
    site.as_user(MANAGER)
    assert "checked" in site.get("/incidents/launch/recall?drill=1")
    incident_id, _ = launch_recall(site, is_drill="1")
    assert site.incidents()[0].is_drill
    web = notice_path(site, incident_id, "web")
    for path in (
        f"/incidents/{incident_id}",
        f"/incidents/{incident_id}/timeline",
        f"/incidents/{incident_id}/report",
        web,
    ):
        html = site.get(path)
        assert 'id="drill-banner"' in html, path
        assert "<title>【訓練】" in html, path
    listing = site.get("/incidents")
    assert 'class="tag tag-drill">訓練</span>' in listing
    # Real figures leave drills out.
    assert re.search(
        r'data-state="active"><span[^>]*>稼働中</span> <strong class="num">0</strong>', listing
    )
    assert "【訓練】" in site.get(f"/incidents/{incident_id}/timeline")


def test_every_pack_launches_from_its_examples(site: Site) -> None:
    site.as_user(MANAGER)
    for pack_id in ("recall", "data_breach", "accident_disaster", "outage", "firestorm"):
        html = site.get(f"/incidents/launch/{pack_id}?example=1")
        resp = site.client.post(f"/incidents/launch/{pack_id}", data=launch_form_data(html))
        assert resp.status_code == 303, (pack_id, resp.text[:2000])
        site.get(resp.headers["location"])
    ctx = site.client.app.state.ctx  # type: ignore[attr-defined]
    with ctx.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == 5
    site.get("/incidents/launch/nope", status=404)


def test_the_roster_deliveries_of_the_incident_are_listed(site: Site) -> None:
    ctx = site.client.app.state.ctx  # type: ignore[attr-defined]
    with ctx.sessions() as session:
        set_actor(session, system_actor("test"))
        notify_service.create_contact(
            session=session,
            org_id=site.orgs["acme-foods"],
            data=ContactCreate(
                department=Department.pr,
                name="広報部 当番",
                channel=ContactChannel.email,
                address="koho@example.jp",
            ),
            clock=site.clock,
        )
        session.commit()
    site.as_user(MANAGER)
    incident_id, _ = launch_recall(site, is_drill="1")
    page = site.get(f"/incidents/{incident_id}")
    section = page[page.index('id="deliveries"') :]
    assert "data-deliveries" in section and "k***@example.jp" in section
    assert "送信待ち" in section and "【訓練】" in section
    assert "koho@example.jp" not in page  # addresses are shown masked only
