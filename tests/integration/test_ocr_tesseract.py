"""OCR with the real Tesseract on generated scans of official documents (see sohoa.sample.documents).

Each format is OCR'd once per module and the tests check what a records officer or a downstream
system would: the text is right (character error rate against the generator's ground truth), the
dossier code printed on the page is found exactly, ``pages.json`` tells the truth about each page, the
searchable PDF can be searched, and the text is NFC.

Measured on 200 dpi generated pages (seal, signature, skew up to 1°, noise): CER 0.1-0.5% for PNG, TIFF
and PDF, about 1.5% for JPEG quality 85; the bound below leaves room for Tesseract's variation while
still failing on a reading-order regression (interleaved header columns cost about 10 points).
"""

from __future__ import annotations

import json
import shutil
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from ocr import OcrOptions, OcrResult, ocr_file
from ocr.errors import CorruptDocument, MissingDependency
from ocr.metrics import cer
from ocr.tesseract import check_installed
from sohoa.sample.documents import DocFields, render_blank_page, render_document, write_scan

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("tesseract") is None, reason="Tesseract is not installed"),
]

MAX_CER = 0.05
PAGE_KEYS = {"number", "source", "rotation", "skew", "dpi", "confidence", "blank", "seconds"}


@dataclass(frozen=True)
class Scan:
    result: OcrResult
    out: Path
    truths: list[str]  # per page, "" for a blank page
    codes: list[str]  # the dossier code printed on each non-blank page


def _ocr(tmp: Path, name: str, fmt: str, kinds: list[str | None], dpi: int = 200, seed: int = 0) -> Scan:
    images: list[Image.Image] = []
    truths: list[str] = []
    codes: list[str] = []
    for i, kind in enumerate(kinds):
        if kind is None:
            images.append(render_blank_page(dpi=dpi, seed=seed + i))
            truths.append("")
            continue
        fields = DocFields.fake(seed + i)
        pages, truth = render_document(kind, fields, dpi=dpi, seed=seed + i)
        images += pages
        truths.append(truth)
        codes.append(fields.ma_ho_so)
    source = write_scan(images, tmp / f"{name}.{fmt}", fmt, dpi=dpi)
    out = tmp / f"{name}-out"
    return Scan(ocr_file(source, out), out, truths, codes)


@pytest.fixture(scope="module")
def scans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Scan]:
    tmp = tmp_path_factory.mktemp("ocr")
    return {
        "png": _ocr(tmp, "don", "png", ["don_de_nghi"], seed=10),
        "jpeg": _ocr(tmp, "bien_nhan", "jpeg", ["bien_nhan"], seed=20),
        "pdf": _ocr(tmp, "ho_so", "pdf", ["quyet_dinh", None, "giay_phep"], seed=30),
        "tiff": _ocr(tmp, "ket_qua", "tiff", ["giay_phep", "bien_nhan"], dpi=300, seed=40),
    }


