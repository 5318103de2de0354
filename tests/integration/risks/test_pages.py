"""リスク一覧 pages through the TestClient: heat map, filters, forms with CSRF, CSV import."""

from __future__ import annotations

import re

from hikeshi.auth.enums import Role
from tests.integration.risks.conftest import MANAGER, OPERATOR, SUPERVISOR, Site, login

RISK_FORM = {
    "title": "物流センターの火災",
    "category": "環境",
    "likelihood": "2",
    "impact": "5",
    "owner": "物流部",
    "review_date": "2026-11-01",
    "playbook_id": "accident_disaster",
    "notes": "年2回の訓練",
}


def test_manager_creates_edits_and_deletes_through_forms(site: Site) -> None:
    token = login(site.client, MANAGER)
    new = site.client.get("/risks/new")
    assert new.status_code == 200 and 'name="csrf_token"' in new.text
    # Without the CSRF token the form is refused and nothing is written.
    refused = site.client.post("/risks", data=RISK_FORM)
    assert refused.status_code == 403
    created = site.client.post("/risks", data={**RISK_FORM, "csrf_token": token})
    assert created.status_code == 303 and created.headers["location"] == "/risks?notice=created"
    page = site.client.get("/risks?notice=created")
    assert "リスクを登録しました" in page.text
    assert "物流センターの火災" in page.text and "期限切れ" in page.text
    match = re.search(r'href="/risks/(\d+)"', page.text)
    assert match
    rid = match.group(1)
    edit = site.client.get(f"/risks/{rid}")
    assert edit.status_code == 200 and 'value="物流センターの火災"' in edit.text
    assert "優先度 高" in edit.text
    updated = site.client.post(
        f"/risks/{rid}", data={**RISK_FORM, "likelihood": "5", "csrf_token": token}
    )
    assert updated.status_code == 303
    assert "極高" in site.client.get(f"/risks/{rid}").text
    deleted = site.client.post(f"/risks/{rid}/delete", data={"csrf_token": token})
    assert deleted.status_code == 303
    assert site.client.get(f"/risks/{rid}").status_code == 404
    actions = [e.action for e in site.audit("risks.")]
    assert actions == ["risks.create", "risks.update", "risks.delete"]
    assert {e.actor_label for e in site.audit("risks.")} == {MANAGER}


def test_form_errors_are_shown_in_japanese(site: Site) -> None:
    token = login(site.client, MANAGER)
    resp = site.client.post(
        "/risks", data={**RISK_FORM, "title": "", "likelihood": "9", "csrf_token": token}
    )
    assert resp.status_code == 422
    assert "タイトル：1〜200文字で入力してください" in resp.text
    assert "発生可能性：1〜5 から選択してください" in resp.text
    resp = site.client.post("/risks", data={**RISK_FORM, "category": "天災", "csrf_token": token})
    assert resp.status_code == 422 and "カテゴリ「天災」は登録されていません" in resp.text
    assert not site.audit("risks.create")


def test_heat_map_counts_and_cell_links_filter_the_list(site: Site) -> None:
    h = site.auth(Role.manager)
    for lk, im, title in [(5, 4, "頻発する障害"), (5, 4, "SNS炎上"), (1, 1, "軽微な遅延")]:
        body = {"title": title, "category": "技術的", "likelihood": lk, "impact": im}
        assert site.client.post(site.api(), json=body, headers=h).status_code == 201
    login(site.client, SUPERVISOR)  # reads, cannot change
    page = site.client.get("/risks")
    assert page.status_code == 200
    assert page.text.count('class="heat-cell') == 25
    assert "発生可能性5・影響度4・優先度極高：2件" in page.text
    assert 'href="/risks?likelihood=5&amp;impact=4"' in page.text
    assert "/risks/new" not in page.text  # no create link without risks:manage
    cell = site.client.get("/risks", params={"likelihood": "5", "impact": "4"})
    assert "頻発する障害" in cell.text and "SNS炎上" in cell.text
    assert "軽微な遅延" not in cell.text and "is-selected" in cell.text
    low = site.client.get("/risks", params={"priority": "low"})
    assert "軽微な遅延" in low.text and "SNS炎上" not in low.text
    # Local assets only, and no inline style (the CSP forbids it).
    assert not re.search(r'(src|href)="(https?:)?//', page.text)
    assert "style=" not in page.text
    assert site.client.get("/risks/new").status_code == 403


def test_operator_cannot_open_the_register(site: Site) -> None:
    token = login(site.client, OPERATOR)
    resp = site.client.get("/risks")
    assert resp.status_code == 403 and "この操作を行う権限がありません" in resp.text
    refused = site.client.post("/risks", data={**RISK_FORM, "csrf_token": token})
    assert refused.status_code == 403
    assert not site.audit("risks.create")
    assert site.audit("auth.permission_denied")


def test_csv_import_page_reports_errors_by_line_and_column(site: Site) -> None:
    token = login(site.client, MANAGER)
    assert site.client.get("/risks/import").status_code == 200
    bad = (
        "タイトル,カテゴリ,発生可能性,影響度\r\n正しい行,技術的,1,1\r\n誤った行,技術的,6,1\r\n"
    ).encode("cp932")
    resp = site.client.post(
        "/risks/import",
        data={"csrf_token": token},
        files={"file": ("risks.csv", bad, "text/csv")},
    )
    assert resp.status_code == 422
    assert "1件も登録していません" in resp.text
    row = re.search(r'<td class="num">(\d+)</td><td>([^<]+)</td>', resp.text)
    assert row and row.groups() == ("3", "発生可能性")
    assert not site.audit("risks.create")
    good = bad.replace(b"6,1", b"4,1")
    ok = site.client.post(
        "/risks/import", data={"csrf_token": token}, files={"file": ("r.csv", good, "text/csv")}
    )
    assert ok.status_code == 200 and "2件のリスクを登録しました" in ok.text
    pasted = site.client.post(
        "/risks/import",
        data={"csrf_token": token, "csv_text": "title,category,likelihood,impact\n貼付,評判,2,2\n"},
    )
    assert pasted.status_code == 200 and "1件のリスクを登録しました" in pasted.text
    export = site.client.get("/risks/export.csv")
    assert export.status_code == 200 and export.content.startswith(b"\xef\xbb\xbf")
    assert export.content.decode("utf-8-sig").count("\r\n") == 4


def test_matrix_page_changes_priorities_and_categories(site: Site) -> None:
    token = login(site.client, MANAGER)
    page = site.client.get("/risks/matrix")
    assert page.status_code == 200 and page.text.count('<select name="cell_') == 25
    cells = {
        f"cell_{lk}_{im}": "critical" if lk == 1 else "low"
        for lk in range(1, 6)
        for im in range(1, 6)
    }
    resp = site.client.post(
        "/risks/matrix", data={**cells, "extra_categories": "法令\n取引先\n", "csrf_token": token}
    )
    assert resp.status_code == 303, resp.text
    after = site.client.get("/risks/matrix?notice=matrix")
    assert "優先度表を保存しました" in after.text and "法令\n取引先" in after.text
    created = site.client.post(
        "/risks",
        data={
            **RISK_FORM,
            "category": "法令",
            "likelihood": "1",
            "impact": "1",
            "csrf_token": token,
        },
    )
    assert created.status_code == 303
    assert '<span class="prio prio-critical">極高</span>' in site.client.get("/risks").text
    bad = site.client.post("/risks/matrix", data={**cells, "cell_3_3": "x", "csrf_token": token})
    assert bad.status_code == 422
    assert [e.action for e in site.audit("risk_matrices.")] == ["risk_matrices.create"]
