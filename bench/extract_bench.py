"""Precision and recall of field extraction on generated scans whose fields are known.

    uv run --frozen python bench/extract_bench.py [--docs 12] [--dpi 300] [--seed 1]

Each document is one of the four generated kinds (application, decision, licence, receipt), rendered and
degraded like a flatbed scan (sohoa/sample/documents.py), OCR'd with sohoa's engine (Tesseract ``vie``), and
its fields extracted. A field counts as correct when the best value equals the ground truth exactly.

- precision = correct values / values extracted (a field extracted that the document does not carry, or a
  wrong value, counts against it);
- recall = correct values / values the document carries.

The reference measured in the same run is extraction on the ground-truth text itself (perfect OCR): the
ratio OCR / reference shows what OCR errors cost, apart from the extraction rules. Targets (issue 5):
precision >= 98% and recall >= 95% on 300 dpi pages.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ocr import OcrOptions, ocr_file  # noqa: E402
from sohoa.extract.fields import extract_fields  # noqa: E402
from sohoa.sample.documents import KINDS, DocFields, render_document, write_scan  # noqa: E402


def expected_fields(kind: str, f: DocFields) -> dict[str, str]:
    """What each generated kind prints, in the extractor's field names and value forms."""
    common = {"ma_ho_so": f.ma_ho_so, "chu_ho_so": f.applicant, "so_cccd": f.cccd}
    if kind == "don_de_nghi":
        return {**common, "ngay_sinh": f.birth_date.isoformat(), "ngay_van_ban": f.received.isoformat()}
    if kind == "quyet_dinh":
        return {
            **common,
            "so_ky_hieu": f.doc_number,
            "ngay_van_ban": f.issued.isoformat(),
            "ngay_tiep_nhan": f.received.isoformat(),
        }
    if kind == "giay_phep":
        return {
            **common,
            "so_ky_hieu": f"{f.doc_number.split('/')[0]}/{f.result_short}",
            "ngay_van_ban": f.issued.isoformat(),
            "ngay_sinh": f.birth_date.isoformat(),
            "ngay_tiep_nhan": f.received.isoformat(),
            "ngay_hieu_luc": f.issued.isoformat(),
        }
    return {
        **common,
        "so_ky_hieu": f"{f.ma_ho_so.split('-')[-1]}/BN-{f.agency_short}",
        "ngay_van_ban": f.received.isoformat(),
        "ngay_hen_tra": f.issued.isoformat(),
    }


def score(expected: dict[str, str], found: dict[str, str], tally: Counter[str], per_field: Counter[str]) -> None:
    for name, value in found.items():
        tally["extracted"] += 1
        if expected.get(name) == value:
            tally["correct"] += 1
            per_field[f"{name}:ok"] += 1
        else:
            per_field[f"{name}:wrong"] += 1
    tally["expected"] += len(expected)
    for name in expected:
        per_field[f"{name}:expected"] += 1


def one_document(args: tuple[int, int, str]) -> tuple[str, dict[str, str], dict[str, str], dict[str, str], float]:
    """Render, OCR and extract one document; returns kind, truth, fields from OCR, fields from truth, seconds."""
    seed, dpi, tmp = args
    kind = KINDS[seed % len(KINDS)]
    fields = DocFields.fake(seed)
    pages, truth = render_document(kind, fields, dpi=dpi, seed=seed)
    source = write_scan(pages, Path(tmp) / f"doc{seed}.png", "png", dpi=dpi)
    started = time.perf_counter()
    result = ocr_file(source, Path(tmp) / f"out{seed}", options=OcrOptions(workers=1))
    from_ocr = {k: v.value for k, v in extract_fields(result.text, [p.confidence for p in result.pages]).best().items()}
    seconds = time.perf_counter() - started
    from_truth = {k: v.value for k, v in extract_fields(truth).best().items()}
    return kind, expected_fields(kind, fields), from_ocr, from_truth, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=12)
    parser.add_argument("--dpi", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    ocr_tally: Counter[str] = Counter()
    ref_tally: Counter[str] = Counter()
    per_field: Counter[str] = Counter()
    seconds = 0.0
    with (
        tempfile.TemporaryDirectory(prefix="sohoa-extract-bench-") as tmp,
        ProcessPoolExecutor(max_workers=args.workers) as pool,
    ):
        jobs = [(args.seed + i, args.dpi, tmp) for i in range(args.docs)]
        for kind, expected, from_ocr, from_truth, took in pool.map(one_document, jobs):
            score(expected, from_ocr, ocr_tally, per_field)
            score(expected, from_truth, ref_tally, Counter())
            seconds += took
            missed = sorted(set(expected) - {k for k, v in from_ocr.items() if expected.get(k) == v})
            print(f"  {kind:12s} {len(expected)} fields, missed or wrong: {', '.join(missed) or '-'}")

    def ratios(t: Counter[str]) -> tuple[float, float]:
        return t["correct"] / max(1, t["extracted"]), t["correct"] / max(1, t["expected"])

    p_ocr, r_ocr = ratios(ocr_tally)
    p_ref, r_ref = ratios(ref_tally)
    print(f"\nfield extraction on {args.docs} generated documents at {args.dpi} dpi")
    print(
        f"  from OCR text          precision {p_ocr:7.2%}  recall {r_ocr:7.2%}  "
        f"({ocr_tally['correct']} correct of {ocr_tally['extracted']} extracted, {ocr_tally['expected']} expected)"
    )
    print(f"  reference (true text)  precision {p_ref:7.2%}  recall {r_ref:7.2%}")
    print(f"  ratio OCR / reference  precision {p_ocr / max(p_ref, 1e-9):.3f}  recall {r_ocr / max(r_ref, 1e-9):.3f}")
    print(f"  OCR + extraction       {seconds / max(1, args.docs):.2f} s per document (one process each)")
    names = sorted({k.split(":")[0] for k in per_field})
    print("  per field (ok / expected, wrong):")
    for name in names:
        print(
            f"    {name:16s} {per_field[name + ':ok']:3d} / {per_field[name + ':expected']:3d}, "
            f"{per_field[name + ':wrong']} wrong"
        )
    targets_met = p_ocr >= 0.98 and r_ocr >= 0.95
    print(f"  targets (precision >= 98%, recall >= 95%): {'met' if targets_met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
