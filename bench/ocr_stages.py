"""Where a page's time goes outside Tesseract: per-stage timing of one OCR worker over the bench corpus.

    uv run python bench/ocr_stages.py --pages 24          # the corpus of ocr_bench.py, one worker

Runs :func:`ocr.ocr_file` with one worker (no other thread competes for the CPU or the GIL) after
wrapping the functions each stage calls with a timer. Time is *exclusive*: a stage's figure excludes
the stages it calls (decode inside a reload, Tesseract inside recognise...), so the rows add up to the
run. For each stage it prints calls, wall milliseconds, this process's CPU milliseconds (thread CPU
time) and, for the Tesseract rows, the CPU of the Tesseract child processes; then the totals and the
share of the run outside Tesseract's processes.

The stages:

- ``triage``: :func:`ocr.triage.inspect` and the check that Tesseract is installed;
- ``pdf jpeg``: finding a scanned PDF page's own JPEG with PDFium; ``decode``: pixels from it (or from
  PDFium / the image file); ``gray``: coloured ink lightened, ``resize``: down to the reading resolution;
- ``sheet``/``flatten``: phone-photo detection and straightening; ``blank``, ``sideways``, ``skew``,
  ``rotate`` (deskew turn, paper colour included), ``binarise``, ``rules``;
- ``tesseract write`` (the page file), ``tesseract process`` (the wall time of the process, what the
  pipeline counts as Tesseract), ``tesseract parse`` (TSV), ``osd process``;
- ``layout``, ``text layer`` (overlay operators), ``page jpeg`` (the shown JPEG), ``assemble`` (pikepdf),
  ``outputs`` (text.txt and pages.json), and ``other`` (everything not wrapped).

Not a test and not the benchmark: a profile to decide what to cut. Results also go to
``bench/out/ocr-stages-<pages>.json``.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ocr_bench import load_or_build  # noqa: E402 - the corpus builder lives beside this file

import ocr.pipeline as pipeline  # noqa: E402
from ocr import OcrOptions, layout, overlay, preprocess, rasterise, searchable, tesseract  # noqa: E402

_stack: list[list[float]] = []  # per open stage: [wall spent in children, cpu spent in children]
_totals: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0, 0.0])  # calls, wall, cpu, child cpu


def _timed(stage: str, fn: Callable[..., Any], *, child: bool = False) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _stack.append([0.0, 0.0])
        before = os.times()
        wall0, cpu0 = time.perf_counter(), time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            wall, cpu = time.perf_counter() - wall0, time.thread_time() - cpu0
            after = os.times()
            inner_wall, inner_cpu = _stack.pop()
            row = _totals[stage]
            row[0] += 1
            row[1] += wall - inner_wall
            row[2] += cpu - inner_cpu
            if child:
                row[3] += (after.children_user - before.children_user) + (
                    after.children_system - before.children_system
                )
            if _stack:
                _stack[-1][0] += wall
                _stack[-1][1] += cpu

    return wrapper


def _patch(module: Any, name: str, stage: str, *, child: bool = False) -> None:
    setattr(module, name, _timed(stage, getattr(module, name), child=child))


def instrument() -> None:
    """Wrap the functions of every stage (module attributes, so the pipeline's calls go through them)."""
    import pytesseract

    _patch(pipeline, "inspect", "triage")
    _patch(tesseract, "check_installed", "triage", child=True)
    _patch(rasterise, "pdf_page_jpeg", "pdf jpeg")
    _patch(rasterise, "jpeg_page", "decode")
    _patch(rasterise, "load_page", "decode")
    _patch(preprocess, "ink_gray", "gray")
    _patch(pipeline, "_for_recognition", "resize")
    for name, stage in [
        ("find_sheet", "sheet"),
        ("flatten_sheet", "flatten"),
        ("is_blank", "blank"),
        ("looks_sideways", "sideways"),
        ("estimate_skew", "skew"),
        ("paper_colour", "rotate"),
        ("rotate", "rotate"),
        ("binarise", "binarise"),
        ("remove_rules", "rules"),
    ]:
        _patch(preprocess, name, stage)
    _patch(tesseract, "recognise", "tesseract call (python)")
    _patch(tesseract, "detect_orientation", "osd call (python)")
    _patch(tesseract, "_save_page", "tesseract write")
    _patch(pytesseract.pytesseract, "run_tesseract", "tesseract process", child=True)
    _patch(pytesseract, "image_to_osd", "osd (python)")
    _patch(tesseract, "parse_tsv", "tesseract parse")
    _patch(layout, "clean_lines", "layout")
    _patch(layout, "reading_order_words", "layout")
    _patch(overlay, "content", "text layer")
    _patch(searchable, "_jpeg", "page jpeg")
    _patch(searchable, "assemble", "assemble")
    _patch(pipeline, "process_page", "other (page)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pages", type=int, default=24)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out")
    args = parser.parse_args()
    folder, _ = load_or_build(args.out, args.pages, args.seed)
    instrument()
    before = os.times()
    started = time.perf_counter()
    run = _timed("other (document)", pipeline.ocr_file)
    result = run(folder / "corpus.pdf", args.out / "stages-run", options=OcrOptions(workers=1))
    wall = time.perf_counter() - started
    after = os.times()
    own_cpu = (after.user - before.user) + (after.system - before.system)
    child_cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    tess_wall = _totals["tesseract process"][1]
    pages = len(result.pages)
    print(f"{pages} pages, one worker: {wall:.2f} s wall, {own_cpu:.2f} s own CPU, {child_cpu:.2f} s Tesseract CPU")
    print(f"{'stage':<26}{'calls':>6}{'wall ms':>10}{'ms/page':>9}{'cpu ms':>10}{'child cpu ms':>14}")
    rows = sorted(_totals.items(), key=lambda kv: -kv[1][1])
    for stage, (calls, w, c, ch) in rows:
        print(f"{stage:<26}{int(calls):>6}{w * 1000:>10.0f}{w * 1000 / pages:>9.1f}{c * 1000:>10.0f}{ch * 1000:>14.0f}")
    outside = wall - tess_wall
    print(
        f"outside Tesseract's processes: {outside:.2f} s of {wall:.2f} s ({outside / wall:.1%}), "
        f"{outside / pages * 1000:.0f} ms per page; own CPU share {own_cpu / (own_cpu + child_cpu):.1%}"
    )
    report = {
        "pages": pages,
        "wall_s": wall,
        "own_cpu_s": own_cpu,
        "tesseract_cpu_s": child_cpu,
        "stages": {s: {"calls": int(r[0]), "wall_s": r[1], "cpu_s": r[2], "child_cpu_s": r[3]} for s, r in rows},
    }
    path = args.out / f"ocr-stages-{pages}.json"
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"written {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
