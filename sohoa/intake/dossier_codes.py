"""Find the dossier code (``MaHoSo``) printed on a scan: in a QR code or barcode, or in its OCR text.

One-stop receipts (giấy tiếp nhận hồ sơ và hẹn trả kết quả) and cover sheets carry the dossier code as a QR code
or a Code 128 barcode, often inside a URL of the portal that issued them; the code is also printed as text. A
barcode is read exactly or not at all, so it is trusted over OCR text, which can misread a digit.

Barcodes are read with zxing-cpp (a maintained C++ port of ZXing with Python bindings: QR, Data Matrix, PDF417,
Code 128/39 in one call, robust to rotation) on the first page only, which is where receipts and cover sheets put
them; later pages would cost rasterisation time for no gain. Only the formats of ``SOHOA_BARCODE_FORMATS`` are
searched (QR codes and linear barcodes by default).
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

from ocr import OcrOptions
from ocr.rasterise import scanned_page
from sohoa.config import DEFAULT_BARCODE_FORMATS
from sohoa.records.codes import DOSSIER_CODE, is_valid_dossier_code

log = logging.getLogger(__name__)

# Letters OCR confuses with digits inside the numeric groups of a code (O/0, l/1...). Only the numeric
# positions are repaired; the agency letter (position 10) is kept as read.
_DIGIT_LOOKALIKES = str.maketrans({"O": "0", "o": "0", "D": "0", "l": "1", "I": "1", "|": "1", "S": "5", "B": "8"})


def codes_in(text: str) -> list[str]:
    """Valid dossier codes in a text (a barcode's payload or a page's OCR text), in order, without repeats."""
    return list(dict.fromkeys(_occurrences(text)))


def _occurrences(text: str) -> list[str]:
    """Every valid dossier code in a text, repeats included."""
    return [m.group(0) for m in DOSSIER_CODE.finditer(text) if is_valid_dossier_code(m.group(0))]


# The default formats (DEFAULT_BARCODE_FORMATS, in sohoa.config beside the setting) are what one-stop receipts
# and cover sheets print: QR codes (the national portal's receipts) and linear barcodes (Code 128 and kin). Most
# pages carry no code at all, and on those zxing-cpp searches for every format it is given, in four orientations:
# on the end-to-end benchmark's first pages, 0.034 s of CPU a page for these against 0.154 s for every format
# (Data Matrix alone 0.082 s: its detector is the costliest, and turns with the page), with the same QR and
# Code 128 codes read on turned, skewed, noisy and photographed pages.
def codes_on_barcodes(path: Path, mime_type: str, *, formats: str = DEFAULT_BARCODE_FORMATS) -> list[str]:
    """Dossier codes carried by QR codes or barcodes of ``formats`` (zxing-cpp's names, comma-separated) on the
    first page of a stored file.

    Returns an empty list when the page has none or cannot be rendered: the OCR text is the fallback, and a
    file that cannot be rendered is reported by the OCR stage, not here. A scanned PDF page is decoded from
    its own JPEG, as the OCR engine does (:func:`ocr.rasterise.scanned_page`): 0.02-0.08 s less CPU per file
    than PDFium's rendering on the benchmark's pages, for the same pixels.

    zxing-cpp's defaults are kept, ``try_invert`` included: light-on-dark codes (a receipt's QR photographed
    from a phone in dark mode) are read. Turning it off takes about a quarter off zxing-cpp's time (0.01-0.04 s
    a page here, ~1.5 s of wall time for 100 documents on 2 cores), not worth losing those codes
    (tests/unit/platform/test_barcode_pass.py reads one).
    """
    import zxingcpp

    try:
        raster = scanned_page(path, mime_type, 0, OcrOptions())
    except Exception as exc:  # noqa: BLE001 - a page that will not render has no readable barcode
        log.info("barcode scan skipped: first page did not render (%s)", type(exc).__name__)
        return []
    image = raster.image.convert("L")
    codes: dict[str, None] = {}
    for barcode in zxingcpp.read_barcodes(image, formats=zxingcpp.barcode_formats_from_str(formats)):
        for code in codes_in(barcode.text):
            codes.setdefault(code, None)
    return list(codes)


def code_counts(ocr_text: str) -> dict[str, int]:
    """How many times the text names each dossier code (digit look-alikes repaired): what is kept per original."""
    return dict(Counter(_occurrences(_repair_lookalikes(ocr_text))))


def code_in_ocr_text(text: str, known: set[str] | None = None) -> str | None:
    """The one dossier code a scan's OCR text names, or ``None`` when it names none or several.

    Candidates include near-misses with digit look-alikes repaired. When ``known`` (codes of dossiers on record)
    is given, a candidate on record wins over one that is not; between several candidates on record, or several
    not on record, the most frequent wins only if it is strictly the most frequent (a receipt prints its code
    more than once); otherwise the scan stays for a person to assign.
    """
    return pick_code(code_counts(text), known)


def pick_code(counts: dict[str, int], known: set[str] | None = None) -> str | None:
    """The rule of :func:`code_in_ocr_text` over counts already taken from a text."""
    found = Counter(counts)
    if not found:
        return None
    if known is not None:
        on_record = Counter({c: n for c, n in found.items() if c in known})
        if on_record:
            found = on_record
    ranked = found.most_common(2)
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        return None
    return ranked[0][0]


def _repair_lookalikes(text: str) -> str:
    """The text with digit look-alikes replaced inside tokens shaped like a dossier code."""
    out = []
    for token in text.split():
        if len(token) >= 25 and token.count("-") == 2 and token.count(".") >= 3:
            head, sep, rest = token.partition("-")
            # ddd.dd.dd.Ldd: repair all but the letter at index 10.
            fixed_head = head[:10].translate(_DIGIT_LOOKALIKES) + head[10:11] + head[11:].translate(_DIGIT_LOOKALIKES)
            token = fixed_head + sep + rest.translate(_DIGIT_LOOKALIKES)
        out.append(token)
    return " ".join(out)
