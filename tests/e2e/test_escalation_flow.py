"""Issue 4's browser scenario, in Debian's Chromium against a real server process: an operator
takes a contact and presses 手上げ, the supervisor's board shows it within a second; the operator
escalates, the supervisor acknowledges and sends a 部署照会, 法務 answers, the case is resolved
and the KPIs move."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import httpx
import pytest
from playwright.sync_api import expect

from hikeshi.clock import JST
from tests.e2e.conftest import NewPage, Server
from tests.e2e.pages import WAIT_MS, BoardPage, LoginPage

pytestmark = [pytest.mark.browser, pytest.mark.slow]

OPERATOR = "operator@demo.hikeshi.jp"
SUPERVISOR = "supervisor@demo.hikeshi.jp"
LEGAL = "legal@demo.hikeshi.jp"  # 法務


def _kpis(server: Server) -> dict[str, int]:
    resp = httpx.get(
        f"{server.base_url}/api/v1/orgs/{server.org_id}/kpis",
        headers={"Authorization": f"Bearer {server.api_token}"},
        timeout=10,
    )
    assert resp.status_code == 200, resp.text
    total = resp.json()["total"]
    return {k: int(total[k]) for k in ("contacts", "escalated", "cases", "resolved")}


def test_help_escalate_acknowledge_inquire_answer_resolve(
    server: Server, new_page: NewPage
) -> None:
    before = _kpis(server)

    supervisor = new_page()
    LoginPage(supervisor, server.base_url).open("/board").login(SUPERVISOR)
    board = BoardPage(supervisor, server.base_url)
    board.wait_connected()

    # The operator takes a phone call and records it.
    operator = new_page()
    LoginPage(operator, server.base_url).open("/contacts/console").login(OPERATOR)
    operator.locator("#n-phone").fill("090-1234-5678")
    operator.locator("#n-name").fill("山本 太郎")
    operator.locator("#n-subject").fill("返金してほしい（電気ケトル）")
    operator.locator("#n-notes").fill("購入後1週間で故障。返金を強く希望。")
    with operator.expect_navigation(timeout=WAIT_MS):
        operator.locator("#create-button").click()
    assert re.search(r"/contacts/\d+", operator.url)

    # 手上げ: the supervisor's board shows it within a second.
    operator.locator("#help-button").click()
    expect(board.items().filter(has_text="手上げ").first).to_be_visible(timeout=1_000)

    # The operator escalates.
    operator.locator("#escalate-reason").fill("返金の判断が必要")
    with operator.expect_navigation(timeout=WAIT_MS):
        operator.locator("#escalate-button").click()
    expect(board.items().filter(has_text="返金してほしい").first).to_be_visible(timeout=WAIT_MS)

    # The supervisor opens the case, confirms the handover and acknowledges.
    supervisor.goto(f"{server.base_url}/escalations")
    supervisor.get_by_role("link", name=re.compile("返金してほしい")).first.click()
    expect(supervisor.locator("#handover-card")).to_contain_text("返金")
    with supervisor.expect_navigation(timeout=WAIT_MS):
        supervisor.locator("#ack-button").click()
    case_url = supervisor.url.split("?")[0]

    # 部署照会 to 法務, due tomorrow.
    supervisor.locator("#inquiries-link").click()
    supervisor.locator("#ask-dept").select_option("法務")
    supervisor.locator("#ask-question").fill("初期不良として例外的に返金してよいか")
    due = (datetime.now(JST) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    supervisor.locator("#ask-due").fill(due)
    with supervisor.expect_navigation(timeout=WAIT_MS):
        supervisor.locator("#ask-form button[type=submit]").click()
    inquiries_url = supervisor.url.split("?")[0]

    # 法務 answers in Hikeshi.
    legal = new_page()
    LoginPage(legal, server.base_url).open(inquiries_url.replace(server.base_url, "")).login(LEGAL)
    legal.locator("textarea[id^='answer-']").first.fill("初期不良のため返金で差し支えありません")
    with legal.expect_navigation(timeout=WAIT_MS):
        legal.get_by_role("button", name="回答する").click()
    expect(legal.locator("#inquiry-rounds")).to_contain_text("差し支えありません")

    # The supervisor explains it to the customer, who is satisfied; the case is resolved.
    supervisor.goto(inquiries_url)
    supervisor.get_by_label("ご納得いただけた").check()
    with supervisor.expect_navigation(timeout=WAIT_MS):
        supervisor.get_by_role("button", name="記録する").first.click()
    supervisor.goto(case_url)
    with supervisor.expect_navigation(timeout=WAIT_MS):
        supervisor.locator("#state-resolved").click()
    expect(supervisor.locator("#case-state")).to_have_text("解決")

    # The KPIs moved: one more contact, escalated and resolved.
    after = _kpis(server)
    assert {k: after[k] - before[k] for k in after} == {
        "contacts": 1,
        "escalated": 1,
        "cases": 1,
        "resolved": 1,
    }
