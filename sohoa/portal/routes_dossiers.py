"""Dossier search, the dossier page, a document's pages beside their OCR text, and page images.

Every view of a dossier or a document is audited (scans and OCR text are personal data: every access is
logged), by code and id only.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from sohoa.portal import artefacts, audit, dossiers
from sohoa.portal.dossiers import SearchFilters
from sohoa.portal.web import Forbidden, NotFound, context, render, require_session

router = APIRouter()


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@router.get("/dossiers")
def search_page(
    request: Request,
    code: str = "",
    procedure: str = "",
    status: str = "",
    received_from: str = "",
    received_to: str = "",
    agency: str = "",
    page: int = 1,
) -> Response:
    ctx = context(request)
    filters = SearchFilters(
        code=code[:64],
        procedure=procedure[:40],
        status=int(status) if status.isdigit() else None,
        received_from=_date(received_from),
        received_to=_date(received_to),
        agency=agency[:13],
    )
    page = max(1, min(page, 10_000))
    with ctx.connection() as conn:
        session = require_session(request, conn)
        rows, more = dossiers.search(conn, session.user, filters, page=page, page_size=ctx.portal.page_size)
        audit.record(conn, session.user.id, "dossier.search", None)
    query = {
        "code": code,
        "procedure": procedure,
        "status": status,
        "received_from": received_from,
        "received_to": received_to,
        "agency": agency,
    }
    base = {k: v for k, v in query.items() if v}
    return render(
        request,
        "dossiers.html",
        session,
        {
            "rows": rows,
            "more": more,
            "page": page,
            "q": query,
            "prev_query": urlencode({**base, "page": page - 1}),
            "next_query": urlencode({**base, "page": page + 1}),
        },
    )


# A sector system's own dossier code may hold "/" (codes.md): the code is the rest of the path.
@router.get("/dossiers/{ma_ho_so:path}")
def dossier_page(request: Request, ma_ho_so: str) -> Response:
    ctx = context(request)
    with ctx.connection() as conn:
        session = require_session(request, conn)
        if not dossiers.may_view(conn, session.user, ma_ho_so):
            audit.record(conn, session.user.id, "dossier.view", ma_ho_so, "forbidden")
            conn.commit()  # keep the refusal in the audit log: the exception rolls back what follows
            raise Forbidden()
        view = dossiers.dossier_view(conn, ma_ho_so)
        if view is None:
            raise NotFound()
        audit.record(conn, session.user.id, "dossier.view", ma_ho_so)
    return render(request, "dossier.html", session, {"d": view})


@router.get("/documents/{document_id}")
def document_page(request: Request, document_id: int, page: int = 1) -> Response:
    ctx = context(request)
    with ctx.connection() as conn:
        session = require_session(request, conn)
        docs = dossiers.documents_of(conn, document_id=document_id)
        if not docs:
            raise NotFound()
        doc = docs[0]
        if not dossiers.may_view_document(conn, session.user, doc):
            audit.record(conn, session.user.id, "document.view", f"document:{document_id}", "forbidden")
            conn.commit()  # keep the refusal in the audit log
            raise Forbidden()
        text_uri, _ = dossiers.text_uri_of(conn, doc.sha256)
        audit.record(conn, session.user.id, "document.view", f"document:{document_id}")
    texts = artefacts.page_texts(ctx.s3, text_uri) if text_uri else []
    count = max(len(doc.pages), len(texts))
    page = max(1, min(page, count or 1))
    return render(
        request,
        "document.html",
        session,
        {
            "doc": doc,
            "page": page,
            "count": count,
            "text": texts[page - 1] if page <= len(texts) else None,
            "page_info": next((p for p in doc.pages if p["no"] == page), None),
            "page_base": f"/documents/{document_id}",
        },
    )


@router.get("/documents/{document_id}/pages/{page_no}.png")
async def page_image(request: Request, document_id: int, page_no: int, w: int = 240) -> Response:
    ctx = context(request)

    def locate() -> tuple[str, str | None]:
        with ctx.connection() as conn:
            session = require_session(request, conn)
            docs = dossiers.documents_of(conn, document_id=document_id)
            if not docs:
                raise NotFound()
            if not dossiers.may_view_document(conn, session.user, docs[0]):
                raise Forbidden()
            return docs[0].sha256, dossiers.text_uri_of(conn, docs[0].sha256)[1]

    sha, searchable = await run_in_threadpool(locate)
    if searchable is None:
        raise NotFound()
    png = await run_in_threadpool(artefacts.page_image, ctx.s3, searchable, sha, page_no, w)
    if png is None:
        raise NotFound()
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=300"})
