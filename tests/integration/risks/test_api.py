"""The JSON API of the risk register: CRUD, filters, matrix, heat map, CSV, permissions."""

from __future__ import annotations

from hikeshi.auth.enums import Role
from tests.integration.risks.conftest import Site

RISK = {
    "title": "主力製品の発火事故",
    "category": "技術的",
    "likelihood": 2,
    "impact": 5,
    "owner": "品質保証部",
    "review_date": "2026-11-01",
    "playbook_id": "recall",
}
CSV = (
    "タイトル,カテゴリ,発生可能性,影響度,担当者,見直し日,対応フロー,備考\r\n"
    "顧客情報の流出,情報セキュリティ,3,5,情報システム部,2027-03-31,data_breach,\r\n"
    "SNS炎上,評判,4,3,広報部,,firestorm,\r\n"
)


def test_crud_and_computed_priority(site: Site) -> None:
    h = site.auth(Role.manager)
    created = site.client.post(site.api(), json=RISK, headers=h)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["priority"] == "high" and body["priority_label"] == "高"  # 2 × 5 = 10
    assert body["review_overdue"] is True  # 2026-11-01 is before the clock's 2026-11-20
    rid = body["id"]
    patched = site.client.patch(site.api(f"/{rid}"), json={"likelihood": 4}, headers=h)
    assert patched.status_code == 200 and patched.json()["priority"] == "critical"
    assert patched.json()["title"] == RISK["title"]
    put = site.client.put(site.api(f"/{rid}"), json={**RISK, "review_date": None}, headers=h)
    assert put.status_code == 200 and put.json()["review_date"] is None
    assert site.client.get(site.api(f"/{rid}"), headers=h).json()["likelihood"] == 2
    assert site.client.delete(site.api(f"/{rid}"), headers=h).status_code == 204
    assert site.client.get(site.api(f"/{rid}"), headers=h).status_code == 404
    actions = [e.action for e in site.audit("risks.")]
    assert actions == ["risks.create", "risks.update", "risks.update", "risks.delete"]
    assert {e.actor_type for e in site.audit("risks.")} == {"token"}


def test_validation_errors_are_422_in_the_error_shape(site: Site) -> None:
    h = site.auth(Role.manager)
    resp = site.client.post(site.api(), json={**RISK, "category": "天災"}, headers=h)
    assert resp.status_code == 422
    assert resp.json()["error"]["fields"] == {"category": "unknown"}
    resp = site.client.post(site.api(), json={**RISK, "playbook_id": "nope"}, headers=h)
    assert resp.json()["error"]["fields"] == {"playbook_id": "unknown"}
    assert site.client.post(site.api(), json={**RISK, "impact": 6}, headers=h).status_code == 422


def test_operator_reads_nothing_and_supervisor_only_reads(site: Site) -> None:
    assert (
        site.client.post(site.api(), json=RISK, headers=site.auth(Role.manager)).status_code == 201
    )
    op = site.auth(Role.operator)
    assert site.client.get(site.api(), headers=op).status_code == 403
    assert site.client.post(site.api(), json=RISK, headers=op).status_code == 403
    sv = site.auth(Role.supervisor)
    listed = site.client.get(site.api(), headers=sv)
    assert listed.status_code == 200 and listed.json()["count"] == 1
    rid = listed.json()["data"][0]["id"]
    for method, path, body in [
        ("POST", "", RISK),
        ("PATCH", f"/{rid}", {"impact": 1}),
        ("PUT", f"/{rid}", RISK),
        ("DELETE", f"/{rid}", None),
        ("PUT", "/matrix", {"extra_categories": ["x"]}),
    ]:
        resp = site.client.request(method, site.api(path), json=body, headers=sv)
        assert resp.status_code == 403, (method, path)
        assert resp.json()["error"]["code"] == "auth.forbidden"
    resp = site.client.post(site.api("/import"), content=CSV.encode(), headers=sv)
    assert resp.status_code == 403
    assert site.client.get(site.api(), headers=sv).json()["count"] == 1
    assert site.audit("auth.permission_denied")


