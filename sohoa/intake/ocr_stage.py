"""OCR one stored original and keep the results as derived artefacts.

The original is read from the raw bucket (never modified); ``text.txt``, ``searchable.pdf`` and
``pages.json`` go to the derived bucket under a prefix derived from the original's SHA-256; the
per-page figures go to ``sohoa.ocr_page`` and the document findings (low dpi, blank pages, low
confidence) to ``quality.issues`` for every document that shares the original.
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from minio import Minio

from ocr import OcrOptions, ocr_file
from ocr.errors import BadInput
from sohoa.config import Settings
from sohoa.db.connection import Connection
from sohoa.intake.documents import limits_of
from sohoa.intake.inbox import link_from_ocr_text
from sohoa.quality.issues import Issue, record_issues
from sohoa.storage import s3

log = logging.getLogger(__name__)

MIN_DPI = 200  # national rule for a digitised copy (domain/codes.md)
LOW_CONFIDENCE = 60.0  # mean word confidence under which a person should look
# What a reading of the pages finds; a new reading of the same original decides them again.
OCR_RULES = ("document.low_dpi", "document.blank_page", "document.low_confidence", "document.unreadable")


@dataclass(frozen=True)
class OcrOutcome:
    sha256: str
    status: str  # done, failed, skipped
    pages: int = 0
    seconds: float = 0.0


def pending_originals(conn: Connection, limit: int = 10_000) -> list[str]:
    """Originals of stored documents that have no OCR result yet, oldest first."""
    return [sha for sha, _ in pending_pages(conn, limit)]


def pending_pages(conn: Connection, limit: int = 10_000) -> list[tuple[str, int]]:
    """Like :func:`pending_originals`, with each original's page count (what OCR time scales with)."""
    with conn.cursor() as cur:
        cur.execute(
            """SELECT o.sha256, coalesce(o.page_count, 1) FROM sohoa.original o
                WHERE NOT EXISTS (SELECT 1 FROM sohoa.ocr_result r WHERE r.sha256 = o.sha256)
                ORDER BY o.stored_at, o.sha256 LIMIT %s""",
            (limit,),
        )
        return [(r[0], int(r[1])) for r in cur.fetchall()]


def ocr_original(conn: Connection, client: Minio, settings: Settings, sha256: str) -> OcrOutcome:
    """OCR one original unless already done; the caller commits."""
    with conn.cursor() as cur:
        cur.execute("SELECT status FROM sohoa.ocr_result WHERE sha256 = %s", (sha256,))
        if cur.fetchone() is not None:
            return OcrOutcome(sha256, "skipped")
        cur.execute("SELECT raw_uri FROM sohoa.original WHERE sha256 = %s", (sha256,))
        row = cur.fetchone()
    if row is None:
        raise LookupError(f"no original {sha256}")
    raw_key = row[0].split("/", 3)[3]
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="sohoa-ocr-") as tmp:
        source = Path(tmp) / "original"
        s3.download(client, settings.bucket_raw, raw_key, source)
        out = Path(tmp) / "out"
        try:
            result = ocr_file(
                source,
                out,
                options=OcrOptions(
                    page_timeout_s=settings.ocr_page_timeout_s,
                    workers=settings.ocr_workers_per_task,
                    pdfa=settings.ocr_pdfa,
                    limits=limits_of(settings),
                ),
            )
        except BadInput as exc:
            return _failed(conn, client, settings, sha256, source, exc)
        prefix = s3.derived_prefix(sha256)
        uris = {}
        for name, content_type in (
            ("text.txt", "text/plain; charset=utf-8"),
            ("searchable.pdf", "application/pdf"),
            ("pages.json", "application/json"),
        ):
            s3.put_file(client, settings.bucket_derived, prefix + name, out / name, content_type)
            uris[name] = s3.uri(settings.bucket_derived, prefix + name)
        text = (out / "text.txt").read_text(encoding="utf-8")
    seconds = time.monotonic() - started
    with conn.cursor() as cur:
        cur.execute(
            """INSERT INTO sohoa.ocr_result (sha256, status, text_uri, searchable_uri, pages_uri, page_count,
                                             min_dpi, mean_confidence, engine, seconds)
               VALUES (%s, 'done', %s, %s, %s, %s, %s, %s, %s, %s)""",
            (
                sha256,
                uris["text.txt"],
                uris["searchable.pdf"],
                uris["pages.json"],
                len(result.pages),
                result.min_dpi,
                result.mean_confidence,
                "tesseract-vie",
                round(seconds, 3),
            ),
        )
        for page in result.pages:
            cur.execute(
                """INSERT INTO sohoa.ocr_page (sha256, page_no, source, rotation, skew, dpi, confidence, blank,
                                               seconds) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)""",
                (
                    sha256,
                    page.number,
                    page.source,
                    page.rotation,
                    page.skew,
                    page.dpi,
                    page.confidence,
                    page.blank,
                    page.seconds,
                ),
            )
    link_from_ocr_text(conn, sha256, text)  # inbox scans whose printed dossier code is now known
    refresh_ocr_findings(conn, sha256, _findings(conn, sha256, result))
    from sohoa.extract.stage import extract_after_ocr  # fields, cross-checks and review state (issue 5)

    extract_after_ocr(conn, settings, sha256, result.text, [p.confidence for p in result.pages])
    return OcrOutcome(sha256, "done", len(result.pages), seconds)


