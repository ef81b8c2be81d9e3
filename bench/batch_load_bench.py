"""One big batch through the whole platform (issue 9, load): 200,000 records and 2,000 scanned pages at once.

    uv run --frozen python bench/batch_load_bench.py                       # 200,000 records, 2,000 pages
    uv run --frozen python bench/batch_load_bench.py --records 20000 --pages 100   # a quick look

Starts the embedded default on a temporary home and free ports (PostgreSQL, nanio, Airflow with the
LocalExecutor: what ``make demo`` runs on a fresh machine), lands one batch, the way counters deliver it: one
JSON Lines export of ``--records`` dossiers, ``--pages`` scanned pages as 5-page PDFs (200 dpi colour, one per
dossier), the same scan uploaded twice and a zero-byte file. Then ``sohoa run --wait`` (ingestion and what it sets
off through assets: quality checks, the KPI build, publishing) and prints:

- the time of each DAG run and of the whole chain; records per second of the ingestion; OCR pages per hour;
- peak memory (RSS) of every process the services run (PostgreSQL and its backends, nanio, Airflow and its task
  and OCR processes), summed, sampled every 0.5 s;
- the accounting of tests/chaos (the fault-injection suite's ledger): every landing object has exactly one fate,
  every record line and page once, no orphan in the buckets, and the nightly reconciliation (with the SHA-256 of
  every original re-read) clean; then a second ``sohoa run --wait`` and the same accounting again (running twice
  never duplicates).

Exit status 1 when anything is not accounted for. The figures are written to bench/out/batch-load.json. There is
no reference tool for a whole platform: the OCR part can be read against ``bench/ocr_capacity_bench.py`` (pages per
hour per core of the OCR engine alone on this machine).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "chaos"))
sys.path.insert(0, str(ROOT / "tests"))
from chaos_batch import build_batch  # noqa: E402
from chaos_ledger import account, reconcile_now  # noqa: E402

from sohoa.config import Settings  # noqa: E402
from sohoa.orchestration.airflow_client import INGEST_DAG, AirflowClient, run_chain  # noqa: E402
from sohoa.services import manager  # noqa: E402
from sohoa.services.scratch import scratch_settings  # noqa: E402
from sohoa.storage import s3  # noqa: E402

OUT = Path(__file__).parent / "out"
PAGES_PER_SCAN = 5


class MemorySampler:
    """Peak of the summed RSS of every process whose command line or working folder is under ``home``, and of
    their descendants (the services, Airflow's task runners, OCR pool processes, PostgreSQL backends)."""

    def __init__(self, home: Path, every_s: float = 0.5) -> None:
        self.home = str(home)
        self.every_s = every_s
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _roots(self) -> list[psutil.Process]:
        roots = []
        for proc in psutil.process_iter(["cmdline", "cwd"]):
            info = proc.info
            if self.home in " ".join(info.get("cmdline") or []) or (info.get("cwd") or "").startswith(self.home):
                roots.append(proc)
        return roots

    def sample(self) -> float:
        seen: dict[int, float] = {}
        for root in self._roots():
            try:
                family = [root, *root.children(recursive=True)]
            except psutil.Error:
                continue
            for proc in family:
                if proc.pid not in seen:
                    with contextlib.suppress(psutil.Error):
                        seen[proc.pid] = proc.memory_info().rss / 2**20
        return sum(seen.values())

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, self.sample())
            self._stop.wait(self.every_s)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def start_services(home: Path) -> Settings:
    """The embedded default on a temporary home and free ports, started."""
    settings = scratch_settings(home, "load")
    manager.up(settings, report=lambda m: print(f"  {m}", flush=True))
    return settings


def settle(airflow: AirflowClient) -> None:
    """Wait until the ingestion DAG is parsed and the run Airflow schedules when it first appears has ended, so
    that the batch is taken by the runs the benchmark times."""
    airflow.wait_for_dag(INGEST_DAG)
    quiet_since = time.monotonic()
    while time.monotonic() - quiet_since < 20:
        if airflow.has_active_run(INGEST_DAG):
            quiet_since = time.monotonic()
        time.sleep(2)


def land(settings: Settings, files: dict[str, bytes]) -> float:
    """Upload the batch to the landing bucket, as the counters deliver it; returns the seconds it took."""
    client = s3.make_client(settings)
    started = time.monotonic()
    for key, data in files.items():
        s3.put_bytes(client, settings.bucket_landing, key, data, "application/octet-stream")
    return time.monotonic() - started


