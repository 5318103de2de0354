"""権限: a decision over the requester's authority cannot be recorded without an approval by
someone whose own limit covers it; refusals write nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from hikeshi.audit.models import AuditEvent
from hikeshi.cases.models import AuthorityRule, CaseEvent, Decision, DecisionStatus
from tests.integration.inquiries.floor import Floor, floor

__all__ = ["floor"]


def _request(
    f: Floor, who: str, kind: str, amount: int, case_id: int | None = None
) -> dict[str, Any]:
    resp = f.client.post(
        f.api(f"/cases/{case_id or f.case_id}/decisions"),
        json={"kind": kind, "amount_yen": amount, "description": f"{kind} {amount}"},
        headers=f.headers[who],
    )
    return {**resp.json(), "http": resp.status_code}


def _act(f: Floor, who: str, decision_id: int, verb: str = "approve") -> dict[str, Any]:
    body = {"reason": "規定外"} if verb == "reject" else None
    resp = f.client.post(
        f.api(f"/decisions/{decision_id}/{verb}"), json=body, headers=f.headers[who]
    )
    return {**resp.json(), "http": resp.status_code}


def test_over_authority_waits_for_the_right_approver(floor: Floor) -> None:
    f = floor
    # Within authority: an operator may exchange up to 30,000円 alone.
    exchange = _request(f, "operator", "exchange", 10_000)
    assert exchange["http"] == 201, exchange
    assert exchange["approved_by_label"] == "" and exchange["decided_at"] is not None
    assert _get(f, exchange["id"])["status"] == "recorded"

    # An operator may not refund alone: pending until a supervisor approves.
    refund = _request(f, "operator", "refund", 20_000)
    assert _get(f, refund["id"])["status"] == "pending_approval"
    assert _act(f, "operator", refund["id"])["http"] == 403  # no decisions:approve
    approved = _act(f, "supervisor", refund["id"])
    assert approved["http"] == 200
    assert approved["approved_by_label"] == "supervisor@floor.example.jp"
    assert approved["approved_role"] == "supervisor"
    assert _get(f, refund["id"])["status"] == "recorded"
    assert _act(f, "manager", refund["id"])["http"] == 409  # already decided

    # A supervisor's 50,000円 refund is above every supervisor's limit (30,000円).
    big = _request(f, "supervisor", "refund", 50_000)
    assert _get(f, big["id"])["status"] == "pending_approval"
    self_approval = _act(f, "supervisor", big["id"])
    assert self_approval["http"] == 403
    assert "自分" in _message_ja(f, "supervisor", big["id"])
    peer = _act(f, "supervisor2", big["id"])
    assert peer["http"] == 403 and peer["error"]["fields"]["limit_yen"] == 30_000
    assert _get(f, big["id"])["status"] == "pending_approval"
    by_manager = _act(f, "manager", big["id"])
    assert by_manager["http"] == 200 and by_manager["approved_role"] == "manager"

    # Rejection.
    comp = _request(f, "operator", "compensation", 5_000)
    rejected = _act(f, "supervisor", comp["id"], "reject")
    assert rejected["http"] == 200 and _get(f, comp["id"])["status"] == "rejected"
    assert _act(f, "manager", comp["id"])["http"] == 409

    # The invariant: no recorded decision over its requester's limit lacks an approver.
    with f.sessions() as s:
        for d in s.scalars(select(Decision)):
            if d.status is DecisionStatus.recorded and d.amount_yen > _default(d):
                assert d.approved_by_label and d.approved_role
        kinds = s.scalars(
            select(CaseEvent.kind).where(CaseEvent.kind.like("decision.%")).order_by(CaseEvent.id)
        ).all()
        assert kinds == [
            "decision.recorded",
            "decision.requested",
            "decision.approved",
            "decision.requested",
            "decision.approved",
            "decision.requested",
            "decision.rejected",
        ]
        audit = s.scalars(
            select(AuditEvent.action).where(AuditEvent.entity_type == "case_decisions")
        ).all()
        assert audit.count("case_decisions.create") == 4
        assert audit.count("case_decisions.update") == 3


def _default(d: Decision) -> int:
    from hikeshi.auth.enums import Role
    from hikeshi.cases.authority import DEFAULT_LIMITS

    return DEFAULT_LIMITS[Role(d.requested_role)][d.kind]


def _get(f: Floor, decision_id: int) -> dict[str, Any]:
    resp = f.client.get(f.api(f"/decisions/{decision_id}"), headers=f.headers["manager"])
    assert resp.status_code == 200
    return dict(resp.json())


def _message_ja(f: Floor, who: str, decision_id: int) -> str:
    """The page shows the Japanese refusal."""
    h = f.headers[who]
    page = f.client.post(
        f"/escalations/decisions/{decision_id}/approve",
        data={"csrf_token": h["x-csrf-token"]},
        headers={"Cookie": h["Cookie"]},
    )
    assert page.status_code == 403
    return str(page.text)


def test_refused_amounts_and_cases_write_nothing(floor: Floor) -> None:
    f = floor
    for amount in (0, -5, 100_000_001):
        bad = _request(f, "supervisor", "refund", amount)
        assert bad["http"] == 422 and "amount_yen" in bad["error"]["fields"], bad
    kind = _request(f, "supervisor", "gift", 100)
    assert kind["http"] == 422 and "kind" in kind["error"]["fields"]
    missing = _request(f, "supervisor", "refund", 100, case_id=424242)
    assert missing["http"] == 404 and missing["error"]["fields"] == {"case_id": 424242}
    assert (
        f.client.post(
            f.api(f"/cases/{f.case_id}/decisions"),
            json={"kind": "refund", "amount_yen": 1, "description": "x"},
            headers=f.headers["pr"] | {"x-csrf-token": "wrong"},
        ).status_code
        == 403
    )
    assert f.count(Decision) == 0
    assert f.count(CaseEvent) == 0


def test_matrix_rules_change_the_limit(floor: Floor) -> None:
    f = floor
    matrix = f.client.get(f.api("/authority"), headers=f.headers["operator"]).json()
    cell = next(c for c in matrix["data"] if c["role"] == "operator" and c["kind"] == "refund")
    assert cell == {"role": "operator", "kind": "refund", "max_amount_yen": 0, "rule_id": None}
    body = {"role": "operator", "kind": "refund", "max_amount_yen": 5_000}
    denied = f.client.post(f.api("/authority/rules"), json=body, headers=f.headers["supervisor"])
    assert denied.status_code == 403
    rule = f.client.post(f.api("/authority/rules"), json=body, headers=f.headers["manager"])
    assert rule.status_code == 200
    assert _get(f, _request(f, "operator", "refund", 3_000)["id"])["status"] == "recorded"
    assert _get(f, _request(f, "operator", "refund", 6_000)["id"])["status"] == "pending_approval"
    bad = f.client.post(
        f.api("/authority/rules"),
        json={"role": "boss", "kind": "refund", "max_amount_yen": 1},
        headers=f.headers["manager"],
    )
    assert bad.status_code == 422 and "role" in bad.json()["error"]["fields"]
    rule_id = rule.json()["id"]
    changed = f.client.put(
        f.api(f"/authority/rules/{rule_id}"),
        json={"max_amount_yen": 7_000},
        headers=f.headers["manager"],
    )
    assert changed.json()["max_amount_yen"] == 7_000
    gone = f.client.delete(f.api(f"/authority/rules/{rule_id}"), headers=f.headers["manager"])
    assert gone.status_code == 204
    assert f.count(AuthorityRule) == 0
    with f.sessions() as s:
        audit = s.scalars(
            select(AuditEvent.action).where(AuditEvent.entity_type == "authority_rules")
        ).all()
    assert audit == [
        "authority_rules.create",
        "authority_rules.update",
        "authority_rules.delete",
    ]
    page = f.client.get("/escalations/authority", headers=f.headers["manager"])
    assert page.status_code == 200 and "権限表" in page.text and 'id="rule-form"' in page.text
