"""Writing findings to ``sohoa.issue`` (read through the ``quality.issues`` view).

A finding is identified by a fingerprint of where it was found and what it says, so detecting it again
(a rerun, a retried task) inserts nothing. Details must be free of personal data: the callers build
them from field names, rule descriptions and codes, never from names, ID numbers or document text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import psycopg2.extras

from sohoa.db.connection import Connection

Source = Literal["record", "document", "catalogue"]
Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class Issue:
    source: Source
    rule: str
    severity: Severity
    detail: str
    ma_ho_so: str | None = None
    object_key: str | None = None
    line_no: int | None = None
    scope: str = ""  # what makes the finding unique beyond its place (e.g. a batch's SHA-256)

    def fingerprint(self) -> str:
        parts = (
            self.source,
            self.rule,
            self.ma_ho_so or "",
            self.object_key or "",
            str(self.line_no or ""),
            self.scope,
            self.detail,
        )
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def record_issues(conn: Connection, issues: Iterable[Issue]) -> int:
    """Insert the findings not yet recorded; return how many were new."""
    rows = [
        (i.source, i.ma_ho_so, i.object_key, i.line_no, i.rule, i.severity, i.detail, i.fingerprint()) for i in issues
    ]
    if not rows:
        return 0
    with conn.cursor() as cur:
        result = psycopg2.extras.execute_values(
            cur,
            """INSERT INTO sohoa.issue (source, ma_ho_so, object_key, line_no, rule, severity, detail, fingerprint)
               VALUES %s ON CONFLICT (fingerprint) DO NOTHING RETURNING id""",
            rows,
            page_size=1000,
            fetch=True,
        )
    return len(result)
