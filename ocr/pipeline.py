"""Chain the stages over a document: triage, then per page rasterise, clean, recognise, lay out.

Pages are independent, so they run in parallel (one worker per available CPU by default; each
worker's Tesseract runs single-threaded, see :mod:`ocr.tesseract`). The workers are threads: most of
a page's time is the Tesseract process and numpy/Pillow work that releases the GIL, so threads give the parallelism of
processes without starting any. (A process pool was tried first: its children re-import the caller's
``__main__``, which inside an Airflow task is the ``airflow`` entry point and crashes, and daemonic
Celery workers may not start children at all.) PDFium is not thread-safe, so every PDFium call of a
page runs under one lock. Each worker writes its page's image to a scratch folder and returns the
page's text layer; the caller assembles the searchable PDF in page order at the end.

One page, stage by stage (:func:`process_page`):

1. born-digital PDF page with a real text layer: copy its text and the page itself, done;
2. rasterise at the scan's own resolution (:mod:`ocr.rasterise`);
3. a phone photo of a sheet on a desk is cut out and straightened; coloured ink dropped, blank paper
   detected before any threshold (:mod:`ocr.preprocess`);
4. deskew, binarise, rules removed; Tesseract reads the page (:mod:`ocr.tesseract`);
5. orientation: a page whose print runs up or down (a cheap ink-profile test) is turned as Tesseract's
   orientation detection says before reading; a page that reads poorly (mean confidence under
   :data:`ORIENTATION_CHECK_BELOW`: upside down) is checked the same way after reading, read again
   upright and the better reading kept. Orientation detection costs about as much as reading a page,
   so upright pages that read well never pay for it;
6. reading order rebuilt from the word boxes (:mod:`ocr.layout`); the searchable PDF's invisible text
   layer is written from the same lines, so it copies out as ``text.txt`` reads (:mod:`ocr.overlay`).
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import statistics
import tempfile
import threading
import time
import unicodedata
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from ocr import layout, preprocess, rasterise, searchable, tesseract, textlayer
from ocr.models import MIME_JPEG, MIME_PDF, OcrOptions, OcrResult, PageResult, Word
from ocr.triage import inspect

log = logging.getLogger(__name__)

PDFIUM_LOCK = threading.RLock()
"""PDFium is not thread-safe (even across documents): every PDFium call made by page workers holds this."""

ORIENTATION_CHECK_BELOW = 70.0
"""Mean word confidence under which a page is checked for being turned (upright print reads ~90+)."""
MIN_DESKEW_DEG = 0.2
"""Skew under which the page is read as it is: a 0.2 degree slope moves a 15 cm line by half a millimetre
(a third of a 200 dpi line height), which Tesseract's own baseline fitting absorbs, and the bilinear
turn of the grey page it saves is the costliest clean-up step left (70-85 ms of CPU per page). A
nearest-sampling turn of the ink mask was tried instead and cost accuracy (0.51% -> 0.85% CER on the
benchmark corpus, mostly on pages skewed by 0.6-2.5 degrees)."""
_MIN_OSD_CONFIDENCE = 1.0
_OSD_TIMEOUT_S = 30.0

# Clockwise degrees -> the Pillow transpose that turns a page that far clockwise.
_CLOCKWISE = {
    90: Image.Transpose.ROTATE_270,
    180: Image.Transpose.ROTATE_180,
    270: Image.Transpose.ROTATE_90,
}


@dataclass(frozen=True)
class PageTask:
    """Everything a worker needs to process one page (picklable)."""

    path: Path
    mime_type: str
    index: int
    options: OcrOptions
    scratch: Path


@dataclass(frozen=True)
class PageOutcome:
    result: PageResult
    lines: tuple[str, ...]
    part: searchable.PagePart


@dataclass(frozen=True)
class _Reading:
    """One attempt at reading a page the way it is turned."""

    image: Image.Image  # the page as rasterised, turned by ``rotation``
    rotation: int
    skew: float
    read_size: tuple[int, int]  # pixel size of the image Tesseract read (word boxes are in its pixels)
    recognition: tesseract.Recognition
    spans: list[tuple[int, int]]
    words: list[float]  # confidences of the words kept as text
    tesseract_seconds: float  # Tesseract time spent on this page so far, earlier attempts included

    @property
    def confidence(self) -> float | None:
        return statistics.fmean(self.words) if self.words else None


def ocr_file(path: Path, out_dir: Path, *, options: OcrOptions | None = None) -> OcrResult:
    """OCR a PDF, TIFF, JPEG or PNG into ``out_dir``: ``text.txt``, ``searchable.pdf``, ``pages.json``.

    Args:
        path: the document.
        out_dir: created if needed; the three files in it are replaced.
        options: how to work (defaults: Vietnamese, 120 s per page, two processes).

    Returns:
        The per-page results, the text and the paths written.

    Raises:
        BadInput: the file is unsupported, empty, encrypted, damaged or too large (nothing is written
            when triage finds it; a page that fails to decode later raises ``CorruptDocument`` too).
        MissingDependency: Tesseract or its Vietnamese data is not installed.

    Note:
        Documents of several pages are processed by worker threads; calling this from several threads
        of one process at once is safe (PDFium calls are serialised).
    """
    options = options or OcrOptions()
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ocr-check") as checker:
        # The check runs Tesseract twice (version, languages: about 0.1 s, once per process); it overlaps
        # triage instead of delaying the first page. A bad file is still reported first.
        installed = checker.submit(tesseract.check_installed, options.language, need_osd=options.rotate)
        info = inspect(path, options=options)
        installed.result()
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ocr-pages-") as scratch:
        tasks = [PageTask(path, info.mime_type, i, options, Path(scratch)) for i in range(info.page_count)]
        outcomes = list(_run(tasks, options.worker_count(len(tasks))))
        pdf_path = out_dir / "searchable.pdf"
        searchable.assemble([o.part for o in outcomes], pdf_path)
    pages = [o.result for o in outcomes]
    text = "\f".join("\n".join(o.lines) for o in outcomes)
    text_path = out_dir / "text.txt"
    text_path.write_text(text, encoding="utf-8")
    pages_path = out_dir / "pages.json"
    pages_path.write_text(
        json.dumps([p.as_json() for p in pages], ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    warnings = tuple(f"page {p.number}: {w}" for p in pages for w in p.warnings)
    if options.pdfa:
        problem = searchable.convert_to_pdfa(pdf_path)
        if problem:
            warnings += (problem,)
    for warning in warnings:
        log.warning("%s: %s", path.name, warning)
    dpis = [p.dpi for p in pages if p.dpi is not None]
    weighted = [(p.confidence, p.words) for p in pages if p.confidence is not None and p.words]
    total_words = sum(n for _, n in weighted)
    result = OcrResult(
        pages=pages,
        text=text,
        mime_type=info.mime_type,
        page_count=len(pages),
        min_dpi=min(dpis) if dpis else None,
        mean_confidence=sum(c * n for c, n in weighted) / total_words if total_words else None,
        text_path=text_path,
        pdf_path=pdf_path,
        pages_path=pages_path,
        warnings=warnings,
    )
    log.info("%s: %d page(s) in %.1f s", path.name, len(pages), time.monotonic() - started)
    return result


def _run(tasks: list[PageTask], workers: int) -> Iterator[PageOutcome]:
    if workers <= 1 or len(tasks) <= 1:
        yield from map(process_page, tasks)
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ocr-page") as pool:
        yield from pool.map(process_page, tasks)


def process_page(task: PageTask) -> PageOutcome:
    """Process one page (runs in a worker thread); see the module docstring for the stages."""
    started = time.monotonic()
    options = task.options
    number = task.index + 1
    warnings: list[str] = []
    if task.mime_type == MIME_PDF:
        with PDFIUM_LOCK:
            lines, warning = textlayer.read_text_layer(task.path, task.index, options.min_text_layer_chars)
        if warning:
            warnings.append(warning)
        if lines is not None:
            result = PageResult(
                number,
                "text-layer",
                0,
                0.0,
                None,
                100.0,
                False,
                time.monotonic() - started,
                words=sum(len(line.split()) for line in lines),
            )
            return PageOutcome(result, tuple(lines), searchable.CopiedPage(task.path, task.index))
    original: rasterise.PageJpeg | None = None  # a scanned PDF page's own JPEG, shown as it is
    if task.mime_type == MIME_PDF:
        with PDFIUM_LOCK:
            original = rasterise.pdf_page_jpeg(task.path, task.index)
    # With the original JPEG to show, only a reading copy is needed: decode it at reading resolution.
    raster = _load(task, original, options.recognition_dpi if original is not None else None, ink_gray=True)
    gray, read_dpi = _for_recognition(raster.image, raster.dpi, options)
    corners = preprocess.find_sheet(gray, read_dpi) if options.flatten_photos else None
    if corners is not None:
        if original is not None:  # the straightened sheet is what is shown: full resolution needed
            raster = _load(task, original)
            original = None
        scale = raster.dpi / read_dpi
        raster = dataclasses.replace(
            raster, image=preprocess.flatten_sheet(raster.image, [(x * scale, y * scale) for x, y in corners])
        )
        gray, read_dpi = _for_recognition(raster.image, raster.dpi, options)
    part_path = task.scratch / f"page-{number:05d}.jpg"
    if preprocess.is_blank(gray, read_dpi):
        display, display_dpi, jpeg, turn = _display(task, raster, raster.image, 0, original, corners is not None)
        part = searchable.image_page(part_path, display, display_dpi, jpeg=jpeg, turn=turn)
        result = PageResult(
            number,
            "ocr",
            raster.rotation,
            0.0,
            raster.scan_dpi,
            None,
            True,
            time.monotonic() - started,
            warnings=tuple(warnings),
        )
        return PageOutcome(result, (), part)
    reading = _read_turned(raster.image, gray, raster.dpi, read_dpi, options)
    if reading.recognition.warning:
        warnings.append(reading.recognition.warning)
    words = [
        tuple(_nfc(w) for w in line)
        for line in layout.reading_order_words([line.words for line in reading.recognition.lines], reading.spans)
    ]
    display, display_dpi, jpeg, turn = _display(
        task, raster, reading.image, reading.rotation, original, corners is not None
    )
    part = searchable.image_page(
        part_path,
        display,
        display_dpi,
        lines=words,
        read_size=reading.read_size,
        skew=reading.skew,
        jpeg=jpeg,
        turn=turn,
    )
    result = PageResult(
        number=number,
        source="ocr",
        rotation=(raster.rotation + reading.rotation) % 360,
        skew=reading.skew,
        dpi=raster.scan_dpi,
        confidence=reading.confidence,
        blank=False,
        seconds=time.monotonic() - started,
        words=len(reading.words),
        warnings=tuple(warnings),
        tesseract_seconds=reading.tesseract_seconds,
    )
    return PageOutcome(result, tuple(layout.line_text(line) for line in words), part)


def _nfc(word: Word) -> Word:
    """The word with its text in Unicode NFC (what ``text.txt`` and the PDF text layer hold)."""
    text = unicodedata.normalize("NFC", word.text)
    return word if text == word.text else dataclasses.replace(word, text=text)


def _load(
    task: PageTask, original: rasterise.PageJpeg | None, max_dpi: int | None = None, ink_gray: bool = False
) -> rasterise.Raster:
    """The page's pixels: decoded from the scan's own JPEG when there is one (no PDFium, no lock needed),
    else rendered or read from the file. ``ink_gray``: a JPEG is decoded straight to the recognition
    grey (only ever shown through the original bytes, so its colours are not needed)."""
    return rasterise.page_pixels(
        task.path,
        task.mime_type,
        task.index,
        task.options,
        original,
        max_dpi=max_dpi,
        ink_gray=ink_gray,
        pdfium_lock=PDFIUM_LOCK,
    )


def _display(
    task: PageTask,
    raster: rasterise.Raster,
    image: Image.Image,
    rotation: int,
    original: rasterise.PageJpeg | None,
    flattened: bool,
) -> tuple[Image.Image, int, Path | bytes | None, int]:
    """What the searchable PDF shows for a page: the image, its resolution, JPEG bytes to embed as is, and
    the quarter turn (clockwise degrees) a reader applies to show it upright.

    A scanned PDF page's own JPEG is embedded unchanged, also when the page lay turned: the PDF page is
    then marked to be shown turned (``/Rotate``), which keeps the scan's bytes (no second lossy
    compression) and spares decoding, turning and re-encoding it at full resolution. A JPEG file is
    embedded unchanged when it was neither turned nor straightened; anything else is the page as read.
    """
    if original is not None:
        shown = Image.open(io.BytesIO(original.data))  # only its size is read; the bytes are embedded
        return shown, raster.scan_dpi or raster.dpi, original.data, rotation
    untouched_jpeg = (
        task.mime_type == MIME_JPEG
        and not flattened
        and raster.rotation == 0
        and rotation == 0
        and raster.dpi == raster.scan_dpi
        and raster.image.mode in ("L", "RGB")
    )
    return image, raster.dpi, task.path if untouched_jpeg else None, 0


def _read(
    image: Image.Image, gray: Image.Image, rotation: int, dpi: int, options: OcrOptions, spent: float = 0.0
) -> _Reading:
    """Deskew, binarise, remove rules and recognise a page as it is turned.

    ``spent`` is the Tesseract time already spent on the page (orientation, an earlier reading).
    """
    skew = preprocess.estimate_skew(gray, dpi, options.max_skew_deg) if options.deskew else 0.0
    if abs(skew) < MIN_DESKEW_DEG:
        skew = 0.0  # not worth a turn of the page (see MIN_DESKEW_DEG): reported as not corrected
    upright = preprocess.rotate(gray, -skew, preprocess.paper_colour(gray))
    ink, spans = preprocess.remove_rules(preprocess.binarise(upright), dpi)
    recognition = tesseract.recognise(
        ink, dpi, language=options.language, psm=options.psm, timeout_s=options.page_timeout_s
    )
    kept = layout.clean_lines([line.words for line in recognition.lines])
    return _Reading(
        image,
        rotation,
        skew,
        gray.size,
        recognition,
        spans,
        [w.confidence for line in kept for w in line],
        spent + recognition.seconds,
    )


def _for_recognition(image: Image.Image, dpi: int, options: OcrOptions) -> tuple[Image.Image, int]:
    """The page as Tesseract reads it: coloured ink lightened, at most ``options.recognition_dpi``.

    Only the copy that is read is brought down; the searchable PDF shows the page at its own resolution
    (Tesseract's text layer is sized in points, so it fits the page at any resolution).
    """
    gray = preprocess.ink_gray(image)
    target = options.recognition_dpi
    if dpi <= target:
        return gray, dpi
    size = (round(gray.width * target / dpi), round(gray.height * target / dpi))
    return gray.resize(size, Image.Resampling.BOX), target


def _read_turned(image: Image.Image, gray: Image.Image, display_dpi: int, dpi: int, options: OcrOptions) -> _Reading:
    """Read a page, turning it upright first if it lies sideways or reads as if upside down.

    ``image`` is the page at ``display_dpi`` (what the searchable PDF shows), ``gray`` its copy for
    recognition at ``dpi``.
    """
    if not options.rotate:
        return _read(image, gray, 0, dpi, options)
    spent = 0.0
    if preprocess.looks_sideways(gray, dpi):
        turn, spent = _orientation(gray, dpi, options)
        if turn:
            turned = image.transpose(_CLOCKWISE[turn])
            return _read(turned, _for_recognition(turned, display_dpi, options)[0], turn, dpi, options, spent)
    reading = _read(image, gray, 0, dpi, options, spent)
    if reading.recognition.warning or not _reads_poorly(reading):
        return reading
    turn, osd_seconds = _orientation(gray, dpi, options)
    spent = reading.tesseract_seconds + osd_seconds
    if not turn:
        return dataclasses.replace(reading, tesseract_seconds=spent)
    turned = image.transpose(_CLOCKWISE[turn])
    again = _read(turned, _for_recognition(turned, display_dpi, options)[0], turn, dpi, options, spent)
    if again.recognition.warning or (again.confidence or 0.0) <= (reading.confidence or 0.0):
        return dataclasses.replace(reading, tesseract_seconds=again.tesseract_seconds)
    return again


def _reads_poorly(reading: _Reading) -> bool:
    words = reading.recognition.words
    if len(words) < 3:
        return True  # a turned page can read as almost nothing
    return statistics.fmean(w.confidence for w in words) < ORIENTATION_CHECK_BELOW


def _orientation(gray: Image.Image, dpi: int, options: OcrOptions) -> tuple[int, float]:
    """Clockwise quarter turns (in degrees) Tesseract's orientation detection asks for (0 if unsure),
    and the seconds Tesseract took."""
    ink, _ = preprocess.remove_rules(preprocess.binarise(gray), dpi)
    found = tesseract.detect_orientation(ink, dpi, timeout_s=min(_OSD_TIMEOUT_S, options.page_timeout_s))
    if found is None:
        return 0, 0.0
    if found.confidence < _MIN_OSD_CONFIDENCE or found.rotate not in _CLOCKWISE:
        return 0, found.seconds
    return found.rotate, found.seconds
