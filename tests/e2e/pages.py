"""Page objects: what a person does on a screen, so the tests read as scenarios."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from playwright.sync_api import expect

from hikeshi.demo import DEMO_PASSWORD

WAIT_MS = 10_000


class LoginPage:
    def __init__(self, page: Any, base_url: str) -> None:
        self.page = page
        self.base_url = base_url

    def open(self, next_path: str = "/") -> LoginPage:
        self.page.goto(f"{self.base_url}/login?next={quote(next_path)}")
        expect(self.page.get_by_role("heading", name="ログイン")).to_be_visible(timeout=WAIT_MS)
        return self

    def login(self, email: str, password: str = DEMO_PASSWORD) -> None:
        self.page.get_by_label("メールアドレス").fill(email)
        self.page.get_by_label("パスワード").fill(password)
        with self.page.expect_navigation(timeout=WAIT_MS):
            self.page.get_by_role("button", name="ログイン").click()

    def error_text(self) -> str:
        return str(self.page.locator("#login-error").inner_text(timeout=WAIT_MS))


class BoardPage:
    def __init__(self, page: Any, base_url: str) -> None:
        self.page = page
        self.base_url = base_url

    def open(self) -> BoardPage:
        self.page.goto(f"{self.base_url}/board")
        expect(self.page.get_by_role("heading", name="SVボード")).to_be_visible(timeout=WAIT_MS)
        return self

    @property
    def connection(self) -> Any:
        return self.page.locator("[data-conn-state]")

    def wait_connected(self) -> None:
        expect(self.connection).to_have_attribute("data-state", "open", timeout=WAIT_MS)
        expect(self.connection).to_have_text("接続中")

    def items(self) -> Any:
        return self.page.locator("[data-board-list] > li")

    def expect_item(self, body: str, *, first: bool = True) -> Any:
        item = self.items().filter(has_text=body)
        expect(item).to_have_count(1, timeout=WAIT_MS)
        if first:
            expect(self.items().first).to_contain_text(body)
        return item

    def post(self, body: str, severity_label: str = "お知らせ") -> None:
        self.page.get_by_label("本文").fill(body)
        self.page.get_by_label("重要度").select_option(label=severity_label)
        self.page.get_by_role("button", name="投稿する").click()
        expect(self.page.locator("[data-form-status]")).to_have_text(
            "投稿しました", timeout=WAIT_MS
        )