FORMATS = ["png", "jpeg", "pdf", "tiff"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_text_is_close_to_the_printed_text(scans: dict[str, Scan], fmt: str) -> None:
    scan = scans[fmt]
    pages = scan.result.text.split("\f")
    assert len(pages) == len(scan.truths)
    for number, (got, truth) in enumerate(zip(pages, scan.truths, strict=True), start=1):
        if truth:
            assert cer(got, truth) < MAX_CER, f"page {number}: CER {cer(got, truth):.3f}"


@pytest.mark.parametrize("fmt", FORMATS)
def test_dossier_code_is_found_exactly(scans: dict[str, Scan], fmt: str) -> None:
    text = (scans[fmt].out / "text.txt").read_text(encoding="utf-8")
    for code in scans[fmt].codes:
        assert code in text


@pytest.mark.parametrize("fmt", FORMATS)
def test_text_file_is_nfc_with_pages_separated_by_form_feeds(scans: dict[str, Scan], fmt: str) -> None:
    scan = scans[fmt]
    text = (scan.out / "text.txt").read_text(encoding="utf-8")
    assert text == scan.result.text
    assert unicodedata.is_normalized("NFC", text)
    assert text.count("\f") == len(scan.truths) - 1


@pytest.mark.parametrize("fmt", FORMATS)
def test_pages_json_tells_the_truth(scans: dict[str, Scan], fmt: str) -> None:
    scan = scans[fmt]
    pages = json.loads((scan.out / "pages.json").read_text(encoding="utf-8"))
    expected_dpi = 300 if fmt == "tiff" else 200
    assert [p["number"] for p in pages] == list(range(1, len(scan.truths) + 1))
    assert scan.result.page_count == len(pages)
    for page, truth in zip(pages, scan.truths, strict=True):
        assert page.keys() >= PAGE_KEYS
        assert page["source"] == "ocr"
        assert page["dpi"] == expected_dpi
        assert page["blank"] is (truth == "")
        assert page["rotation"] == 0
        assert abs(page["skew"]) <= 1.2  # the generator turns pages by up to 1 degree
        assert page["seconds"] > 0
        if truth:
            assert 80.0 <= page["confidence"] <= 100.0
        else:
            assert page["confidence"] is None
    assert scan.result.min_dpi == expected_dpi
    assert scan.result.mean_confidence is not None
    assert scan.result.mean_confidence > 80.0


def test_blank_page_reads_as_nothing(scans: dict[str, Scan]) -> None:
    assert scans["pdf"].result.text.split("\f")[1] == ""


@pytest.mark.parametrize("fmt", FORMATS)
def test_searchable_pdf_can_be_searched(scans: dict[str, Scan], fmt: str) -> None:
    import pypdfium2 as pdfium

    scan = scans[fmt]
    doc = pdfium.PdfDocument(scan.out / "searchable.pdf")
    try:
        assert len(doc) == len(scan.truths)
        first = doc[0]
        text = unicodedata.normalize("NFC", first.get_textpage().get_text_range())
        assert "Hạnh phúc" in text
        assert scan.codes[0] in text
        # the page keeps the scan's physical size
        width, height = first.get_size()
        assert width == pytest.approx(8.27 * 72, abs=2)
        assert height == pytest.approx(11.69 * 72, abs=2)
    finally:
        doc.close()


@pytest.mark.parametrize("fmt", FORMATS)
def test_searchable_pdf_text_layer_copies_out_as_text_txt(scans: dict[str, Scan], fmt: str) -> None:
    """The invisible layer holds text.txt's words in text.txt's reading order (whitespace aside), NFC,
    and every word lies on the page."""
    import pdfplumber

    scan = scans[fmt]
    with pdfplumber.open(scan.out / "searchable.pdf") as pdf:
        for page, text in zip(pdf.pages, scan.result.text.split("\f"), strict=True):
            layer = unicodedata.normalize("NFC", page.extract_text(use_text_flow=True) or "")
            assert " ".join(layer.split()) == " ".join(text.split())
            for word in page.extract_words():
                assert 0 <= word["x0"] < word["x1"] <= page.width
                assert 0 <= word["top"] < word["bottom"] <= page.height


def test_searchable_pdf_words_sit_where_they_are_printed(scans: dict[str, Scan]) -> None:
    """The agency (left column) and the motto (right column) share a printed row: in the layer they are
    far apart in reading order, yet side by side on the page, as printed."""
    import pdfplumber

    with pdfplumber.open(scans["pdf"].out / "searchable.pdf") as pdf:
        words = pdf.pages[0].extract_words(use_text_flow=True)
        height = float(pdf.pages[0].height)
    texts = [w["text"] for w in words]
    agency, motto = words[texts.index("UBND")], words[texts.index("CỘNG")]
    assert texts.index("UBND") < texts.index("Số:") < texts.index("CỘNG")  # reading order: left block first
    assert abs(agency["top"] - motto["top"]) < 6  # same printed row (points; the page is skewed < 1 degree)
    assert agency["x1"] < motto["x0"]
    assert agency["top"] < 0.15 * height  # the header is at the top of the page


def test_header_is_read_left_block_first(scans: dict[str, Scan]) -> None:
    lines = scans["pdf"].result.text.split("\f")[0].splitlines()
    number = next(i for i, line in enumerate(lines) if line.startswith("Số:"))
    motto = lines.index("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    assert number < motto


def test_upside_down_page_is_turned_and_read(tmp_path: Path) -> None:
    fields = DocFields.fake(50)
    pages, truth = render_document("quyet_dinh", fields, seed=50)
    turned = pages[0].transpose(Image.Transpose.ROTATE_180)
    source = write_scan([turned], tmp_path / "turned.png", "png", dpi=200)
    result = ocr_file(source, tmp_path / "out")
    assert result.pages[0].rotation == 180
    assert cer(result.text, truth) < MAX_CER


def test_sideways_page_is_turned_and_read(tmp_path: Path) -> None:
    fields = DocFields.fake(51)
    pages, truth = render_document("bien_nhan", fields, seed=51)
    sideways = pages[0].transpose(Image.Transpose.ROTATE_90)  # turned counter-clockwise
    source = write_scan([sideways], tmp_path / "sideways.png", "png", dpi=200)
    result = ocr_file(source, tmp_path / "out")
    assert result.pages[0].rotation == 90
    assert fields.ma_ho_so in result.text
    assert cer(result.text, truth) < MAX_CER


def test_scanned_pdf_page_lying_sideways_keeps_its_scan_and_is_shown_upright(tmp_path: Path) -> None:
    """The scan's own JPEG is embedded as it lies, the page is shown upright (/Rotate), the layer reads right."""
    import pypdfium2 as pdfium

    fields = DocFields.fake(52)
    pages, truth = render_document("bien_nhan", fields, seed=52)
    sideways = pages[0].transpose(Image.Transpose.ROTATE_90)  # turned counter-clockwise
    source = write_scan([sideways], tmp_path / "sideways.pdf", "pdf", dpi=200)
    result = ocr_file(source, tmp_path / "out")
    assert result.pages[0].rotation == 90
    assert cer(result.text, truth) < MAX_CER
    original = pdfium.PdfDocument(source)
    searchable = pdfium.PdfDocument(result.pdf_path)
    try:
        scan = next(iter(original[0].get_objects()))
        page = searchable[0]
        shown = [obj for obj in page.get_objects() if obj.type == pdfium.raw.FPDF_PAGEOBJ_IMAGE]
        assert page.get_rotation() == 90
        width, height = page.get_size()
        assert width < height  # a reader shows the page upright (A4 portrait)
        assert bytes(shown[0].get_data(decode_simple=False)) == bytes(scan.get_data(decode_simple=False))
        layer = page.get_textpage().get_text_range()
        assert " ".join(layer.split()) == " ".join(result.text.split())
    finally:
        searchable.close()
        original.close()


def test_born_digital_pdf_keeps_its_own_text(tmp_path: Path) -> None:
    lines = ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "Mã hồ sơ: 000.00.32.H19-210708-0032"]
    source = _born_digital_pdf(tmp_path / "digital.pdf", lines)
    result = ocr_file(source, tmp_path / "out")
    page = result.pages[0]
    assert (page.source, page.confidence, page.blank) == ("text-layer", 100.0, False)
    assert result.text.splitlines() == lines
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(result.pdf_path)
    assert "000.00.32.H19-210708-0032" in doc[0].get_textpage().get_text_range()
    doc.close()


def test_page_that_times_out_is_empty_with_a_warning(tmp_path: Path) -> None:
    pages, _ = render_document("giay_phep", DocFields.fake(60), seed=60)
    source = write_scan(pages, tmp_path / "slow.png", "png")
    result = ocr_file(source, tmp_path / "out", options=OcrOptions(page_timeout_s=0.01))
    page = result.pages[0]
    assert result.text == ""
    assert page.confidence is None
    assert not page.blank
    assert any("did not finish" in w for w in page.warnings)
    assert result.warnings
    assert result.warnings[0].startswith("page 1: ")
    assert (tmp_path / "out" / "searchable.pdf").is_file()


def test_page_skewed_by_two_degrees_is_straightened_and_read(tmp_path: Path) -> None:
    fields = DocFields.fake(52)
    pages, truth = render_document("quyet_dinh", fields, seed=52)
    # the generator's own skew is within 1 degree; turn by 2 more, filling with the paper's colour
    paper = pages[0].getpixel((10, 10))
    skewed = pages[0].rotate(2.0, resample=Image.Resampling.BICUBIC, fillcolor=paper)
    source = write_scan([skewed], tmp_path / "skewed.png", "png", dpi=200)
    result = ocr_file(source, tmp_path / "out")
    assert 1.0 <= result.pages[0].skew <= 3.0
    assert fields.ma_ho_so in result.text
    assert cer(result.text, truth) < MAX_CER


def test_mixed_pdf_keeps_the_born_digital_page_and_reads_the_scanned_one(tmp_path: Path) -> None:
    import pypdfium2 as pdfium

    lines = [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Tờ trình số 12/TTr-UBND về việc số hóa hồ sơ",
    ]
    digital = _born_digital_pdf(tmp_path / "digital.pdf", lines)
    fields = DocFields.fake(53)
    pages, truth = render_document("giay_phep", fields, seed=53)
    scanned = write_scan(pages, tmp_path / "scanned.pdf", "pdf", dpi=200)
    mixed = pdfium.PdfDocument.new()
    for part in (digital, scanned):
        src = pdfium.PdfDocument(part)
        mixed.import_pages(src)
        src.close()
    mixed.save(tmp_path / "mixed.pdf")
    mixed.close()
    result = ocr_file(tmp_path / "mixed.pdf", tmp_path / "out")
    assert [p.source for p in result.pages] == ["text-layer", "ocr"]
    first, second = result.text.split("\f")
    assert first.splitlines() == lines
    assert fields.ma_ho_so in second
    assert cer(second, truth) < MAX_CER
    assert result.pages[1].dpi == 200
    assert result.pages[0].dpi is None


def test_phone_photo_of_a_sheet_is_straightened_and_read(tmp_path: Path) -> None:
    import numpy as np

    fields = DocFields.fake(54)
    pages, truth = render_document("bien_nhan", fields, seed=54)
    page = pages[0]
    w, h = page.size
    size = (w + 200, h + 240)
    corners = [(150, 120), (w + 40, 160), (w + 110, h + 170), (90, h + 120)]  # a keystone, as held by hand
    rows, rhs = [], []
    for (x, y), (u, v) in zip(corners, [(0, 0), (w, 0), (w, h), (0, h)], strict=True):
        rows += [[x, y, 1, 0, 0, 0, -u * x, -u * y], [0, 0, 0, x, y, 1, -v * x, -v * y]]
        rhs += [u, v]
    coefficients = tuple(float(c) for c in np.linalg.solve(np.asarray(rows, float), np.asarray(rhs, float)))
    warped = page.transform(size, Image.Transform.PERSPECTIVE, coefficients, resample=Image.Resampling.BILINEAR)
    mask = Image.new("L", size, 0)
    from PIL import ImageDraw

    ImageDraw.Draw(mask).polygon(corners, fill=255)
    photo = Image.new("RGB", size, (84, 64, 50))  # a wooden desk
    photo.paste(warped, (0, 0), mask)
    source = write_scan([photo], tmp_path / "photo.jpg", "jpeg", dpi=200)
    result = ocr_file(source, tmp_path / "out")
    assert fields.ma_ho_so in result.text
    assert cer(result.text, truth) < MAX_CER


def test_tesseract_runs_once_per_page_single_threaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pytesseract starts one Tesseract per page, asked for the words only (the searchable PDF's text
    layer is sohoa's own), with ``OMP_THREAD_LIMIT=1`` even when the caller's environment asks for more
    threads."""
    import pytesseract

    calls = tmp_path / "calls.log"
    wrapper = tmp_path / "tesseract"
    real = shutil.which("tesseract")
    wrapper.write_text(f'#!/bin/sh\necho "$OMP_THREAD_LIMIT $*" >> {calls}\nexec {real} "$@"\n', encoding="utf-8")
    wrapper.chmod(0o755)
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", str(wrapper))
    monkeypatch.setenv("OMP_THREAD_LIMIT", "4")
    fields = DocFields.fake(55)
    images = [
        render_document(kind, DocFields.fake(55 + i), seed=55 + i)[0][0]
        for i, kind in enumerate(["don_de_nghi", "giay_phep"])
    ]
    source = write_scan(images, tmp_path / "two.tiff", "tiff", dpi=200)
    result = ocr_file(source, tmp_path / "out", options=OcrOptions(rotate=False))
    recognitions = [line for line in calls.read_text(encoding="utf-8").splitlines() if "--psm 3" in line]
    assert len(recognitions) == 2  # one Tesseract run per page
    for line in recognitions:
        assert line.startswith("1 ")  # OMP_THREAD_LIMIT=1 reached the child
        assert "tessedit_create_tsv=1" in line
        assert "textonly_pdf" not in line
        assert not line.endswith(" pdf")  # no text-only PDF: Tesseract would spend time writing it for nothing
    assert DocFields.fake(56).ma_ho_so in result.text.split("\f")[1]
    assert fields.ma_ho_so in result.text.split("\f")[0]
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(result.pdf_path)
    try:
        assert DocFields.fake(56).ma_ho_so in doc[1].get_textpage().get_text_range()
    finally:
        doc.close()


def test_pdfa_option_writes_a_validated_pdfa_2b_that_is_still_searchable(tmp_path: Path) -> None:
    import pikepdf
    import pikepdf.pdfa
    import pypdfium2 as pdfium

    fields = DocFields.fake(57)
    pages, _ = render_document("don_de_nghi", fields, seed=57)
    source = write_scan(pages + [render_blank_page(seed=58)], tmp_path / "archive.pdf", "pdf", dpi=200)
    result = ocr_file(source, tmp_path / "out", options=OcrOptions(pdfa=True))
    assert result.warnings == ()
    report = pikepdf.pdfa.validate_written(result.pdf_path, "2b")
    assert report.verdict == "pass", report.findings
    with pikepdf.open(result.pdf_path) as pdf:
        assert pdf.open_metadata().pdfa_status == "2B"
        assert len(pdf.pages) == 2
    doc = pdfium.PdfDocument(result.pdf_path)
    try:
        assert fields.ma_ho_so in doc[0].get_textpage().get_text_range()
    finally:
        doc.close()


def test_default_searchable_pdf_is_not_claimed_to_be_pdfa(scans: dict[str, Scan]) -> None:
    import pikepdf

    with pikepdf.open(scans["png"].result.pdf_path) as pdf:
        assert pdf.open_metadata().pdfa_status == ""


def test_corrupt_file_writes_nothing(tmp_path: Path) -> None:
    source = tmp_path / "broken.pdf"
    source.write_bytes(b"%PDF-1.4\n" + bytes(1000) + b"\n%%EOF\n")
    with pytest.raises(CorruptDocument, match=r"^broken\.pdf: "):
        ocr_file(source, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_missing_language_says_how_to_install() -> None:
    with pytest.raises(MissingDependency, match="apt-get install tesseract-ocr tesseract-ocr-vie"):
        check_installed("khm")


def _born_digital_pdf(path: Path, lines: list[str]) -> Path:
    """A PDF with real (visible, embedded-font) text, written with PDFium's page-object API."""
    import ctypes

    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    doc = pdfium.PdfDocument.new()
    page = doc.new_page(595, 842)
    font_bytes = Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf").read_bytes()
    font_buffer = (ctypes.c_uint8 * len(font_bytes)).from_buffer_copy(font_bytes)
    font = pdfium_c.FPDFText_LoadFont(doc, font_buffer, len(font_bytes), pdfium_c.FPDF_FONT_TRUETYPE, True)
    for i, line in enumerate(lines):
        obj = pdfium_c.FPDFPageObj_CreateTextObj(doc, font, 12.0)
        text = ctypes.create_string_buffer((line + "\0").encode("utf-16-le"))
        pdfium_c.FPDFText_SetText(obj, ctypes.cast(text, ctypes.POINTER(pdfium_c.FPDF_WCHAR)))
        pdfium_c.FPDFPageObj_Transform(obj, 1, 0, 0, 1, 72, 780 - 18 * i)
        pdfium_c.FPDFPage_InsertObject(page, obj)
    pdfium_c.FPDFPage_GenerateContent(page)
    doc.save(path)
    doc.close()
    return path
