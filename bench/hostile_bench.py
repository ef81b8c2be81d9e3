"""Time and peak memory of every kind of hostile input, each in a fresh process, against the configured limits.

    uv run python bench/hostile_bench.py                 # every kind of sohoa.sample.hostile.KINDS
    uv run python bench/hostile_bench.py --only bomb.png flate-bomb.pdf

Each kind runs in its own forked child process (so one kind's peak memory is not another's, and a hang is
killed; the parent imports the libraries first, so the resident memory of the imported code, about 160 MB,
is in every child's figure):
the child builds the file (not measured), then does what intake and OCR do to it without the database and
the S3 round trips: the landing key's classification, triage with the configured limits
(``SOHOA_MAX_DOCUMENT_*``), and, for a file triage accepts, the full OCR (rasterise, clean-up, Tesseract,
searchable PDF). It prints one row per kind: the fate (``quarantined`` / ``stored``), the rule, the seconds of
the measured part, the peak resident memory of the child and of the processes it ran (Tesseract; Linux counts a
process started by fork at its parent's size until it execs, so this column is an upper bound), and whether
the fate is the corpus table's and the figures are within ``SOHOA_HOSTILE_SECONDS_LIMIT`` and
``SOHOA_HOSTILE_MEMORY_LIMIT_MB``. A child that outlives twice the time limit is killed and reported as a hang.
Exit status 1 when any kind is off its expected fate or over a limit.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CODE = "000.00.32.H19-260105-0001"


def _child(name: str) -> dict[str, Any]:
    """Run one kind in this process; the dictionary is printed as JSON on stdout's last line."""
    from ocr import OcrOptions, ocr_file
    from ocr.errors import BadInput
    from ocr.triage import inspect
    from sohoa.config import Settings
    from sohoa.intake.documents import QUARANTINE_RULES, limits_of
    from sohoa.intake.landing import classify
    from sohoa.sample.hostile import by_name

    kind = by_name(name)
    data = kind.make()
    settings = Settings()
    key = kind.landing_key(CODE)
    started = time.monotonic()
    fate, rule, stage, detail = "stored", None, "intake", ""
    lk = classify(key)
    with tempfile.TemporaryDirectory(prefix="hostile-bench-") as tmp:
        path = Path(tmp) / "original"
        path.write_bytes(data)
        if lk.kind == "unknown":
            fate, rule, detail = "quarantined", "landing.unknown_key", lk.reason or ""
        else:
            try:
                inspect(path, limits=limits_of(settings), name=lk.file_name or "file")
            except BadInput as exc:
                fate, detail = "quarantined", str(exc)
                rule = next(r for cls, r in QUARANTINE_RULES.items() if isinstance(exc, cls))
        if fate == "stored":
            stage = "ocr"
            options = OcrOptions(
                page_timeout_s=settings.ocr_page_timeout_s,
                workers=settings.ocr_workers_per_task,
                limits=limits_of(settings),
            )
            try:
                result = ocr_file(path, Path(tmp) / "out", options=options)
            except BadInput as exc:
                fate, rule, detail = "quarantined", "document.unreadable", str(exc)
            else:
                if any(p.blank for p in result.pages):
                    rule = "document.blank_page"
                detail = f"{len(result.pages)} page(s), {len(result.text)} characters"
    seconds = time.monotonic() - started
    return {
        "name": name,
        "fate": fate,
        "rule": rule,
        "stage": stage,
        "seconds": round(seconds, 2),
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "children_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "bytes": len(data),
        "detail": detail[:160],
    }


def _forked(name: str, conn: Any) -> None:
    try:
        conn.send(_child(name))
    except BaseException as exc:  # reported as a crash row, never re-raised into the bench
        conn.send({"crash": f"{type(exc).__name__}: {exc}"[:300]})
    finally:
        conn.close()


def run_kind(name: str, hard_timeout_s: float) -> dict[str, Any]:
    """One kind in a forked child (the parent has imported everything, so the child starts at once); a
    child still running after ``hard_timeout_s`` is killed and reported as a hang."""
    ctx = multiprocessing.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)
    started = time.monotonic()
    proc = ctx.Process(target=_forked, args=(name, sender), daemon=False)
    proc.start()
    sender.close()
    nan = float("nan")
    row: dict[str, Any] | None = None
    if receiver.poll(hard_timeout_s):
        try:
            row = receiver.recv()
        except EOFError:
            row = None
    proc.join(timeout=5)
    if proc.is_alive():
        proc.kill()
        proc.join()
        if row is None:
            return {
                "name": name,
                "fate": "hang",
                "rule": None,
                "seconds": round(time.monotonic() - started, 1),
                "rss_mb": nan,
                "children_rss_mb": nan,
                "detail": "killed by the hard timeout",
            }
    if row is None or "crash" in row:
        detail = row["crash"] if row else f"child died (exit code {proc.exitcode})"
        return {
            "name": name,
            "fate": "crash",
            "rule": None,
            "seconds": round(time.monotonic() - started, 1),
            "rss_mb": nan,
            "children_rss_mb": nan,
            "detail": detail,
        }
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", help="names of kinds to run (default: all)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child)))
        return 0
    # Import once in the parent: each kind runs in a fork of it, measured from a warm start.
    import ocr.pipeline  # noqa: F401
    import sohoa.intake.documents  # noqa: F401
    from sohoa.config import Settings
    from sohoa.sample.hostile import KINDS

    settings = Settings()
    seconds_limit, memory_limit = settings.hostile_seconds_limit, settings.hostile_memory_limit_mb
    kinds = [k for k in KINDS if not args.only or k.name in args.only]
    print(
        f"{len(kinds)} kind(s); limits per file: {seconds_limit:g} s, {memory_limit} MB peak RSS "
        f"(pages {settings.max_document_pages}, {settings.max_page_megapixels:g} MP per page or image, "
        f"{settings.max_document_bytes // 2**20} MB); hard timeout {2 * seconds_limit:g} s"
    )
    header = (
        f"{'kind':32} {'expected':12} {'fate':12} {'rule':28} {'stage':6} {'s':>7} {'RSS MB':>7} {'child MB':>8}  ok"
    )
    print(header)
    print("-" * len(header))
    rows, bad = [], 0
    for kind in kinds:
        row = run_kind(kind.name, 2 * seconds_limit)
        fate_ok = row["fate"] == kind.fate and row["rule"] == kind.rule
        peak = max(row["rss_mb"], row["children_rss_mb"])
        within = row["seconds"] <= seconds_limit and peak <= memory_limit
        ok = fate_ok and within
        bad += not ok
        marks = "yes" if ok else ("FATE" if not fate_ok else "LIMIT")
        print(
            f"{kind.name[:32]:32} {kind.fate:12} {row['fate']:12} {str(row['rule'])[:28]:28} "
            f"{row.get('stage', '-'):6} {row['seconds']:7.2f} {row['rss_mb']:7.0f} {row['children_rss_mb']:8.0f}"
            f"  {marks}",
            flush=True,
        )
        if not ok:
            print(f"    {row['detail']}")
        rows.append({**row, "expected_fate": kind.fate, "expected_rule": kind.rule, "ok": ok})
    worst_s = max(rows, key=lambda r: r["seconds"])
    worst_m = max(rows, key=lambda r: max(r["rss_mb"], r["children_rss_mb"]))
    print(
        f"slowest: {worst_s['name']} {worst_s['seconds']:.2f} s; largest: {worst_m['name']} "
        f"{max(worst_m['rss_mb'], worst_m['children_rss_mb']):.0f} MB; {len(rows) - bad}/{len(rows)} as expected "
        f"and within limits"
    )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
