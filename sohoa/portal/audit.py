"""The audit log: who (user id), what (an action name), on what (a code), when, and the outcome.

Targets are codes only: a dossier code, a document id, an upload id, a user id. Never a name, an ID
number, a file name or OCR text (Decree 13/2023): the log is read by operators who need not see them.
"""

from __future__ import annotations

from sohoa.db.connection import Connection


def record(conn: Connection, user_id: int | None, action: str, target: str | None = None, outcome: str = "ok") -> None:
    """Append one entry in the caller's transaction."""
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO portal.audit_log (user_id, action, target, outcome) VALUES (%s, %s, %s, %s)",
            (user_id, action, target, outcome),
        )
