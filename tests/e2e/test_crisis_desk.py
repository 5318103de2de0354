"""Issue 3's browser scenario, in Debian's Chromium against a real server process: a manager
launches a recall from the pack, 広報 and 法務 approve the web notice, it is published, and a
customer opens the public page on a phone-size viewport and checks a serial."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import NewPage, Server
from tests.e2e.pages import WAIT_MS, BoardPage, LoginPage
from tests.e2e.test_browser import PHONE, no_horizontal_overflow

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MANAGER = "manager@demo.hikeshi.jp"
PR = "koho@sakura.demo.hikeshi.jp"  # 広報 of さくら電機
LEGAL = "homu@sakura.demo.hikeshi.jp"  # 法務 of さくら電機


def test_launch_approve_publish_and_check_a_serial(server: Server, new_page: NewPage) -> None:
    # The manager works for several clients: switch to さくら電機 first.
    manager = new_page()
    LoginPage(manager, server.base_url).open("/board").login(MANAGER)
    with manager.expect_navigation(timeout=WAIT_MS):
        manager.locator("#org-select").select_option(label="さくら電機株式会社")
    board = BoardPage(manager, server.base_url)
    board.wait_connected()

    # A second tab launches; the board in the first shows it live.
    launcher = manager.context.new_page()
    launcher.goto(f"{server.base_url}/incidents")
    launcher.locator("#launch-button").click()
    launcher.locator("#pack-recall").click()
    launcher.locator("#fill-example").click()  # the pack's examples, as a drill rehearsal would
    expect(launcher.locator("#param-product_name")).not_to_have_value("", timeout=WAIT_MS)
    launcher.locator("#param-product_name").fill("電気ヒーター「あたたか」")
    with launcher.expect_navigation(timeout=WAIT_MS):
        launcher.locator("#launch-submit").click()
    expect(launcher.locator("#incident-title")).to_contain_text("電気ヒーター「あたたか」")
    expect(launcher.locator("#incident-state")).to_have_text("稼働中")
    board.expect_item("緊急対応を立ち上げました")

    launcher.locator("#notice-link-web").click()
    expect(launcher.locator("#notice-status")).to_contain_text("承認待ち")
    expect(launcher.locator("#publish-button")).to_be_disabled()
    notice_url = launcher.url
    public_url = None

    # 広報 and 法務 each approve the revision they read.
    for email in (PR, LEGAL):
        person = new_page()
        LoginPage(person, server.base_url).open(notice_url.replace(server.base_url, "")).login(
            email
        )
        expect(person.locator("#notice-body")).to_be_visible(timeout=WAIT_MS)
        with person.expect_navigation(timeout=WAIT_MS):
            person.locator("#approve-button").click()
        expect(person.locator("#approve-done")).to_be_visible(timeout=WAIT_MS)
        if email == PR:
            pr_page = person

    # 広報 publishes once both approvals are in.
    pr_page.reload()
    expect(pr_page.locator("#publish-button")).to_be_enabled(timeout=WAIT_MS)
    pr_page.locator("#publish-note").fill("初版")
    with pr_page.expect_navigation(timeout=WAIT_MS):
        pr_page.locator("#publish-button").click()
    expect(pr_page.locator("#notice-status")).to_contain_text("公開中")
    expect(pr_page.locator("#version-history")).to_contain_text("第1版")

    launcher.goto(notice_url.split("/notices/")[0])
    public_url = launcher.locator("#public-link").get_attribute("href")
    assert public_url and re.match(r"^/n/[A-Za-z0-9_-]+$", public_url)

    # A customer, no login, on a phone.
    customer = new_page(**PHONE)
    customer.goto(f"{server.base_url}{public_url}")
    expect(customer.get_by_text("電気ヒーター「あたたか」").first).to_be_visible(timeout=WAIT_MS)
    expect(customer.locator("a[href^='tel:']").first).to_be_visible()
    no_horizontal_overflow(customer)
    customer.get_by_label("型番").fill("ｋｔ－２００ｗ")  # as typed on a phone keyboard
    customer.get_by_label("製造番号").fill("2301000001")
    with customer.expect_navigation(timeout=WAIT_MS):
        customer.get_by_role("button", name=re.compile("確認")).click()
    expect(customer.locator("body")).to_contain_text("対象製品です", timeout=WAIT_MS)
    assert "2306999999" not in customer.content()  # the ranges are never revealed
    no_horizontal_overflow(customer)
