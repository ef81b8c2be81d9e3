"""The batch every fault of the chaos suite is injected into, and what it must become.

One record feed, multi-page scans of several dossiers (enough pages that OCR runs for a while, cut into more than
one mapped OCR task), the same scan uploaded twice (one document plus a ``document.duplicate`` finding) and a
zero-byte file (quarantined as ``document.empty``). Built once per session from the sample generators; the
applicants are generated, so no real personal data is involved.
"""

from __future__ import annotations

import itertools
import tempfile
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from sohoa.sample.documents import KINDS, DocFields, render_document, write_scan
from sohoa.sample.records import generate_records


@dataclass(frozen=True)
class Batch:
    """The landing objects of the batch and the counts that exactly-once processing must produce."""

    files: dict[str, bytes]  # landing key -> bytes
    fates: dict[str, str]  # landing key -> the status its landing_object row must end with
    record_lines: int
    dossiers: int
    documents: int  # distinct (dossier, content) pairs
    pages: int  # pages of all distinct originals

    @property
    def originals(self) -> int:
        return self.documents  # one dossier per scan here, so one original per document


def build_batch(*, dossiers: int = 12, scans: int = 10, pages: int = 3, dpi: int = 150, seed: int = 2026) -> Batch:
    """Generate the batch: ``scans`` PDFs of ``pages`` pages each, one per dossier of the record feed."""
    feed = generate_records(dossiers, seed=seed, start=date(2026, 1, 5), end=date(2026, 1, 9), defects=False)
    files: dict[str, bytes] = {"records/chaos-feed.jsonl": feed.jsonl_bytes()}
    fates = {"records/chaos-feed.jsonl": "done"}
    codes = [d.ma_ho_so for d in feed.dossiers][:scans]
    # A few rendered pages, combined differently in each scan: distinct files, a fraction of the rendering time.
    pool = [
        render_document(
            KINDS[n % 3], replace(DocFields.fake(seed + n), ma_ho_so=codes[n % len(codes)]), dpi=dpi, seed=seed + n
        )[0][0]
        for n in range(2 * pages)
    ]
    combos = list(itertools.permutations(range(len(pool)), pages))[::7][: len(codes)]
    with tempfile.TemporaryDirectory(prefix="sohoa-chaos-batch-") as tmp:
        for i, code in enumerate(codes):
            images = [pool[n] for n in combos[i]]
            path = write_scan(images, Path(tmp) / f"{i}.pdf", "pdf", dpi=dpi, quality=80)
            key = f"scans/{code}/ho-so-{i:02d}.pdf"
            files[key] = path.read_bytes()
            fates[key] = "done"
    files[f"scans/{codes[0]}/sao-lai.pdf"] = files[f"scans/{codes[0]}/ho-so-00.pdf"]  # the same bytes again
    fates[f"scans/{codes[0]}/sao-lai.pdf"] = "duplicate"
    files[f"scans/{codes[1]}/trong.pdf"] = b""
    fates[f"scans/{codes[1]}/trong.pdf"] = "quarantined"
    return Batch(
        files,
        fates,
        record_lines=len(feed.lines),
        dossiers=len(feed.dossiers),
        documents=len(codes),
        pages=len(codes) * pages,
    )
