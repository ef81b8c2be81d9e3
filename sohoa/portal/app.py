"""The portal's ASGI app: routers, error pages, security headers, static files.

``create_app`` takes everything from its arguments (settings, and a ``trigger`` to start the ingest DAG) so
tests run the real app against their own PostgreSQL and S3 server, and swap Airflow for the in-process
pipeline when they need files processed.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from sohoa.config import Settings, get_settings
from sohoa.portal import (
    routes_admin,
    routes_auth,
    routes_dossiers,
    routes_reports,
    routes_review,
    routes_upload,
)
from sohoa.portal.i18n import translator
from sohoa.portal.review import QueueCounter
from sohoa.portal.settings import PortalSettings
from sohoa.portal.web import (
    CsrfFailed,
    Forbidden,
    NavItem,
    NotFound,
    NotSignedIn,
    PortalContext,
    base_path,
    lang_of,
    make_templates,
    register_nav,
    render,
)

log = logging.getLogger(__name__)
STATIC = Path(__file__).with_name("static")
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


def airflow_trigger(settings: Settings) -> Callable[[], None]:
    """Start the ingest DAG through Airflow's REST API (what `sohoa run` does, without waiting)."""

    def trigger() -> None:
        from sohoa.orchestration.airflow_client import INGEST_DAG, AirflowClient

        AirflowClient(settings).trigger(INGEST_DAG)

    return trigger


def create_app(
    settings: Settings | None = None,
    portal_settings: PortalSettings | None = None,
    *,
    trigger: Callable[[], None] | None = None,
) -> FastAPI:
    settings = settings or get_settings()
    portal_settings = portal_settings or PortalSettings()
    from sohoa.storage.s3 import make_client

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.portal.close()

    app = FastAPI(title="sohoa portal", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.portal = PortalContext(
        settings=settings,
        portal=portal_settings,
        s3=make_client(settings),
        templates=make_templates(),
        trigger=trigger or airflow_trigger(settings),
        background=ThreadPoolExecutor(max_workers=1, thread_name_prefix="sohoa-portal-trigger"),
        nav=[
            NavItem("nav_upload", "/upload"),
            NavItem("nav_uploads", "/uploads"),
            NavItem("nav_dossiers", "/dossiers"),
            NavItem("nav_reports", "/reports"),
            NavItem("nav_admin", "/admin", roles=("quan_tri",)),
        ],
    )
    app.state.review_counter = QueueCounter()
    register_nav(
        app.state.portal,
        NavItem("nav_review", "/review", badge=routes_review.nav_badge(app.state.review_counter)),
        before="nav_reports",
    )
    for router in (
        routes_auth.router,
        routes_upload.router,
        routes_dossiers.router,
        routes_review.router,
        routes_reports.router,
        routes_admin.router,
    ):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _error_pages(app)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        # Pages show personal data on shared counter PCs: never keep them in a cache.
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    return app


def _wants_json(request: Request) -> bool:
    return (
        request.method in ("PUT", "DELETE")
        or "application/json" in request.headers.get("accept", "")
        or request.headers.get("x-requested-with") == "fetch"
    )


def _error_pages(app: FastAPI) -> None:
    def page(request: Request, status: int, key: str) -> Response:
        text = translator(lang_of(request))(key)
        if _wants_json(request):
            return JSONResponse({"error": text}, status_code=status)
        return render(request, "error.html", None, {"message": text, "status": status}, status_code=status)

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, exc: NotSignedIn) -> Response:
        if _wants_json(request) or request.method != "GET":
            return JSONResponse({"error": translator(lang_of(request))("sign_in")}, status_code=401)
        from urllib.parse import quote

        here = request.url.path.removeprefix(base_path(request)) or "/"
        if request.url.query:
            here += "?" + request.url.query
        return RedirectResponse(f"{base_path(request)}/login?next={quote(here, safe='')}", status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        return page(request, 403, "forbidden")

    @app.exception_handler(CsrfFailed)
    async def csrf_failed(request: Request, exc: CsrfFailed) -> Response:
        return page(request, 403, "csrf_failed")

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        return page(request, 404, "not_found")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return page(request, 404, "not_found")
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code)
