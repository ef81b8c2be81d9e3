"""Reports: the KPI report pages and the Great Expectations Data Docs, served from the published bucket.

Both are static sites built by other parts of sohoa (``sohoa kpi build`` in the published bucket, the
sohoa_quality DAG in the derived bucket) under a key
prefix (``SOHOA_PORTAL_KPI_REPORT_PREFIX``, ``SOHOA_PORTAL_DATA_DOCS_PREFIX``); the portal serves them
behind its sign-in, so the buckets stay private. Until a report exists the page says how it gets built.

``/reports`` lists the monthly KPI report pages of one agency (an officer's own by default) or of all
agencies, from the KPI tables (``sohoa.portal.reports``); a month page the build did not store (it stores the
latest two months it rewrote) is rendered from the same tables when asked for.

Who sees what: the KPI report (aggregates) is open to every signed-in user; Data Docs can show sample
failing values, which may be personal data, so only reviewers and administrators see them. Report HTML is
served with a sandboxing Content-Security-Policy: its scripts run, but in an opaque origin that cannot
read the portal's cookies or call the portal.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from minio.error import S3Error
from starlette.concurrency import run_in_threadpool

from sohoa.kpi.report import ALL_AGENCIES
from sohoa.portal import artefacts, audit, reports
from sohoa.portal.web import Forbidden, NotFound, PortalContext, base_path, context, render, require_session

router = APIRouter()

REPORTS = {
    "kpi": ("kpi_report", "sohoa kpi build"),
    "data-docs": ("data_docs", "sohoa_quality (Great Expectations)"),
}


def _render_month(ctx: PortalContext, wanted: tuple[date, str]) -> str | None:
    """A month's KPI report from the tables (a month whose page the build did not store)."""
    from sohoa.kpi.report import render_report

    with ctx.connection() as conn:
        return render_report(conn, *wanted)


def _bucket(ctx: PortalContext, name: str) -> str:
    """KPI reports are aggregates (published bucket); Data Docs can hold sample values (private derived bucket)."""
    return ctx.settings.bucket_published if name == "kpi" else ctx.settings.bucket_derived


def _prefix(ctx: PortalContext, name: str) -> str:
    prefix = ctx.portal.kpi_report_prefix if name == "kpi" else ctx.portal.data_docs_prefix
    return prefix if prefix.endswith("/") else prefix + "/"


@router.get("/reports")
def reports_page(request: Request, agency: str = "") -> Response:
    ctx = context(request)
    with ctx.connection() as conn:
        session = require_session(request, conn)
        chosen = agency.strip()[:40] or session.user.ma_co_quan or ALL_AGENCIES
        months = reports.months_with_figures(conn, chosen)
        catalogue = reports.agencies(conn)
    docs = None
    if session.user.is_reviewer:
        label, how = REPORTS["data-docs"]
        docs = {
            "name": "data-docs",
            "label": label,
            "how": how,
            "available": artefacts.has_objects(ctx.s3, _bucket(ctx, "data-docs"), _prefix(ctx, "data-docs")),
        }
    return render(
        request,
        "reports.html",
        session,
        {
            "months": months,
            "agency": chosen,
            "all_agencies": chosen == ALL_AGENCIES,
            "catalogue": catalogue,
            "kpi_how": REPORTS["kpi"][1],
            "docs": docs,
        },
    )


@router.get("/reports/{name}/{path:path}")
async def report_file(request: Request, name: str, path: str) -> Response:
    ctx = context(request)
    if name not in REPORTS:
        raise NotFound()
    if path == "" and not request.url.path.endswith("/"):
        return RedirectResponse(f"{base_path(request)}/reports/{name}/", status_code=307)

    def check() -> None:
        with ctx.connection() as conn:
            session = require_session(request, conn)
            if name == "data-docs" and not session.user.is_reviewer:
                raise Forbidden()
            audit.record(conn, session.user.id, "report.view", name)

    await run_in_threadpool(check)
    key = artefacts.report_key(_prefix(ctx, name), path)
    if key is None:
        raise NotFound()
    headers = {
        "Content-Security-Policy": "sandbox allow-scripts allow-popups; frame-ancestors 'self'",
        "Cache-Control": "private, no-cache",
    }
    try:
        obj = await run_in_threadpool(ctx.s3.get_object, _bucket(ctx, name), key)
    except S3Error as exc:
        if exc.code not in ("NoSuchKey", "NoSuchObject", "NotFound", "NoSuchBucket"):
            raise
        wanted = reports.month_page(path) if name == "kpi" else None
        html = await run_in_threadpool(_render_month, ctx, wanted) if wanted else None
        if html is None:
            raise NotFound() from exc
        return HTMLResponse(html, headers=headers)

    def chunks() -> Iterator[bytes]:
        try:
            yield from obj.stream(256 * 1024)
        finally:
            obj.close()
            obj.release_conn()

    return StreamingResponse(chunks(), media_type=artefacts.content_type_of(key), headers=headers)
