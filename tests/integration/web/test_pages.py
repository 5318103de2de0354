"""The server-rendered UI through FastAPI's TestClient: login, CSRF, permissions, the
organisation switcher, session expiry and the admin pages, each refusal audited."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from hikeshi.audit.models import AuditEvent
from hikeshi.auth.models import Organisation
from hikeshi.clock import FrozenClock
from hikeshi.config import Settings
from hikeshi.demo import DEMO_PASSWORD, seed_demo
from hikeshi.main import create_app
from hikeshi.web import ui
from tests.servers import TEST_SECRET

OPERATOR = "operator@demo.hikeshi.jp"
SUPERVISOR = "supervisor@demo.hikeshi.jp"
MANAGER = "manager@demo.hikeshi.jp"
ADMIN = "admin@demo.hikeshi.jp"
WRONG_LOGIN = "メールアドレスまたはパスワードが違います"
FORBIDDEN = "この操作を行う権限がありません"
TTL_MINUTES = 60


@dataclass
class Site:
    client: TestClient
    clock: FrozenClock
    orgs: dict[str, int]

    def audit(self, action: str) -> list[AuditEvent]:
        ctx = self.client.app.state.ctx  # type: ignore[attr-defined]
        with ctx.sessions() as session:
            return list(
                session.scalars(
                    select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
                )
            )


@pytest.fixture
def site(fresh_db_url: str) -> Iterator[Site]:
    clock = FrozenClock(datetime(2026, 11, 20, 1, 0, tzinfo=UTC))
    settings = Settings(
        database_url=fresh_db_url,
        environment="test",
        secret_key=TEST_SECRET,
        session_ttl_minutes=TTL_MINUTES,
        log_json=False,
    )
    app = create_app(settings, clock=clock)
    seed_demo(sessions=app.state.ctx.sessions, clock=clock)
    with app.state.ctx.sessions() as session:
        orgs = {o.slug: o.id for o in session.scalars(select(Organisation))}
    with TestClient(app, follow_redirects=False) as client:
        yield Site(client=client, clock=clock, orgs=orgs)


def form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "form has no csrf_token field"
    return match.group(1)


def meta_token(html: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match, "page has no csrf-token meta"
    return match.group(1)


def login(
    client: TestClient, email: str, password: str = DEMO_PASSWORD, next: str = "/"
) -> Response:
    page = client.get("/login", params={"next": next})
    assert page.status_code == 200
    resp: Response = client.post(
        "/login",
        data={
            "email": email,
            "password": password,
            "next": next,
            "csrf_token": form_token(page.text),
        },
    )
    return resp


def csrf(client: TestClient, path: str = "/") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return meta_token(page.text)


# --- login -----------------------------------------------------------------------------------


def test_login_page_is_japanese_local_and_locked_down(site: Site) -> None:
    page = site.client.get("/login")
    assert page.status_code == 200
    assert '<html lang="ja">' in page.text
    assert 'name="viewport"' in page.text
    # Every asset is ours: no absolute URLs in src/href.
    assert not re.search(r'(src|href)="(https?:)?//', page.text)
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert page.headers["x-frame-options"] == "DENY"
    # The pre-login token cookie is strict and HttpOnly.
    cookie = page.headers["set-cookie"].lower()
    assert "samesite=strict" in cookie and "httponly" in cookie
    for asset in ("/static/app.css", "/static/app.js", "/static/favicon.svg"):
        assert site.client.get(asset).status_code == 200


def test_login_success_sets_session_cookie_and_is_audited(site: Site) -> None:
    resp = login(site.client, SUPERVISOR)
    assert resp.status_code == 303
    assert resp.headers["location"] == "/"
    cookie = next(
        c for c in resp.headers.get_list("set-cookie") if c.startswith("hikeshi_session=")
    )
    lowered = cookie.lower()
    assert "httponly" in lowered and "samesite=lax" in lowered and "path=/" in lowered
    assert f"max-age={TTL_MINUTES * 60}" in lowered
    assert "secure" not in lowered  # cookie_secure is off outside production

    [row] = site.audit("auth.login")
    assert (row.actor_type, row.actor_label) == ("user", SUPERVISOR)
    assert row.org_id == site.orgs["acme-foods"]

    home = site.client.get("/")
    assert home.status_code == 200
    assert "SV・リーダー" in home.text
    for label in ("緊急対応", "問い合わせ", "エスカレーション", "通話記録", "体制", "レポート"):
        assert f">{label}</a>" in home.text
    assert 'href="/board"' in home.text
    assert 'href="/admin"' not in home.text  # supervisors have no 管理


def test_wrong_password_and_unknown_user_get_the_same_refusal(site: Site) -> None:
    wrong = login(site.client, SUPERVISOR, password="not-the-password")
    unknown = login(site.client, "nobody@demo.hikeshi.jp", password="not-the-password")
    for resp in (wrong, unknown):
        assert resp.status_code == 401
        assert WRONG_LOGIN in resp.text
        assert not any(
            c.startswith("hikeshi_session=") for c in resp.headers.get_list("set-cookie")
        )
    # Nothing in the page tells which half was wrong.
    assert wrong.text.replace(SUPERVISOR, "X") == unknown.text.replace(
        "nobody@demo.hikeshi.jp", "X"
    )

    rows = site.audit("auth.login_failed")
    assert [r.detail["email"] for r in rows if r.detail] == [SUPERVISOR, "nobody@demo.hikeshi.jp"]
    assert all(r.actor_type == "anonymous" for r in rows)
    assert site.audit("auth.login") == []
    assert site.client.get("/").status_code == 303


def test_password_guessing_is_slowed_then_allowed_again(site: Site) -> None:
    limit = site.client.app.state.ctx.settings.login_attempts_per_5_minutes  # type: ignore[attr-defined]
    for _ in range(limit):
        assert login(site.client, SUPERVISOR, password="guess").status_code == 401
    blocked = login(site.client, SUPERVISOR, password=DEMO_PASSWORD)
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert "しばらくしてから" in blocked.text
    assert site.audit("auth.login") == []
    [row] = site.audit("auth.login_throttled")
    assert row.detail and row.detail["email"] == SUPERVISOR
    # Another account from the same address is not locked out by these attempts.
    assert login(site.client, MANAGER, password=DEMO_PASSWORD).status_code == 303
    site.client.cookies.clear()
    site.clock.advance(timedelta(minutes=5))
    assert login(site.client, SUPERVISOR, password=DEMO_PASSWORD).status_code == 303


def test_login_without_the_form_token_is_refused_and_audited(site: Site) -> None:
    resp = site.client.post(
        "/login", data={"email": SUPERVISOR, "password": DEMO_PASSWORD, "csrf_token": "forged"}
    )
    assert resp.status_code == 403
    assert "フォームの有効期限が切れました" in resp.text
    assert not any(c.startswith("hikeshi_session=") for c in resp.headers.get_list("set-cookie"))
    [row] = site.audit("auth.csrf_rejected")
    assert row.actor_type == "anonymous" and row.detail and row.detail["path"] == "/login"
    assert site.audit("auth.login") == []


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "/\t/evil.example",
    ],
)
def test_login_never_redirects_off_site(site: Site, target: str) -> None:
    resp = login(site.client, SUPERVISOR, next=target)
    assert resp.status_code == 303
    assert resp.headers["location"] == "/"


def test_login_returns_to_a_local_next(site: Site) -> None:
    resp = login(site.client, SUPERVISOR, next="/board?view=1")
    assert resp.headers["location"] == "/board?view=1"


def test_safe_next_helper() -> None:
    assert ui.safe_next("/contacts") == "/contacts"
    assert ui.safe_next(None) == "/"
    for bad in ("", "board", "//x.example", "/\\x.example", "https://x.example", "/\x00"):
        assert ui.safe_next(bad) == "/"


# --- CSRF, permissions, expiry ---------------------------------------------------------------


def test_post_without_csrf_token_is_refused_and_audited(site: Site) -> None:
    login(site.client, SUPERVISOR)
    resp = site.client.post("/logout")
    assert resp.status_code == 403
    assert "フォームの有効期限が切れました" in resp.text
    resp = site.client.post("/logout", data={"csrf_token": "wrong"})
    assert resp.status_code == 403
    rows = site.audit("auth.csrf_rejected")
    assert len(rows) == 2
    assert all(r.actor_label == SUPERVISOR for r in rows)
    assert site.audit("auth.logout") == []
    assert site.client.get("/").status_code == 200  # still signed in


def test_operator_is_refused_the_admin_pages(site: Site) -> None:
    login(site.client, OPERATOR)
    home = site.client.get("/")
    assert "オペレーター" in home.text
    assert 'href="/admin"' not in home.text and 'href="/board"' not in home.text
    for path in ("/admin", "/admin/users", "/admin/tokens", "/admin/audit", "/board"):
        resp = site.client.get(path)
        assert resp.status_code == 403, path
        assert FORBIDDEN in resp.text
        assert '<html lang="ja">' in resp.text
    token = csrf(site.client)
    resp = site.client.post(
        "/admin/tokens", data={"csrf_token": token, "name": "x", "role": "operator"}
    )
    assert resp.status_code == 403
    rows = site.audit("auth.permission_denied")
    assert len(rows) == 6
    assert {r.detail["path"] for r in rows if r.detail} >= {"/admin", "/board", "/admin/tokens"}


def test_expired_session_goes_back_to_login(site: Site) -> None:
    login(site.client, SUPERVISOR)
    assert site.client.get("/board").status_code == 200
    site.clock.advance(timedelta(minutes=TTL_MINUTES + 1))
    resp = site.client.get("/board")
    assert resp.status_code == 303
    assert resp.headers["location"] == "/login?next=/board"
    assert len(site.audit("auth.session_rejected")) == 1
    # A form posted with the dead session gets the Japanese 401 page, not a stack trace.
    resp = site.client.post("/logout", data={"csrf_token": "whatever"})
    assert resp.status_code == 401
    assert "ログインが必要です" in resp.text
    assert 'href="/login?next=/"' in resp.text
    # Logging in again works and lands on the board.
    again = login(site.client, SUPERVISOR, next="/board")
    assert again.headers["location"] == "/board"
    assert site.client.get("/board").status_code == 200


def test_logout_ends_the_session(site: Site) -> None:
    login(site.client, SUPERVISOR)
    old_cookie = site.client.cookies.get("hikeshi_session")
    resp = site.client.post("/logout", data={"csrf_token": csrf(site.client)})
    assert resp.status_code == 303
    assert resp.headers["location"] == "/login?logged_out=1"
    assert len(site.audit("auth.logout")) == 1
    assert "ログアウトしました" in site.client.get("/login?logged_out=1").text
    # The old cookie is dead on the server, not only forgotten by the browser.
    assert old_cookie
    site.client.cookies.set("hikeshi_session", old_cookie)
    assert site.client.get("/").status_code == 303


def test_logging_in_again_ends_the_previous_session(site: Site) -> None:
    login(site.client, SUPERVISOR)
    first = site.client.cookies.get("hikeshi_session")
    login(site.client, SUPERVISOR)
    second = site.client.cookies.get("hikeshi_session")
    assert first and second and first != second
    site.client.cookies.set("hikeshi_session", first)
    assert site.client.get("/").status_code == 303
    site.client.cookies.set("hikeshi_session", second)
    assert site.client.get("/").status_code == 200


# --- organisation switcher -------------------------------------------------------------------


def test_org_switch_is_limited_to_assigned_orgs(site: Site) -> None:
    acme, sakura = site.orgs["acme-foods"], site.orgs["sakura-denki"]
    login(site.client, SUPERVISOR)
    page = site.client.get("/board")
    assert "アクメ食品株式会社" in page.text and "さくら電機株式会社" not in page.text
    resp = site.client.post(
        "/switch-org", data={"csrf_token": meta_token(page.text), "org_id": str(sakura)}
    )
    assert resp.status_code == 403
    assert FORBIDDEN in resp.text
    [denied] = site.audit("auth.org_denied")
    assert denied.org_id == sakura and denied.actor_label == SUPERVISOR
    assert site.audit("auth.org_switched") == []

    site.client.cookies.clear()
    login(site.client, MANAGER)
    page = site.client.get("/board")
    assert f'<option value="{sakura}">さくら電機株式会社</option>' in page.text
    resp = site.client.post(
        "/switch-org",
        data={"csrf_token": meta_token(page.text), "org_id": str(sakura), "next": "/board"},
    )
    assert resp.status_code == 303 and resp.headers["location"] == "/board"
    [switched] = site.audit("auth.org_switched")
    assert switched.org_id == sakura and switched.actor_label == MANAGER
    assert switched.detail == {"from_org_id": acme, "to_org_id": sakura}
    board = site.client.get("/board")
    assert f'<option value="{sakura}" selected>' in board.text
    assert f"/api/v1/orgs/{sakura}/events" in board.text


# --- board -----------------------------------------------------------------------------------


def test_board_page_lists_and_posts_announcements(site: Site) -> None:
    login(site.client, SUPERVISOR)
    page = site.client.get("/board")
    assert page.status_code == 200
    acme = site.orgs["acme-foods"]
    assert f'data-events-url="/api/v1/orgs/{acme}/events"' in page.text
    assert "まだお知らせはありません" in page.text
    token = meta_token(page.text)

    resp = site.client.post(
        "/board/announcements",
        data={"csrf_token": token, "body": "<b>18時</b>から受付延長", "severity": "warning"},
    )
    assert resp.status_code == 303
    page = site.client.get("/board")
    assert "&lt;b&gt;18時&lt;/b&gt;から受付延長" in page.text  # escaped, never markup
    assert "sev-warning" in page.text

    bad = site.client.post(
        "/board/announcements", data={"csrf_token": token, "body": " ", "severity": "panic"}
    )
    assert bad.status_code == 422
    assert "本文を1〜2000文字で入力" in bad.text

    # The JSON API takes the same session with the header token (what app.js does).
    api = site.client.post(
        f"/api/v1/orgs/{acme}/announcements",
        json={"body": "API から", "severity": "info"},
        headers={"x-csrf-token": token},
    )
    assert api.status_code == 201
    api = site.client.post(f"/api/v1/orgs/{acme}/announcements", json={"body": "no token"})
    assert api.status_code == 403


def test_area_pages_are_honest_placeholders(site: Site) -> None:
    login(site.client, OPERATOR)
    placeholders = [area for area in ui.AREAS if not area.built]
    assert placeholders
    for area in placeholders:
        resp = site.client.get(area.path)
        assert resp.status_code == 200, area.path
        assert f"<h1>{area.title}</h1>" in resp.text
        assert "準備中" in resp.text
        assert 'aria-current="page"' in resp.text


def test_unauthenticated_page_redirects_to_login(site: Site) -> None:
    resp = site.client.get("/escalations")
    assert resp.status_code == 303
    assert resp.headers["location"] == "/login?next=/escalations"
    resp = site.client.post("/switch-org", data={"org_id": "1"})
    assert resp.status_code == 401
    assert "ログインが必要です" in resp.text


# --- 管理 -------------------------------------------------------------------------------------


def test_admin_issues_a_token_shown_exactly_once(site: Site) -> None:
    login(site.client, ADMIN)
    token = csrf(site.client, "/admin/tokens")
    resp = site.client.post(
        "/admin/tokens",
        data={
            "csrf_token": token,
            "name": "電話システム連携",
            "role": "supervisor",
            "expires_days": "90",
        },
    )
    assert resp.status_code == 201
    assert "今回だけ表示されます" in resp.text
    assert resp.headers["cache-control"] == "no-store"
    match = re.search(r">(hk_[A-Za-z0-9_-]{20,})</textarea>", resp.text)
    assert match
    raw = match.group(1)

    listing = site.client.get("/admin/tokens")
    assert raw not in listing.text
    assert raw[:10] in listing.text and "電話システム連携" in listing.text

    me = site.client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert me.status_code == 200 and me.json()["role"] == "supervisor"
    [created] = site.audit("api_tokens.create")
    assert created.actor_label == ADMIN and created.after and created.after["token_hash"] != raw

    token_id = created.after["id"]
    resp = site.client.post(f"/admin/tokens/{token_id}/revoke", data={"csrf_token": token})
    assert resp.status_code == 303, (token_id, resp.text)
    assert "失効済み" in site.client.get("/admin/tokens?notice=token_revoked").text
    assert (
        site.client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 401
    )


def test_admin_refuses_an_admin_token(site: Site) -> None:
    login(site.client, ADMIN)
    token = csrf(site.client, "/admin/tokens")
    resp = site.client.post(
        "/admin/tokens", data={"csrf_token": token, "name": "x", "role": "admin"}
    )
    assert resp.status_code == 422
    assert "役割を選択してください" in resp.text
    assert ">hk_" not in resp.text


def test_admin_manages_users_and_orgs_and_reads_the_audit_log(site: Site) -> None:
    login(site.client, ADMIN)
    token = csrf(site.client, "/admin")
    users = site.client.get("/admin/users")
    assert "佐藤 健" in users.text and "SV・リーダー" in users.text

    resp = site.client.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "email": "koho@demo.hikeshi.jp",
            "display_name": "広報 太郎",
            "password": "long-enough-password",
            "role": "specialist",
            "department": "広報",
        },
    )
    assert resp.status_code == 303, resp.text
    users = site.client.get(resp.headers["location"])
    assert "利用者を登録しました" in users.text and "広報 太郎" in users.text

    missing_dept = site.client.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "email": "x@demo.hikeshi.jp",
            "display_name": "x",
            "password": "long-enough-password",
            "role": "specialist",
        },
    )
    assert missing_dept.status_code == 422
    assert "部署を指定してください" in missing_dept.text
    assert 'value="x@demo.hikeshi.jp"' in missing_dept.text  # the form keeps what was typed

    duplicate = site.client.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "email": OPERATOR,
            "display_name": "x",
            "password": "long-enough-password",
            "role": "operator",
        },
    )
    assert duplicate.status_code == 409
    assert "登録済み" in duplicate.text

    resp = site.client.post(
        "/admin/orgs", data={"csrf_token": token, "slug": "hikari-bank", "name": "ひかり銀行"}
    )
    assert resp.status_code == 303
    assert "ひかり銀行" in site.client.get("/admin/orgs").text
    assert "ひかり銀行" in site.client.get("/").text  # now in the organisation switcher
    bad = site.client.post("/admin/orgs", data={"csrf_token": token, "slug": "X", "name": "x"})
    assert bad.status_code == 422 and "識別子" in bad.text

    audit = site.client.get("/admin/audit")
    assert audit.status_code == 200
    assert "auth.login" in audit.text and "memberships.create" in audit.text
    assert "2026/11/20 10:00:00" in audit.text  # JST
    assert "$argon2" not in audit.text
