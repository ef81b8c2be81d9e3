"""What every portal route shares: the app context (settings, connection pool, S3 client, templates),
sign-in checks, CSRF checks and page rendering.

Routes open one connection per request with ``ctx.connection()`` (commit on success, rollback on error) and
call ``require_session`` first: there is no page without sign-in except the sign-in page and ``/healthz``.
Every state-changing request (POST, PUT) must carry the session's CSRF token, in the form field
``csrf_token`` or the header ``X-CSRF-Token``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from fastapi import Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates
from minio import Minio

from sohoa.config import Settings
from sohoa.db.connection import Connection
from sohoa.db.pool import WaitingPool
from sohoa.portal import sessions
from sohoa.portal.dossiers import CHANNEL_VI, STATUS_EN, STATUS_VI
from sohoa.portal.i18n import FIELD_LABEL_KEYS, LANGUAGES, translator
from sohoa.portal.sessions import Session
from sohoa.portal.settings import PortalSettings
from sohoa.portal.users import User

POOL_SIZE = 12  # database connections of one portal process; more requests wait for one

log = logging.getLogger(__name__)

SESSION_COOKIE = "sohoa_portal_session"
LOGIN_CSRF_COOKIE = "sohoa_portal_login_csrf"
LANG_COOKIE = "sohoa_portal_lang"
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
TEMPLATES = Path(__file__).with_name("templates")


class NotSignedIn(Exception):
    """No live session: pages redirect to the sign-in page, XHR gets 401."""


class Forbidden(Exception):
    """Signed in, but this user may not see or do this (403)."""


class CsrfFailed(Exception):
    """A state-changing request without the session's CSRF token (403)."""


class NotFound(Exception):
    """No such dossier, document, upload or report (404)."""


@dataclass(frozen=True)
class NavItem:
    """A header link. ``roles`` None means every signed-in user. ``badge``, when given, returns a short text
    shown beside the label for the signed-in user (the review queue's count), or None for none."""

    key: str  # i18n key of the label
    path: str
    roles: tuple[str, ...] | None = None
    badge: Callable[[PortalContext, User], str | None] | None = None


@dataclass
class PortalContext:
    settings: Settings
    portal: PortalSettings
    s3: Minio
    templates: Jinja2Templates
    trigger: Callable[[], None]
    background: ThreadPoolExecutor
    nav: list[NavItem] = field(default_factory=list)
    _pool: WaitingPool | None = None
    _pool_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def pool(self) -> WaitingPool:
        """Opened on first use, so building the app (e.g. when Airflow loads the plugin) needs no database.

        Requests beyond its size wait for a connection (fifty officers uploading at once, bench/
        portal_upload_load.py) instead of failing."""
        with self._pool_lock:
            if self._pool is None:
                self._pool = WaitingPool(self.settings.dsn(), POOL_SIZE, application_name="sohoa-portal")
            return self._pool

    def close(self) -> None:
        self.background.shutdown(wait=False)
        with self._pool_lock:
            if self._pool is not None:
                self._pool.closeall()
                self._pool = None

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        with self.pool.connection() as conn:
            yield conn


def context(request: Request) -> PortalContext:
    ctx: PortalContext = request.app.state.portal
    return ctx


def register_nav(ctx: PortalContext, item: NavItem, *, before: str | None = None) -> None:
    """Add a header link (the review queue's router calls this)."""
    index = next((i for i, n in enumerate(ctx.nav) if n.key == before), len(ctx.nav))
    ctx.nav.insert(index, item)


def make_templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["dt"] = format_datetime
    env.filters["d"] = format_date
    env.filters["mb"] = human_size
    return Jinja2Templates(env=env)


def human_size(n: int | None) -> str:
    if n is None:
        return ""
    if n < 1024 * 1024:
        return f"{max(1, round(n / 1024))} KB" if n else "0 KB"
    return f"{n / (1024 * 1024):.1f} MB"


def format_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M")


def format_date(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(VIETNAM).strftime("%d/%m/%Y")


def base_path(request: Request) -> str:
    """The mount prefix ('' standalone, e.g. '/sohoa' inside Airflow's API server)."""
    return str(request.scope.get("root_path") or "").rstrip("/")


def lang_of(request: Request) -> str:
    lang = request.cookies.get(LANG_COOKIE, "vi")
    return lang if lang in LANGUAGES else "vi"


def require_session(request: Request, conn: Connection) -> Session:
    ctx = context(request)
    token = request.cookies.get(SESSION_COOKIE, "")
    session = sessions.lookup(conn, token, idle_hours=ctx.portal.idle_session_hours) if token else None
    if session is None:
        raise NotSignedIn()
    return session


def require_csrf(request: Request, session: Session, form_token: str | None = None) -> None:
    given = form_token or request.headers.get("x-csrf-token")
    if not sessions.csrf_matches(session.csrf_token, given):
        raise CsrfFailed()


def require_role(session: Session, *roles: str) -> None:
    if session.user.role not in roles:
        raise Forbidden()


def render(
    request: Request,
    template: str,
    session: Session | None,
    values: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> Response:
    ctx = context(request)
    lang = lang_of(request)
    prefix = base_path(request)
    user = session.user if session else None
    nav = [n for n in ctx.nav if user is not None and (n.roles is None or user.role in n.roles)]
    badges = {n.key: _badge(ctx, n, user) for n in nav if n.badge is not None and user is not None}
    page: dict[str, Any] = {
        "request": request,
        "user": user,
        "csrf": session.csrf_token if session else "",
        "t": translator(lang),
        "lang": lang,
        "nav": nav,
        "badges": badges,
        "field_names": FIELD_LABEL_KEYS,
        "url": lambda path: prefix + path,
        "status_names": STATUS_EN if lang == "en" else STATUS_VI,
        "channel_names": CHANNEL_VI,
        "path": request.url.path.removeprefix(prefix) or "/",
    }
    page.update(values or {})
    response = ctx.templates.TemplateResponse(request, template, page, status_code=status_code)
    return response


def _badge(ctx: PortalContext, item: NavItem, user: User) -> str | None:
    """A header badge; a failure to compute one must not take the page down with it."""
    assert item.badge is not None
    try:
        return item.badge(ctx, user)
    except Exception:  # noqa: BLE001 - the page is worth more than its header's count
        log.warning("header badge %s failed", item.key, exc_info=True)
        return None


def cookie_path(request: Request) -> str:
    return base_path(request) or "/"


def secure_cookie(request: Request) -> bool:
    return context(request).portal.secure_cookies or request.url.scheme == "https"
