"""Upload pages and endpoints.

The page sends each file with its own ``PUT /uploads/<id>/files`` (raw body, name in ``X-File-Name``,
per-file progress in the browser); the body streams to the landing bucket (see ``streaming``).
``POST /uploads/<id>/finish`` asks Airflow to run the ingest DAG in the background: if Airflow cannot be
reached nothing is lost, the files wait in the landing bucket for the next scheduled run (every 15
minutes), and the page says so.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import unquote

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from sohoa.portal import audit, dossiers, uploads
from sohoa.portal.i18n import translator
from sohoa.portal.sessions import Session
from sohoa.portal.streaming import TooLargeUpload, peek, spool_to_file, stream_to_object
from sohoa.portal.uploads import Upload, UploadError
from sohoa.portal.web import (
    Forbidden,
    NotFound,
    PortalContext,
    context,
    lang_of,
    render,
    require_csrf,
    require_session,
)

log = logging.getLogger(__name__)
router = APIRouter()


@router.get("/upload")
def upload_page(request: Request, ma_ho_so: str = "") -> Response:
    ctx = context(request)
    with ctx.connection() as conn:
        session = require_session(request, conn)
    return render(
        request,
        "upload.html",
        session,
        {
            "ma_ho_so": ma_ho_so,
            "max_mb": ctx.portal.max_file_bytes // (1024 * 1024),
            "max_files": ctx.portal.max_files_per_upload,
            "max_bytes": ctx.portal.max_file_bytes,
        },
    )


@router.post("/uploads")
def start_upload(
    request: Request,
    target: Annotated[str, Form()] = "dossier",
    ma_ho_so: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Open an upload for one dossier or for the inbox; JSON for the page's script."""
    ctx = context(request)
    with ctx.connection() as conn:
        session = require_session(request, conn)
        require_csrf(request, session, csrf_token)
        if target not in ("dossier", "inbox"):
            return JSONResponse({"error": "target must be dossier or inbox"}, status_code=400)
        code: str | None = None
        if target == "dossier":
            try:
                code = uploads.check_dossier_code(ma_ho_so)
            except UploadError as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
            if not uploads.may_upload_for(session.user, code, dossiers.record_agency(conn, code)):
                audit.record(conn, session.user.id, "upload.start", code, "forbidden")
                return JSONResponse({"error": translator(lang_of(request))("forbidden")}, status_code=403)
        upload = uploads.create_upload(conn, session.user, target, code)  # type: ignore[arg-type]
        audit.record(
            conn,
            session.user.id,
            "upload.start",
            f"upload:{upload.public_id}" + (f" dossier:{code}" if code else " inbox"),
        )
    return JSONResponse({"id": upload.public_id}, status_code=201)


def _open_upload(ctx: PortalContext, request: Request, public_id: str, *, csrf: bool) -> tuple[Session, Upload, int]:
    with ctx.connection() as conn:
        session = require_session(request, conn)
        if csrf:
            require_csrf(request, session)
        upload = uploads.get_upload(conn, public_id)
        if upload is None or not uploads.may_see_upload(session.user, upload):
            raise NotFound()
        if csrf and upload.user_id != session.user.id:
            raise Forbidden()  # only the officer who opened an upload adds files to it
        return session, upload, uploads.count_files(conn, upload)


