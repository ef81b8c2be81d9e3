"""The extraction stage: right after OCR, read the fields, keep them, cross-check them, flag for review.

Called by :mod:`sohoa.intake.ocr_stage` in the same transaction as the OCR result, so a document never has
OCR without its fields. Running it again over the same text gives the same rows (it replaces the candidates
and records findings by fingerprint). :func:`reextract_original` re-reads the stored ``text.txt`` when the
extraction rules change.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from minio import Minio

from sohoa.config import Settings
from sohoa.db.connection import Connection
from sohoa.extract.crosscheck import documents_of, refresh_cross_checks
from sohoa.extract.fields import extract_fields
from sohoa.extract.store import publish_fields, save_extraction
from sohoa.review.state import refresh_review_state
from sohoa.storage import s3

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExtractOutcome:
    sha256: str
    fields: int
    findings: int
    flagged: int


def extract_original(
    conn: Connection, settings: Settings, sha256: str, text: str, page_confidences: Sequence[float | None]
) -> ExtractOutcome:
    """Extract, store and cross-check the fields of one OCR'd original; the caller commits."""
    extraction = extract_fields(text, page_confidences)
    stored = save_extraction(conn, sha256, extraction)
    publish_fields(conn, sha256, settings.secret_pseudonym_key())
    findings = flagged = 0
    for doc in documents_of(conn, sha256):
        findings += len(refresh_cross_checks(conn, doc))
        if refresh_review_state(conn, doc.id) == "needs_review":
            flagged += 1
    log.info(
        "original %s: %d field value(s), %d cross-check finding(s), %d document(s) to review",
        sha256[:12],
        stored,
        findings,
        flagged,
    )
    return ExtractOutcome(sha256, stored, findings, flagged)


def extract_after_ocr(
    conn: Connection, settings: Settings, sha256: str, text: str, page_confidences: Sequence[float | None]
) -> ExtractOutcome | None:
    """:func:`extract_original` for the OCR stage: an unexpected error in extraction must not undo (and
    endlessly retry) the OCR, so it is rolled back to a savepoint and logged; ``sohoa quality reextract``
    runs it again once fixed. Database errors that broke the connection still propagate."""
    import psycopg2

    with conn.cursor() as cur:
        cur.execute("SAVEPOINT sohoa_extract")
    try:
        outcome = extract_original(conn, settings, sha256, text, page_confidences)
    except (ValueError, LookupError, TypeError, AttributeError, psycopg2.DataError) as exc:
        with conn.cursor() as cur:
            cur.execute("ROLLBACK TO SAVEPOINT sohoa_extract")
        log.warning(
            "extraction failed for original %s (%s); OCR kept, run `sohoa quality reextract` after the fix",
            sha256[:12],
            type(exc).__name__,
        )
        return None
    with conn.cursor() as cur:
        cur.execute("RELEASE SAVEPOINT sohoa_extract")
    return outcome


def reextract_original(conn: Connection, client: Minio, settings: Settings, sha256: str) -> ExtractOutcome | None:
    """Read the stored text of an original again (after a change of the rules); None if it has no OCR text."""
    with conn.cursor() as cur:
        cur.execute("SELECT text_uri FROM sohoa.ocr_result WHERE sha256 = %s AND status = 'done'", (sha256,))
        row = cur.fetchone()
        if row is None or row[0] is None:
            return None
        cur.execute("SELECT confidence FROM sohoa.ocr_page WHERE sha256 = %s ORDER BY page_no", (sha256,))
        confidences = [None if r[0] is None else float(r[0]) for r in cur.fetchall()]
    bucket, key = row[0].removeprefix("s3://").split("/", 1)
    text = s3.get_bytes(client, bucket, key).decode("utf-8")
    return extract_original(conn, settings, sha256, text, confidences)


def recheck_documents(settings: Settings) -> dict[str, int]:
    """Cross-check again the documents whose dossier record changed (or that arrived) since the last document
    validation run, and bring every review state up to date.

    A scan can arrive before its record, or a later state can change the applicant's identity number; the
    OCR stage only checks what it reads, so the quality DAG calls this before validating documents.
    """
    from sohoa.db.connection import connect
    from sohoa.review.actions import sync_review_states

    with connect(settings) as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT max(run_at) FROM sohoa.gx_validation WHERE suite = 'sohoa_documents'")
            row = cur.fetchone()
            since = row[0] if row else None
            cur.execute(
                """SELECT d.id FROM sohoa.document d
                     JOIN sohoa.ocr_result r ON r.sha256 = d.sha256 AND r.status = 'done'
                     LEFT JOIN sohoa.dossier x ON x.ma_ho_so = d.ma_ho_so
                    WHERE %s::timestamptz IS NULL OR d.received_at >= %s OR x.changed_at >= %s
                    ORDER BY d.id""",
                (since, since, since),
            )
            ids = [r[0] for r in cur.fetchall()]
        from sohoa.extract.crosscheck import document_by_id

        for document_id in ids:
            doc = document_by_id(conn, document_id)
            if doc is not None:
                refresh_cross_checks(conn, doc)
        with conn.cursor() as cur:  # what they are checked against changed: the GX documents run looks again
            cur.execute(
                """UPDATE sohoa.ocr_result SET gx_checked_at = NULL
                            WHERE sha256 IN (SELECT sha256 FROM sohoa.document WHERE id = ANY(%s))""",
                (ids,),
            )
        flagged = sync_review_states(conn)
    return {"rechecked": len(ids), "needs_review": flagged}
