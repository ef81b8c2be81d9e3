"""The review queue: documents that need a person, and the review page where the person decides.

``GET /review`` lists the waiting documents the user may see (filter by reason and, for reviewers, agency;
paged). ``GET /review/<document id>`` shows a page image beside its OCR text, the extracted fields with an
edit form, the document's findings, and the decisions: correct a field, resolve a finding with a note, file an
inbox scan under a dossier, run OCR again, mark reviewed. The decisions are ``sohoa.review`` functions (they
keep who and when in ``sohoa.review_action`` and ``sohoa.field_correction``); this module checks sign-in,
role scope (``sohoa.portal.review``) and CSRF, turns refusals into Vietnamese (or English) messages, and
writes the portal audit log: action and document id only, never a value, a note or a name.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from minio import Minio

from sohoa.db.connection import Connection
from sohoa.portal import artefacts, audit, dossiers
from sohoa.portal.dossiers import DocumentView
from sohoa.portal.i18n import translator
from sohoa.portal.review import (
    COUNT_CAP,
    QueueCounter,
    QueueFilters,
    issue_of_document,
    queue_count,
    queue_page,
    review_view,
)
from sohoa.portal.sessions import Session
from sohoa.portal.users import User
from sohoa.portal.web import (
    Forbidden,
    NotFound,
    PortalContext,
    base_path,
    context,
    lang_of,
    render,
    require_csrf,
    require_session,
)
from sohoa.records.codes import is_valid_dossier_code
from sohoa.review.actions import (
    CORRECTABLE_FIELDS,
    ReviewError,
    assign_document,
    correct_field,
    mark_reviewed,
    resolve_issue,
)
from sohoa.review.reocr import request_ocr
from sohoa.review.state import REVIEW_RULES

log = logging.getLogger(__name__)
router = APIRouter(prefix="/review")
NOTICES = ("corrected", "resolved", "assigned", "ocr_requested", "ocr_already_pending", "reviewed")


def nav_badge(counter: QueueCounter) -> Callable[[PortalContext, User], str | None]:
    """The header badge of the review link: the count of waiting documents ("99+" past the cap), None when
    nothing waits; counted through ``counter`` (one per app)."""

    def badge(ctx: PortalContext, user: User) -> str | None:
        def count() -> int:
            with ctx.connection() as conn:
                return queue_count(conn, user)

        n = counter.get(user, count)
        if n == 0:
            return None
        return f"{COUNT_CAP - 1}+" if n >= COUNT_CAP else str(n)

    return badge


def _counter(request: Request) -> QueueCounter:
    counter: QueueCounter = request.app.state.review_counter
    return counter


@router.get("")
def queue(request: Request, reason: str = "", agency: str = "", page: int = 1, ok: str = "") -> Response:
    ctx = context(request)
    filters = QueueFilters(reason=reason if reason in REVIEW_RULES else "", agency=agency[:13])
    page = max(1, min(page, 10_000))
    with ctx.connection() as conn:
        session = require_session(request, conn)
        rows, more = queue_page(conn, session.user, filters, page=page, page_size=ctx.portal.page_size)
        audit.record(conn, session.user.id, "review.queue", None)
    base = {k: v for k, v in (("reason", filters.reason), ("agency", filters.agency)) if v}
    return render(
        request,
        "review_queue.html",
        session,
        {
            "rows": rows,
            "more": more,
            "page": page,
            "q": {"reason": filters.reason, "agency": filters.agency},
            "rules": REVIEW_RULES,
            "notice": ok if ok in NOTICES else None,
            "prev_query": urlencode({**base, "page": page - 1}),
            "next_query": urlencode({**base, "page": page + 1}),
        },
    )


def _authorised_document(conn: Connection, session: Session, document_id: int, action: str) -> DocumentView:
    """The document, when the user may see it (its dossier's agency, or the agency that uploaded an inbox
    scan); a refusal is audited and committed before the 403."""
    docs = dossiers.documents_of(conn, document_id=document_id)
    if not docs:
        raise NotFound()
    if not dossiers.may_view_document(conn, session.user, docs[0]):
        audit.record(conn, session.user.id, action, f"document:{document_id}", "forbidden")
        conn.commit()  # keep the refusal in the audit log: the exception rolls back what follows
        raise Forbidden()
    return docs[0]


def _review_page(
    request: Request,
    session: Session,
    document_id: int,
    *,
    page: int = 1,
    notice: str | None = None,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    ctx = context(request)
    with ctx.connection() as conn:
        doc = _authorised_document(conn, session, document_id, "review.view")
        view = review_view(conn, document_id)
        text_uri, _ = dossiers.text_uri_of(conn, doc.sha256)
        audit.record(conn, session.user.id, "review.view", f"document:{document_id}")
    texts = artefacts.page_texts(ctx.s3, text_uri) if text_uri else []
    count = max(len(doc.pages), len(texts))
    page = max(1, min(page, count or 1))
    return render(
        request,
        "review.html",
        session,
        {
            "doc": doc,
            "r": view,
            "page": page,
            "count": count,
            "text": texts[page - 1] if page <= len(texts) else None,
            "page_info": next((p for p in doc.pages if p["no"] == page), None),
            "notice": notice,
            "error": error,
            "form": form or {},
            "page_base": f"/review/{document_id}",
        },
        status_code=status_code,
    )


@router.get("/{document_id}")
def review_page(request: Request, document_id: int, page: int = 1, ok: str = "") -> Response:
    ctx = context(request)
    with ctx.connection() as conn:
        session = require_session(request, conn)
    return _review_page(request, session, document_id, page=page, notice=ok if ok in NOTICES else None)


def _done(request: Request, document_id: int, notice: str) -> Response:
    _counter(request).forget()
    return RedirectResponse(f"{base_path(request)}/review/{document_id}?ok={notice}", status_code=303)


def _field_hint(name: str) -> str:
    if name.startswith("ngay_"):
        return "hint_date"
    return {"ma_ho_so": "hint_code", "so_cccd": "hint_cccd"}.get(name, "hint_value")


@router.post("/{document_id}/fields")
def correct(
    request: Request,
    document_id: int,
    name: Annotated[str, Form()] = "",
    value: Annotated[str, Form()] = "",
    absent: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    ctx = context(request)
    t = translator(lang_of(request))
    error = None
    with ctx.connection() as conn:
        session = require_session(request, conn)
        require_csrf(request, session, csrf_token)
        _authorised_document(conn, session, document_id, "review.correct_field")
        target = f"document:{document_id} field:{name if name in CORRECTABLE_FIELDS else '?'}"
        if name not in CORRECTABLE_FIELDS:
            error = t("err_unknown_field")
        elif not value.strip() and not absent:
            error = t("err_empty_value", field=t("fld_" + name))
        else:
            try:
                correct_field(
                    conn,
                    ctx.settings,
                    document_id,
                    name,
                    None if absent else value,
                    session.user.username,
                    note.strip()[:500] or None,
                )
            except ReviewError:
                error = t("err_bad_value", field=t("fld_" + name)) + " " + t(_field_hint(name))
        audit.record(conn, session.user.id, "review.correct_field", target, "rejected" if error else "ok")
    if error:
        return _review_page(
            request,
            session,
            document_id,
            error=error,
            status_code=400,
            form={"name": name, "value": value, "note": note},
        )
    return _done(request, document_id, "corrected")


@router.post("/{document_id}/issues/{issue_id}/resolve")
def resolve(
    request: Request,
    document_id: int,
    issue_id: int,
    note: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    ctx = context(request)
    with ctx.connection() as conn:
        session = require_session(request, conn)
        require_csrf(request, session, csrf_token)
        _authorised_document(conn, session, document_id, "review.resolve_issue")
        if not issue_of_document(conn, issue_id, document_id):
            raise NotFound()
        resolve_issue(conn, issue_id, session.user.username, note.strip()[:500])
        audit.record(conn, session.user.id, "review.resolve_issue", f"document:{document_id} issue:{issue_id}")
    return _done(request, document_id, "resolved")


def _assignment_error(conn: Connection, user: User, doc: DocumentView, code: str) -> str | None:
    """The i18n key of why ``doc`` cannot be filed under ``code``, or None when it can."""
    if not is_valid_dossier_code(code):
        return "err_code_format"
    if code == doc.ma_ho_so:
        return "err_same_dossier"
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM sohoa.dossier WHERE ma_ho_so = %s", (code,))
        if cur.fetchone() is None:
            return "err_no_dossier"
        cur.execute("SELECT 1 FROM sohoa.document WHERE ma_ho_so = %s AND sha256 = %s", (code, doc.sha256))
        if cur.fetchone() is not None:
            return "err_duplicate"
    if not dossiers.may_view(conn, user, code):
        return "err_other_agency"
    return None


@router.post("/{document_id}/assign")
def assign(
    request: Request, document_id: int, ma_ho_so: Annotated[str, Form()] = "", csrf_token: Annotated[str, Form()] = ""
) -> Response:
    ctx = context(request)
    t = translator(lang_of(request))
    code = ma_ho_so.strip()[:64]
    with ctx.connection() as conn:
        session = require_session(request, conn)
        require_csrf(request, session, csrf_token)
        doc = _authorised_document(conn, session, document_id, "review.assign")
        problem = _assignment_error(conn, session.user, doc, code)
        if problem is None:
            try:
                assign_document(conn, ctx.settings, document_id, code, session.user.username)
            except ReviewError:
                problem = "err_no_dossier"
        # The target is a dossier code: a code, not personal data; only a well-formed one is logged.
        shown = code if is_valid_dossier_code(code) else "?"
        audit.record(
            conn,
            session.user.id,
            "review.assign",
            f"document:{document_id} dossier:{shown}",
            "rejected" if problem else "ok",
        )
    if problem:
        return _review_page(
            request, session, document_id, error=t(problem, code=code), status_code=400, form={"ma_ho_so": code}
        )
    return _done(request, document_id, "assigned")


@router.post("/{document_id}/ocr")
def rerun_ocr(request: Request, document_id: int, csrf_token: Annotated[str, Form()] = "") -> Response:
    ctx = context(request)
    with ctx.connection() as conn:
        session = require_session(request, conn)
        require_csrf(request, session, csrf_token)
        _authorised_document(conn, session, document_id, "review.request_ocr")
        sha256 = request_ocr(conn, document_id, session.user.username)
        audit.record(conn, session.user.id, "review.request_ocr", f"document:{document_id}")
    if sha256 is None:
        return _done(request, document_id, "ocr_already_pending")
    ctx.background.submit(_forget_and_trigger, ctx.s3, ctx.settings.bucket_derived, sha256, ctx.trigger)
    return _done(request, document_id, "ocr_requested")


def _forget_and_trigger(client: Minio, bucket: str, sha256: str, trigger: Callable[[], None]) -> None:
    """After the commit: drop the cached page images of the old reading, then start the ingest DAG (which OCRs
    every original without a result). Neither failure loses the request: the DAG's schedule runs it anyway."""
    try:
        artefacts.forget_page_images(client, bucket, sha256)
    except Exception:  # noqa: BLE001 - a stale cache is re-rendered later; the request stands
        log.warning("could not drop cached page images of original %s", sha256[:12], exc_info=True)
    try:
        trigger()
    except Exception:  # noqa: BLE001 - the DAG's schedule (every 15 minutes) picks the original up anyway
        log.warning("could not trigger the ingest DAG for an OCR re-run; the next scheduled run will take it")


@router.post("/{document_id}/reviewed")
def reviewed(request: Request, document_id: int, csrf_token: Annotated[str, Form()] = "") -> Response:
    ctx = context(request)
    with ctx.connection() as conn:
        session = require_session(request, conn)
        require_csrf(request, session, csrf_token)
        _authorised_document(conn, session, document_id, "review.mark_reviewed")
        mark_reviewed(conn, document_id, session.user.username)
        audit.record(conn, session.user.id, "review.mark_reviewed", f"document:{document_id}")
    _counter(request).forget()
    return RedirectResponse(f"{base_path(request)}/review?ok=reviewed", status_code=303)