@router.put("/uploads/{public_id}/files")
async def upload_file(request: Request, public_id: str) -> Response:
    """Stream one file (or a ZIP of files) into the landing bucket.

    The file's name comes percent-encoded in the ``X-File-Name`` header, not in the URL: names may carry
    personal data, and URLs end up in access logs.
    """
    ctx = context(request)
    session, upload, count = await run_in_threadpool(_open_upload, ctx, request, public_id, csrf=True)
    name = unquote(request.headers.get("x-file-name", ""))[:500].strip() or "file"
    limit = ctx.portal.max_file_bytes
    declared = request.headers.get("content-length")
    if count >= ctx.portal.max_files_per_upload:
        return await _reject(
            ctx,
            session,
            upload,
            name,
            f"{name}: quá {ctx.portal.max_files_per_upload} tệp mỗi lượt tải lên "
            f"(more than {ctx.portal.max_files_per_upload} files per upload)",
            413,
        )
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return await _reject(ctx, session, upload, name, f"{name}: {TooLargeUpload(limit)}", 413)
    try:
        head, rest = await peek(request.stream())
        if uploads.is_zip_name(name) and uploads.looks_like_zip(head):
            files = await _receive_zip(ctx, session, upload, name, head, rest, count)
        else:
            files = [await _receive_one(ctx, session, upload, name, head, rest)]
    except ClientDisconnect:
        return JSONResponse({"error": f"{name}: tải lên bị gián đoạn (upload interrupted)"}, status_code=400)
    except UploadError as exc:
        return await _reject(ctx, session, upload, name, str(exc), 400)
    status = (
        413 if any(f.get("too_large") for f in files) else (201 if all(f["status"] == "stored" for f in files) else 400)
    )
    return JSONResponse({"files": files}, status_code=status)


async def _reject(ctx: PortalContext, session: Session, upload: Upload, name: str, error: str, status: int) -> Response:
    def record() -> None:
        with ctx.connection() as conn:
            uploads.record_rejection(conn, upload, name, error)
            audit.record(conn, session.user.id, "upload.file", f"upload:{upload.public_id}", "rejected")

    await run_in_threadpool(record)
    return JSONResponse(
        {"error": error, "files": [{"name": name, "status": "rejected", "error": error}]}, status_code=status
    )


async def _receive_one(
    ctx: PortalContext, session: Session, upload: Upload, name: str, head: bytes, rest: AsyncIterator[bytes]
) -> dict[str, Any]:
    def reserve() -> tuple[int, str]:
        with ctx.connection() as conn:
            return uploads.reserve_file(conn, upload, name)

    file_id, key = await run_in_threadpool(reserve)
    error: str | None = None
    too_large = False
    size: int | None = None
    try:
        size = await stream_to_object(
            ctx.s3, ctx.settings.bucket_landing, key, rest, first=head, max_bytes=ctx.portal.max_file_bytes
        )
    except TooLargeUpload as exc:
        error, too_large = f"{name}: {exc}", True
    except ClientDisconnect:
        error = f"{name}: tải lên bị gián đoạn (upload interrupted)"
    except Exception as exc:  # noqa: BLE001 - S3 trouble: tell the officer, keep the row, log the class only
        log.warning("upload %s file %s could not be stored: %s", upload.public_id, file_id, type(exc).__name__)
        error = f"{name}: không lưu được vào kho lưu trữ, vui lòng thử lại (storage unavailable, retry)"

    def finish() -> None:
        with ctx.connection() as conn:
            uploads.finish_file(conn, file_id, size=size, error=error)
            audit.record(
                conn,
                session.user.id,
                "upload.file",
                f"upload:{upload.public_id} file:{file_id}",
                "ok" if error is None else "rejected",
            )

    await run_in_threadpool(finish)
    return {
        "id": file_id,
        "name": name,
        "status": "rejected" if error else "stored",
        "error": error,
        "size": size,
        "too_large": too_large,
    }


async def _receive_zip(
    ctx: PortalContext, session: Session, upload: Upload, name: str, head: bytes, rest: AsyncIterator[bytes], count: int
) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="sohoa-portal-zip-") as tmp:
        try:
            path = await spool_to_file(rest, Path(tmp), max_bytes=ctx.portal.max_file_bytes, first=head)
        except TooLargeUpload as exc:
            raise UploadError(f"{name}: {exc}") from exc
        members = await run_in_threadpool(
            uploads.zip_members,
            path,
            max_members=min(ctx.portal.max_zip_members, ctx.portal.max_files_per_upload - count),
            max_expanded_bytes=ctx.portal.max_zip_expanded_bytes,
            zip_name=name,
        )
        results = []
        for member in members:
            member_name = f"{name}/{member.info.filename}"
            if member.info.file_size > ctx.portal.max_file_bytes:
                results.append(await _reject_member(ctx, session, upload, member_name))
                continue
            chunks = _iterate_in_thread(uploads.iter_member_chunks(path, member))
            results.append(await _receive_one(ctx, session, upload, member_name, b"", chunks))
    return results


