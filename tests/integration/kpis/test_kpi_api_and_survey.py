"""The KPI API and page, and the one-time CSAT survey link."""

from __future__ import annotations

from sqlalchemy import select

from hikeshi.audit.models import AuditEvent
from hikeshi.cases.models import Case, CaseState
from tests.integration.inquiries.floor import Floor, floor

__all__ = ["floor"]


def test_kpi_api_and_page(floor: Floor) -> None:
    f = floor
    resp = f.client.get(f.api("/kpis?group_by=operator"), headers=f.headers["manager"])
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["start"], body["end"]) == ("2026-11-14", "2026-11-20")  # last 7 JST days
    assert body["total"]["contacts"] == 1 and body["total"]["escalation_rate"] == 1.0
    assert body["total"]["resolution_rate"] == 0.0
    assert body["total"]["csat_mean"] is None
    assert [g["key"] for g in body["groups"]] == ["operator@floor.example.jp"]
    assert f.client.get(f.api("/kpis"), headers=f.headers["operator"]).status_code == 403
    bad = f.client.get(f.api("/kpis?start=2026-11-20&end=2026-11-01"), headers=f.headers["manager"])
    assert bad.status_code == 422 and "start" in bad.json()["error"]["fields"]
    window = f.client.get(f.api("/kpis?recurrence_days=0"), headers=f.headers["manager"])
    assert window.status_code == 422
    page = f.client.get("/reports?group_by=day", headers=f.headers["supervisor"])
    assert page.status_code == 200
    assert "エスカレーション率" in page.text and "<meter" in page.text
    assert f.client.get("/reports", headers=f.headers["operator"]).status_code == 403


def test_survey_link_is_single_use(floor: Floor) -> None:
    f = floor
    link = f.client.post(f.api(f"/cases/{f.case_id}/survey"), headers=f.headers["manager"])
    assert link.status_code == 409  # not resolved yet
    with f.sessions() as s:
        from hikeshi.audit.service import set_actor, system_actor

        set_actor(s, system_actor("test"))
        case = s.get(Case, f.case_id)
        assert case is not None
        case.state = CaseState.resolved
        case.resolved_at = f.clock.now()
        s.commit()
    link = f.client.post(f.api(f"/cases/{f.case_id}/survey"), headers=f.headers["manager"])
    assert link.status_code == 200
    path = link.json()["path"]
    again = f.client.post(f.api(f"/cases/{f.case_id}/survey"), headers=f.headers["manager"])
    assert again.json()["path"] == path  # the same link

    form = f.client.get(path)  # no login
    assert form.status_code == 200 and 'id="survey-form"' in form.text
    assert f.client.post(path, data={"score": "9"}).status_code == 422
    done = f.client.post(path, data={"score": "4"})
    assert done.status_code == 200 and "survey-thanks" in done.text
    second = f.client.post(path, data={"score": "1"})
    assert second.status_code == 409 and "survey-done" in second.text
    assert "survey-done" in f.client.get(path).text
    assert f.client.get("/survey/not-a-token").status_code == 404
    with f.sessions() as s:
        case = s.get(Case, f.case_id)
        assert case is not None and case.csat_score == 4
        actors = s.scalars(
            select(AuditEvent.actor_label).where(
                AuditEvent.entity_type == "cases", AuditEvent.action == "cases.update"
            )
        ).all()
    assert "customer-survey" in actors
    kpi = f.client.get(f.api("/kpis"), headers=f.headers["manager"]).json()["total"]
    assert (kpi["csat_mean"], kpi["csat_responses"]) == (4.0, 1)