def test_filters_heatmap_and_matrix(site: Site) -> None:
    h = site.auth(Role.manager)
    for lk, im, cat in [(1, 1, "環境"), (1, 5, "技術的"), (5, 4, "評判"), (5, 4, "評判")]:
        resp = site.client.post(
            site.api(),
            json={**RISK, "likelihood": lk, "impact": im, "category": cat, "playbook_id": None},
            headers=h,
        )
        assert resp.status_code == 201
    heat = site.client.get(site.api("/heatmap"), headers=h).json()
    assert heat["total"] == 4
    cells = {(c["likelihood"], c["impact"]): c for c in heat["cells"]}
    assert cells[(5, 4)]["count"] == 2 and cells[(5, 4)]["priority"] == "critical"
    assert site.client.get(site.api("?priority=critical"), headers=h).json()["count"] == 2
    assert site.client.get(site.api("?category=環境"), headers=h).json()["count"] == 1
    assert site.client.get(site.api("?likelihood=1&impact=5"), headers=h).json()["count"] == 1
    assert site.client.get(site.api("?overdue=true"), headers=h).json()["count"] == 4
    assert site.client.get(site.api("?priority=urgent"), headers=h).status_code == 422

    matrix = site.client.get(site.api("/matrix"), headers=h).json()
    assert matrix["is_default"] is True and len(matrix["levels"]) == 5
    assert matrix["categories"][:5] == [
        "技術的",
        "オペレーショナル",
        "環境",
        "情報セキュリティ",
        "評判",
    ]
    levels = [["critical" if im == 4 else "low" for im in range(5)] for _ in range(5)]
    resp = site.client.put(
        site.api("/matrix"), json={"levels": levels, "extra_categories": ["法令"]}, headers=h
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["categories"][-1] == "法令" and resp.json()["is_default"] is False
    assert site.client.get(site.api("?priority=critical"), headers=h).json()["count"] == 1
    bad = site.client.put(site.api("/matrix"), json={"levels": [["low"] * 5] * 4}, headers=h)
    assert bad.status_code == 422
    created = site.client.post(site.api(), json={**RISK, "category": "法令"}, headers=h)
    assert created.status_code == 201 and created.json()["priority"] == "critical"


def test_csv_import_and_export(site: Site) -> None:
    h = site.auth(Role.manager)
    resp = site.client.post(
        site.api("/import"), content=CSV.encode("cp932"), headers={**h, "Content-Type": "text/csv"}
    )
    assert resp.status_code == 201, resp.text
    assert resp.json() == {"created": 2}
    multipart = site.client.post(
        site.api("/import"),
        files={"file": ("risks.csv", b"\xef\xbb\xbf" + CSV.encode(), "text/csv")},
        headers=h,
    )
    assert multipart.status_code == 201 and multipart.json() == {"created": 2}
    exported = site.client.get(site.api("/export.csv"), headers=h)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    assert exported.content.startswith(b"\xef\xbb\xbf")
    assert exported.content.decode("utf-8-sig").count("顧客情報の流出") == 2
    assert [e.action for e in site.audit("risks.imported")] == ["risks.imported"] * 2
    assert site.audit("risks.exported")


def test_csv_import_errors_name_line_and_column(site: Site) -> None:
    h = site.auth(Role.manager)
    bad = CSV + "誤り,評判,0,3,,2026-02-30,,\r\n"
    resp = site.client.post(site.api("/import"), content=bad.encode(), headers=h)
    assert resp.status_code == 422
    error = resp.json()["error"]
    assert error["code"] == "validation"
    assert [(e["line"], e["column"]) for e in error["fields"]["errors"]] == [
        (4, "発生可能性"),
        (4, "見直し日"),
    ]
    assert site.client.get(site.api(), headers=h).json()["count"] == 0
    empty = site.client.post(site.api("/import"), content=b"", headers=h)
    assert empty.status_code == 422