async def _reject_member(ctx: PortalContext, session: Session, upload: Upload, member_name: str) -> dict[str, Any]:
    error = f"{member_name}: {TooLargeUpload(ctx.portal.max_file_bytes)}"

    def record() -> None:
        with ctx.connection() as conn:
            uploads.record_rejection(conn, upload, member_name, error)

    await run_in_threadpool(record)
    return {"name": member_name, "status": "rejected", "error": error, "too_large": True}


async def _iterate_in_thread(blocks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """Decompression is CPU work: pull each block in a worker thread, not on the event loop."""
    loop = asyncio.get_running_loop()
    while True:
        block = await loop.run_in_executor(None, next, blocks, b"")
        if not block:
            return
        yield block


@router.post("/uploads/{public_id}/finish")
def finish_upload(request: Request, public_id: str, csrf_token: Annotated[str, Form()] = "") -> Response:
    """Start the pipeline for what was uploaded (in the background: the answer does not wait for Airflow)."""
    ctx = context(request)
    with ctx.connection() as conn:
        session = require_session(request, conn)
        require_csrf(request, session, csrf_token)
        upload = uploads.get_upload(conn, public_id)
        if upload is None or not uploads.may_see_upload(session.user, upload):
            raise NotFound()
        uploads.mark_finished(conn, upload, "queued")
        audit.record(conn, session.user.id, "upload.finish", f"upload:{upload.public_id}")
    ctx.background.submit(_trigger, ctx, upload)
    return JSONResponse({"id": public_id, "trigger_status": "queued"})


def _trigger(ctx: PortalContext, upload: Upload) -> None:
    try:
        ctx.trigger()
        status = "triggered"
    except Exception as exc:  # noqa: BLE001 - any failure to reach Airflow: the scheduled run picks it up
        log.warning(
            "could not trigger the ingest DAG for upload %s (%s); the next scheduled run will take it",
            upload.public_id,
            type(exc).__name__,
        )
        status = "deferred"
    with ctx.connection() as conn:
        uploads.mark_finished(conn, upload, status)


@router.get("/uploads")
def uploads_page(request: Request) -> Response:
    ctx = context(request)
    with ctx.connection() as conn:
        session = require_session(request, conn)
        rows = uploads.list_uploads(conn, session.user)
    return render(request, "uploads.html", session, {"uploads": rows})


def _fates(ctx: PortalContext, request: Request, public_id: str) -> tuple[Session, Upload, list[uploads.FileFate]]:
    with ctx.connection() as conn:
        session = require_session(request, conn)
        upload = uploads.get_upload(conn, public_id)
        if upload is None or not uploads.may_see_upload(session.user, upload):
            raise NotFound()
        return session, upload, uploads.file_fates(conn, upload)


@router.get("/uploads/{public_id}")
def upload_detail(request: Request, public_id: str) -> Response:
    session, upload, fates = _fates(context(request), request, public_id)
    return render(request, "upload_detail.html", session, {"upload": upload, "fates": fates})


@router.get("/uploads/{public_id}/status")
def upload_status(request: Request, public_id: str) -> Response:
    """The fates as JSON, polled by the upload page."""
    _, upload, fates = _fates(context(request), request, public_id)
    t = translator(lang_of(request))
    return JSONResponse(
        {
            "id": upload.public_id,
            "trigger_status": upload.trigger_status,
            "trigger_text": t(f"trigger_{upload.trigger_status}") if upload.trigger_status else "",
            "files": [
                {
                    "id": f.file_id,
                    "name": f.original_name,
                    "size": f.size_bytes,
                    "fate": f.fate,
                    "fate_text": t(f"fate_{f.fate}"),
                    "reason": f.reason,
                    "document_id": f.document_id,
                    "confidence": f.confidence,
                    "pages": f.pages,
                }
                for f in fates
            ],
        }
    )
