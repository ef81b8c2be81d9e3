"""Use a born-digital PDF page's own text instead of recognising it.

A page has a *real* text layer when its visible text objects hold at least ``min_text_layer_chars``
non-space characters. Text drawn in invisible render mode (mode 3: what OCR tools lay over a scanned
image) does not count: such a page is recognised again, so every scanned page goes through the same
engine and gets a confidence.

The text is read with pdfplumber using the content stream's own order (``use_text_flow=True``): its
default clustering scrambles the text layers of skewed scans. Text is Unicode NFC, one line per printed
line. These pages report a confidence of 100.0 (the text is the document's own, not a guess).
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

_INVISIBLE = 3  # PDF text render mode "neither fill nor stroke"


def visible_text_chars(page: Any) -> int:
    """Non-space characters of a pdfium page drawn by visible text objects (forms included)."""
    import pypdfium2.raw as pdfium_c

    textpage = page.get_textpage()
    try:
        count = 0
        for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_TEXT], textpage=textpage):
            if pdfium_c.FPDFTextObj_GetTextRenderMode(obj.raw) == _INVISIBLE:
                continue
            try:
                text = obj.extract()
            except Exception:  # pdfium cannot map some fonts to Unicode: those chars are not usable text
                continue
            count += sum(1 for ch in text if not ch.isspace())
        return count
    finally:
        textpage.close()


def read_text_layer(path: Path, index: int, min_chars: int) -> tuple[list[str] | None, str | None]:
    """Lines of page ``index`` (0-based) if it has a real text layer, else ``None`` (recognise it).

    Returns:
        The lines (or ``None``) and a warning when a text layer exists but could not be read.
    """
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(path)
    try:
        page = doc[index]
        try:
            visible = visible_text_chars(page)
        finally:
            page.close()
    finally:
        doc.close()
    if visible < min_chars:
        return None, None
    import pdfplumber

    try:
        with pdfplumber.open(path, pages=[index + 1]) as pdf:
            text = pdf.pages[0].extract_text(use_text_flow=True) or ""
    except Exception as exc:  # pdfminer fails on some files pdfium reads: fall back to recognition
        return None, f"text layer unreadable ({type(exc).__name__}); page recognised instead"
    lines = [" ".join(unicodedata.normalize("NFC", line).split()) for line in text.splitlines()]
    return [line for line in lines if line], None
