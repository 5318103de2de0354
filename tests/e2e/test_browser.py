"""The issue's browser scenarios, in Debian's Chromium against a real server process:
the SVボード shows a new announcement without a reload; an operator is refused 管理;
the layout holds at phone width."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from hikeshi.audit.service import make_audited_session_factory, set_actor, system_actor
from hikeshi.board.schemas import AnnouncementCreate
from hikeshi.board.service import post_announcement
from hikeshi.clock import SystemClock
from hikeshi.db import make_engine, transaction
from tests.e2e.conftest import RESULTS, NewPage, Server
from tests.e2e.pages import WAIT_MS, BoardPage, LoginPage

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SUPERVISOR = "supervisor@demo.hikeshi.jp"
MANAGER = "manager@demo.hikeshi.jp"
OPERATOR = "operator@demo.hikeshi.jp"
ADMIN = "admin@demo.hikeshi.jp"
PHONE = {"width": 375, "height": 740}


def no_horizontal_overflow(page: object) -> None:
    overflow = page.evaluate(  # type: ignore[attr-defined]
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"page is {overflow}px wider than the viewport"


def test_board_shows_new_announcements_without_reload(server: Server, new_page: NewPage) -> None:
    page = new_page()
    LoginPage(page, server.base_url).open("/board").login(SUPERVISOR)
    board = BoardPage(page, server.base_url)
    expect(page.get_by_role("heading", name="SVボード")).to_be_visible(timeout=WAIT_MS)
    board.wait_connected()
    page.evaluate("() => { window.__sameDocument = true; }")

    # 1. An integration posts through the JSON API with its token.
    resp = httpx.post(
        f"{server.base_url}/api/v1/orgs/{server.org_id}/announcements",
        headers={"Authorization": f"Bearer {server.api_token}"},
        json={"body": "本日18時から回収受付を延長します", "severity": "urgent"},
        timeout=10,
    )
    assert resp.status_code == 201, resp.text
    item = board.expect_item("本日18時から回収受付を延長します")
    expect(item).to_have_class("item sev-urgent is-new")
    expect(item.locator('[data-field="severity"]')).to_have_text("緊急")

    # 2. A manager, signed in elsewhere, posts through the board's own form.
    manager_page = new_page()
    LoginPage(manager_page, server.base_url).open("/board").login(MANAGER)
    manager_board = BoardPage(manager_page, server.base_url)
    manager_board.wait_connected()
    manager_board.post("<script>alert(1)</script> 折り返しは本日中に", severity_label="注意")
    item = board.expect_item("<script>alert(1)</script> 折り返しは本日中に")
    expect(item.locator('[data-field="author"]')).to_have_text(MANAGER)
    # Shown on the poster's board too, once.
    manager_board.expect_item("<script>alert(1)</script> 折り返しは本日中に")

    assert page.evaluate("() => window.__sameDocument === true"), "the board reloaded"
    expect(board.items()).to_have_count(2)


def test_operator_is_refused_the_admin_pages(server: Server, new_page: NewPage) -> None:
    page = new_page()
    LoginPage(page, server.base_url).open().login(OPERATOR)
    expect(page.locator(".role-badge")).to_have_text("オペレーター")
    expect(
        page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name="管理")
    ).to_have_count(0)
    response = page.goto(f"{server.base_url}/admin")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="この操作を行う権限がありません")).to_be_visible()


def test_wrong_password_shows_a_plain_refusal(server: Server, new_page: NewPage) -> None:
    page = new_page()
    login = LoginPage(page, server.base_url).open()
    login.login(SUPERVISOR, password="wrong-password-123")
    assert login.error_text() == "メールアドレスまたはパスワードが違います"


@pytest.mark.parametrize("path", ["/", "/board", "/escalations", "/admin/audit", "/admin/tokens"])
def test_phone_width_layout_has_no_horizontal_overflow(
    server: Server, new_page: NewPage, path: str
) -> None:
    page = new_page(**PHONE)
    LoginPage(page, server.base_url).open(path).login(ADMIN)
    assert page.url.endswith(path)
    no_horizontal_overflow(page)
    links = page.get_by_role("navigation", name="メインメニュー").get_by_role("link")
    assert links.count() == 9  # ホーム + SVボード + six areas + 管理
    for i in range(links.count()):
        box = links.nth(i).bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], links.nth(
            i
        ).inner_text()


def test_screenshots_for_review(server: Server, new_page: NewPage) -> None:
    """Desktop and phone screenshots of the login page and the board, kept in test-results/."""
    out = RESULTS / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    for name, size in (("desktop", {"width": 1280, "height": 800}), ("phone", PHONE)):
        page = new_page(**size)
        login = LoginPage(page, server.base_url).open("/board")
        page.screenshot(path=str(out / f"login-{name}.png"), full_page=True)
        login.login(SUPERVISOR)
        BoardPage(page, server.base_url).wait_connected()
        no_horizontal_overflow(page)
        page.screenshot(path=str(out / f"board-{name}.png"), full_page=True)
        admin = new_page(**size)
        LoginPage(admin, server.base_url).open("/").login(ADMIN)
        admin.screenshot(path=str(out / f"home-{name}.png"), full_page=True)
        for section in ("users", "tokens", "audit"):
            admin.goto(f"{server.base_url}/admin/{section}")
            no_horizontal_overflow(admin)
            admin.screenshot(path=str(out / f"admin-{section}-{name}.png"), full_page=True)
        admin.goto(f"{server.base_url}/incidents")
        admin.screenshot(path=str(out / f"area-{name}.png"), full_page=True)
        admin.goto(f"{server.base_url}/admin/tokens")
        admin.get_by_label("名前").fill(f"画面確認 {name}")
        admin.get_by_role("button", name="発行する").click()
        expect(admin.locator("#issued-token")).to_have_value(re.compile(r"^hk_"))
        admin.screenshot(path=str(out / f"admin-token-issued-{name}.png"), full_page=True)


def test_board_reconnects_and_catches_up(server: Server, new_page: NewPage) -> None:
    """The server goes away: the indicator says so, and on return the board fetches what
    was posted while it was disconnected."""
    page = new_page()
    LoginPage(page, server.base_url).open("/board").login(SUPERVISOR)
    board = BoardPage(page, server.base_url)
    board.wait_connected()
    server.process.stop()
    try:
        expect(board.connection).to_have_text("再接続中", timeout=WAIT_MS)

        engine = make_engine(server.process.db_url)
        try:
            with transaction(make_audited_session_factory(engine)) as session:
                set_actor(session, system_actor("e2e"))
                post_announcement(
                    session=session,
                    org_id=server.org_id,
                    author_label="e2e",
                    data=AnnouncementCreate(body="切断中に投稿されたお知らせ"),
                    clock=SystemClock(),
                )
        finally:
            engine.dispose()
    finally:
        server.process.start()  # the module's other tests need it back
    board.wait_connected()
    board.expect_item("切断中に投稿されたお知らせ")
