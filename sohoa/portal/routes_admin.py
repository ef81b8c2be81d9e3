"""Administration (role ``quan_tri`` only): users and catalogues.

A catalogue upload goes to the landing bucket as ``catalogue/agencies.csv`` or ``catalogue/procedures.csv``
(the input contract's keys; a new upload replaces the previous version when the ingest DAG loads it).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from sohoa.portal import audit, users
from sohoa.portal.passwords import WeakPassword
from sohoa.portal.sessions import Session
from sohoa.portal.web import base_path, context, render, require_csrf, require_role, require_session

router = APIRouter(prefix="/admin")
CATALOGUE_MAX_BYTES = 50 * 1024 * 1024


def _page(
    request: Request, session: Session, message: str | None = None, error: str | None = None, status_code: int = 200
) -> Response:
    ctx = context(request)
    with ctx.connection() as conn:
        all_users = users.list_users(conn)
        with conn.cursor() as cur:
            cur.execute("SELECT (SELECT count(*) FROM sohoa.agency), (SELECT count(*) FROM sohoa.procedure)")
            counts = cur.fetchone()
    return render(
        request,
        "admin.html",
        session,
        {"users": all_users, "message": message, "error": error, "roles": users.ROLES, "counts": counts},
        status_code=status_code,
    )


@router.get("")
def admin_page(request: Request) -> Response:
    ctx = context(request)
    with ctx.connection() as conn:
        session = require_session(request, conn)
        require_role(session, "quan_tri")
    return _page(request, session)


@router.post("/users")
def create_user(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "can_bo",
    display_name: Annotated[str, Form()] = "",
    ma_co_quan: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    ctx = context(request)
    error: str | None = None
    with ctx.connection() as conn:
        session = require_session(request, conn)
        require_role(session, "quan_tri")
        require_csrf(request, session, csrf_token)
        try:
            user = users.create_user(
                conn, username.strip(), password, role, display_name=display_name, ma_co_quan=ma_co_quan
            )
        except (users.UserError, WeakPassword) as exc:
            audit.record(conn, session.user.id, "user.create", None, "rejected")
            error = str(exc)
        else:
            audit.record(conn, session.user.id, "user.create", f"user:{user.id} role:{user.role}")
    if error:
        return _page(request, session, error=error, status_code=400)
    return RedirectResponse(base_path(request) + "/admin", status_code=303)


@router.post("/users/{user_id}/{action}")
def change_user(
    request: Request,
    user_id: int,
    action: str,
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    ctx = context(request)
    error = None
    with ctx.connection() as conn:
        session = require_session(request, conn)
        require_role(session, "quan_tri")
        require_csrf(request, session, csrf_token)
        if users.get_user(conn, user_id) is None:
            error = "không có người dùng này (no such user)"
        elif action == "disable" and user_id == session.user.id:
            error = "không thể tự vô hiệu hóa tài khoản của mình (you cannot disable yourself)"
        elif action in ("disable", "enable"):
            users.set_active(conn, user_id, action == "enable")
        elif action == "unlock":
            users.unlock(conn, user_id)
        elif action == "password":
            try:
                users.set_password(conn, user_id, password)
            except WeakPassword as exc:
                error = str(exc)
        else:
            error = f"thao tác không hợp lệ: {action[:20]}"
        audit.record(conn, session.user.id, f"user.{action[:20]}", f"user:{user_id}", "rejected" if error else "ok")
    if error:
        return _page(request, session, error=error, status_code=400)
    return RedirectResponse(base_path(request) + "/admin", status_code=303)


@router.post("/catalogue")
async def upload_catalogue(
    request: Request,
    file: UploadFile,
    kind: Annotated[str, Form()] = "agencies",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    ctx = context(request)

    def check() -> Session:
        with ctx.connection() as conn:
            session = require_session(request, conn)
            require_role(session, "quan_tri")
            require_csrf(request, session, csrf_token)
            return session

    session = await run_in_threadpool(check)
    if kind not in ("agencies", "procedures"):
        return _page(request, session, error="loại danh mục không hợp lệ (unknown catalogue)", status_code=400)
    size = file.size or 0
    if size > CATALOGUE_MAX_BYTES:
        return _page(request, session, error="tệp danh mục quá lớn (catalogue too large)", status_code=413)
    key = f"catalogue/{kind}.csv"
    await run_in_threadpool(
        ctx.s3.put_object, ctx.settings.bucket_landing, key, file.file, size, "text/csv; charset=utf-8"
    )

    def done() -> None:
        with ctx.connection() as conn:
            audit.record(conn, session.user.id, "catalogue.upload", kind)

    await run_in_threadpool(done)
    ctx.background.submit(_safe_trigger, ctx)
    return _page(request, session, message=f"{key}: OK")


def _safe_trigger(ctx: object) -> None:
    from sohoa.portal.routes_upload import log
    from sohoa.portal.web import PortalContext

    assert isinstance(ctx, PortalContext)
    try:
        ctx.trigger()
    except Exception as exc:  # noqa: BLE001 - the scheduled run will load it
        log.warning("could not trigger the ingest DAG after a catalogue upload (%s)", type(exc).__name__)
