"""End-to-end pages (issue 4): scanned pages through the DAGs against the OCR benchmark on the same pages.

    flock /tmp/sohoa-bench.lock uv run --frozen python bench/e2e_pages_bench.py     # 500 pages, ~20-30 min on 2 cores
    uv run --frozen python bench/e2e_pages_bench.py --pages 30 --ingest-only        # a quick look

Target (issue 4): orchestration overhead at most 25 %, overhead = end-to-end time / reference time - 1.

1. **Pages**: the OCR benchmark's own corpus (``ocr_bench.load_or_build``: the degraded scans of
   ``bench/ocr_corpus.py``, reused from ``bench/out/corpus-<pages>-<seed>`` when it is there), cut into PDFs of
   ``--pages-per-scan`` pages, one per dossier of a generated record feed (``sohoa.sample.records``) that lands
   with them, so every scan links to a loaded dossier.
2. **Reference**: ``ocr_bench.run_sohoa`` (``ocr.ocr_file`` on the corpus PDF, what the OCR benchmark times) with
   as many workers as the DAG may run OCR at once: the ``sohoa_ocr`` pool's slots (one per core on the
   LocalExecutor) x ``ocr_workers_per_task``. Run while no service of ours runs: before the services start and
   again after they stop (``--no-reference-after``: before only). The DAG run is compared with the mean of the
   two, because this shared machine's speed drifts within one benchmark by as much as the effect measured.
3. **End to end**: the embedded default started as ``bench/batch_load_bench.py`` does (PostgreSQL, nanio,
   Airflow with the LocalExecutor), the batch landed, the ingestion DAG triggered (``sohoa run --wait``). Timed by
   Airflow's clock from the triggered run's ``queued_at`` to the end of the last ingestion run that had work:
   scheduling, every task's start-up, plan, records, document storage (S3, hashing, DB), the mapped OCR tasks
   (S3 fetch of the original, OCR, derived files to S3, DB commits, field extraction and triage) and ``finish``.
   Landing (the counters' upload) is printed apart. Without ``--ingest-only`` the runs that ingestion sets off
   through assets (publish, KPI, quality) are followed too and the whole chain is printed separately; they are
   not part of the overhead.

With ``--tesseract-cpu`` every Tesseract process, in the reference and in the DAG's tasks alike, runs under a
wrapper placed first on ``PATH`` (bash's ``time``), and the machine's CPU time (``/proc/stat``: busy, steal) is
read around each timed part: whether the DAG's pages are slower because Tesseract gets less of a core (waiting
behind other processes: same CPU seconds, more wall) or because the same work costs it more CPU there.
With ``--process-cpu`` every process's CPU during the DAG run is sampled each second (``process_meter.py``) and
printed by kind (Airflow's services, the task supervisors, the task runners by task, PostgreSQL, nanio): where
the platform's own core-seconds go.

Then it prints where the slot time of the ingestion went (pages in the OCR engine, the rest of each document's
OCR, the OCR task outside it, idle pool slots between mapped tasks, the phases before and after OCR), the
hand-over gaps between mapped OCR tasks and the task time per task. Figures go to ``bench/out/e2e-pages-<n>.json``.
Exit status 1 when a page or document is missing or a run failed (not when the target is missed).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

import psutil

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import ocr_bench  # noqa: E402
import ocr_corpus  # noqa: E402
from batch_load_bench import ingest_task_seconds, land, settle, start_services  # noqa: E402
from process_meter import ProcessMeter, busy_seconds  # noqa: E402

from sohoa.config import Settings  # noqa: E402
from sohoa.db.connection import connect  # noqa: E402
from sohoa.orchestration.airflow_client import (  # noqa: E402
    INGEST_DAG,
    OCR_POOL,
    AirflowClient,
    follow_chain,
    trigger_and_wait,
)
from sohoa.sample.records import generate_records  # noqa: E402
from sohoa.services import manager  # noqa: E402

TARGET = 0.25
OCR_TASK = "ocr_documents"


def build_files(folder: Path, corpus: list[ocr_corpus.CorpusPage], per_scan: int, seed: int) -> dict[str, bytes]:
    """The landing batch: a record feed of one dossier per scan, and the corpus cut into scans of ``per_scan``
    pages under ``scans/<MaHoSo>/`` (the same JPEG bytes as the corpus PDF, so both sides read the same pages)."""
    chunks = [corpus[i : i + per_scan] for i in range(0, len(corpus), per_scan)]
    feed = generate_records(len(chunks), seed=seed, start=date(2026, 1, 5), end=date(2026, 1, 9), defects=False)
    files = {"records/e2e-feed.jsonl": feed.jsonl_bytes()}
    with tempfile.TemporaryDirectory(prefix="sohoa-e2e-scans-") as tmp:
        for i, (dossier, pages) in enumerate(zip(feed.dossiers, chunks, strict=False)):
            path = Path(tmp) / f"{i}.pdf"
            ocr_corpus.write_pdf(folder, pages, path)
            files[f"scans/{dossier.ma_ho_so}/ho-so-{i:03d}.pdf"] = path.read_bytes()
    return files


def _t(stamp: str | None) -> float | None:
    return datetime.fromisoformat(stamp).timestamp() if stamp else None


def _mapped(ti: dict[str, Any]) -> bool:
    index = ti.get("map_index")
    return index is not None and index >= 0


def _spans(tis: list[dict[str, Any]], task_id: str | None = None) -> list[tuple[float, float]]:
    spans = []
    for ti in tis:
        start, end = _t(ti.get("start_date")), _t(ti.get("end_date"))
        if start is not None and end is not None and (task_id is None or ti["task_id"] == task_id):
            spans.append((start, end))
    return spans


def handover_gaps(spans: list[tuple[float, float]], slots: int) -> list[float]:
    """Seconds between a pool slot coming free and the next mapped task starting in it: the i-th task to start
    (beyond the first ``slots``) takes the slot the (i - slots)-th task to end gave back."""
    starts = sorted(s for s, _ in spans)
    ends = sorted(e for _, e in spans)
    return [starts[i] - ends[i - slots] for i in range(slots, len(starts))]


def timeline(airflow: AirflowClient, before: set[str], triggered: str, slots: int) -> dict[str, Any]:
    """Where the wall time and the slot time of the ingestion runs since ``before`` went (Airflow's clock)."""
    runs = [r for r in airflow.runs(INGEST_DAG) if r["dag_run_id"] not in before]
    working, tis = [], []
    for run in runs:
        mine = airflow.task_instances(INGEST_DAG, run["dag_run_id"])
        if run["dag_run_id"] == triggered or any(_mapped(ti) for ti in mine):
            working.append(run)
            tis += mine
    first = next(r for r in runs if r["dag_run_id"] == triggered)
    start = min([_t(first.get("queued_at")) or _t(first["start_date"])] + [_t(r["start_date"]) for r in working])
    end = max(_t(r["end_date"]) for r in working)
    ocr = _spans(tis, OCR_TASK)
    ocr_start, ocr_end = min(s for s, _ in ocr), max(e for _, e in ocr)
    first_task = min(s for s, _ in _spans(tis))
    gaps = handover_gaps(ocr, slots)
    return {
        "runs": [r["dag_run_id"] for r in working],
        "runs_without_work": len(runs) - len(working),
        "states": sorted({r["state"] for r in working}),
        "start": start,
        "end": end,
        "seconds": end - start,
        "queued_to_first_task_s": first_task - start,
        "before_ocr_s": ocr_start - start,
        "ocr_phase_s": ocr_end - ocr_start,
        "after_ocr_s": end - ocr_end,
        "ocr_committed_s": ocr_end - start,
        "ocr_tasks": len(ocr),
        "ocr_task_s": sum(e - s for s, e in ocr),
        "ocr_idle_slot_s": slots * (ocr_end - ocr_start) - sum(e - s for s, e in ocr),
        "handover_gap_mean_s": sum(gaps) / len(gaps) if gaps else 0.0,
        "handover_gap_max_s": max(gaps, default=0.0),
        "task_seconds": ingest_task_seconds(airflow, working),
        "task_of_ti": {ti["id"]: ti["task_id"] for ti in tis if ti.get("id")},
    }


def database_figures(settings: Settings) -> dict[str, float]:
    """What the OCR tasks committed: documents and pages, and the seconds of each document's OCR and pages."""
    with connect(settings) as conn, conn.cursor() as cur:
        cur.execute(
            """SELECT count(*) FILTER (WHERE status = 'done'), count(*) FILTER (WHERE status <> 'done'),
                      coalesce(sum(page_count), 0), coalesce(sum(seconds), 0) FROM sohoa.ocr_result"""
        )
        done, failed, pages, doc_s = cur.fetchone()
        cur.execute("SELECT coalesce(sum(seconds), 0) FROM sohoa.ocr_page")
        (page_s,) = cur.fetchone()
        cur.execute(
            """SELECT count(*), count(*) FILTER (WHERE EXISTS
                      (SELECT 1 FROM sohoa.dossier h WHERE h.ma_ho_so = d.ma_ho_so)) FROM sohoa.document d"""
        )
        documents, linked = cur.fetchone()
    return {
        "ocr_done": done,
        "ocr_failed": failed,
        "ocr_pages": pages,
        "document_ocr_s": float(doc_s),
        "page_s": float(page_s),
        "documents": documents,
        "documents_linked": linked,
    }


class TesseractMeter:
    """Each Tesseract run's wall, user and system seconds, logged by a wrapper first on ``PATH`` (bash's ``time``
    around the real binary), which the services started after it inherit; and the machine's CPU times."""

    def __init__(self, folder: Path) -> None:
        real = shutil.which("tesseract")
        if real is None:
            raise SystemExit("tesseract is not installed (make bootstrap)")
        folder.mkdir(parents=True, exist_ok=True)
        self.log = folder / "tesseract-times.log"
        self.log.write_text("", encoding="utf-8")
        wrapper = folder / "tesseract"
        wrapper.write_text(
            f'#!/bin/bash\nTIMEFORMAT="%R %U %S"\n{{ time {real} "$@" 2>&3 ; }} 3>&2 2>>{self.log}\n',
            encoding="utf-8",
        )
        wrapper.chmod(0o755)
        os.environ["PATH"] = f"{folder}{os.pathsep}{os.environ['PATH']}"

    def mark(self) -> tuple[int, Any]:
        return len(self.log.read_text(encoding="utf-8").splitlines()), psutil.cpu_times()

    def since(self, mark: tuple[int, Any]) -> dict[str, float]:
        lines, cpu = mark
        runs = [line.split() for line in self.log.read_text(encoding="utf-8").splitlines()[lines:]]
        now = psutil.cpu_times()
        busy = busy_seconds(cpu, now)
        return {
            "runs": len(runs),
            "wall_s": sum(float(r[0]) for r in runs),
            "cpu_s": sum(float(r[1]) + float(r[2]) for r in runs),
            "machine_busy_s": busy,
            "machine_steal_s": getattr(now, "steal", 0.0) - getattr(cpu, "steal", 0.0),
        }


def run_reference(
    folder: Path, out: Path, jobs: int, pages: int, when: str, meter: TesseractMeter | None = None
) -> dict[str, float]:
    """The OCR benchmark's run of the corpus PDF (``ocr_file``, ``jobs`` workers): seconds, page and Tesseract
    seconds, and the load average after it."""
    print(f"reference ({when} the DAG run): ocr_file on the {pages}-page corpus PDF, {jobs} workers ...", flush=True)
    mark = meter.mark() if meter else None
    ref = ocr_bench.run_sohoa(folder / "corpus.pdf", out / "e2e-reference", jobs)
    print(f"  {ref.seconds:.1f} s, {pages / ref.seconds:.3f} pages/s", flush=True)
    figures = {
        "seconds": ref.seconds,
        "page_s": ref.extra["page_seconds"],
        "tesseract_s": ref.extra["tesseract_seconds"],
        "load": os.getloadavg()[0],
    }
    if meter and mark:
        figures.update({f"meter_{k}": v for k, v in meter.since(mark).items()})
    return figures


def runner_cpu_by_task(runners: list[tuple[str, float]], task_of_ti: dict[str, str]) -> dict[str, list[float]]:
    """The task runners' CPU seconds (process title ``airflow worker -- <task instance id>``) by task: each
    task's process count and CPU seconds."""
    by_task: dict[str, list[float]] = {}
    for cmdline, seconds in runners:
        task = task_of_ti.get((cmdline.split() or [""])[-1], f"(not of the timed runs: {cmdline[:60]})")
        count, total = by_task.get(task, [0, 0.0])
        by_task[task] = [count + 1, total + seconds]
    return by_task


def print_processes(sampled: dict[str, Any], tesseract: dict[str, float] | None) -> None:
    """CPU seconds of each kind of process during the DAG run, sampled each second (see process_meter)."""
    busy = sampled["machine_busy_s"]
    print(f"  CPU during the DAG run by kind of process (sampled each second; machine busy {busy:.1f} core-s):")
    by_kind = dict(sampled["by_kind"])
    if tesseract:
        by_kind["tesseract"] = tesseract["cpu_s"]  # the wrapper's count: the sampler misses short processes
    for kind, seconds in sorted(by_kind.items(), key=lambda item: -item[1]):
        print(f"    {kind:<40}{seconds:>8.1f} s  {seconds / busy:>6.1%}")
    rest = busy - sum(by_kind.values())
    print(f"    {'not sampled (short-lived, the bench)':<40}{rest:>8.1f} s  {rest / busy:>6.1%}")
    print(f"    {sampled['task_runners']} task runner processes, by task (processes, CPU seconds):")
    for task, (count, seconds) in sorted(sampled.get("runner_cpu_by_task", {}).items(), key=lambda item: -item[1][1]):
        print(f"      {task:<38}{count:>4.0f} {seconds:>8.1f} s")
    print("    the busiest processes of kind 'other':")
    for cmdline, seconds in sampled["top_other"]:
        print(f"      {seconds:7.1f} s  {cmdline}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--pages-per-scan", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path, default=BENCH / "out")
    parser.add_argument("--timeout", type=int, default=3 * 3600)
    parser.add_argument("--ingest-only", action="store_true", help="do not follow publish/KPI/quality")
    parser.add_argument("--skip-reference", action="store_true", help="reuse the reference of the last run's JSON")
    parser.add_argument("--keep", action="store_true", help="leave the services running and the home in place")
    parser.add_argument(
        "--tesseract-cpu",
        action="store_true",
        help="time every Tesseract process (wall and CPU) and the machine's CPU on both sides",
    )
    parser.add_argument(
        "--process-cpu",
        action="store_true",
        help="sample every process's CPU during the DAG run and print it by kind (Airflow services, tasks, PG, S3)",
    )
    parser.add_argument(
        "--no-reference-after",
        action="store_true",
        help="time the reference only before the DAG run (default: before and after, compared with their mean)",
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    result_path = args.out / f"e2e-pages-{args.pages}.json"
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {psutil.cpu_count()} cores")

    folder, corpus = ocr_bench.load_or_build(args.out, args.pages, args.seed)
    files = build_files(folder, corpus, args.pages_per_scan, args.seed)
    scans = len(files) - 1
    probe = Settings()  # the configuration the DAG's tasks read (SOHOA_*), for the workers per OCR task
    slots = probe.ocr_pool_slots()  # what sohoa.services.airflow.ensure_pools gives the sohoa_ocr pool
    jobs = slots * probe.ocr_workers_per_task
    figures: dict[str, Any] = {"pages": len(corpus), "scans": scans, "pool_slots": slots, "reference_workers": jobs}
    meter = TesseractMeter(args.out / "tesseract-meter") if args.tesseract_cpu else None

    if args.skip_reference:
        figures["reference"] = json.loads(result_path.read_text(encoding="utf-8"))["reference"]
        print(f"reference reused from {result_path}")
    else:
        figures["reference"] = run_reference(folder, args.out, jobs, len(corpus), "before", meter)

    home = Path(tempfile.mkdtemp(prefix="sohoa-e2e-"))
    settings = None
    problems: list[str] = []
    try:
        print("starting the embedded services ...", flush=True)
        settings = start_services(home)
        airflow = AirflowClient(settings)
        settle(airflow)
        slots = airflow.pool_slots(OCR_POOL) or slots
        figures["pool_slots"] = slots
        figures["landing_s"] = land(settings, files)
        print(f"landed {len(files)} files in {figures['landing_s']:.1f} s; sohoa run --wait ...", flush=True)
        before = {r["dag_run_id"] for r in airflow.runs(INGEST_DAG)}
        figures["load_before"] = os.getloadavg()[0]
        report = lambda m: print(f"  {m}", flush=True)  # noqa: E731
        t_chain = time.monotonic()
        dag_mark = meter.mark() if meter else None
        processes = ProcessMeter(period=1.0, exclude_pids={os.getpid()}).start() if args.process_cpu else None
        first = trigger_and_wait(settings, wait=True, timeout_s=args.timeout, report=report)
        if processes is not None:
            processes.stop()
            figures["dag_processes"] = {
                "by_kind": processes.by_kind(),
                "task_runners": processes.processes_of("task runner"),
                "top_other": processes.top("other"),
                "runners": processes.top("task runner", n=10_000),
                "machine_busy_s": processes.machine_busy_s,
            }
        if meter and dag_mark:
            figures["dag_meter"] = meter.since(dag_mark)
        outcomes = [first]
        figures["load_after_ingest"] = os.getloadavg()[0]
        if not args.ingest_only:
            outcomes += follow_chain(AirflowClient(settings), first, timeout_s=args.timeout, report=report)
            figures["chain_s"] = time.monotonic() - t_chain
        figures["dag_runs"] = [{"dag": o.dag_id, "state": o.state, "seconds": round(o.seconds, 1)} for o in outcomes]
        problems += [f"{o.dag_id} run ended {o.state} ({', '.join(o.failed)})" for o in outcomes if not o.succeeded]
        # The queued scheduled run, if any, has started by now or will find nothing: wait for it to end.
        while airflow.has_active_run(INGEST_DAG):
            time.sleep(2)
        figures["e2e"] = timeline(AirflowClient(settings), before, first.run_id, slots)
        if "dag_processes" in figures:
            figures["dag_processes"]["runner_cpu_by_task"] = runner_cpu_by_task(
                figures["dag_processes"].pop("runners"), figures["e2e"]["task_of_ti"]
            )
        figures["db"] = database_figures(settings)
    finally:
        if settings is not None and not args.keep:
            manager.down(settings)
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)

    if not args.skip_reference and not args.no_reference_after:
        # The machine's speed drifts within one run (the reference moved 274 -> 293 s within an hour on
        # 2026-12-07): timed on both sides of the DAG run, the mean is what the DAG run is compared with.
        before_ref = figures["reference"]
        after_ref = run_reference(folder, args.out, jobs, len(corpus), "after", meter)
        figures["reference_before"], figures["reference_after"] = before_ref, after_ref
        figures["reference"] = {key: (before_ref[key] + after_ref[key]) / 2 for key in before_ref}
    reference = figures["reference"]
    e2e, db = figures["e2e"], figures["db"]
    if db["ocr_done"] != scans or db["ocr_pages"] != len(corpus):
        problems.append(f"OCR committed {db['ocr_done']}/{scans} documents, {db['ocr_pages']}/{len(corpus)} pages")
    if db["documents_linked"] != scans:
        problems.append(f"{db['documents_linked']}/{scans} documents linked to a loaded dossier")
    figures["overhead"] = e2e["seconds"] / reference["seconds"] - 1
    if "dag_meter" in figures:
        # The same pages cost Tesseract the same work on both sides, so its CPU seconds measure the machine's speed
        # at the time: a reference scaled by them is what it would have taken at the DAG run's speed (2026-12-07:
        # references 13 % apart gave +29.1 % and +29.2 % this way).
        figures["overhead_same_speed"] = {}
        for side in ("before", "after"):
            ref_side = figures.get(f"reference_{side}") or (reference if side == "before" else None)
            if ref_side and ref_side.get("meter_cpu_s"):
                scaled = ref_side["seconds"] * figures["dag_meter"]["cpu_s"] / ref_side["meter_cpu_s"]
                figures["overhead_same_speed"][side] = (scaled, e2e["seconds"] / scaled - 1)
    figures["problems"] = problems
    result_path.write_text(json.dumps(figures, indent=2, ensure_ascii=False), encoding="utf-8")

    n = len(corpus)
    print()
    print(f"e2e pages bench: {n} pages in {scans} scans of {args.pages_per_scan}, {slots} OCR pool slots")
    print(
        f"  reference  ocr_file, {jobs} workers          {reference['seconds']:>8.1f} s  {n / reference['seconds']:.3f}"
        f" pages/s  (page seconds {reference['page_s']:.0f})"
    )
    for side in ("before", "after"):
        if f"reference_{side}" in figures:
            ref_side = figures[f"reference_{side}"]
            seconds, page_s = ref_side["seconds"], ref_side["page_s"]
            print(f"    reference {side} the DAG run {seconds:>21.1f} s  (page seconds {page_s:.0f})")
    print(
        f"  end to end sohoa_ingest, queued to end   {e2e['seconds']:>8.1f} s  {n / e2e['seconds']:.3f} pages/s"
        f"  (page seconds {db['page_s']:.0f}; OCR committed at {e2e['ocr_committed_s']:.1f} s)"
    )
    print(f"  landing (upload, not counted) {figures['landing_s']:.1f} s", end="")
    if "chain_s" in figures:
        print(f"; whole chain with publish/KPI/quality {figures['chain_s']:.1f} s:", end="")
        print(", ".join(f" {r['dag']} {r['seconds']:.0f} s" for r in figures["dag_runs"]), end="")
    print()
    total = slots * e2e["seconds"]
    parts = [
        ("pages in the OCR engine", db["page_s"]),
        ("rest of each document's OCR (PDF, S3 get/put)", db["document_ocr_s"] - db["page_s"]),
        ("OCR task outside the OCR (start-up, DB, extraction)", e2e["ocr_task_s"] - db["document_ocr_s"]),
        ("idle pool slots between/after mapped OCR tasks", e2e["ocr_idle_slot_s"]),
        ("before the first OCR task (x slots)", slots * e2e["before_ocr_s"]),
        ("after the last OCR task (x slots)", slots * e2e["after_ocr_s"]),
    ]
    print(f"  slot time of the ingestion: {slots} x {e2e['seconds']:.1f} s = {total:.0f} s")
    for label, seconds in parts:
        print(f"    {label:<52}{seconds:>8.0f} s  {seconds / total:>6.1%}")
    print(
        f"  {e2e['ocr_tasks']} mapped OCR tasks; queued to first task {e2e['queued_to_first_task_s']:.1f} s; "
        f"hand-over gap between OCR tasks: mean {e2e['handover_gap_mean_s']:.1f} s"
        f", max {e2e['handover_gap_max_s']:.1f} s"
    )
    print(f"  task time: {', '.join(f'{k} {v:.0f} s' for k, v in sorted(e2e['task_seconds'].items()))}")
    print(
        f"  load average: {reference.get('load', 0):.2f} after the reference (mean), {figures['load_before']:.2f}"
        f" before the ingestion, {figures['load_after_ingest']:.2f} after it"
    )
    verdict = "meets" if figures["overhead"] <= TARGET else "misses"
    print(
        f"  ratio end to end / reference: {e2e['seconds'] / reference['seconds']:.2f}x, orchestration overhead "
        f"{figures['overhead']:+.1%} ({verdict} the target of at most {TARGET:.0%})"
    )
    if "dag_meter" in figures:
        print("  Tesseract processes (wall / CPU seconds, CPU per run) and the machine's busy / steal core-seconds:")
        sides = [("reference (mean)", {k[6:]: v for k, v in reference.items() if k.startswith("meter_")})]
        sides.append(("end to end", figures["dag_meter"]))
        for label, m in sides:
            if not m:
                continue
            print(
                f"    {label:<18} {m['runs']:>5.0f} runs  wall {m['wall_s']:7.1f} s  CPU {m['cpu_s']:7.1f} s"
                f"  ({m['cpu_s'] / max(m['runs'], 1):.3f} s a run, {m['cpu_s'] / max(m['wall_s'], 1e-9):.1%} of its"
                f" wall)  machine busy {m['machine_busy_s']:7.1f} s, steal {m['machine_steal_s']:.1f} s"
            )
        for side, (scaled, overhead) in figures.get("overhead_same_speed", {}).items():
            print(f"  at the DAG run's machine speed: reference {side} scaled to {scaled:.1f} s, {overhead:+.1%}")
    if "dag_processes" in figures:
        print_processes(figures["dag_processes"], figures.get("dag_meter"))
    for problem in problems:
        print(f"  PROBLEM: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
