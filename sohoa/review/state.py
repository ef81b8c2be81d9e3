"""Which documents a person must look at, and why.

A document needs review while it has an open finding of one of :data:`REVIEW_RULES` (low OCR confidence,
blank pages, low dpi, a dossier-code or identity mismatch, an unreadable file, an inbox scan not yet
assigned). Its reasons are those rules. When a person marks it reviewed it leaves the queue; it comes back
only if a finding it did not have then appears (a later re-extraction finds a new mismatch, say). When every
reason closes without a person marking it (a correction, a resolved finding, an assignment) it is
``cleared`` and leaves the queue too.
"""

from __future__ import annotations

from sohoa.db.connection import Connection

REVIEW_RULES = (
    "document.low_confidence",
    "document.blank_page",
    "document.low_dpi",
    "document.dossier_code_mismatch",
    "document.identity_mismatch",
    "document.unreadable",
    "document.unassigned",
)


def review_reasons(conn: Connection, document_id: int) -> list[str]:
    """The open review-worthy findings of a document, as rule names, sorted."""
    with conn.cursor() as cur:
        cur.execute(
            """SELECT DISTINCT i.rule FROM sohoa.issue i JOIN sohoa.document d ON d.id = %s
                WHERE i.source = 'document' AND i.resolved_at IS NULL AND i.rule = ANY(%s)
                  AND i.object_key = d.landing_key
                  AND (i.ma_ho_so IS NOT DISTINCT FROM d.ma_ho_so OR i.rule = 'document.unassigned')
                ORDER BY i.rule""",
            (document_id, list(REVIEW_RULES)),
        )
        return [r[0] for r in cur.fetchall()]


def refresh_review_state(conn: Connection, document_id: int) -> str | None:
    """Update a document's review state from its open findings; return the state (None: never flagged).

    Also keeps the review row's agency (``ma_co_quan``, the SQL function ``sohoa.document_agency``) up to date,
    which the portal's queue walks for an officer."""
    state = _refresh_state(conn, document_id)
    if state is not None:
        with conn.cursor() as cur:
            cur.execute(
                """UPDATE sohoa.document_review SET ma_co_quan = sohoa.document_agency(document_id)
                            WHERE document_id = %s
                              AND ma_co_quan IS DISTINCT FROM sohoa.document_agency(document_id)""",
                (document_id,),
            )
    return state


def _refresh_state(conn: Connection, document_id: int) -> str | None:
    reasons = review_reasons(conn, document_id)
    with conn.cursor() as cur:
        cur.execute("SELECT state, reasons FROM sohoa.document_review WHERE document_id = %s", (document_id,))
        row = cur.fetchone()
        if row is None:
            if not reasons:
                return None
            cur.execute(
                "INSERT INTO sohoa.document_review (document_id, state, reasons) VALUES (%s, %s, %s)",
                (document_id, "needs_review", reasons),
            )
            return "needs_review"
        state, previous = row[0], list(row[1])
        if state == "needs_review" and not reasons:
            state = "cleared"
            cur.execute(
                "UPDATE sohoa.document_review SET state = 'cleared', reasons = '{}' WHERE document_id = %s",
                (document_id,),
            )
        elif state == "cleared" and reasons:
            state = "needs_review"
            cur.execute(
                """UPDATE sohoa.document_review SET state = 'needs_review', reasons = %s, flagged_at = now()
                            WHERE document_id = %s""",
                (reasons, document_id),
            )
        elif state == "reviewed" and set(reasons) - set(previous):
            state = "needs_review"
            cur.execute(
                """UPDATE sohoa.document_review SET state = 'needs_review', reasons = %s, flagged_at = now(),
                                  reviewed_by = NULL, reviewed_at = NULL WHERE document_id = %s""",
                (reasons, document_id),
            )
        elif state == "needs_review" and reasons != previous:
            cur.execute("UPDATE sohoa.document_review SET reasons = %s WHERE document_id = %s", (reasons, document_id))
        return str(state)
