"""A person asks for a document's OCR to run again.

How the platform runs OCR: the ingest DAG (``sohoa_ingest``, every 15 minutes and whenever the portal or
``sohoa run`` triggers it) OCRs every stored original that has no ``sohoa.ocr_result`` row
(:func:`sohoa.intake.ocr_stage.pending_pages`). So the smallest honest way to re-run OCR is to put the
original back in that state: delete its OCR result (its pages and machine-read field candidates go with it,
``ON DELETE CASCADE``) and trigger the DAG. What is kept: the original (immutable), people's corrections
(``sohoa.field_correction``, keyed by the original, so they win again over the new reading), the findings
(the new OCR closes the OCR findings that no longer hold, see ``ocr_stage.refresh_ocr_findings``) and the
review state (the document stays in the queue until a person or the new reading clears it).

Until the new OCR is done the document shows "OCR pending" and ``publish.giay_to`` shows it without OCR
figures, which is the truth. The derived artefacts are rewritten under the same keys by the new run; cached
page images are dropped by the caller after commit (``sohoa.portal.artefacts.forget_page_images``).
"""

from __future__ import annotations

from sohoa.db.connection import Connection
from sohoa.review.actions import ReviewError, _log, _require_actor


def request_ocr(conn: Connection, document_id: int, actor: str) -> str | None:
    """Put a document's original back in the OCR queue; the caller commits, then triggers the ingest DAG.

    Returns the original's SHA-256 when its OCR result was removed, or None when the original was already
    waiting for OCR (nothing to do, nothing logged). Every document sharing the bytes is read again: OCR is
    a property of the bytes.
    """
    actor = _require_actor(actor)
    with conn.cursor() as cur:
        cur.execute("SELECT sha256 FROM sohoa.document WHERE id = %s", (document_id,))
        row = cur.fetchone()
        if row is None:
            raise ReviewError(f"no document {document_id}")
        sha256: str = row[0]
        cur.execute("DELETE FROM sohoa.ocr_result WHERE sha256 = %s RETURNING status", (sha256,))
        removed = cur.fetchone()
    if removed is None:
        return None
    _log(conn, "request_ocr", actor, document_id=document_id, detail=f"OCR requested again (was {removed[0]})")
    return sha256
