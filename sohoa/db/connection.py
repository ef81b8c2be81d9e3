"""PostgreSQL connections (psycopg2). Functions that touch the database take a connection argument."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2
import psycopg2.extensions
import psycopg2.extras

from sohoa.config import Settings, get_settings

Connection = psycopg2.extensions.connection


@contextmanager
def connect(settings: Settings | None = None, *, dsn: str | None = None) -> Iterator[Connection]:
    """A connection that commits on success and rolls back on error, then closes."""
    conn = _open(settings, dsn)
    try:
        with conn:
            yield conn
    finally:
        conn.close()


@contextmanager
def reused(settings: Settings | None = None) -> Iterator[Connection]:
    """One connection for a series of transactions, each a ``with conn:`` block (commit on success, rollback on
    error), closed at the end.

    For a task that commits item by item (a document stored, an original OCR'd): a connection per item cost
    a server process start and its catalogue cache for the dozen tables an item touches, each time (the
    ingestion DAG made about 200 of them per 100 documents).
    """
    conn = _open(settings)
    try:
        yield conn
    finally:
        conn.close()


def _open(settings: Settings | None, dsn: str | None = None) -> Connection:
    return psycopg2.connect(dsn or (settings or get_settings()).dsn(), application_name="sohoa")
