"""Run the statements of a full KPI build on several connections at once.

A full build's heavy steps run on one core each (``INSERT ... SELECT`` never uses parallel workers, a sort or a
window function runs in one process), while the other core waits: on a 2-core server, the daily table of
10M dossiers took as long to compute as to write. So a full build hands independent steps to *lanes*: extra
connections, each in its own transaction, run in threads of this process (psycopg2 releases the GIL while the
server works), and a stage ends when all its lanes have committed.

What keeps the build atomic and consistent (see :mod:`sohoa.kpi.build`):

- the build's own transaction (REPEATABLE READ) exports its snapshot; the lane that reads the inputs (records,
  documents, catalogue, holidays) imports it, so the facts are computed from exactly the state whose change
  captures the build consumes, whatever commits meanwhile;
- lanes write only tables of the build's own (``kpi.*_moi`` beside the live ones, and the build's scratch
  tables); they commit them so that the next stage's lanes can read them, but no reader of the KPI tables
  sees them until the build's transaction swaps them in and commits;
- a lane that fails cancels the others; the build's transaction rolls back and the tables beside are dropped,
  so the live tables stay as they were.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import Any

import psycopg2
import psycopg2.errors
import psycopg2.extensions

log = logging.getLogger(__name__)

Cursor = psycopg2.extensions.cursor
Connect = Callable[[], psycopg2.extensions.connection]


class Lanes:
    """Opens a connection per job, runs the jobs of one stage side by side, commits each.

    Args:
        connect: opens a new connection to the build's database.
        prepare: run on each lane's cursor first (the build's session settings).
    """

    def __init__(self, connect: Connect, prepare: Callable[[Cursor], None], *, at_once: int | None = None) -> None:
        self._connect = connect
        self._prepare = prepare
        # at most this many lanes at once (SOHOA_KPI_LANES; 1 runs a stage's jobs one after the other, each on
        # its own connection as before: the time each job takes alone)
        self._at_once = at_once or int(os.environ.get("SOHOA_KPI_LANES", "0")) or None

    def run(self, jobs: Sequence[Callable[[Cursor], Any]], *, snapshot: str | None = None) -> list[Any]:
        """Run each job on a connection of its own, all at once; return their results in order.

        Each job runs in one transaction that commits when the job returns. With ``snapshot`` (from
        ``pg_export_snapshot()``), the transactions are REPEATABLE READ and see exactly that snapshot;
        otherwise they are READ COMMITTED. If a job raises, the others are cancelled and rolled back, and the
        first error is raised.
        """
        if not jobs:
            return []
        conns: list[psycopg2.extensions.connection] = []
        lock = threading.Lock()
        failed = threading.Event()

        def lane(job: Callable[[Cursor], Any]) -> Any:
            started = time.monotonic()
            conn = self._connect()
            with lock:
                conns.append(conn)
            try:
                if snapshot is not None:
                    conn.set_session(isolation_level=psycopg2.extensions.ISOLATION_LEVEL_REPEATABLE_READ)
                with conn.cursor() as cur:
                    if snapshot is not None:
                        cur.execute("SET TRANSACTION SNAPSHOT %s", (snapshot,))
                    self._prepare(cur)
                    if failed.is_set():
                        raise _Cancelled
                    result = job(cur)
                conn.commit()
                log.info("KPI lane %s done in %.1f s", getattr(job, "__name__", "job"), time.monotonic() - started)
                return result
            except BaseException:
                failed.set()
                conn.rollback()
                raise
            finally:
                conn.close()

        at_once = min(len(jobs), self._at_once or len(jobs))
        with ThreadPoolExecutor(max_workers=at_once, thread_name_prefix="kpi-lane") as pool:
            futures = [pool.submit(lane, job) for job in jobs]
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            if any(f.exception() is not None for f in done):
                failed.set()
                with lock:
                    for conn in conns:
                        # the server stops the lane's statement and the lane rolls back (or it has closed)
                        with contextlib.suppress(psycopg2.Error):
                            conn.cancel()
            wait(futures)
        errors = [e for f in futures if (e := f.exception()) is not None]
        if errors:  # the lane that failed first, not the ones it cancelled
            raise next((e for e in errors if not isinstance(e, _Cancelled | psycopg2.errors.QueryCanceled)), errors[0])
        return [f.result() for f in futures]


class _Cancelled(Exception):
    """A lane that had not started its job when another lane failed."""
