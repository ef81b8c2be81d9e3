"""The searchable PDF's invisible text layer: reading order, positions, Vietnamese copy (no Tesseract).

Pages are built from known word boxes with :func:`ocr.searchable.image_page` and
:func:`ocr.searchable.assemble`, then read back the way a user's PDF reader would (pdfplumber, which
is pdfminer, and PDFium): the text comes out in the order written, NFC, every word inside its printed
box, and the layer is invisible (render mode 3) over the untouched image.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import pytest
from PIL import Image

from ocr import searchable
from ocr.layout import reading_order, reading_order_words
from ocr.models import Word
from ocr.overlay import FONT_NAME, Placement, content

DPI = 200
PAGE_PX = (1654, 2339)  # A4 at 200 dpi
_H = 30


def _line(y: int, *spans: tuple[int, str]) -> list[Word]:
    """Words laid out left to right from each (x, text) start, 12 px apart, on row ``y``."""
    words = []
    for x, text in spans:
        for token in text.split():
            width = 17 * len(token)
            words.append(Word(token, 95.0, x, y, width, _H))
            x += width + 12
    return words


# Tesseract's lines for a two-column header: each printed row across both columns.
HEADER = [
    _line(150, (230, "UBND TỈNH ĐỒNG NAI"), (760, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")),
    _line(200, (260, "SỞ XÂY DỰNG"), (860, "Độc lập - Tự do - Hạnh phúc")),
    _line(260, (250, "Số: 469/QĐ-SXD"), (790, "Đồng Nai, ngày 20 tháng 9 năm 2021")),
    _line(360, (700, "QUYẾT ĐỊNH")),
    _line(420, (240, "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015")),
]


def _pdf(tmp: Path, lines: Sequence[Sequence[Word]], *, skew: float = 0.0, name: str = "page") -> Path:
    """A one-page searchable PDF: a white A4 page at 200 dpi with ``lines`` as its text layer."""
    page = Image.new("L", PAGE_PX, 255)
    part = searchable.image_page(tmp / f"{name}.jpg", page, DPI, lines=lines, read_size=PAGE_PX, skew=skew)
    out = tmp / f"{name}.pdf"
    searchable.assemble([part], out)
    return out


def _plumber_text(path: Path) -> str:
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        return pdf.pages[0].extract_text(use_text_flow=True) or ""


def _pdfium_text(path: Path) -> str:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(path)
    try:
        return str(doc[0].get_textpage().get_text_range())
    finally:
        doc.close()


def _squash(text: str) -> str:
    return " ".join(text.split())


def test_layer_follows_the_reading_order_not_tesseracts(tmp_path: Path) -> None:
    lines = reading_order_words(HEADER)
    pdf = _pdf(tmp_path, lines)
    expected = "\n".join(reading_order(HEADER))
    assert _squash(_plumber_text(pdf)) == _squash(expected)
    assert _squash(_pdfium_text(pdf)) == _squash(expected)
    # the left block (agency, number) comes whole before the national motto
    text = _squash(_pdfium_text(pdf))
    assert text.index("Số: 469/QĐ-SXD") < text.index("CỘNG HÒA")


def test_each_line_copies_as_one_line_with_its_spaces(tmp_path: Path) -> None:
    lines = reading_order_words(HEADER)
    copied = [line.strip() for line in _pdfium_text(_pdf(tmp_path, lines)).splitlines() if line.strip()]
    assert copied == reading_order(HEADER)


def test_words_land_inside_their_boxes(tmp_path: Path) -> None:
    import pdfplumber

    lines = reading_order_words(HEADER)
    with pdfplumber.open(_pdf(tmp_path, lines)) as pdf:
        extracted = pdf.pages[0].extract_words(use_text_flow=True)
    boxes = [w for line in lines for w in line]
    assert [w["text"] for w in extracted] == [w.text for w in boxes]
    points = 72 / DPI
    for got, word in zip(extracted, boxes, strict=True):
        left, right = word.left * points, (word.left + word.width) * points
        top, bottom = word.top * points, (word.top + word.height) * points
        assert got["x0"] == pytest.approx(left, abs=0.5)
        assert got["x1"] == pytest.approx(right, abs=0.5)
        assert top - 0.5 <= got["top"]
        assert got["bottom"] <= bottom + 0.5


def test_vietnamese_copies_out_nfc_even_from_decomposed_input(tmp_path: Path) -> None:
    decomposed = unicodedata.normalize("NFD", "Độc lập - Tự do - Hạnh phúc")
    lines = [_line(300, (200, decomposed))]
    text = _squash(_pdfium_text(_pdf(tmp_path, lines)))
    assert text == "Độc lập - Tự do - Hạnh phúc"
    assert unicodedata.is_normalized("NFC", text)
    assert _squash(_plumber_text(tmp_path / "page.pdf")) == "Độc lập - Tự do - Hạnh phúc"


def test_search_finds_a_vietnamese_phrase_across_words(tmp_path: Path) -> None:
    import pypdfium2 as pdfium

    lines = reading_order_words(HEADER)
    doc = pdfium.PdfDocument(_pdf(tmp_path, lines))
    try:
        searcher = doc[0].get_textpage().search("Hạnh phúc")
        assert searcher.get_next() is not None
    finally:
        doc.close()


def test_layer_is_invisible_and_uses_the_embedded_glyphless_font(tmp_path: Path) -> None:
    import pikepdf

    with pikepdf.open(_pdf(tmp_path, reading_order_words(HEADER))) as pdf:
        page = pdf.pages[0]
        font = page.Resources.Font["/" + FONT_NAME]
        assert font.Subtype == "/Type0"
        assert font.DescendantFonts[0].FontDescriptor.FontFile2.read_bytes()[:4] == b"\x00\x01\x00\x00"
        operators = [op for _, op in pikepdf.parse_content_stream(page)]
        assert pikepdf.Operator("Tr") in operators
        modes = [operands[0] for operands, op in pikepdf.parse_content_stream(page) if op == pikepdf.Operator("Tr")]
        assert modes == [3]


def test_skewed_page_turns_the_layer_back_onto_the_printed_words(tmp_path: Path) -> None:
    import pdfplumber

    skew = 2.0  # the scan was turned counter-clockwise by 2 degrees and read straightened
    word = Word("Hạnh", 95.0, 1200, 400, 80, _H)
    with pdfplumber.open(_pdf(tmp_path, [(word,)], skew=skew)) as pdf:
        got = pdf.pages[0].extract_words()[0]
    points = 72 / DPI
    width_pt, height_pt = PAGE_PX[0] * points, PAGE_PX[1] * points
    # centre of the word in PDF space (y up), straightened...
    x = (word.left + word.width / 2) * points
    y = height_pt - (word.top + word.height / 2) * points
    # ...turned counter-clockwise by the skew about the page centre: where it is printed on the scan
    t = math.radians(skew)
    cx, cy = width_pt / 2, height_pt / 2
    px = cx + math.cos(t) * (x - cx) - math.sin(t) * (y - cy)
    py = cy + math.sin(t) * (x - cx) + math.cos(t) * (y - cy)
    assert (got["x0"] + got["x1"]) / 2 == pytest.approx(px, abs=1.5)
    assert height_pt - (got["top"] + got["bottom"]) / 2 == pytest.approx(py, abs=1.5)
    assert got["text"] == "Hạnh"


def test_scaled_reading_copy_maps_onto_the_full_resolution_page(tmp_path: Path) -> None:
    """Words read from a 200 dpi copy of a 300 dpi scan sit on the same place of the 300 dpi page."""
    import pdfplumber

    page = Image.new("L", (2480, 3508), 255)  # A4 at 300 dpi
    word = Word("Số:", 95.0, 250, 260, 60, _H)  # in pixels of the 200 dpi copy
    part = searchable.image_page(tmp_path / "p.jpg", page, 300, lines=[(word,)], read_size=PAGE_PX)
    searchable.assemble([part], tmp_path / "p.pdf")
    with pdfplumber.open(tmp_path / "p.pdf") as pdf:
        got = pdf.pages[0].extract_words()[0]
        assert pdf.pages[0].width == pytest.approx(8.27 * 72, abs=1)
    assert got["x0"] == pytest.approx(250 * 72 / 200, abs=0.5)
    assert got["x1"] == pytest.approx(310 * 72 / 200, abs=0.5)


def test_page_without_words_has_no_text_layer(tmp_path: Path) -> None:
    assert content([], Placement(100, 100, 72, 72)) == b""
    assert content([(Word("  ", 90.0, 1, 1, 5, 5),)], Placement(100, 100, 72, 72)) == b""
    pdf = _pdf(tmp_path, [])
    import pikepdf

    with pikepdf.open(pdf) as doc:
        assert "/Font" not in doc.pages[0].Resources
    assert _pdfium_text(pdf).strip() == ""


def test_pages_share_one_font_and_the_jpeg_is_embedded_byte_for_byte(tmp_path: Path) -> None:
    import pikepdf

    scan = Image.new("RGB", PAGE_PX, (250, 246, 238))
    original = tmp_path / "scan.jpg"
    scan.save(original, "JPEG", quality=90)
    parts = [
        searchable.image_page(tmp_path / f"p{i}.jpg", scan, DPI, lines=HEADER, read_size=PAGE_PX, jpeg=original)
        for i in range(3)
    ]
    searchable.assemble(parts, tmp_path / "three.pdf")
    with pikepdf.open(tmp_path / "three.pdf") as pdf:
        fonts = {page.Resources.Font["/" + FONT_NAME].objgen for page in pdf.pages}
        assert len(fonts) == 1
        image = pdf.pages[0].Resources.XObject.Im0
        assert image.read_raw_bytes() == original.read_bytes()
        assert image.ColorSpace == "/DeviceRGB"
    assert not (tmp_path / "p0.jpg").exists()  # the original file is embedded, not copied


def test_non_embeddable_jpeg_is_reencoded(tmp_path: Path) -> None:
    import pikepdf

    cmyk = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (200, 300), (0, 0, 0, 10)).save(cmyk, "JPEG")
    display = Image.open(cmyk).convert("RGB")
    part = searchable.image_page(tmp_path / "p.jpg", display, DPI, jpeg=cmyk)
    assert part.jpeg == tmp_path / "p.jpg"
    searchable.assemble([part], tmp_path / "p.pdf")
    with pikepdf.open(tmp_path / "p.pdf") as pdf:
        assert pdf.pages[0].Resources.XObject.Im0.ColorSpace == "/DeviceRGB"


@pytest.mark.parametrize("turn", [90, 180, 270])
def test_page_shown_turned_keeps_the_scan_as_it_lies_and_its_words_on_their_place(tmp_path: Path, turn: int) -> None:
    """A scan lying turned is embedded as it lies with /Rotate; the words, read upright, land where printed."""
    import pypdfium2 as pdfium

    word = Word("Hạnh", 95.0, 1200, 400, 80, _H)  # in the upright page's pixels (PAGE_PX)
    lying = PAGE_PX[::-1] if turn in (90, 270) else PAGE_PX
    part = searchable.image_page(
        tmp_path / "page.jpg", Image.new("L", lying, 255), DPI, lines=[(word,)], read_size=PAGE_PX, turn=turn
    )
    out = tmp_path / "page.pdf"
    searchable.assemble([part], out)
    points = 72 / DPI
    up_w, up_h = PAGE_PX[0] * points, PAGE_PX[1] * points
    # the word's centre on the upright page (y up), and where that point is on the page as it lies
    x = (word.left + word.width / 2) * points
    y = up_h - (word.top + word.height / 2) * points
    expected = {90: (up_h - y, x), 180: (up_w - x, up_h - y), 270: (y, up_w - x)}[turn]
    doc = pdfium.PdfDocument(out)
    try:
        page = doc[0]
        assert page.get_rotation() == turn
        assert page.get_size() == pytest.approx((up_w, up_h), abs=0.01)  # as a reader shows it: upright
        assert [float(v) for v in page.get_mediabox()] == pytest.approx([0, 0, lying[0] * points, lying[1] * points])
        textpage = page.get_textpage()
        assert textpage.get_text_range().strip() == "Hạnh"
        boxes = [textpage.get_charbox(i) for i in range(4)]
        left, bottom = min(b[0] for b in boxes), min(b[1] for b in boxes)
        right, top = max(b[2] for b in boxes), max(b[3] for b in boxes)
        assert (left + right) / 2 == pytest.approx(expected[0], abs=1.5)
        assert (bottom + top) / 2 == pytest.approx(expected[1], abs=1.5)
    finally:
        doc.close()
