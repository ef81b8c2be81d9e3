"""Build the searchable PDF: each page's image with the recognised text invisible on top of it.

A recognised page is rebuilt from two parts: the page image (the scan as it was, only turned upright by
quarter turns if it lay sideways; a JPEG original is embedded byte for byte, anything else is
JPEG-compressed) and Tesseract's text-only PDF page (the words in invisible render mode), laid over the
image as a form XObject and turned back by the deskew angle so each word sits on its printed place. A
born-digital page that kept its own text layer is copied unchanged from the original PDF.

Each page is written as its own small PDF by the worker that recognised it, and :func:`merge` joins
them in order at the end, so no process holds a whole document's pages in memory.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

_JPEG_QUALITY = 75


@dataclass(frozen=True)
class PagePart:
    """Where page ``index`` of the searchable PDF comes from: a one-page PDF, or the original's page."""

    pdf_path: Path
    index: int = 0


def write_page(
    path: Path,
    display: Image.Image,
    dpi: int,
    text_pdf: bytes | None,
    *,
    skew: float = 0.0,
    jpeg: Path | bytes | None = None,
) -> None:
    """Write a one-page PDF: the page image with the text layer ``text_pdf`` (if any) over it.

    Args:
        path: where to write.
        display: the page as scanned (upright; its size and ``dpi`` give the page size).
        dpi: resolution of ``display``.
        text_pdf: Tesseract's text-only page, read from ``display`` turned by ``-skew``.
        skew: degrees the text was deskewed by; the text layer is turned back by as much, so the scan is
            shown untouched (no resampling) and the words still sit on their printed place.
        jpeg: a JPEG file (or its bytes) holding exactly ``display``, embedded as is instead of
            re-encoding; ``display`` then only gives the size.
    """
    import pypdfium2 as pdfium

    width_pt = display.width / dpi * 72
    height_pt = display.height / dpi * 72
    out = pdfium.PdfDocument.new()
    try:
        page = out.new_page(width_pt, height_pt)
        image = pdfium.PdfImage.new(out)
        if jpeg is not None:
            image.load_jpeg(io.BytesIO(jpeg) if isinstance(jpeg, bytes) else jpeg, pages=[page], inline=False,
                            autoclose=True)
        else:
            buffer = io.BytesIO()
            display.convert("L" if display.mode == "L" else "RGB").save(
                buffer, "JPEG", quality=_JPEG_QUALITY, dpi=(dpi, dpi)
            )
            buffer.seek(0)
            image.load_jpeg(buffer, pages=[page], inline=False, autoclose=True)
        image.set_matrix(pdfium.PdfMatrix().scale(width_pt, height_pt))
        page.insert_obj(image)
        if text_pdf:
            page.insert_obj(_text_layer(out, text_pdf, width_pt, height_pt, skew))
        page.gen_content()
        page.close()
        out.save(path)
    finally:
        out.close()


def _text_layer(out: Any, text_pdf: bytes, width_pt: float, height_pt: float, skew: float) -> Any:
    """Tesseract's text page as a form object of ``out``, fitted and turned onto the scan."""
    import pypdfium2 as pdfium

    text_doc = pdfium.PdfDocument(text_pdf)
    try:
        text_page = text_doc[0]
        tw, th = text_page.get_size()
        text_page.close()
        layer = text_doc.page_as_xobject(0, out).as_pageobject()
    finally:
        text_doc.close()
    cx, cy = width_pt / 2, height_pt / 2
    # Same size as the scan up to rounding; then turn counter-clockwise by the skew about the centre
    # (the page was turned clockwise by it to be read).
    matrix = (
        pdfium.PdfMatrix()
        .scale(width_pt / tw, height_pt / th)
        .translate(-cx, -cy)
        .rotate(skew, ccw=True)
        .translate(cx, cy)
    )
    layer.transform(matrix)
    return layer


def merge(parts: Sequence[PagePart], destination: Path) -> None:
    """Join the pages in order into ``destination`` (written whole, then renamed into place)."""
    import pypdfium2 as pdfium

    out = pdfium.PdfDocument.new()
    opened: dict[Path, pdfium.PdfDocument] = {}
    try:
        for part in parts:
            src = opened.get(part.pdf_path)
            if src is None:
                src = opened[part.pdf_path] = pdfium.PdfDocument(part.pdf_path)
            out.import_pages(src, [part.index])
            if part.index == 0 and len(src) == 1:
                src.close()
                del opened[part.pdf_path]
        partial = destination.with_name(destination.name + ".part")
        out.save(partial)
        partial.replace(destination)
    finally:
        for src in opened.values():
            src.close()
        out.close()


def convert_to_pdfa(path: Path) -> str | None:
    """Turn the searchable PDF at ``path`` into PDF/A-2b in place, or say why it could not be.

    pikepdf's PDF/A module adds what the standard asks for (an sRGB output intent, XMP metadata with the
    PDF/A identification, document IDs), writes the file and validates the bytes it wrote with its
    allowlist validator; only a file that passes replaces the original. A page image is never
    re-encoded, so this costs one extra parse and write of the PDF and runs only when asked for.

    Returns:
        ``None`` on success; otherwise a one-line reason (the rule numbers the validator reported; never
        document text), and ``path`` is left as the plain searchable PDF.
    """
    import pikepdf
    import pikepdf.pdfa

    converted = path.with_name(path.name + ".pdfa")
    try:
        with pikepdf.open(path) as pdf:
            pikepdf.pdfa.save(pdf, converted, "2b")
    except pikepdf.pdfa.PdfaError as exc:
        converted.unlink(missing_ok=True)
        rules = sorted({str(f.rule) for f in exc.report.findings})
        return f"PDF/A-2b could not be produced (validator rules: {', '.join(rules[:5]) or 'unknown'})"
    converted.replace(path)
    return None
