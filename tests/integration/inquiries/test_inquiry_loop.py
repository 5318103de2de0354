"""部署照会 through the API: the loop over two rounds, who may answer, and refused input."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from hikeshi.audit.models import AuditEvent
from hikeshi.cases.models import Case, CaseEvent, CaseState, DepartmentInquiry
from hikeshi.jobs.registry import load_handlers
from hikeshi.jobs.worker import Worker
from hikeshi.notify.models import Delivery
from tests.integration.inquiries.floor import Floor, floor

__all__ = ["floor"]


def _due(f: Floor, days: int = 2) -> str:
    return (f.clock.now() + timedelta(days=days)).isoformat()


def _case_state(f: Floor) -> CaseState:
    with f.sessions() as s:
        case = s.get(Case, f.case_id)
        assert case is not None
        return case.state


def _ask(f: Floor, question: str, who: str = "supervisor", **extra: object) -> dict[str, Any]:
    body = {"department": "法務", "question": question, "due_at": _due(f), **extra}
    resp = f.client.post(f.api(f"/cases/{f.case_id}/inquiries"), json=body, headers=f.headers[who])
    return {"status": resp.status_code, **resp.json()}


def test_two_rounds_every_round_kept(floor: Floor) -> None:
    f = floor
    first = _ask(f, "全額返金の例外対応は可能でしょうか")
    assert first["status"] == 201 and first["round"] == 1
    assert _case_state(f) is CaseState.waiting_department
    # The department is told through the roster (a delivery job, sent after commit).
    assert f.count(Delivery, org_id=f.org_id, trigger="inquiry.asked") == 1
    # No second round while the first is open.
    again = _ask(f, "もう一度")
    assert again["status"] == 409

    # 広報 may not answer 法務's inquiry; an operator may not answer at all.
    url = f.api(f"/inquiries/{first['id']}/answer")
    wrong = f.client.post(url, json={"answer": "可能です"}, headers=f.headers["pr"])
    assert wrong.status_code == 403
    assert "法務" in wrong.json()["error"]["message"]
    assert (
        f.client.post(url, json={"answer": "x"}, headers=f.headers["operator"]).status_code == 403
    )
    ok = f.client.post(url, json={"answer": "半額までなら可能です"}, headers=f.headers["legal"])
    assert ok.status_code == 200, ok.text
    assert ok.json()["answered_by_label"] == "legal@floor.example.jp"
    assert _case_state(f) is CaseState.open
    twice = f.client.post(url, json={"answer": "再回答"}, headers=f.headers["legal"])
    assert twice.status_code == 409

    # Round 2 only after the answer was explained and the customer was not satisfied.
    assert _ask(f, "全額は？")["status"] == 409
    explain = f.client.post(
        f.api(f"/inquiries/{first['id']}/explanation"),
        json={"customer_satisfied": False, "customer_response": "半額では納得できない"},
        headers=f.headers["supervisor"],
    )
    assert explain.status_code == 200
    listing = f.client.get(f.api(f"/cases/{f.case_id}/inquiries"), headers=f.headers["legal"])
    assert listing.json()["can_ask_next"] is True

    second = _ask(f, "お客様は全額を希望。再検討をお願いします", due_at=_due(f, 3))
    assert second["status"] == 201 and second["round"] == 2
    f.client.post(
        f.api(f"/inquiries/{second['id']}/answer"),
        json={"answer": "今回に限り全額返金とします"},
        headers=f.headers["legal"],
    )
    f.client.post(
        f.api(f"/inquiries/{second['id']}/explanation"),
        json={"customer_satisfied": True, "customer_response": "ありがとう"},
        headers=f.headers["supervisor"],
    )
    assert _ask(f, "三回目")["status"] == 409  # the customer accepted

    rounds = f.client.get(f.api(f"/cases/{f.case_id}/inquiries"), headers=f.headers["manager"])
    data = rounds.json()["data"]
    assert [r["round"] for r in data] == [1, 2]
    assert [r["answer"] for r in data] == ["半額までなら可能です", "今回に限り全額返金とします"]
    assert [r["customer_satisfied"] for r in data] == [False, True]
    assert rounds.json()["can_ask_next"] is False

    with f.sessions() as s:
        kinds = s.scalars(
            select(CaseEvent.kind)
            .where(CaseEvent.case_id == f.case_id, CaseEvent.kind.like("inquiry.%"))
            .order_by(CaseEvent.id)
        ).all()
        assert kinds == ["inquiry.asked", "inquiry.answered", "inquiry.explained"] * 2
        actions = s.scalars(
            select(AuditEvent.action).where(AuditEvent.entity_type == "department_inquiries")
        ).all()
        assert actions.count("department_inquiries.create") == 2
        assert actions.count("department_inquiries.update") == 4


def test_inbox_by_due_date_for_the_department(floor: Floor) -> None:
    f = floor
    other = f.new_case("交換の例外")
    f.client.post(
        f.api(f"/cases/{other}/inquiries"),
        json={"department": "legal", "question": "早い方", "due_at": _due(f, 1)},
        headers=f.headers["supervisor"],
    )
    _ask(f, "遅い方", due_at=_due(f, 5))
    legal = f.client.get(f.api("/inquiries"), headers=f.headers["legal"]).json()
    assert [i["question"] for i in legal["data"]] == ["早い方", "遅い方"]
    # A specialist sees only their own department, whatever they ask for.
    pr = f.client.get(f.api("/inquiries?department=法務"), headers=f.headers["pr"]).json()
    assert pr["count"] == 0
    page = f.client.get("/escalations/inquiries", headers=f.headers["legal"])
    assert page.status_code == 200 and "早い方" in page.text
    case_page = f.client.get(f"/escalations/{f.case_id}/inquiries", headers=f.headers["legal"])
    assert case_page.status_code == 200 and 'action="/escalations/inquiries/' in case_page.text


def test_bad_input_names_the_field_and_writes_nothing(floor: Floor) -> None:
    f = floor
    before = f.count(AuditEvent)
    missing = f.client.post(
        f.api("/cases/999999/inquiries"),
        json={"department": "法務", "question": "?", "due_at": _due(f)},
        headers=f.headers["supervisor"],
    )
    assert missing.status_code == 404
    assert missing.json()["error"]["fields"] == {"case_id": 999999}
    dept = _ask(f, "?", department="総務")
    assert dept["status"] == 422 and "department" in dept["error"]["fields"]
    past = _ask(f, "?", due_at=(f.clock.now() - timedelta(minutes=1)).isoformat())
    assert past["status"] == 422 and "due_at" in past["error"]["fields"]
    far = _ask(f, "?", due_at=_due(f, 400))
    assert far["status"] == 422 and "due_at" in far["error"]["fields"]
    empty = _ask(f, "   ")
    assert empty["status"] == 422 and "question" in empty["error"]["fields"]
    operator = _ask(f, "?", who="operator")
    assert operator["status"] == 403
    assert f.count(DepartmentInquiry) == 0
    assert f.count(CaseEvent) == 0
    assert _case_state(f) is CaseState.open
    # Only the refusals were audited (auth.*), no business row.
    with f.sessions() as s:
        new = s.scalars(select(AuditEvent.action).where(AuditEvent.seq > before)).all()
    assert all(a.startswith("auth.") for a in new), new


def test_pages_ask_answer_and_explain(floor: Floor) -> None:
    f = floor
    sv = f.headers["supervisor"]
    form = {
        "csrf_token": sv["x-csrf-token"],
        "department": "法務",
        "question": "画面からの照会",
        "due_at": "2026-11-24T17:00",
    }
    cookie_only = {"Cookie": sv["Cookie"]}
    resp = f.client.post(
        f"/escalations/{f.case_id}/inquiries",
        data=form,
        headers=cookie_only,
        follow_redirects=False,
    )
    assert resp.status_code == 303, resp.text
    with f.sessions() as s:
        item = s.scalars(select(DepartmentInquiry)).one()
        assert item.due_at.isoformat() == "2026-11-24T08:00:00+00:00"  # 17:00 JST
    bad = dict(form, due_at="2020-01-01T10:00")
    page = f.client.post(f"/escalations/{f.case_id}/inquiries", data=bad, headers=cookie_only)
    assert page.status_code == 409 or page.status_code == 422
    legal = f.headers["legal"]
    answered = f.client.post(
        f"/escalations/inquiries/{item.id}/answer",
        data={"csrf_token": legal["x-csrf-token"], "answer": "可能です"},
        headers={"Cookie": legal["Cookie"]},
        follow_redirects=False,
    )
    assert answered.status_code == 303
    explained = f.client.post(
        f"/escalations/inquiries/{item.id}/explain",
        data={"csrf_token": sv["x-csrf-token"], "satisfied": "no", "customer_response": "不満"},
        headers=cookie_only,
        follow_redirects=False,
    )
    assert explained.status_code == 303
    shown = f.client.get(f"/escalations/{f.case_id}/inquiries", headers=sv)
    assert "再照会（第2回）" in shown.text


def test_overdue_inquiry_reminds_the_department_once(floor: Floor) -> None:
    f = floor
    asked = _ask(f, "期限までに回答がない照会", due_at=_due(f, 1))
    answered_case = f.new_case("回答済み")
    other = f.client.post(
        f.api(f"/cases/{answered_case}/inquiries"),
        json={"department": "法務", "question": "すぐ回答", "due_at": _due(f, 1)},
        headers=f.headers["supervisor"],
    ).json()
    f.client.post(
        f.api(f"/inquiries/{other['id']}/answer"),
        json={"answer": "回答します"},
        headers=f.headers["legal"],
    )
    f.clock.advance(timedelta(days=1, minutes=1))
    worker = Worker(sessions=f.sessions, registry=load_handlers(), clock=f.clock, worker_id="w1")
    worker.run_once()
    worker.run_once()
    with f.sessions() as s:
        overdue = s.scalars(select(CaseEvent).where(CaseEvent.kind == "inquiry.overdue")).all()
    assert [(e.case_id, (e.detail or {})["inquiry_id"]) for e in overdue] == [
        (f.case_id, asked["id"])
    ]
    assert f.count(Delivery, trigger="inquiry.overdue") == 1
