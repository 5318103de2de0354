"""The public notice page (お知らせ) and the serial check (対象製品の確認): no login.

``/n/{slug}`` is reached by the incident's unguessable ``public_slug``. It shows only what was
approved and published — :class:`~hikeshi.incidents.models.NoticeVersion` rows of the ``web``
channel, never a draft — together with the hotline, its hours and the FAQ frozen at launch.

The serial check answers one thing: is this unit affected, and what to do next. It never
echoes ranges, counts or anything about other customers; both answers take the same path. Each
client address may check ``serial_check_per_minute`` times a minute per incident
(:mod:`hikeshi.ratelimit`); checks are anonymous traffic, so they are counted in a Prometheus
counter and not written to the audit trail.

Routes (outside ``/api/v1``, which is reserved for organisation-scoped API routes):

* ``GET  /n/{slug}``             the page
* ``GET  /n/{slug}/history``     every published version, newest first
* ``POST /n/{slug}/check``       the check as an HTML form (answer on a page)
* ``POST /n/{slug}/check.json``  the same check for scripts: ``SerialCheckRequest`` →
  ``SerialCheckResult``; errors as ``{"error": {"code", "message", "fields", "message_ja"}}``
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from prometheus_client import Counter
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from hikeshi.clock import format_jst
from hikeshi.context import AppContext
from hikeshi.deps import CtxDep
from hikeshi.errors import HikeshiError, NotFound, RateLimited, ValidationFailed
from hikeshi.incidents import notices, serials
from hikeshi.incidents import service as incidents
from hikeshi.incidents.models import Incident, IncidentState, NoticeChannel
from hikeshi.incidents.schemas import SerialCheckRequest, SerialCheckResult
from hikeshi.ratelimit import RateLimiter
from hikeshi.web import ui

router = APIRouter(include_in_schema=False)

SERIAL_CHECKS = Counter(
    "hikeshi_serial_checks_total",
    "Public serial checks (対象製品の確認) by result",
    ["result"],
)
for _result in ("affected", "not_affected", "invalid", "limited"):
    SERIAL_CHECKS.labels(_result)  # export zeroes before the first check

# The page may be cached briefly by browsers and proxies: it is public, and right after an
# announcement thousands open it at once. Answers are never cached.
PAGE_CACHE = "public, max-age=30"
DRILL_MARK = "【訓練】"

CheckKind = Literal["affected", "not_affected", "invalid", "limited", "not_found"]


# --- what the templates get -------------------------------------------------------------------


@dataclass(frozen=True)
class PublicIncident:
    """The few facts of an incident that are public; nothing internal (title, staffing…)."""

    slug: str
    is_drill: bool
    closed: bool
    hotline: str
    tel: str
    hours: str
    serial_location: str
    has_check: bool
    faq: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class PublicVersion:
    version: int
    title: str
    body: str
    change_note: str
    published_jst: str


def _text_param(incident: Incident, name: str) -> str:
    value = incident.params.get(name)
    return value.strip() if isinstance(value, str) else ""


def _tel(hotline: str) -> str:
    """``0120-123-456`` → ``0120123456`` for a ``tel:`` link."""
    return re.sub(r"[^0-9+]", "", serials.normalise(hotline))


def _faq(incident: Incident) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for entry in incident.rendered.get("faq", []):
        if isinstance(entry, dict) and entry.get("question") and entry.get("answer"):
            out.append({"question": str(entry["question"]), "answer": str(entry["answer"])})
    return out


def _public(
    session: Session, incident: Incident, coverage: list[serials.Coverage] | None = None
) -> PublicIncident:
    if coverage is None:
        coverage = incidents.coverage_of(session=session, incident=incident)
    return PublicIncident(
        slug=incident.public_slug,
        is_drill=incident.is_drill,
        closed=incident.state is IncidentState.closed,
        hotline=incident.hotline,
        tel=_tel(incident.hotline),
        hours=incident.hours,
        serial_location=_text_param(incident, "serial_location"),
        has_check=bool(coverage),
        faq=_faq(incident),
    )


def _versions(session: Session, incident: Incident) -> list[PublicVersion]:
    rows = notices.notice_versions(
        session=session,
        org_id=incident.org_id,
        incident_id=incident.id,
        channel=NoticeChannel.web,
    )
    return [
        PublicVersion(
            version=v.version,
            title=v.title,
            body=v.body,
            change_note=v.change_note,
            published_jst=format_jst(v.published_at),
        )
        for v in rows
    ]


def _html(
    name: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
    cache: bool = False,
    headers: dict[str, str] | None = None,
) -> Response:
    response = ui.page(name, context, status_code=status_code)
    if cache:
        response.headers["Cache-Control"] = PAGE_CACHE
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _not_found_page() -> Response:
    return _html(
        "public/error.html",
        {"view": None, "status": 404, "message": "お探しのページは見つかりませんでした"},
        status_code=404,
    )


# --- the page and its history -----------------------------------------------------------------


@router.get("/n/{slug}")
def notice_page(slug: str, ctx: CtxDep) -> Response:
    with ctx.sessions() as session:
        incident = incidents.by_public_slug(session=session, slug=slug)
        if incident is None:
            return _not_found_page()
        view = _public(session, incident)
        versions = _versions(session, incident)
    return _html(
        "public/notice.html",
        {
            "view": view,
            "current": versions[0] if versions else None,
            "first_jst": versions[-1].published_jst if versions else "",
            "version_count": len(versions),
        },
        cache=True,
    )


@router.get("/n/{slug}/history")
def history_page(slug: str, ctx: CtxDep) -> Response:
    with ctx.sessions() as session:
        incident = incidents.by_public_slug(session=session, slug=slug)
        if incident is None:
            return _not_found_page()
        view = _public(session, incident)
        versions = _versions(session, incident)
    return _html("public/history.html", {"view": view, "versions": versions}, cache=True)


@router.get("/n/{slug}/check")
def check_get(slug: str) -> Response:
    """A reload of the answer page (GET) goes back to the form instead of a 405."""
    return RedirectResponse(f"/n/{slug}#check", status_code=303)


# --- the serial check -------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckOutcome:
    kind: CheckKind
    view: PublicIncident | None = None
    result: SerialCheckResult | None = None
    error: HikeshiError | None = None
    retry_after: int = 0


def limiter_for(request: Request, ctx: AppContext) -> RateLimiter:
    """The application's serial-check limiter (tests may replace it on
    ``app.state.serial_check_limiter``)."""
    replaced: RateLimiter | None = getattr(request.app.state, "serial_check_limiter", None)
    return replaced or ctx.serial_check_limiter


def client_address(request: Request) -> str:
    """The peer address as uvicorn reports it; see :mod:`hikeshi.ratelimit` about proxies."""
    return request.client.host if request.client else "unknown"


def _answer(incident: Incident, affected: bool) -> SerialCheckResult:
    mark = DRILL_MARK if incident.is_drill else ""
    hotline = incident.hotline
    hours = incident.hours
    contact = f"専用窓口 {hotline}（{hours}）" if hours else f"専用窓口 {hotline}"
    if affected:
        remedy = _text_param(incident, "remedy")
        method = _text_param(incident, "collection_method")
        lead_time = _text_param(incident, "replacement_lead_time")
        steps = [
            "安全のため、ただちにご使用を中止してください。",
            f"対応内容：{remedy}" if remedy else "",
            f"お手続き：{method}" if method else "",
            f"お届けの目安：{lead_time}" if lead_time else "",
            f"お申し込み・ご不明な点は{contact}までお電話ください。" if hotline else "",
        ]
        message = f"{mark}お客様の製品は対象製品です。"
    else:
        location = _text_param(incident, "serial_location")
        steps = [
            "入力された型番・製造番号の製品は、今回の対象に含まれていません。",
            "型番・製造番号に誤りがないか、"
            + (f"{location}で" if location else "製品の表示で")
            + "もう一度ご確認ください。",
            f"ご不明な点は{contact}までお問い合わせください。" if hotline else "",
        ]
        message = f"{mark}お客様の製品は対象製品ではありません。"
    return SerialCheckResult(
        affected=affected,
        message=message,
        next_steps="\n".join(s for s in steps if s),
        hotline=hotline,
        hours=hours,
    )


def run_check(
    request: Request,
    ctx: AppContext,
    slug: str,
    model: str,
    serial: str,
    *,
    shape_error: str | None = None,
) -> CheckOutcome:
    """One check: find the incident, count the hit, validate, match. Every hit that reaches an
    incident with coverage counts against the limit, valid or not."""
    with ctx.sessions() as session:
        incident = incidents.by_public_slug(session=session, slug=slug)
        coverage = incidents.coverage_of(session=session, incident=incident) if incident else []
        if incident is None or not coverage:
            missing = NotFound("no serial check here", message_ja="確認できる製品がありません")
            return CheckOutcome("not_found", error=missing)
        view = _public(session, incident, coverage)
        # Per client and incident; the slug (unique everywhere, unlike an id) keeps two
        # installations or test runs that share one Redis from counting together.
        decision = limiter_for(request, ctx).hit(
            "serial-check", f"{incident.public_slug}|{client_address(request)}"
        )
        if not decision.allowed:
            SERIAL_CHECKS.labels("limited").inc()
            wait = decision.retry_after
            return CheckOutcome(
                "limited",
                view=view,
                retry_after=wait,
                error=RateLimited(
                    "too many serial checks",
                    message_ja=f"確認の回数が上限に達しました。{wait}秒ほど待ってから、"
                    "もう一度お試しください。",
                    fields={"retry_after": wait},
                ),
            )
        try:
            if shape_error:
                raise serials.InvalidInput(shape_error)
            m, s = serials.clean_input(model, serial)
        except serials.InvalidInput as exc:
            SERIAL_CHECKS.labels("invalid").inc()
            return CheckOutcome(
                "invalid",
                view=view,
                error=ValidationFailed(
                    "invalid model or serial", message_ja=str(exc), fields={"input": str(exc)}
                ),
            )
        # Every range is compared (no early exit), so both answers take the same time.
        affected = any([c.covers(m, s) for c in coverage])
        result = _answer(incident, affected)
    kind: CheckKind = "affected" if affected else "not_affected"
    SERIAL_CHECKS.labels(kind).inc()
    return CheckOutcome(kind, view=view, result=result)


def _retry_headers(outcome: CheckOutcome) -> dict[str, str]:
    return {"Retry-After": str(outcome.retry_after)} if outcome.kind == "limited" else {}


@router.post("/n/{slug}/check")
def check_form(
    slug: str,
    request: Request,
    ctx: CtxDep,
    model: Annotated[str, Form()] = "",
    serial: Annotated[str, Form()] = "",
) -> Response:
    outcome = run_check(request, ctx, slug, model, serial)
    if outcome.kind == "not_found":
        return _not_found_page()
    status = outcome.error.http_status if outcome.error else 200
    return _html(
        "public/answer.html",
        {
            "view": outcome.view,
            "result": outcome.result,
            "error": outcome.error.message_ja if outcome.error else None,
            "limited": outcome.kind == "limited",
            # Give the customer's own input back only when it was refused, to correct it.
            "model": model if outcome.kind == "invalid" else "",
            "serial": serial if outcome.kind == "invalid" else "",
        },
        status_code=status,
        headers=_retry_headers(outcome),
    )


def _json(
    body: dict[str, Any], status_code: int = 200, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        body, status_code=status_code, headers={**ui.SECURITY_HEADERS, **(headers or {})}
    )


@router.post("/n/{slug}/check.json")
async def check_json(slug: str, request: Request, ctx: CtxDep) -> Response:
    raw = await request.body()
    model = serial = ""
    shape_error = None
    try:
        payload = SerialCheckRequest.model_validate_json(raw)
        model, serial = payload.model, payload.serial
    except ValidationError:
        shape_error = (
            '{"model": "…", "serial": "…"} の形で、型番と製造番号を'
            "それぞれ128文字以内で送ってください"
        )
    outcome = await run_in_threadpool(
        run_check, request, ctx, slug, model, serial, shape_error=shape_error
    )
    if outcome.result is not None:
        return _json(outcome.result.model_dump())
    error = outcome.error or NotFound()
    body = {"error": {**error.to_dict(), "message_ja": error.message_ja}}
    return _json(body, error.http_status, _retry_headers(outcome))
