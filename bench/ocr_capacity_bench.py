"""OCR capacity for the scale-out model: pages per hour per worker core, with 1..N parallel pages.

    uv run python bench/ocr_capacity_bench.py --pages 24             # workers 1 and 2 (this machine's cores)
    uv run python bench/ocr_capacity_bench.py --pages 24 --workers 1 2 4

Runs sohoa's OCR stage (:func:`ocr.ocr_file`, the code an ``ocr_documents`` task runs) on the benchmark
corpus of :mod:`ocr_corpus` (generated Vietnamese administrative scans: 200/300 dpi colour, skew, blur,
noise, JPEG, uneven light, pages turned 90/180 degrees, phone photos, a blank page; the same corpus as
``ocr_bench.py``) once per worker count, and prints for each:

- **CPU seconds per page** (sohoa's own threads plus its Tesseract children): what a page costs a core,
  whatever else the machine runs. ``3600 / that`` is the capacity figure of docs/scale-out.md: pages per
  hour that one dedicated worker core delivers;
- wall-clock pages per hour with that many parallel pages on this machine, and the load average around
  the run, which says how much of the machine the run really had (on a shared machine the wall figure is
  a floor, the CPU figure is not).

Results also go to ``bench/out/ocr-capacity-<pages>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ocr_bench import load_or_build  # noqa: E402 - the corpus builder lives beside this file

from ocr import OcrOptions, ocr_file  # noqa: E402
from ocr.models import available_cpus  # noqa: E402


def measure(corpus_pdf: Path, out: Path, workers: int, pages: int) -> dict[str, float]:
    """One OCR run of the corpus with ``workers`` parallel pages: CPU and wall figures."""
    shutil.rmtree(out, ignore_errors=True)
    load_before = os.getloadavg()[0]
    before = os.times()
    started = time.monotonic()
    result = ocr_file(corpus_pdf, out, options=OcrOptions(workers=workers))
    wall = time.monotonic() - started
    after = os.times()
    cpu = sum(getattr(after, f) - getattr(before, f) for f in ("user", "system", "children_user", "children_system"))
    done = len(result.pages)
    assert done == pages, (done, pages)
    return {
        "workers": workers,
        "pages": done,
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "cpu_s_per_page": round(cpu / done, 2),
        "pages_per_hour_per_core": round(3600 * done / cpu),
        "pages_per_hour_wall": round(3600 * done / wall),
        "load_before": round(load_before, 1),
        "load_after": round(os.getloadavg()[0], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pages", type=int, default=24)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--workers", type=int, nargs="+", default=sorted({1, available_cpus()}))
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out")
    args = parser.parse_args()
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # as in every Airflow task (see ARCHITECTURE.md)
    folder, _truth = load_or_build(args.out, args.pages, args.seed)
    corpus_pdf = folder / "corpus.pdf"
    rows = []
    print(
        f"{'workers':>7} {'pages':>5} {'wall s':>7} {'CPU s':>7} {'CPU s/page':>10} "
        f"{'pages/h/core':>12} {'pages/h wall':>12} {'load':>10}"
    )
    for workers in args.workers:
        row = measure(corpus_pdf, args.out / f"capacity-run-{workers}", workers, args.pages)
        rows.append(row)
        print(
            f"{row['workers']:>7} {row['pages']:>5} {row['wall_s']:>7} {row['cpu_s']:>7} "
            f"{row['cpu_s_per_page']:>10} {row['pages_per_hour_per_core']:>12} {row['pages_per_hour_wall']:>12} "
            f"{row['load_before']:>4}->{row['load_after']:<4}",
            flush=True,
        )
    cores = os.cpu_count() or 1
    per_core = min(r["pages_per_hour_per_core"] for r in rows)
    print(
        f"\ncapacity: {per_core} pages per hour per dedicated worker core (the lowest CPU-based figure); "
        f"this machine has {cores} cores"
    )
    target = args.out / f"ocr-capacity-{args.pages}.json"
    target.write_text(json.dumps({"cores": cores, "runs": rows}, indent=2))
    print(f"results in {target}")


if __name__ == "__main__":
    main()