def refresh_ocr_findings(conn: Connection, sha256: str, current: list[Issue]) -> None:
    """Record the OCR findings of this reading and close those an earlier reading made that no longer hold.

    The first OCR of an original only records. When OCR runs again (a person asked for it in the portal, see
    ``sohoa.review.reocr``) a page that is now read well must not stay flagged; a finding that holds again is
    open again, unless a person closed it on purpose. The same rule as the cross-checks
    (``sohoa.extract.crosscheck.refresh_cross_checks``).
    """
    record_issues(conn, current)
    fingerprints = [i.fingerprint() for i in current]
    with conn.cursor() as cur:
        cur.execute(
            """UPDATE sohoa.issue SET resolved_at = now()
                WHERE rule = ANY(%s) AND resolved_at IS NULL AND source = 'document'
                  AND object_key IN (SELECT landing_key FROM sohoa.document WHERE sha256 = %s)
                  AND NOT (fingerprint = ANY(%s))""",
            (list(OCR_RULES), sha256, fingerprints),
        )
        cur.execute(
            """UPDATE sohoa.issue i SET resolved_at = NULL
                WHERE i.fingerprint = ANY(%s) AND i.resolved_at IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM sohoa.review_action a
                                   WHERE a.issue_id = i.id AND a.action = 'resolve_issue')""",
            (fingerprints,),
        )


def _findings(conn: Connection, sha256: str, result: object) -> list[Issue]:
    from ocr.models import OcrResult

    assert isinstance(result, OcrResult)
    with conn.cursor() as cur:
        cur.execute("SELECT ma_ho_so, landing_key FROM sohoa.document WHERE sha256 = %s", (sha256,))
        documents = cur.fetchall()
    issues: list[Issue] = []
    for ma_ho_so, key in documents:
        low = [p.number for p in result.pages if p.dpi is not None and p.dpi < MIN_DPI and not p.blank]
        if low:
            issues.append(
                Issue(
                    "document",
                    "document.low_dpi",
                    "warning",
                    f"page(s) {_pages(low)} under {MIN_DPI} dpi (lowest {result.min_dpi})",
                    ma_ho_so=ma_ho_so,
                    object_key=key,
                    scope=sha256,
                )
            )
        blank = [p.number for p in result.pages if p.blank]
        if blank:
            issues.append(
                Issue(
                    "document",
                    "document.blank_page",
                    "warning",
                    f"blank page(s) {_pages(blank)}",
                    ma_ho_so=ma_ho_so,
                    object_key=key,
                    scope=sha256,
                )
            )
        text_pages = [p for p in result.pages if not p.blank and p.source == "ocr"]
        if text_pages and result.mean_confidence is not None and result.mean_confidence < LOW_CONFIDENCE:
            issues.append(
                Issue(
                    "document",
                    "document.low_confidence",
                    "warning",
                    f"mean OCR word confidence {result.mean_confidence:.0f} under {LOW_CONFIDENCE:.0f}",
                    ma_ho_so=ma_ho_so,
                    object_key=key,
                    scope=sha256,
                )
            )
    return issues


def _pages(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:10])
    return shown + (f" and {len(numbers) - 10} more" if len(numbers) > 10 else "")


def _failed(
    conn: Connection, client: Minio, settings: Settings, sha256: str, source: Path, error: BadInput
) -> OcrOutcome:
    """The original passed triage but could not be read page by page (a truncated image, a damaged page).

    Like a file refused at intake, it is quarantined: a copy goes to the quarantine bucket, its landing objects
    are marked quarantined, and a ``document.unreadable`` finding says why. The original stays in the raw
    bucket (originals are never deleted) and OCR is not retried.
    """
    rule = "document.unreadable"
    s3.put_immutable(client, settings.bucket_quarantine, s3.content_key(sha256), source, "application/octet-stream")
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO sohoa.ocr_result (sha256, status, engine) VALUES (%s, 'failed', %s)", (sha256, "tesseract-vie")
        )
        cur.execute("SELECT ma_ho_so, landing_key FROM sohoa.document WHERE sha256 = %s", (sha256,))
        documents = cur.fetchall()
        cur.execute(
            """UPDATE sohoa.landing_object SET status = 'quarantined', detail = %s, processed_at = now()
                        WHERE sha256 = %s AND status IN ('done', 'duplicate')""",
            (rule, sha256),
        )
    record_issues(
        conn,
        [
            Issue("document", rule, "error", _named(error, k), ma_ho_so=m, object_key=k, scope=sha256)
            for m, k in documents
        ],
    )
    log.warning("OCR failed for original %s: %s", sha256[:12], type(error).__name__)
    return OcrOutcome(sha256, "failed")


def _named(error: BadInput, landing_key: str) -> str:
    """The error's message naming the file as it was uploaded (OCR reads a temporary copy)."""
    return str(type(error)(landing_key.rsplit("/", 1)[-1], error.reason, error.fix))