def ingest_task_seconds(airflow: AirflowClient, runs: list[dict[str, Any]]) -> dict[str, float]:
    """Task time per task of the ingestion, summed over ``runs`` and their mapped instances (the work, not the
    wall time)."""
    tasks: dict[str, float] = {}
    for run in runs:
        for task, seconds in airflow.task_seconds(INGEST_DAG, run["dag_run_id"]).items():
            tasks[task] = tasks.get(task, 0.0) + seconds
    return tasks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--pages", type=int, default=2_000, help=f"scanned pages, in PDFs of {PAGES_PER_SCAN}")
    parser.add_argument("--dpi", type=int, default=200)
    parser.add_argument("--timeout", type=int, default=4 * 3600, help="seconds the chain may take")
    parser.add_argument("--keep", action="store_true", help="leave the services running and the home in place")
    args = parser.parse_args()
    scans = max(2, args.pages // PAGES_PER_SCAN)

    t0 = time.monotonic()
    print(f"generating {args.records:,} records and {scans} scans of {PAGES_PER_SCAN} pages ...", flush=True)
    batch = build_batch(dossiers=args.records, scans=scans, pages=PAGES_PER_SCAN, dpi=args.dpi, seed=2026)
    megabytes = sum(len(b) for b in batch.files.values()) / 2**20
    print(f"  {len(batch.files)} files, {megabytes:,.0f} MB, in {time.monotonic() - t0:,.0f} s", flush=True)

    home = Path(tempfile.mkdtemp(prefix="sohoa-load-"))
    settings = None
    figures: dict[str, object] = {
        "records": batch.record_lines,
        "pages": batch.pages,
        "files": len(batch.files),
        "megabytes": round(megabytes, 1),
    }
    problems: list[str] = []
    try:
        print("starting the embedded services ...", flush=True)
        settings = start_services(home)
        settle(AirflowClient(settings))
        figures["landing_s"] = round(land(settings, batch.files), 1)
        print(f"landed in {figures['landing_s']} s; sohoa run --wait ...", flush=True)

        with MemorySampler(home) as memory:
            t_run = time.monotonic()
            outcomes = run_chain(settings, timeout_s=args.timeout, report=lambda m: print(f"  {m}", flush=True))
            chain_s = time.monotonic() - t_run
        figures["chain_s"] = round(chain_s, 1)
        figures["peak_rss_mb"] = round(memory.peak_mb)
        figures["dag_runs"] = [{"dag": o.dag_id, "state": o.state, "seconds": round(o.seconds, 1)} for o in outcomes]
        problems += [
            f"{o.dag_id} run ended {o.state} (failed: {', '.join(o.failed)})" for o in outcomes if not o.succeeded
        ]
        # Every ingestion run's task time: a scheduled run may have taken part of the batch before the triggered
        # one started (max_active_runs=1), so the triggered run alone can miss work.
        airflow = AirflowClient(settings)
        tasks = ingest_task_seconds(airflow, airflow.runs(INGEST_DAG))
        figures["ingest_task_seconds"] = {k: round(v, 1) for k, v in sorted(tasks.items())}
        wall_s = figures["landing_s"] + chain_s  # type: ignore[operator]
        load_s = tasks.get("load_records")
        figures["records_per_s"] = round(batch.record_lines / load_s) if load_s else None
        figures["pages_per_hour"] = round(batch.pages / wall_s * 3600)
        figures["pages_per_ocr_task_hour"] = round(batch.pages / tasks["ocr_documents"] * 3600)

        problems += [f"first run: {p}" for p in account(settings, batch)]
        report = reconcile_now(settings, batch)
        figures["reconciliation"] = report.as_dict()
        problems += [f"reconciliation: {rule} x{n}" for rule, n in report.problems.items() if n]
        if report.fixity_failed:
            problems.append(f"reconciliation: {report.fixity_failed} originals failed the fixity check")

        print("second run over the same landing bucket ...", flush=True)
        t_again = time.monotonic()
        again = run_chain(settings, timeout_s=args.timeout, report=lambda m: print(f"  {m}", flush=True))
        figures["second_chain_s"] = round(time.monotonic() - t_again, 1)
        problems += [f"second {o.dag_id} run ended {o.state}" for o in again if not o.succeeded]
        problems += [f"after the second run: {p}" for p in account(settings, batch)]
    finally:
        if settings is not None and not args.keep:
            manager.down(settings)
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)

    figures["problems"] = problems
    OUT.mkdir(exist_ok=True)
    (OUT / "batch-load.json").write_text(json.dumps(figures, indent=2, ensure_ascii=False), encoding="utf-8")
    print()
    print(
        f"one batch: {batch.record_lines:,} records, {batch.pages:,} pages in {len(batch.files):,} files "
        f"({megabytes:,.0f} MB); landing {figures['landing_s']} s"
    )
    for run in figures["dag_runs"]:  # type: ignore[attr-defined]
        print(f"  {run['dag']:<18} {run['state']:<8} {run['seconds']:>8,.1f} s")
    print(f"chain {figures['chain_s']:,} s; peak RSS of all services {figures['peak_rss_mb']:,} MB")
    print(f"records: {figures['records_per_s']} records/s of load_records task time (beside the OCR of the pages)")
    print(
        f"pages: {figures['pages_per_hour']:,} pages/hour from landing to the chain's end, {psutil.cpu_count()} cores; "
        f"{figures['pages_per_ocr_task_hour']:,} pages per hour of ocr_documents task time (one core each)"
    )
    print(f"ingestion task time: {figures['ingest_task_seconds']}")
    print(f"second run over the same bucket: {figures.get('second_chain_s')} s")
    if problems:
        print("NOT ACCOUNTED FOR:")
        for problem in problems:
            print(f"  - {problem}")
        return 1
    print(
        "accounted for: every landing object one fate, every line and page once, no orphan, reconciliation "
        "clean, the second run changed nothing"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
