"""Launch, notice approval and publication, lifecycle — through the JSON API on a real DB."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from hikeshi.audit.models import AuditEvent
from hikeshi.clock import FrozenClock
from hikeshi.config import Settings
from hikeshi.incidents.models import Incident, Notice, NoticeVersion
from hikeshi.jobs.models import Job
from hikeshi.main import create_app
from hikeshi.notify.models import Delivery
from tests.integration.incidents.desk import Desk, build_desk, recall_params
from tests.servers import TEST_SECRET


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 23, 0, 30, tzinfo=UTC))


@pytest.fixture
def desk(fresh_db_url: str, clock: FrozenClock) -> Iterator[Desk]:
    settings = Settings(
        database_url=fresh_db_url,
        environment="test",
        secret_key=TEST_SECRET,  # type: ignore[arg-type]
        log_json=False,
        run_worker_in_server=False,
    )
    app = create_app(settings, clock=clock)
    with TestClient(app) as client:
        yield build_desk(client, clock)


def _count(desk: Desk, model: type, **where: object) -> int:
    sessions = desk.client.app.state.ctx.sessions  # type: ignore[attr-defined]
    with sessions() as s:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return int(s.scalar(query) or 0)


def _launch(desk: Desk, key: str = "recall-eh100", **extra: object) -> dict:
    body = {"pack_id": "recall", "launch_key": key, "params": recall_params(), **extra}
    return desk.client.post(desk.api("/incidents"), json=body, headers=desk.headers["manager"])


def test_launch_renders_everything_and_is_idempotent(desk: Desk) -> None:
    first = _launch(desk)
    assert first.status_code == 201, first.text
    incident = first.json()["incident"]
    assert first.json()["created"] is True
    assert incident["state"] == "active"
    assert "電気ヒーター「ぬくぬく」" in incident["rendered"]["script"]["opening"]
    assert len(incident["rendered"]["faq"]) >= 12
    assert incident["staffing"]["expected_contacts"] == round(
        12000 * incident["staffing"]["contact_rate"]
    )
    assert incident["queue_name"].startswith("recall-")

    again = _launch(desk)
    assert again.status_code == 200
    assert again.json()["created"] is False
    assert again.json()["incident"]["id"] == incident["id"]
    assert _count(desk, Incident) == 1
    assert _count(desk, Notice) == 6  # web, email, sms, sns, press release, DM letter

    timeline = desk.client.get(
        desk.api(f"/incidents/{incident['id']}/timeline"), headers=desk.headers["manager"]
    ).json()["data"]
    assert timeline[0]["kind"] == "launch"
    # No contacts registered yet: the timeline says who could not be told.
    assert any(e["kind"] == "notify.no_contact" and "広報" in e["summary"] for e in timeline)


def test_launch_with_bad_parameter_names_it_and_writes_nothing(desk: Desk) -> None:
    params = recall_params(hotline="not a phone")
    resp = desk.client.post(
        desk.api("/incidents"),
        json={"pack_id": "recall", "launch_key": "k", "params": params},
        headers=desk.headers["manager"],
    )
    assert resp.status_code == 422
    assert resp.json()["error"]["fields"]["parameter"] == "hotline"
    assert _count(desk, Incident) == 0
    assert _count(desk, Notice) == 0


def test_operator_cannot_launch(desk: Desk) -> None:
    resp = desk.client.post(
        desk.api("/incidents"),
        json={"pack_id": "recall", "launch_key": "op", "params": recall_params()},
        headers=desk.headers["operator"],
    )
    assert resp.status_code == 403
    assert _count(desk, Incident) == 0


def test_launch_notifies_registered_departments_through_the_job_queue(
    desk: Desk, clock: FrozenClock
) -> None:
    contact = desk.client.post(
        desk.api("/roster/contacts"),
        json={
            "department": "広報",
            "name": "広報部",
            "channel": "email",
            "address": "pr@desk.example.jp",
        },
        headers=desk.headers["manager"],
    )
    assert contact.status_code == 201, contact.text
    incident_id = _launch(desk).json()["incident"]["id"]
    assert _count(desk, Delivery, incident_id=incident_id) >= 1
    assert _count(desk, Job, name="notify.deliver") >= 1


def _notice(desk: Desk, incident_id: int, channel: str) -> dict:
    notices = desk.client.get(
        desk.api(f"/incidents/{incident_id}/notices"), headers=desk.headers["manager"]
    ).json()["data"]
    return next(n for n in notices if n["channel"] == channel)


def test_notice_needs_both_approvals_and_keeps_history(desk: Desk, clock: FrozenClock) -> None:
    incident_id = _launch(desk).json()["incident"]["id"]
    web = _notice(desk, incident_id, "web")
    assert web["status"] == "draft"
    assert sorted(web["required_departments"]) == ["広報", "法務"]
    publish = desk.api(f"/notices/{web['id']}/publish")
    approve = desk.api(f"/notices/{web['id']}/approve")

    refused = desk.client.post(publish, json={}, headers=desk.headers["manager"])
    assert refused.status_code == 409
    assert "法務" in refused.json()["error"]["fields"]["missing"]

    # A department the notice does not name cannot approve it.
    qa = desk.client.post(approve, json={"revision": 1}, headers=desk.headers["qa"])
    assert qa.status_code == 403

    ok = desk.client.post(approve, json={"revision": 1}, headers=desk.headers["pr"])
    assert ok.status_code == 200
    assert ok.json()["missing_departments"] == ["法務"]
    assert desk.client.post(publish, json={}, headers=desk.headers["manager"]).status_code == 409

    ok = desk.client.post(approve, json={"revision": 1}, headers=desk.headers["legal"])
    assert ok.json()["status"] == "approved"
    v1 = desk.client.post(publish, json={"change_note": "初版"}, headers=desk.headers["manager"])
    assert v1.status_code == 200, v1.text
    assert v1.json()["version"] == 1
    assert {a["department"] for a in v1.json()["approvals"]} == {"広報", "法務"}

    # An edit is a new revision: old approvals do not carry over, v1 stays published.
    clock.advance(timedelta(hours=2))
    edited = desk.client.put(
        desk.api(f"/notices/{web['id']}"),
        json={"title": web["title"], "body": web["body"] + "\n（追記）交換受付を延長しました。"},
        headers=desk.headers["manager"],
    )
    assert edited.json()["revision"] == 2
    assert edited.json()["status"] == "draft"
    stale = desk.client.post(approve, json={"revision": 1}, headers=desk.headers["pr"])
    assert stale.status_code == 409
    for who in ("pr", "legal"):
        assert (
            desk.client.post(approve, json={"revision": 2}, headers=desk.headers[who]).status_code
            == 200
        )
    v2 = desk.client.post(publish, json={"change_note": "受付延長"}, headers=desk.headers["pr"])
    assert v2.json()["version"] == 2

    versions = desk.client.get(
        desk.api(f"/incidents/{incident_id}/notice-versions"), headers=desk.headers["manager"]
    ).json()["data"]
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[0]["published_at"] > versions[1]["published_at"]
    assert _count(desk, NoticeVersion) == 2

    # The audit trail shows who approved what.
    sessions = desk.client.app.state.ctx.sessions  # type: ignore[attr-defined]
    with sessions() as s:
        approvals = s.execute(
            select(AuditEvent.actor_label, AuditEvent.after)
            .where(AuditEvent.action == "incident_notice_approvals.create")
            .order_by(AuditEvent.seq)
        ).all()
    assert [row.actor_label for row in approvals] == [
        "pr@desk.example.jp",
        "legal@desk.example.jp",
        "pr@desk.example.jp",
        "legal@desk.example.jp",
    ]
    assert approvals[0].after["department"] == "広報"


def test_sms_edit_over_70_characters_is_refused(desk: Desk) -> None:
    incident_id = _launch(desk).json()["incident"]["id"]
    sms = _notice(desk, incident_id, "sms")
    resp = desk.client.put(
        desk.api(f"/notices/{sms['id']}"),
        json={"title": "", "body": "あ" * 71},
        headers=desk.headers["manager"],
    )
    assert resp.status_code == 422
    assert "71" in resp.json()["error"]["fields"]["body"]


def test_lifecycle_and_final_report(desk: Desk) -> None:
    incident_id = _launch(desk).json()["incident"]["id"]
    state = desk.api(f"/incidents/{incident_id}/state")
    h = desk.headers["manager"]
    assert desk.client.post(state, json={"state": "scaling_down"}, headers=h).status_code == 200
    closed = desk.client.post(state, json={"state": "closed", "note": "受付終了"}, headers=h)
    assert closed.status_code == 200
    report = closed.json()["final_report"]
    assert report["title"] == closed.json()["title"]
    assert report["timeline"][0]["kind"] == "launch"
    assert any("縮小" in e["summary"] for e in report["timeline"])
    assert report["sections"][0]["heading"].startswith("1.")
    # Closed is final.
    again = desk.client.post(state, json={"state": "active"}, headers=h)
    assert again.status_code == 409


def test_drills_are_marked_and_not_counted(desk: Desk) -> None:
    resp = _launch(desk, key="drill-1", is_drill=True)
    incident = resp.json()["incident"]
    assert incident["is_drill"] is True
    timeline = desk.client.get(
        desk.api(f"/incidents/{incident['id']}/timeline"), headers=desk.headers["manager"]
    ).json()["data"]
    assert timeline[0]["summary"].startswith("【訓練】")
    real = desk.client.get(
        desk.api("/incidents?include_drills=false"), headers=desk.headers["manager"]
    ).json()
    assert real["count"] == 0
