"""Engine-neutral settings and results of the ``ocr`` package (plain frozen dataclasses)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

PageSource = Literal["text-layer", "ocr"]

MIME_PDF = "application/pdf"
MIME_TIFF = "image/tiff"
MIME_JPEG = "image/jpeg"
MIME_PNG = "image/png"


@dataclass(frozen=True)
class Limits:
    """What :func:`ocr.triage.inspect` refuses as ``TooLarge`` (the defaults of the output contract)."""

    max_bytes: int = 500 * 1024 * 1024
    max_pages: int = 2000
    max_page_megapixels: float = 150.0
    # Drawing instructions of one PDF page, inflated (a flate bomb is a megabyte that inflates to gigabytes;
    # PDFium holds the whole inflated stream, about twice over, while drawing).
    max_page_content_mb: float = 100.0

    @property
    def max_page_pixels(self) -> int:
        return int(self.max_page_megapixels * 1_000_000)

    @property
    def max_page_content_bytes(self) -> int:
        return int(self.max_page_content_mb * 1_000_000)


@dataclass(frozen=True)
class OcrOptions:
    """How :func:`ocr.ocr_file` works; the defaults are the ones measured best on these machines.

    Attributes:
        language: Tesseract language(s), e.g. ``"vie"`` or ``"vie+eng"``.
        page_timeout_s: seconds one Tesseract run may take on a page; past it the page is empty, with a
            warning (orientation detection, when needed, gets at most 30 s of its own).
        workers: pages recognised in parallel (each by its own single-threaded Tesseract process);
            ``None`` means one per CPU this process may run on (``os.sched_getaffinity``, so a
            container's or a Celery worker's CPU set is respected).
        psm: Tesseract page segmentation mode. 3 (automatic layout) measured as accurate as 6 (one
            block) on generated official documents, 10% slower, and it skips pictures instead of
            reading them as text; the reading order is rebuilt by ``ocr.layout`` either way.
        deskew: correct skew up to :attr:`max_skew_deg` degrees.
        max_skew_deg: the largest skew searched for.
        flatten_photos: cut a sheet photographed on a darker surface out of the photo and straighten
            its perspective (the searchable PDF then shows the straightened sheet).
        rotate: detect pages turned by 90, 180 or 270 degrees and turn them upright.
        image_default_dpi: resolution assumed for an image file that records none.
        pdf_default_dpi: resolution a PDF page is rendered at when it holds no image to take it from.
        max_ocr_dpi: pages scanned finer than this are recognised at :attr:`ocr_dpi_cap` instead
            (Tesseract gains nothing from more pixels, it only gets slower).
        ocr_dpi_cap: see :attr:`max_ocr_dpi`.
        recognition_dpi: pages finer than this are read by Tesseract from a copy brought down to it
            (the searchable PDF still shows them at their own resolution). Measured on the benchmark
            corpus: 300 dpi scans read at 200 dpi are as accurate (0.1-0.8% CER per page) for about
            half the Tesseract time and a third less clean-up time.
        min_text_layer_chars: visible non-space characters a PDF page needs for its text layer to be used
            instead of OCR.
        limits: size limits enforced before any pixel is decoded.
        pdfa: write ``searchable.pdf`` as PDF/A-2b for archives (validated after writing; when it does
            not validate, the plain searchable PDF is kept and the result carries a warning). Off by
            default: it costs one more parse and write of the whole PDF.
    """

    language: str = "vie"
    page_timeout_s: float = 120.0
    workers: int | None = None
    psm: int = 3
    deskew: bool = True
    max_skew_deg: float = 3.0
    rotate: bool = True
    flatten_photos: bool = True
    image_default_dpi: int = 200
    pdf_default_dpi: int = 300
    max_ocr_dpi: int = 400
    ocr_dpi_cap: int = 300
    recognition_dpi: int = 200
    min_text_layer_chars: int = 20
    limits: Limits = field(default_factory=Limits)
    pdfa: bool = False

    def worker_count(self, pages: int) -> int:
        wanted = self.workers if self.workers is not None else available_cpus()
        return max(1, min(wanted, pages))


def available_cpus() -> int:
    """CPUs this process may run on (its affinity set where the platform has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


@dataclass(frozen=True)
class PageInfo:
    """One page as triage sees it, before any pixel is decoded.

    Attributes:
        number: 1-based page number.
        width_px: width at the resolution the page will be processed.
        height_px: height at that resolution.
        dpi: effective resolution of the scan (an image's own, or a PDF page's largest image); ``None`` for a
            PDF page without images.
        render_dpi: resolution the page is rasterised at (equals ``dpi`` for image files).
    """

    number: int
    width_px: int
    height_px: int
    dpi: int | None
    render_dpi: int

    @property
    def megapixels(self) -> float:
        return self.width_px * self.height_px / 1_000_000


@dataclass(frozen=True)
class DocumentInfo:
    """What intake needs to know about a file before storing or OCR-ing it."""

    mime_type: str
    size_bytes: int
    page_count: int
    pages: tuple[PageInfo, ...]

    @property
    def min_dpi(self) -> int | None:
        known = [p.dpi for p in self.pages if p.dpi is not None]
        return min(known) if known else None


@dataclass(frozen=True)
class Word:
    """One recognised word, in pixels of the image it was read from."""

    text: str
    confidence: float
    left: int
    top: int
    width: int
    height: int


@dataclass(frozen=True)
class PageResult:
    """What happened to one page; one entry of ``pages.json``.

    Attributes:
        number: 1-based page number.
        source: ``"text-layer"`` when the PDF's own text was used, ``"ocr"`` otherwise.
        rotation: degrees the page was turned clockwise to stand upright (0, 90, 180, 270).
        skew: degrees of skew corrected (positive: the scan was turned counter-clockwise).
        dpi: effective resolution of the scan; ``None`` for a born-digital page without images.
        confidence: mean Tesseract word confidence, 0-100; 100.0 for text-layer pages (the text is the
            document's own); ``None`` when the page has no words (blank, or timed out).
        blank: the page is empty paper (decided before any thresholding).
        seconds: wall time spent on the page.
        tesseract_seconds: of ``seconds``, the time Tesseract's own processes ran (recognition and,
            when needed, orientation detection); the rest is sohoa's preparation and assembly.
        words: number of words read.
        warnings: what went wrong without stopping the document (a timeout, for example).
    """

    number: int
    source: PageSource
    rotation: int
    skew: float
    dpi: int | None
    confidence: float | None
    blank: bool
    seconds: float
    words: int = 0
    warnings: tuple[str, ...] = ()
    tesseract_seconds: float = 0.0

    def as_json(self) -> dict[str, object]:
        return {
            "number": self.number,
            "source": self.source,
            "rotation": self.rotation,
            "skew": round(self.skew, 2),
            "dpi": self.dpi,
            "confidence": None if self.confidence is None else round(self.confidence, 2),
            "blank": self.blank,
            "seconds": round(self.seconds, 3),
            "tesseract_seconds": round(self.tesseract_seconds, 3),
            "words": self.words,
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class OcrResult:
    """Everything :func:`ocr.ocr_file` produced.

    Attributes:
        pages: one entry per page, in order.
        text: the text written to ``text.txt``.
        mime_type: the type sniffed from the bytes.
        page_count: number of pages.
        min_dpi: lowest effective resolution over the pages that have one.
        mean_confidence: word confidence averaged over every word of the document (text-layer words count
            as 100); ``None`` when no page has words.
        text_path: ``text.txt``.
        pdf_path: ``searchable.pdf``.
        pages_path: ``pages.json``.
        warnings: every page warning, prefixed with its page number.
    """

    pages: list[PageResult]
    text: str
    mime_type: str
    page_count: int
    min_dpi: int | None
    mean_confidence: float | None
    text_path: Path
    pdf_path: Path
    pages_path: Path
    warnings: tuple[str, ...] = ()
