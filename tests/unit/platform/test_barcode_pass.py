"""The barcode pass on page 1 at intake (sohoa.intake.dossier_codes.codes_on_barcodes): a scanned PDF page is
decoded from its own JPEG, as the OCR engine does, and what zxing-cpp reads is unchanged (no services)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from ocr import OcrOptions, rasterise
from sohoa.intake.dossier_codes import codes_on_barcodes
from sohoa.sample.barcodes import with_qr
from sohoa.sample.documents import render_blank_page

CODE = "000.00.32.H19-260105-0002"
PDF = "application/pdf"


def _jpeg_pdf(image: Image.Image, path: Path, *, dpi: int = 200, rotate: int = 0) -> Path:
    """A scanner's PDF: one page that is one JPEG covering it (what ocr.rasterise.pdf_page_jpeg recognises)."""
    import pypdfium2 as pdfium

    data = io.BytesIO()
    image.convert("RGB").save(data, "JPEG", quality=92, dpi=(dpi, dpi))
    w_pt, h_pt = image.width / dpi * 72, image.height / dpi * 72
    pdf = pdfium.PdfDocument.new()
    try:
        page = pdf.new_page(w_pt, h_pt)
        jpeg = pdfium.PdfImage.new(pdf)
        jpeg.load_jpeg(io.BytesIO(data.getvalue()), pages=[page], inline=False, autoclose=True)
        jpeg.set_matrix(pdfium.PdfMatrix().scale(w_pt, h_pt))
        page.insert_obj(jpeg)
        page.gen_content()
        if rotate:
            page.set_rotation(rotate)
        page.close()
        pdf.save(path)
    finally:
        pdf.close()
    return path


@pytest.fixture
def receipt() -> Image.Image:
    return with_qr(render_blank_page(seed=4), CODE, dpi=200)


def test_a_scanned_pdf_page_is_read_from_its_jpeg_without_pdfium(
    tmp_path: Path, receipt: Image.Image, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _jpeg_pdf(receipt, tmp_path / "receipt.pdf")
    rendered = rasterise.load_page(path, PDF, 0, OcrOptions())
    decoded = rasterise.scanned_page(path, PDF, 0, OcrOptions())
    # The scan's own pixels at the scan's resolution, which PDFium renders too, but resampled when the page's
    # size in points rounds to a pixel more (1655 px for a 1654 px JPEG here): a shift of a fraction of a pixel.
    assert (decoded.dpi, decoded.scan_dpi) == (rendered.dpi, 200)
    assert decoded.image.size == receipt.size
    assert all(abs(a - b) <= 1 for a, b in zip(decoded.image.size, rendered.image.size, strict=True))
    box = (0, 0, *(min(a, b) for a, b in zip(decoded.image.size, rendered.image.size, strict=True)))
    diff = np.abs(np.asarray(decoded.image.crop(box), np.int16) - np.asarray(rendered.image.crop(box), np.int16))
    assert float(diff.mean()) < 4.0

    def no_pdfium(*_a: object, **_k: object) -> None:
        raise AssertionError("the page was rendered with PDFium")

    monkeypatch.setattr(rasterise, "load_page", no_pdfium)
    assert codes_on_barcodes(path, PDF) == [CODE]


def test_a_pdf_page_that_is_not_a_plain_jpeg_is_still_rendered(tmp_path: Path, receipt: Image.Image) -> None:
    path = _jpeg_pdf(receipt, tmp_path / "turned.pdf", rotate=90)  # a turned page: PDFium shows it turned
    assert rasterise.pdf_page_jpeg(path, 0) is None
    assert codes_on_barcodes(path, PDF) == [CODE]


def test_a_light_on_dark_code_is_read(tmp_path: Path) -> None:
    """zxing-cpp's try_invert stays on (a deliberate choice, docs/intake.md): a receipt's QR code shown in dark
    mode on a phone and photographed, or a negative scan, still links the document."""
    negative = ImageOps.invert(with_qr(render_blank_page(seed=5), CODE, dpi=200).convert("L"))
    path = _jpeg_pdf(negative, tmp_path / "negative.pdf")
    assert codes_on_barcodes(path, PDF) == [CODE]


def test_a_page_without_a_code_reads_nothing(tmp_path: Path) -> None:
    path = _jpeg_pdf(render_blank_page(seed=6), tmp_path / "blank.pdf")
    assert codes_on_barcodes(path, PDF) == []


def _with_symbol(page: Image.Image, payload: str, fmt: str, *, width_cm: float, height_cm: float) -> Image.Image:
    """``page`` with a barcode of zxing-cpp format ``fmt`` pasted near its top-right corner (200 dpi)."""
    import zxingcpp

    symbol = zxingcpp.create_barcode(payload, zxingcpp.barcode_format_from_str(fmt))
    modules = Image.fromarray(symbol.to_image(scale=1)).convert("L")
    size = (round(width_cm / 2.54 * 200), round(height_cm / 2.54 * 200))
    out = page.copy()
    out.paste(modules.resize(size, Image.Resampling.NEAREST).convert(page.mode), (out.width - size[0] - 80, 80))
    return out


def test_a_code_128_on_a_page_scanned_sideways_is_read(tmp_path: Path) -> None:
    """The default formats (QR and linear codes) are still searched in every orientation: a receipt's Code 128
    on a page fed into the scanner sideways is read."""
    page = _with_symbol(render_blank_page(seed=7), CODE, "Code128", width_cm=10, height_cm=1.2)
    path = _jpeg_pdf(page.transpose(Image.Transpose.ROTATE_90), tmp_path / "sideways.pdf")
    assert codes_on_barcodes(path, PDF) == [CODE]


def test_a_data_matrix_is_read_only_when_the_setting_names_it(tmp_path: Path) -> None:
    """Data Matrix is not among the default formats (it would make the pass about four times as costly on every
    page without a code); a province whose cover sheets use it adds it to SOHOA_BARCODE_FORMATS."""
    from sohoa.config import DEFAULT_BARCODE_FORMATS

    page = _with_symbol(render_blank_page(seed=8), CODE, "DataMatrix", width_cm=1.5, height_cm=1.5)
    path = _jpeg_pdf(page, tmp_path / "cover.pdf")
    assert codes_on_barcodes(path, PDF) == []
    assert codes_on_barcodes(path, PDF, formats=DEFAULT_BARCODE_FORMATS + ",DataMatrix") == [CODE]
