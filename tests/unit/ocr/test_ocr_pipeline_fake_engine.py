"""The page pipeline with a fake recognition engine: fast, no Tesseract.

The fake stands in for :func:`ocr.tesseract.recognise` (and orientation detection) and records what it
was given, so these tests check the pipeline's own promises: pages come back in order whatever order
the workers finish in, a page the engine gives up on is empty with a warning while the others are
read, blank pages never reach the engine, Tesseract time is accounted per page, fine scans are read
from a 200 dpi copy while the searchable PDF keeps their own resolution, and a phone photo reaches the
engine straightened.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from ocr import OcrOptions, ocr_file, tesseract
from ocr.models import Word
from sohoa.sample.documents import DocFields, render_blank_page, render_document, write_scan

FAKE_SECONDS = 0.05
"""Time the fake engine spends on, and reports for, every page it reads."""


@dataclass
class FakeEngine:
    """Answers every page with one line naming the call and the image width; can be slow or give up."""

    slow_width: int | None = None  # a page of this width takes 0.6 s
    give_up_on_call: int | None = None
    seen: list[tuple[int, int, int]] = field(default_factory=list)  # (width, height, dpi) per call
    lock: threading.Lock = field(default_factory=threading.Lock)

    def recognise(self, page: tesseract.Page, dpi: int, **_: object) -> tesseract.Recognition:
        # The pipeline hands over its ink mask (rows x columns); an image would do too.
        height, width = page.shape if isinstance(page, np.ndarray) else (page.height, page.width)
        with self.lock:
            call = len(self.seen)
            self.seen.append((width, height, dpi))
        if width == self.slow_width:
            time.sleep(0.6)
        if call == self.give_up_on_call:
            return tesseract.Recognition((), "Tesseract did not finish within 1 s; page left empty", 1.0)
        words = tuple(
            Word(text, 96.0, 100 + 120 * i, 100, 100, 30)
            for i, text in enumerate(f"trang số {call} rộng {width}".split())
        )
        time.sleep(FAKE_SECONDS)  # the engine time it reports is really spent, as Tesseract's would be
        return tesseract.Recognition((tesseract.Line(1, 1, words),), None, FAKE_SECONDS)


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> FakeEngine:
    fake = FakeEngine()
    monkeypatch.setattr(tesseract, "recognise", fake.recognise)
    monkeypatch.setattr(tesseract, "detect_orientation", lambda *a, **k: None)
    monkeypatch.setattr(tesseract, "check_installed", lambda *a, **k: "fake")
    return fake


@pytest.fixture(scope="module")
def page_200() -> Image.Image:
    pages, _ = render_document("bien_nhan", DocFields.fake(5), dpi=200, seed=5)
    return pages[0]


def test_pages_come_back_in_order_when_workers_finish_out_of_order(
    engine: FakeEngine, page_200: Image.Image, tmp_path: Path
) -> None:
    # Three pages told apart by their width; the first one is slow, so it finishes last.
    widths = [page_200.width - 40 * k for k in range(3)]
    pages = [page_200.crop((0, 0, w, page_200.height)) for w in widths]
    engine.slow_width = widths[0]
    source = write_scan(pages, tmp_path / "three.tiff", "tiff")
    result = ocr_file(source, tmp_path / "out", options=OcrOptions(workers=2, rotate=False))
    assert [p.number for p in result.pages] == [1, 2, 3]
    texts = result.text.split("\f")
    assert [t.rsplit(" ", 1)[1] for t in texts] == [str(w) for w in widths]
    # the slow first page was not the last one handed to the engine: the workers really ran in parallel
    assert [w for w, _, _ in engine.seen].index(widths[0]) < 2


def test_page_the_engine_gives_up_on_is_empty_with_a_warning_and_the_rest_is_read(
    engine: FakeEngine, page_200: Image.Image, tmp_path: Path
) -> None:
    engine.give_up_on_call = 0
    source = write_scan([page_200, page_200], tmp_path / "two.tiff", "tiff")
    result = ocr_file(source, tmp_path / "out", options=OcrOptions(workers=1, rotate=False))
    first, second = result.pages
    assert result.text.split("\f") == ["", f"trang số 1 rộng {page_200.width}"]
    assert (first.confidence, first.blank, first.words) == (None, False, 0)
    assert first.warnings == ("Tesseract did not finish within 1 s; page left empty",)
    assert result.warnings == ("page 1: Tesseract did not finish within 1 s; page left empty",)
    assert second.warnings == ()
    pages_json = json.loads((tmp_path / "out" / "pages.json").read_text(encoding="utf-8"))
    assert pages_json[0]["warnings"] == list(first.warnings)
    assert (tmp_path / "out" / "searchable.pdf").stat().st_size > 0


def test_blank_page_never_reaches_the_engine(engine: FakeEngine, page_200: Image.Image, tmp_path: Path) -> None:
    source = write_scan([render_blank_page(seed=1), page_200], tmp_path / "blank-first.pdf", "pdf")
    result = ocr_file(source, tmp_path / "out", options=OcrOptions(workers=1, rotate=False))
    assert len(engine.seen) == 1
    assert result.pages[0].blank
    assert result.pages[0].tesseract_seconds == 0.0
    blank, read = result.text.split("\f")
    assert blank == ""
    assert read.startswith("trang số 0 ")


def test_tesseract_time_is_accounted_per_page(engine: FakeEngine, page_200: Image.Image, tmp_path: Path) -> None:
    source = write_scan([page_200], tmp_path / "one.png", "png")
    result = ocr_file(source, tmp_path / "out", options=OcrOptions(rotate=False))
    page = result.pages[0]
    assert page.tesseract_seconds == pytest.approx(FAKE_SECONDS)
    assert page.seconds > page.tesseract_seconds
    pages_json = json.loads((tmp_path / "out" / "pages.json").read_text(encoding="utf-8"))
    assert pages_json[0]["tesseract_seconds"] == FAKE_SECONDS


def test_300_dpi_scan_is_read_at_200_dpi_and_shown_at_300(engine: FakeEngine, tmp_path: Path) -> None:
    import pypdfium2 as pdfium

    pages, _ = render_document("giay_phep", DocFields.fake(6), dpi=300, seed=6)
    source = write_scan(pages, tmp_path / "fine.png", "png", dpi=300)
    result = ocr_file(source, tmp_path / "out", options=OcrOptions(rotate=False))
    width, height, dpi = engine.seen[0]
    assert dpi == 200
    assert width == pytest.approx(pages[0].width * 2 / 3, abs=1)
    assert result.pages[0].dpi == 300
    doc = pdfium.PdfDocument(result.pdf_path)
    try:
        images = [obj for obj in doc[0].get_objects() if obj.type == pdfium.raw.FPDF_PAGEOBJ_IMAGE]
        assert images, "the searchable page shows the scan"
        assert images[0].get_px_size() == pages[0].size
    finally:
        doc.close()


def _photo_of(page: Image.Image, corners: list[tuple[int, int]], size: tuple[int, int]) -> Image.Image:
    """``page`` photographed on a dark desk: warped so its corners land on ``corners``."""
    import numpy as np

    w, h = page.size
    # Pillow's PERSPECTIVE maps output pixels to input pixels: from the quad back to the page.
    rows, rhs = [], []
    for (x, y), (u, v) in zip(corners, [(0, 0), (w, 0), (w, h), (0, h)], strict=True):
        rows += [[x, y, 1, 0, 0, 0, -u * x, -u * y], [0, 0, 0, x, y, 1, -v * x, -v * y]]
        rhs += [u, v]
    coefficients = tuple(float(c) for c in np.linalg.solve(np.asarray(rows, float), np.asarray(rhs, float)))
    warped = page.transform(size, Image.Transform.PERSPECTIVE, coefficients, resample=Image.Resampling.BILINEAR)
    sheet = Image.new("L", size, 0)
    ImageDraw.Draw(sheet).polygon(corners, fill=255)
    photo = Image.new("RGB", size, (80, 62, 50))
    photo.paste(warped, (0, 0), sheet)
    return photo


def test_phone_photo_reaches_the_engine_straightened(engine: FakeEngine, page_200: Image.Image, tmp_path: Path) -> None:
    from ocr.preprocess import find_sheet, ink_gray

    corners = [(150, 120), (1700, 160), (1760, 2500), (90, 2450)]
    photo = _photo_of(page_200, corners, (1850, 2600))
    found = find_sheet(ink_gray(photo), 200)
    assert found is not None
    for (fx, fy), (cx, cy) in zip(found, corners, strict=True):  # within a 40 dpi cell and a bit
        assert abs(fx - cx) <= 12
        assert abs(fy - cy) <= 12
    source = write_scan([photo], tmp_path / "photo.jpg", "jpeg", dpi=200)
    ocr_file(source, tmp_path / "out", options=OcrOptions(rotate=False))
    width, height, _ = engine.seen[0]
    # the sheet alone, not the desk: the mean lengths of the quad's opposite sides (1550.5 and 1670.7
    # across, 2330.8 and 2340.8 down), not the photo's 1850 x 2600
    assert width == pytest.approx(1610, abs=15)
    assert height == pytest.approx(2336, abs=15)


def test_flatbed_scan_is_not_mistaken_for_a_photo(page_200: Image.Image) -> None:
    from ocr.preprocess import find_sheet, ink_gray

    assert find_sheet(ink_gray(page_200), 200) is None
    assert find_sheet(ink_gray(render_blank_page(seed=3)), 200) is None
