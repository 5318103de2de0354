"""The FastAPI application: ``create_app(settings)``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.exceptions import HTTPException as StarletteHTTPException

from hikeshi import __version__, migrate
from hikeshi.audit.api import router as audit_router
from hikeshi.auth.api import global_router as auth_global_router
from hikeshi.auth.api import router as auth_router
from hikeshi.board.api import router as board_router
from hikeshi.cases.api import router as cases_router
from hikeshi.cases.inquiry_api import router as inquiry_router
from hikeshi.cases.inquiry_pages import router as inquiry_pages_router
from hikeshi.cases.kpi_api import router as kpi_router
from hikeshi.cases.kpi_pages import router as kpi_pages_router
from hikeshi.cases.pages import router as cases_pages_router
from hikeshi.clock import Clock
from hikeshi.config import Settings, get_settings
from hikeshi.contacts.api import router as contacts_router
from hikeshi.contacts.pages import router as contacts_pages_router
from hikeshi.context import AppContext
from hikeshi.errors import (
    AuthenticationRequired,
    HikeshiError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from hikeshi.incidents.api import router as incidents_router
from hikeshi.incidents.launch_pages import router as launch_pages_router
from hikeshi.incidents.packs import available_packs
from hikeshi.incidents.pages import router as incidents_pages_router
from hikeshi.incidents.public import router as public_router
from hikeshi.jobs.worker import start_worker_thread
from hikeshi.notify.api import router as notify_router
from hikeshi.notify.pages import router as notify_pages_router
from hikeshi.observability import RequestMiddleware
from hikeshi.risks.api import router as risks_router
from hikeshi.risks.pages import router as risks_pages_router
from hikeshi.web.pages import render_error, static_files
from hikeshi.web.pages import router as pages_router

log = logging.getLogger("hikeshi.app")
API_PREFIX = "/api/v1"


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX)


def create_app(
    settings: Settings | None = None, *, clock: Clock | None = None, check_schema: bool = True
) -> FastAPI:
    settings = settings or get_settings()
    ctx = AppContext.build(settings, clock=clock)
    if check_schema:
        # Refuse to start on a missing or outdated database, naming the command to run.
        migrate.ensure_current(ctx.engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Read and validate the playbook packs before the first launch needs them; a broken
        # pack in HIKESHI_PLAYBOOK_DIRS stops the start with its file, line and field.
        await asyncio.to_thread(available_packs, settings)
        await ctx.bus.start()
        # The embedded worker keeps deadlines and timers running with a single process;
        # production may turn it off and run `hikeshi worker` separately.
        worker = (
            start_worker_thread(sessions=ctx.sessions, settings=settings, clock=ctx.clock)
            if settings.run_worker_in_server
            else None
        )
        try:
            yield
        finally:
            if worker is not None:
                await asyncio.to_thread(worker.stop)
            await ctx.bus.stop()
            ctx.dispose()

    app = FastAPI(
        title="Hikeshi API",
        version=__version__,
        lifespan=lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )
    app.state.ctx = ctx
    app.add_middleware(RequestMiddleware)

    api = APIRouter(prefix=API_PREFIX)
    api.include_router(auth_global_router)
    api.include_router(auth_router)
    api.include_router(audit_router)
    api.include_router(board_router)
    api.include_router(risks_router)
    api.include_router(incidents_router)
    api.include_router(notify_router)
    api.include_router(contacts_router)
    api.include_router(cases_router)
    api.include_router(inquiry_router)
    api.include_router(kpi_router)
    app.include_router(api)
    app.include_router(public_router)  # お知らせ pages: no login
    app.include_router(incidents_pages_router)
    app.include_router(launch_pages_router)
    app.include_router(risks_pages_router)
    app.include_router(notify_pages_router)
    app.include_router(contacts_pages_router)
    # Before cases_pages_router: /escalations/inquiries and /escalations/authority are fixed
    # paths that a /escalations/{case_id} route must not catch.
    app.include_router(inquiry_pages_router)
    app.include_router(kpi_pages_router)  # /reports and the public /survey/{token}
    app.include_router(cases_pages_router)
    app.include_router(pages_router)
    app.mount("/static", static_files(), name="static")

    @app.exception_handler(HikeshiError)
    async def _domain_error(request: Request, exc: HikeshiError) -> Response:
        if _is_api(request):
            headers = {"WWW-Authenticate": "Bearer"} if exc.http_status == 401 else None
            return JSONResponse(
                {"error": exc.to_dict()}, status_code=exc.http_status, headers=headers
            )
        if isinstance(exc, AuthenticationRequired) and request.method in ("GET", "HEAD"):
            return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
        return render_error(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        fields = {".".join(str(p) for p in err["loc"]): err["msg"] for err in exc.errors()}
        if not _is_api(request):
            return render_error(request, ValidationFailed(fields=fields))
        body = {"error": {"code": "validation", "message": "Validation failed", "fields": fields}}
        return JSONResponse(body, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # Unknown paths and wrong methods: JSON for the API, the Japanese page for people.
        if _is_api(request):
            code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http")
            return JSONResponse(
                {"error": {"code": code, "message": str(exc.detail), "fields": {}}},
                status_code=exc.status_code,
                headers=exc.headers,
            )
        mapped: HikeshiError = (
            NotFound()
            if exc.status_code == 404
            else PermissionDenied()
            if exc.status_code == 403
            else HikeshiError(str(exc.detail))
        )
        response = render_error(request, mapped)
        response.status_code = exc.status_code
        return response

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> Response:
        try:
            migrate.ensure_current(ctx.engine)
            with ctx.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except HikeshiError as exc:
            return JSONResponse({"status": "not_ready", "error": exc.to_dict()}, status_code=503)
        return JSONResponse({"status": "ready", "version": __version__})

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return PlainTextResponse(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
