"""What the tests read back from sohoa's database: one statement on a connection of its own, committed."""

from __future__ import annotations

from typing import Any

import psycopg2

from sohoa.config import Settings


def rows(settings: Settings, sql: str, *args: object) -> list[tuple[Any, ...]]:
    """Run ``sql`` with ``args`` on a new connection to ``settings``' database, commit, and return its rows
    (none for a statement that returns no rows)."""
    conn = psycopg2.connect(settings.dsn())
    try:
        with conn, conn.cursor() as cur:
            cur.execute(sql, args)
            return list(cur.fetchall()) if cur.description else []
    finally:
        conn.close()
