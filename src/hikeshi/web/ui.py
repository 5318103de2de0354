"""The page shell shared by ``pages.py`` and ``admin_pages.py``: templates, the header
(organisation switcher, role, navigation), security headers and small pure helpers.

No routes here; this module touches the web framework only to build HTML responses.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse

from hikeshi import __version__
from hikeshi.auth import service as auth_service
from hikeshi.auth.permissions import Permission
from hikeshi.clock import format_jst, to_jst
from hikeshi.deps import Principal
from hikeshi.errors import ValidationFailed

WEB_DIR = Path(__file__).resolve().parent
TEMPLATE_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"

# Every asset is served by us; nothing inline, nothing from elsewhere.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

SEVERITY_LABELS = {"info": "お知らせ", "warning": "注意", "urgent": "緊急"}


@dataclass(frozen=True)
class Area:
    path: str
    title: str
    summary: str
    details: tuple[str, ...] = ()
    permission: Permission | None = None
    built: bool = False  # True once the area's own pages replace the placeholder


# The areas of the product, in the order the floor uses them. The ones not built yet get an
# honest page that says what will be there.
AREAS: tuple[Area, ...] = (
    Area(
        "/incidents",
        "緊急対応",
        "リコール・情報漏えい・事故・災害・システム障害・炎上などの緊急事態に、"
        "対応フロー（プレイブック）から数分で緊急コンタクトセンターを立ち上げます。",
        (
            "リスク一覧（発生可能性 × 影響度）と対応フローの管理",
            "ワンクリックの立ち上げ：受付窓口・スクリプト・FAQ・告知文・体制・連絡体制",
            "インシデントのタイムライン（告知・エスカレーション・判断・体制変更）",
            "訓練・シミュレーション",
        ),
        permission=Permission.incidents_read,
        built=True,
    ),
    Area(
        "/contacts",
        "問い合わせ",
        "電話・メール・Webフォーム・チャット・SNS のすべての問い合わせを一つの記録にまとめます。",
        (
            "対応中インシデントのスクリプトと FAQ",
            "お客様の応対履歴（二度聞きをなくす）",
            "分類：問い合わせ・要望・建設的な意見・クレーム・不当要求・カスハラ",
            "お知らせページと「対象製品か確認」のセルフサービス",
        ),
        permission=Permission.contacts_read,
        built=True,
    ),
    Area(
        "/escalations",
        "エスカレーション",
        "一次対応 → 二次対応 → 専門部署への引き継ぎを、期限と権限を明確にして進めます。",
        (
            "引き継ぎカード（感情面・事実関係・経緯・お客様の要望・約束したこと）",
            "ネクストアクションと期限（「本日中に折り返します」を守る）",
            "部署照会とその回答待ち",
            "権限表（返金・補償・交換を一人で決められる範囲と承認経路）",
        ),
        permission=Permission.cases_read,
        built=True,
    ),
    Area(
        "/calls",
        "通話記録",
        "通話の記録と録音を、改ざんを検知できる証拠として保全します。",
        (
            "日付・電話番号・通話時間・オペレーターでの検索",
            "カスハラの検知と、根拠になった発言の表示",
            "長時間通話・繰り返しの入電などの異常アラート（声なきSOS）",
            "法的保全と、弁護士・警察向けのエクスポート",
        ),
    ),
    Area(
        "/staffing",
        "体制",
        "告知後の入電を予測し、必要な人数とシフトを組みます。",
        (
            "15分ごとの必要人数（アーランC・アーランA）",
            "24時間のシフト表とシミュレーション",
            "オペレーターの負荷、クールダウン、ローテーション、ペア対応",
        ),
    ),
    Area(
        "/reports",
        "レポート",
        "KPI と VOC を見える化し、インシデントごとの最終報告をまとめます。",
        (
            "解決率・再問合せ率・エスカレーション率などの KPI",
            "VOC 分析と原因分析",
            "最終報告（タイムライン・件数・回収率・費用・教訓）とエクスポート",
        ),
        permission=Permission.kpis_read,
        built=True,
    ),
)
AREAS_BY_PATH = {area.path: area for area in AREAS}


@dataclass(frozen=True)
class NavItem:
    path: str
    label: str
    permission: Permission | None = None


NAV: tuple[NavItem, ...] = (
    NavItem("/board", "SVボード", Permission.board_view),
    *(NavItem(a.path, a.title, a.permission) for a in AREAS),
    NavItem("/admin", "管理", Permission.admin_pages),
)


@dataclass(frozen=True)
class OrgChoice:
    id: int
    name: str


@dataclass(frozen=True)
class Chrome:
    """What the header needs: who is signed in, in which organisation, and where they may go."""

    principal: Principal
    orgs: tuple[OrgChoice, ...]
    current_org: OrgChoice | None
    nav: tuple[NavItem, ...]
    active_path: str

    @property
    def org_id(self) -> int | None:
        return self.current_org.id if self.current_org else None


def load_chrome(*, session: Session, principal: Principal, path: str) -> Chrome:
    orgs = tuple(
        OrgChoice(o.id, o.name)
        for o in auth_service.list_orgs(session=session, org_ids=principal.org_ids)
    )
    current = next((o for o in orgs if o.id == principal.current_org_id), None)
    if current is None and orgs:
        # The stored choice is gone (organisation deactivated, membership removed).
        current = orgs[0]
    nav = tuple(item for item in NAV if item.permission is None or principal.can(item.permission))
    return Chrome(principal=principal, orgs=orgs, current_org=current, nav=nav, active_path=path)


def chrome_and_org(*, session: Session, principal: Principal, path: str) -> tuple[Chrome, int]:
    """The header for ``path`` and the organisation the page works in (refused without one)."""
    chrome = load_chrome(session=session, principal=principal, path=path)
    if chrome.org_id is None:
        raise ValidationFailed("no organisation", message_ja="組織が割り当てられていません")
    return chrome, chrome.org_id


# --- templates -------------------------------------------------------------------------------


def _jst_seconds(moment: datetime | None) -> str:
    return "" if moment is None else to_jst(moment).strftime("%Y/%m/%d %H:%M:%S")


def _compact(value: Any, limit: int = 240) -> str:
    if value is None:
        return ""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _build_env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["jst"] = format_jst
    env.filters["jst_seconds"] = _jst_seconds
    env.filters["compact"] = _compact
    env.globals["version"] = __version__
    env.globals["severity_labels"] = SEVERITY_LABELS
    env.globals["Permission"] = Permission
    return env


templates = _build_env()


def render(name: str, context: dict[str, Any]) -> str:
    return templates.get_template(name).render(context)


def page(
    name: str, context: dict[str, Any], *, status_code: int = 200, chrome: Chrome | None = None
) -> HTMLResponse:
    """An HTML response with the security headers; ``chrome`` adds the signed-in header."""
    full = {
        "chrome": chrome,
        "csrf_token": chrome.principal.csrf_token if chrome else None,
        **context,
    }
    return HTMLResponse(render(name, full), status_code=status_code, headers=SECURITY_HEADERS)


# --- small pure helpers ----------------------------------------------------------------------


def safe_next(target: str | None, default: str = "/") -> str:
    """Only a path on this site: no scheme, no host, no ``//`` or ``/\\`` tricks."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    if any(ord(ch) < 0x20 or ch in "\\\x7f" for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def new_login_nonce() -> str:
    return secrets.token_urlsafe(24)


def login_form_token(secret: str, nonce: str) -> str:
    """The login form's hidden field: bound to the pre-login cookie by the server's key
    (a signed double-submit cookie), so another site can neither read nor forge it."""
    return hmac.new(secret.encode(), b"login-form:" + nonce.encode(), hashlib.sha256).hexdigest()


def login_token_ok(secret: str, nonce: str | None, sent: str | None) -> bool:
    if not nonce or not sent or len(nonce) > 64:
        return False
    return hmac.compare_digest(login_form_token(secret, nonce), sent)
