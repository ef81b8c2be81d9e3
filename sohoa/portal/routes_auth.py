"""Sign-in, sign-out, the language toggle and the home redirect.

The sign-in form is protected against login CSRF with a double-submit token (a cookie and a hidden field
that must match), since there is no session yet to hold one.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from sohoa.portal import audit, sessions, users
from sohoa.portal.i18n import LANGUAGES
from sohoa.portal.web import (
    LANG_COOKIE,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    NotSignedIn,
    base_path,
    context,
    cookie_path,
    render,
    require_csrf,
    require_session,
    secure_cookie,
)

router = APIRouter()


def _safe_next(target: str | None) -> str:
    """Only a path inside the portal, never another site (open-redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@router.get("/healthz", include_in_schema=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/")
def home(request: Request) -> Response:
    ctx = context(request)
    with ctx.connection() as conn:
        session = require_session(request, conn)
    target = "/upload" if session.user.role == "can_bo" else "/dossiers"
    return RedirectResponse(base_path(request) + target, status_code=303)


def _login_page(request: Request, message: str | None = None, next_path: str = "/", status_code: int = 200) -> Response:
    token = sessions.new_token()
    response = render(
        request,
        "login.html",
        None,
        {"message": message, "login_csrf": token, "next": next_path},
        status_code=status_code,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        path=cookie_path(request),
        secure=secure_cookie(request),
        max_age=3600,
    )
    return response


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:  # noqa: A002 - the query parameter's name
    return _login_page(request, next_path=_safe_next(next))


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:  # noqa: A002
    ctx = context(request)
    from sohoa.portal.i18n import translator
    from sohoa.portal.web import lang_of

    t = translator(lang_of(request))
    if not sessions.csrf_matches(request.cookies.get(LOGIN_CSRF_COOKIE, ""), csrf_token):
        return _login_page(request, t("csrf_failed"), _safe_next(next), status_code=403)
    with ctx.connection() as conn:
        result = users.authenticate(
            conn,
            username.strip()[:64],
            password[:1024],
            max_failed=ctx.portal.max_failed_logins,
            lockout_minutes=ctx.portal.lockout_minutes,
        )
        audit.record(conn, result.user_id, "login", None, result.outcome)
        if result.outcome != "ok" or result.user is None:
            key = {"locked": "locked", "inactive": "inactive"}.get(result.outcome, "bad_credentials")
            message = t(key, minutes=ctx.portal.lockout_minutes)
            return _login_page(request, message, _safe_next(next), status_code=401)
        token, _ = sessions.start(conn, result.user, max_hours=ctx.portal.max_session_hours)
    response = RedirectResponse(base_path(request) + _safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="lax", path=cookie_path(request), secure=secure_cookie(request)
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=cookie_path(request))
    return response


@router.post("/logout")
def logout(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    ctx = context(request)
    with ctx.connection() as conn:
        try:
            session = require_session(request, conn)
        except NotSignedIn:
            session = None
        if session is not None:
            require_csrf(request, session, csrf_token)  # a forged sign-out link must not work either
            sessions.end(conn, session.token_sha256)
            audit.record(conn, session.user.id, "logout")
    response = RedirectResponse(base_path(request) + "/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path=cookie_path(request))
    return response


@router.get("/lang/{code}")
def set_language(request: Request, code: str, next: str = "/") -> Response:  # noqa: A002
    """A display preference only (no data changes), so a plain link is enough."""
    response = RedirectResponse(base_path(request) + _safe_next(next), status_code=303)
    if code in LANGUAGES:
        response.set_cookie(LANG_COOKIE, code, samesite="lax", path=cookie_path(request), max_age=365 * 86400)
    return response
