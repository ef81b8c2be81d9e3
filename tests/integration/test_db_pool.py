"""The portal's and the API's connection pool against the real PostgreSQL: more concurrent requests than
connections wait for one (psycopg2's own pool raised 'connection pool exhausted' at the 13th officer)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from sohoa.db.pool import PoolTimeout, WaitingPool

pytestmark = pytest.mark.integration


def test_requests_beyond_the_pool_size_wait_and_all_succeed(database_url: str) -> None:
    pool = WaitingPool(database_url, 2, application_name="sohoa-test-pool")
    inside = 0
    most = 0
    lock = threading.Lock()

    def request(n: int) -> int:
        nonlocal inside, most
        with pool.connection() as conn, conn.cursor() as cur:
            with lock:
                inside += 1
                most = max(most, inside)
            cur.execute("SELECT %s::int FROM pg_sleep(0.05)", (n,))
            value = cur.fetchone()[0]  # type: ignore[index]
            with lock:
                inside -= 1
            return int(value)

    try:
        with ThreadPoolExecutor(16) as workers:
            assert sorted(workers.map(request, range(40))) == list(range(40))
        assert most == 2  # never more connections in use than the pool holds
    finally:
        pool.closeall()


def test_a_request_that_waits_too_long_gets_a_clear_error(database_url: str) -> None:
    pool = WaitingPool(database_url, 1, application_name="sohoa-test-pool", wait_s=0.2)
    try:
        with pool.connection(), pytest.raises(PoolTimeout, match="no database connection came free"), pool.connection():
            pass
        with pool.connection() as conn, conn.cursor() as cur:  # and the pool is whole afterwards
            cur.execute("SELECT 1")
            assert cur.fetchone() == (1,)
    finally:
        pool.closeall()
