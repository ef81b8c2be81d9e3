"""A connection pool that makes a request wait for a free connection instead of failing.

psycopg2's ``ThreadedConnectionPool`` raises ``PoolError`` the moment all its connections are out: fifty
officers uploading at once then get errors from a healthy server. :class:`WaitingPool` puts a bounded
semaphore in front of it, so a thread waits (up to ``wait_s``) for a connection to come back, and the
number of connections PostgreSQL sees stays bounded. The portal and the read API use it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from psycopg2.pool import ThreadedConnectionPool

from sohoa.db.connection import Connection


class PoolTimeout(RuntimeError):
    """No connection came free in time: the database is overloaded or connections leak."""


class WaitingPool:
    """Up to ``size`` connections to ``dsn``, opened on demand; callers wait for one when all are out."""

    def __init__(self, dsn: str, size: int, *, application_name: str, wait_s: float = 30.0) -> None:
        self._pool = ThreadedConnectionPool(1, size, dsn, application_name=application_name)
        self._slots = threading.BoundedSemaphore(size)
        self._wait_s = wait_s

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A connection in a transaction that commits on success and rolls back on error."""
        if not self._slots.acquire(timeout=self._wait_s):
            raise PoolTimeout(f"no database connection came free within {self._wait_s:.0f} s")
        try:
            conn = self._pool.getconn()
            try:
                with conn:
                    yield conn
            finally:
                self._pool.putconn(conn)
        finally:
            self._slots.release()

    def closeall(self) -> None:
        self._pool.closeall()
