"""Linking documents to their dossier after they are stored: inbox scans whose code is found later.

An ``inbox/`` scan is stored unlinked (``document.unassigned``) unless a barcode on its first page names its
dossier at intake. After OCR, the dossier code printed in its text links it (``linked_by = 'ocr_text'``); a person
in the portal links what stays unassigned (``linked_by = 'person'``). Linking resolves the ``document.unassigned``
finding and, when the dossier has no record yet, raises ``document.unknown_dossier`` like a scan in a folder.
"""

from __future__ import annotations

import logging
from typing import Literal

from sohoa.db.connection import Connection
from sohoa.intake.dossier_codes import candidate_codes, code_in_ocr_text
from sohoa.quality.issues import Issue, record_issues

log = logging.getLogger(__name__)

LinkedBy = Literal["folder", "barcode", "ocr_text", "person"]


def link_document(conn: Connection, document_id: int, ma_ho_so: str, linked_by: LinkedBy) -> str:
    """Link an unlinked document to a dossier, inside the caller's transaction.

    Returns ``linked``, or ``duplicate`` when the dossier already holds the same bytes (the unlinked row is then
    folded into the kept one: the landing object stays recorded and the original stays stored).
    """
    with conn.cursor() as cur:
        cur.execute("SELECT sha256, landing_key, ma_ho_so FROM sohoa.document WHERE id = %s FOR UPDATE",
                    (document_id,))
        row = cur.fetchone()
        if row is None:
            raise LookupError(f"no document {document_id}")
        sha256, landing_key, current = row
        if current is not None:
            raise ValueError(f"document {document_id} is already linked to a dossier")
        cur.execute("SELECT id, landing_key FROM sohoa.document WHERE ma_ho_so = %s AND sha256 = %s",
                    (ma_ho_so, sha256))
        kept = cur.fetchone()
        issues: list[Issue] = []
        if kept is not None:
            cur.execute("DELETE FROM sohoa.document WHERE id = %s", (document_id,))
            issues.append(Issue("document", "document.duplicate", "info",
                                f"identical bytes already stored as document {kept[0]} ({kept[1]})",
                                ma_ho_so=ma_ho_so, object_key=landing_key, scope=sha256))
            outcome = "duplicate"
        else:
            cur.execute("""UPDATE sohoa.document SET ma_ho_so = %s, linked_by = %s, linked_at = now()
                            WHERE id = %s""", (ma_ho_so, linked_by, document_id))
            cur.execute("SELECT 1 FROM sohoa.dossier WHERE ma_ho_so = %s", (ma_ho_so,))
            if cur.fetchone() is None:
                issues.append(Issue("document", "document.unknown_dossier", "warning",
                                    f"no record of dossier {ma_ho_so} yet; the document waits for it",
                                    ma_ho_so=ma_ho_so, object_key=landing_key, scope=sha256))
            outcome = "linked"
        cur.execute("""UPDATE sohoa.issue SET resolved_at = now()
                        WHERE rule = 'document.unassigned' AND object_key = %s AND resolved_at IS NULL""",
                    (landing_key,))
    record_issues(conn, issues)
    log.info("document %d %s to a dossier by %s", document_id, outcome, linked_by)
    return outcome


def link_from_ocr_text(conn: Connection, sha256: str, text: str) -> int:
    """Link the unassigned inbox documents of an original by the dossier code in its OCR text.

    Returns how many were linked. A text naming no code, several equally, or only codes of dossiers that have no
    record (a misread digit would otherwise file the scan under a dossier that does not exist) leaves them for a
    person, who sees the code read on the scan as a suggestion in the review queue.
    """
    with conn.cursor() as cur:
        cur.execute("SELECT id FROM sohoa.document WHERE sha256 = %s AND ma_ho_so IS NULL ORDER BY id", (sha256,))
        unlinked = [r[0] for r in cur.fetchall()]
        if not unlinked:
            return 0
        candidates = candidate_codes(text)
        cur.execute("SELECT ma_ho_so FROM sohoa.dossier WHERE ma_ho_so = ANY(%s)", (candidates,))
        known = {r[0] for r in cur.fetchall()}
    code = code_in_ocr_text(text, known)
    if code is None or code not in known:
        return 0  # OCR can misread a digit: only a dossier on record is trusted; a person decides the rest
    linked = 0
    for document_id in unlinked:
        link_document(conn, document_id, code, "ocr_text")
        linked += 1
    return linked
