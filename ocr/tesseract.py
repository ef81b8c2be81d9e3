"""The only module that runs Tesseract, through pytesseract.

It owns the rules every call follows:

- one Tesseract thread per process (``OMP_THREAD_LIMIT=1``): OpenMP makes Tesseract 5-6 times slower
  per page on these 2-core machines; pages run in parallel workers instead (see ``ocr.pipeline``).
  pytesseract starts Tesseract with this process's environment and offers no way to pass another, so
  :func:`single_threaded` sets the variable in ``os.environ`` before every run (and says so in the log
  once when it overrides a different value);
- a timeout per page: a page Tesseract cannot finish in time is killed (pytesseract terminates the
  process) and comes back empty, with a warning, instead of holding the whole document;
- one recognition pass per page produces the words with their boxes and confidences (TSV only:
  ``tessedit_create_tsv`` through :func:`pytesseract.pytesseract.run_tesseract`). The searchable
  PDF's text layer is written by :mod:`ocr.overlay` from these words in sohoa's reading order, so
  Tesseract is not asked for its own text-only PDF. The page is written by this module (raw PBM
  packed straight from the ink mask, see :func:`_save_page`) and passed by name, so pytesseract does
  not re-encode it.

Each :class:`Recognition` also carries the wall time of its Tesseract process, which the benchmark uses
to report the share of time sohoa spends outside Tesseract.
"""

from __future__ import annotations

import csv
import functools
import io
import logging
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytesseract
from numpy.typing import NDArray
from PIL import Image

from ocr.errors import APT_INSTALL, MissingDependency
from ocr.models import Word

log = logging.getLogger(__name__)

_THREAD_VARIABLE = "OMP_THREAD_LIMIT"
_TIMEOUT_MESSAGE = "Tesseract process timeout"


def single_threaded() -> None:
    """Make the Tesseract processes pytesseract starts use one OpenMP thread (see the module docstring)."""
    current = os.environ.get(_THREAD_VARIABLE)
    if current != "1":
        if current is not None:
            log.info("%s was %s; set to 1 for Tesseract (pages run in parallel instead)", _THREAD_VARIABLE, current)
        os.environ[_THREAD_VARIABLE] = "1"


@dataclass(frozen=True)
class Line:
    """One printed line as Tesseract segmented it."""

    block: int
    paragraph: int
    words: tuple[Word, ...]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


@dataclass(frozen=True)
class Recognition:
    """What one Tesseract pass over a page produced.

    Attributes:
        lines: printed lines in Tesseract's reading order.
        warning: why the page is empty when it should not be (a timeout, a crash), else ``None``.
        seconds: wall time of the Tesseract process (0 when it did not run).
    """

    lines: tuple[Line, ...]
    warning: str | None = None
    seconds: float = 0.0

    @property
    def words(self) -> list[Word]:
        return [w for line in self.lines for w in line.words]


@dataclass(frozen=True)
class Orientation:
    """Tesseract's orientation and script detection (OSD) for a page."""

    rotate: int  # degrees to turn the page clockwise to make it upright
    confidence: float
    seconds: float = 0.0


@functools.lru_cache(maxsize=8)
def check_installed(language: str, need_osd: bool = False) -> str:
    """Verify Tesseract and the languages are installed; return Tesseract's version.

    Raises:
        MissingDependency: with the ``apt-get`` command that fixes it.
    """
    single_threaded()
    try:
        version = str(pytesseract.get_tesseract_version())
        available = set(pytesseract.get_languages(config=""))
    except pytesseract.TesseractNotFoundError as exc:
        raise MissingDependency("", "Tesseract OCR is not installed", f"install it with: {APT_INSTALL}") from exc
    except (OSError, pytesseract.TesseractError) as exc:
        raise MissingDependency("", f"Tesseract OCR does not run ({type(exc).__name__})") from exc
    wanted = [lang for lang in language.split("+") if lang]
    if need_osd:
        wanted.append("osd")
    missing = [lang for lang in wanted if lang not in available]
    if missing:
        raise MissingDependency(
            "", f"Tesseract has no '{'+'.join(missing)}' language data", f"install it with: {APT_INSTALL}"
        )
    return f"tesseract {version}"


Page = Image.Image | NDArray[np.uint8]
"""A page for Tesseract: an image (``L`` or ``1``), or an ink mask (1 for ink, 0 for paper) as the
clean-up steps make it (:func:`ocr.preprocess.binarise`)."""


def _save_page(page: Page, folder: Path, dpi: int) -> Path:
    """The page as a file Tesseract reads quickly.

    An ink mask (what the pipeline sends) or a bilevel image is written as raw PBM: no compression to
    spend time on either side (Leptonica reads it with a copy), 1 bit per pixel (a 200 dpi A4 page is
    0.5 MB). A mask is packed straight into the file's rows (``np.packbits``: 1 is ink in both, well
    under a millisecond, where Pillow takes 6 ms to pack and write a ``1`` image). PBM records no
    resolution: Tesseract gets it from ``--dpi``. Anything else goes as a lightly compressed PNG with its
    resolution recorded.
    """
    if isinstance(page, np.ndarray):
        source = folder / "page.pbm"
        height, width = page.shape
        with source.open("wb") as out:
            out.write(b"P4\n%d %d\n" % (width, height))
            out.write(np.packbits(page, axis=1).tobytes())
        return source
    if page.mode == "1":
        source = folder / "page.pbm"
        page.save(source, "PPM")
        return source
    source = folder / "page.png"
    page.save(source, dpi=(dpi, dpi), compress_level=1)
    return source


