"""The lanes of a full KPI build (sohoa.kpi.lanes) against the real PostgreSQL: what keeps a build that runs on
several connections consistent and atomic."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import psycopg2
import psycopg2.extensions
import pytest

from sohoa.kpi.lanes import Cursor, Lanes

pytestmark = pytest.mark.integration


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg2.extensions.connection]:
    c = psycopg2.connect(database_url)
    c.autocommit = True
    with c.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS public.lane_probe")
        cur.execute("CREATE TABLE public.lane_probe (n integer)")
        cur.execute("INSERT INTO public.lane_probe VALUES (1)")
    yield c
    with c.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS public.lane_probe")
    c.close()


def _lanes(database_url: str) -> Lanes:
    return Lanes(lambda: psycopg2.connect(database_url), lambda cur: cur.execute("SET LOCAL work_mem = '8MB'"))


def _count(cur: Cursor) -> int:
    cur.execute("SELECT count(*) FROM public.lane_probe")
    row = cur.fetchone()
    assert row is not None
    return int(row[0])


def test_a_lane_sees_the_exported_snapshot_not_what_committed_after(
    conn: psycopg2.extensions.connection, database_url: str
) -> None:
    build = psycopg2.connect(database_url)
    build.set_session(isolation_level=psycopg2.extensions.ISOLATION_LEVEL_REPEATABLE_READ)
    try:
        with build.cursor() as cur:
            cur.execute("SELECT pg_export_snapshot()")
            snapshot = cur.fetchone()[0]  # type: ignore[index]
        with conn.cursor() as cur:  # lands after the build's snapshot
            cur.execute("INSERT INTO public.lane_probe VALUES (2)")
        in_snapshot, fresh = (
            _lanes(database_url).run([_count], snapshot=snapshot)[0],
            _lanes(database_url).run([_count])[0],
        )
    finally:
        build.rollback()
        build.close()
    assert (in_snapshot, fresh) == (1, 2)


def test_jobs_run_side_by_side_and_commit(database_url: str, conn: psycopg2.extensions.connection) -> None:
    def add(n: int) -> Callable[[Cursor], int]:
        def job(cur: Cursor) -> int:
            cur.execute("INSERT INTO public.lane_probe VALUES (%s)", (n,))
            cur.execute("SELECT pg_backend_pid()")
            return int(cur.fetchone()[0])  # type: ignore[index]

        return job

    pids = _lanes(database_url).run([add(10), add(20), add(30)])
    assert len(set(pids)) == 3  # a connection each
    with conn.cursor() as cur:
        cur.execute("SELECT array_agg(n ORDER BY n) FROM public.lane_probe")
        assert cur.fetchone()[0] == [1, 10, 20, 30]  # type: ignore[index]


@pytest.mark.timeout(120)
def test_a_failing_lane_cancels_the_others_and_nothing_commits(
    database_url: str, conn: psycopg2.extensions.connection
) -> None:
    def slow(cur: Cursor) -> None:
        cur.execute("INSERT INTO public.lane_probe VALUES (5)")
        cur.execute("SELECT pg_sleep(600)")  # cancelled when the other lane fails, or the test times out

    def failing(cur: Cursor) -> None:
        cur.execute("SELECT pg_sleep(0.5)")
        cur.execute("SELECT 1 / 0")

    with pytest.raises(psycopg2.errors.DivisionByZero):
        _lanes(database_url).run([slow, failing])
    with conn.cursor() as cur:
        assert _count(cur) == 1
