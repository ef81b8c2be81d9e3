"""Linking documents to their dossier after they are stored: inbox scans whose code is found later.

An ``inbox/`` scan is stored unlinked (``document.unassigned``) unless a barcode on its first page names its
dossier at intake. After OCR, the dossier code printed in its text links it (``linked_by = 'ocr_text'``), at
once when that dossier is on record, else when its record arrives; a person in the portal links what stays
unassigned (``linked_by = 'person'``). Linking resolves the ``document.unassigned``
finding and, when the dossier has no record yet, raises ``document.unknown_dossier`` like a scan in a folder.
"""

from __future__ import annotations

import logging
from typing import Literal

from psycopg2.extras import Json

from sohoa.db.connection import Connection
from sohoa.intake.dossier_codes import code_counts, pick_code
from sohoa.quality.issues import Issue, record_issues

log = logging.getLogger(__name__)

LinkedBy = Literal["folder", "barcode", "ocr_text", "person"]


def link_document(conn: Connection, document_id: int, ma_ho_so: str, linked_by: LinkedBy) -> str:
    """Link an unlinked document to a dossier, inside the caller's transaction.

    Returns ``linked``, or ``duplicate`` when the dossier already holds the same bytes (the unlinked row is then
    folded into the kept one: the landing object stays recorded and the original stays stored).
    """
    with conn.cursor() as cur:
        cur.execute("SELECT sha256, landing_key, ma_ho_so FROM sohoa.document WHERE id = %s FOR UPDATE", (document_id,))
        row = cur.fetchone()
        if row is None:
            raise LookupError(f"no document {document_id}")
        sha256, landing_key, current = row
        if current is not None:
            raise ValueError(f"document {document_id} is already linked to a dossier")
        cur.execute(
            "SELECT id, landing_key FROM sohoa.document WHERE ma_ho_so = %s AND sha256 = %s", (ma_ho_so, sha256)
        )
        kept = cur.fetchone()
        issues: list[Issue] = []
        if kept is not None:
            cur.execute("DELETE FROM sohoa.document WHERE id = %s", (document_id,))
            issues.append(
                Issue(
                    "document",
                    "document.duplicate",
                    "info",
                    f"identical bytes already stored as document {kept[0]} ({kept[1]})",
                    ma_ho_so=ma_ho_so,
                    object_key=landing_key,
                    scope=sha256,
                )
            )
            outcome = "duplicate"
        else:
            cur.execute(
                """UPDATE sohoa.document SET ma_ho_so = %s, linked_by = %s, linked_at = now()
                            WHERE id = %s""",
                (ma_ho_so, linked_by, document_id),
            )
            cur.execute("SELECT 1 FROM sohoa.dossier WHERE ma_ho_so = %s", (ma_ho_so,))
            if cur.fetchone() is None:
                issues.append(
                    Issue(
                        "document",
                        "document.unknown_dossier",
                        "warning",
                        f"no record of dossier {ma_ho_so} yet; the document waits for it",
                        ma_ho_so=ma_ho_so,
                        object_key=landing_key,
                        scope=sha256,
                    )
                )
            outcome = "linked"
        cur.execute(
            """UPDATE sohoa.issue SET resolved_at = now()
                        WHERE rule = 'document.unassigned' AND object_key = %s AND resolved_at IS NULL""",
            (landing_key,),
        )
    record_issues(conn, issues)
    log.info("document %d %s to a dossier by %s", document_id, outcome, linked_by)
    return outcome


def link_from_ocr_text(conn: Connection, sha256: str, text: str) -> int:
    """Keep the dossier codes an original's OCR text names, and link its unassigned inbox documents by them.

    Returns how many were linked. A text naming no code, several equally, or only codes of dossiers that have no
    record (a misread digit would otherwise file the scan under a dossier that does not exist) leaves them
    unassigned: :func:`link_waiting_inbox` links them when the record arrives, and meanwhile a person sees the
    code read on the scan as a suggestion in the review queue.
    """
    counts = code_counts(text)
    with conn.cursor() as cur:
        cur.execute("UPDATE sohoa.original SET ocr_codes = %s WHERE sha256 = %s", (Json(counts), sha256))
    return _link_by_codes(conn, sha256, counts)


def link_waiting_inbox(conn: Connection) -> int:
    """Link the unassigned documents whose OCR text names a dossier that is now on record; return how many.

    Called by the records loader in the transaction that stores a batch, so a receipt scanned before its
    dossier reached the one-stop system's export finds its dossier without a person.
    """
    with conn.cursor() as cur:
        cur.execute(
            """SELECT DISTINCT o.sha256, o.ocr_codes FROM sohoa.document d JOIN sohoa.original o USING (sha256)
                WHERE d.ma_ho_so IS NULL AND o.ocr_codes IS NOT NULL AND o.ocr_codes <> '{}'::jsonb
                  AND EXISTS (SELECT 1 FROM sohoa.dossier x
                               WHERE x.ma_ho_so = ANY(ARRAY(SELECT jsonb_object_keys(o.ocr_codes))))"""
        )
        waiting = cur.fetchall()
    return sum(_link_by_codes(conn, sha, {str(k): int(v) for k, v in counts.items()}) for sha, counts in waiting)


def _link_by_codes(conn: Connection, sha256: str, counts: dict[str, int]) -> int:
    with conn.cursor() as cur:
        cur.execute("SELECT id FROM sohoa.document WHERE sha256 = %s AND ma_ho_so IS NULL ORDER BY id", (sha256,))
        unlinked = [r[0] for r in cur.fetchall()]
        if not unlinked or not counts:
            return 0
        cur.execute("SELECT ma_ho_so FROM sohoa.dossier WHERE ma_ho_so = ANY(%s)", (list(counts),))
        known = {r[0] for r in cur.fetchall()}
    code = pick_code(counts, known)
    if code is None or code not in known:
        return 0  # OCR can misread a digit: only a dossier on record is trusted; a person decides the rest
    for document_id in unlinked:
        link_document(conn, document_id, code, "ocr_text")
    return len(unlinked)
