"""The four faults: how each is armed (the moment in the batch), injected, and undone as an operator would.

- ``s3_kill``: SIGKILL to nanio while documents are being stored; after the ingest tasks have seen it, nanio is
  started again on the same data (``sohoa services up``).
- ``pg_restart``: the suite's embedded PostgreSQL (sohoa's data and Airflow's metadata) restarted with a fast
  shutdown, which cuts every open session, while OCR results are being written; then ``sohoa services up`` brings
  back whatever Airflow component did not survive it.
- ``worker_kill``: SIGKILL to the task process of a running mapped ``ocr_documents`` task (the process titled
  ``airflow worker -- <task instance id>`` under the suite's scheduler: what the kernel's OOM killer would pick);
  Airflow's supervisor reports the death and the task is retried by Airflow itself.
- ``disk_full``: a ballast file fills nanio's filesystem while documents are being stored; it is deleted once an
  ingest task has failed on it (the operator freeing space).
"""

from __future__ import annotations

import contextlib
import errno
import time
from collections.abc import Callable
from dataclasses import dataclass

import psutil
from chaos_airflow import Operator
from chaos_env import ChaosEnv

from sohoa.services import manager, postgres, processes

SCANS_STORED = "SELECT count(*) FROM sohoa.landing_object WHERE kind = 'scan'"
OCR_DONE = "SELECT count(*) FROM sohoa.ocr_result"
BALLAST = "chaos-ballast"


@dataclass
class Fault:
    """One fault: when to inject it, how, and the operator's recovery."""

    name: str
    what: str
    armed: Callable[[ChaosEnv, Operator, set[str]], bool]
    inject: Callable[[ChaosEnv, Operator, set[str]], None]
    recover: Callable[[ChaosEnv, Operator, set[str]], None]


def _scans_stored(at_least: int) -> Callable[[ChaosEnv, Operator, set[str]], bool]:
    return lambda env, _op, _since: env.count(SCANS_STORED) >= at_least


def _ocr_under_way(env: ChaosEnv, op: Operator, since: set[str]) -> bool:
    return env.count(OCR_DONE) >= 1 and bool(op.running(since, "ocr_documents"))


def _a_task_failed(op: Operator, since: set[str], *, within_s: float) -> None:
    """Wait until Airflow has seen the fault (a task failed or waits for its retry), or ``within_s`` at most."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if op.seen_failure(since):
                return
        time.sleep(1)


# -- the S3 server killed --------------------------------------------------------------------------------------


def _kill_s3(env: ChaosEnv, _op: Operator, _since: set[str]) -> None:
    record = processes.read_record(env.settings.home, "s3")
    proc = record.process() if record else None
    assert proc is not None, "nanio is not running"
    proc.kill()
    proc.wait(10)


def _restart_s3(env: ChaosEnv, op: Operator, since: set[str]) -> None:
    _a_task_failed(op, since, within_s=30)
    manager.up(env.settings)  # `sohoa services up`: starts what is down, nanio here


# -- PostgreSQL restarted --------------------------------------------------------------------------------------


def _restart_pg(env: ChaosEnv, _op: Operator, _since: set[str]) -> None:
    postgres.stop(env.settings)  # fast shutdown: every session is cut, as in a failover
    postgres.start(env.settings)


def _services_up(env: ChaosEnv, _op: Operator, _since: set[str]) -> None:
    manager.up(env.settings)  # brings back any Airflow component that did not survive the restart


# -- an Airflow worker killed mid-OCR ------------------------------------------------------------------------


def ocr_task_process(env: ChaosEnv, op: Operator, since: set[str]) -> psutil.Process | None:
    """The task process of a running ``ocr_documents`` task instance, among the suite's scheduler's descendants."""
    scheduler = env.scheduler()
    if scheduler is None:
        return None
    wanted = {f"airflow worker -- {ti['id']}" for ti in op.running(since, "ocr_documents")}
    for proc in scheduler.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if " ".join(proc.cmdline()).strip() in wanted:
                return proc
    return None


def _kill_worker(env: ChaosEnv, op: Operator, since: set[str]) -> None:
    deadline = time.monotonic() + 60
    while (proc := ocr_task_process(env, op, since)) is None:
        assert time.monotonic() < deadline, "no OCR task process found to kill"
        time.sleep(0.5)
    with contextlib.suppress(psutil.Error):
        env.orphans.extend(proc.children(recursive=True))  # Tesseract children: cleaned up at the end
    proc.kill()
    proc.wait(10)


def _let_airflow_retry(env: ChaosEnv, _op: Operator, _since: set[str]) -> None:
    """Nothing to restart: the supervisor reports the death and Airflow retries the task. Leftover Tesseract
    children of the killed process end on their own (a page at most); any still running after 60 s is killed."""
    _, alive = psutil.wait_procs(env.orphans, timeout=60)
    for proc in alive:
        with contextlib.suppress(psutil.Error):
            proc.kill()


# -- the S3 store's disk full ----------------------------------------------------------------------------------


def _fill_disk(env: ChaosEnv, _op: Operator, _since: set[str]) -> None:
    """Write ballast until the filesystem refuses a single byte more (1 MiB blocks, then 4 KiB ones)."""
    for name, block in ((BALLAST, 1 << 20), (BALLAST + "-tail", 4096)):
        try:
            with (env.store / name).open("wb", buffering=0) as out:
                while True:
                    out.write(b"\0" * block)
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise


def _free_disk(env: ChaosEnv, op: Operator, since: set[str]) -> None:
    _a_task_failed(op, since, within_s=60)
    for name in (BALLAST, BALLAST + "-tail"):
        (env.store / name).unlink(missing_ok=True)


FAULTS = {
    "s3_kill": Fault(
        "s3_kill",
        "SIGKILL to the S3 server (nanio) while documents are stored; restarted",
        _scans_stored(3),
        _kill_s3,
        _restart_s3,
    ),
    "pg_restart": Fault(
        "pg_restart",
        "PostgreSQL (sohoa data + Airflow metadata) restarted mid-OCR",
        _ocr_under_way,
        _restart_pg,
        _services_up,
    ),
    "worker_kill": Fault(
        "worker_kill",
        "SIGKILL to the task process of a running mapped OCR task",
        _ocr_under_way,
        _kill_worker,
        _let_airflow_retry,
    ),
    "disk_full": Fault(
        "disk_full",
        "the S3 store's filesystem filled while documents are stored; freed",
        _scans_stored(3),
        _fill_disk,
        _free_disk,
    ),
}