def _missing_language(error: pytesseract.TesseractError, language: str) -> MissingDependency | None:
    message = str(getattr(error, "message", "")) or str(error)
    if "Failed loading language" in message or "Error opening data file" in message:
        return MissingDependency("", f"Tesseract has no '{language}' language data", f"install it with: {APT_INSTALL}")
    return None


def recognise(
    image: Page,
    dpi: int,
    *,
    language: str = "vie",
    psm: int = 3,
    timeout_s: float = 120.0,
) -> Recognition:
    """Read one page: its words with their boxes and confidences.

    Args:
        image: the cleaned page: an ink mask, or an ``L`` or ``1`` image (black text on white).
        dpi: its resolution, which also sizes the PDF page.
        language: Tesseract language(s).
        psm: page segmentation mode.
        timeout_s: seconds before the page is given up (it then comes back empty, with a warning).

    Raises:
        MissingDependency: when Tesseract or the language data is missing.
    """
    single_threaded()
    config = f"--psm {psm} --dpi {dpi} -c tessedit_create_tsv=1"
    with tempfile.TemporaryDirectory(prefix="ocr-page-") as tmp:
        source = _save_page(image, Path(tmp), dpi)
        base = Path(tmp) / "out"
        started = time.monotonic()
        try:
            # No extension: Tesseract writes only the renderers the config asks for (the TSV).
            pytesseract.pytesseract.run_tesseract(
                str(source), str(base), "", language, config=config, timeout=timeout_s
            )
        except pytesseract.TesseractNotFoundError as exc:
            raise MissingDependency("", "Tesseract OCR is not installed", f"install it with: {APT_INSTALL}") from exc
        except pytesseract.TesseractError as exc:
            missing = _missing_language(exc, language)
            if missing is not None:
                raise missing from exc
            return Recognition(
                (), f"Tesseract failed on the page (exit {exc.status}); page left empty", time.monotonic() - started
            )
        except RuntimeError as exc:  # pytesseract's timeout (TesseractError, a subclass, is above)
            if str(exc) != _TIMEOUT_MESSAGE:
                raise
            return Recognition(
                (), f"Tesseract did not finish within {timeout_s:g} s; page left empty", time.monotonic() - started
            )
        seconds = time.monotonic() - started
        tsv_path = base.with_suffix(".tsv")
        if not tsv_path.exists():
            return Recognition((), "Tesseract wrote no result for the page; page left empty", seconds)
        lines = parse_tsv(tsv_path.read_text(encoding="utf-8", errors="replace"))
    return Recognition(lines, None, seconds)


def detect_orientation(image: Page, dpi: int, *, timeout_s: float = 30.0) -> Orientation | None:
    """Tesseract's guess of how far the page is turned; ``None`` when it cannot tell."""
    single_threaded()
    with tempfile.TemporaryDirectory(prefix="ocr-osd-") as tmp:
        source = _save_page(image, Path(tmp), dpi)
        started = time.monotonic()
        try:
            osd = pytesseract.image_to_osd(str(source), config=f"--dpi {dpi}", timeout=timeout_s)
        except RuntimeError:  # the timeout, or pytesseract's wrapper of a failed run
            return None
        except pytesseract.TesseractError:  # "Too few characters", for one
            return None
    seconds = time.monotonic() - started
    text = osd if isinstance(osd, str) else str(osd)
    rotate = re.search(r"Rotate:\s*(\d+)", text)
    confidence = re.search(r"Orientation confidence:\s*([\d.]+)", text)
    if rotate is None or confidence is None:
        return None
    return Orientation(int(rotate.group(1)) % 360, float(confidence.group(1)), seconds)


def parse_tsv(tsv: str) -> tuple[Line, ...]:
    """Lines of words from Tesseract's TSV output, in its reading order.

    Lines are keyed by (block, paragraph, line) numbers; words with empty text (Tesseract reports the
    pieces of layout it found as empty words) are dropped.
    """
    rows = csv.reader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE)
    header = next(rows, None)
    if header is None:
        return ()
    col = {name: i for i, name in enumerate(header)}
    grouped: dict[tuple[int, int, int], list[Word]] = {}
    for row in rows:
        if len(row) < len(header) or row[col["level"]] != "5":
            continue
        text = row[col["text"]].strip()
        if not text:
            continue
        key = (int(row[col["block_num"]]), int(row[col["par_num"]]), int(row[col["line_num"]]))
        word = Word(
            text,
            max(0.0, float(row[col["conf"]])),
            int(row[col["left"]]),
            int(row[col["top"]]),
            int(row[col["width"]]),
            int(row[col["height"]]),
        )
        grouped.setdefault(key, []).append(word)
    return tuple(Line(block, par, tuple(words)) for (block, par, _), words in grouped.items())
