"""The hostile-input corpus: bad and odd files of the kinds that reach a landing bucket, each with its fate.

Used by the reliability tests (``tests/integration/test_hostile_documents.py``, the e2e run) and by
``bench/hostile_bench.py``. Every kind is built from code (nothing binary is committed), small on disk even
when it describes something huge, and goes through the real intake path. Its expected fate is part of the
table:

- ``quarantined``: kept in the quarantine bucket, explained in ``quality.issues`` with ``rule`` and a message
  naming the file and the reason;
- ``stored``: it is a readable document after all (a PDF with a form or JavaScript, a file with the wrong
  extension, a polyglot whose PDF reads fine): stored in the raw bucket and OCR'd; ``rule`` is then a
  warning it must get, or ``None``.

Decisions per kind are in the ``why`` column and in docs/intake.md ("Hostile input").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from sohoa.sample import hostile_images as img
from sohoa.sample import hostile_pdf as pdf
from sohoa.sample.hostile_pdf import A4_PAGE, CATALOGUE, ONE_PAGE, minimal_pdf

__all__ = ["A4_PAGE", "CATALOGUE", "KINDS", "ONE_PAGE", "HostileFile", "by_name", "minimal_pdf"]

Fate = Literal["quarantined", "stored"]


@dataclass(frozen=True)
class HostileFile:
    """One kind of hostile input.

    Attributes:
        name: the file name as uploaded (its extension may lie).
        rule: the quality rule sohoa must record (an error when quarantined; a warning or ``None`` when stored).
        make: builds the file's bytes.
        fate: ``quarantined`` or ``stored``.
        why: what the kind is and why that fate.
        key: the landing key when the kind is about the key itself; ``{code}`` is the dossier code.
        stage: where it is decided: ``intake`` (triage, before storing) or ``ocr`` (page decoding).
        store_refuses: the key cannot be written to the S3 store here (the ``minio`` SDK refuses ``.`` and
            ``..`` segments; nanio refuses control characters and empty segments); other S3 stores accept
            such keys, so sohoa refuses them itself (tested on the classification, tests/unit).
    """

    name: str
    rule: str | None
    make: Callable[[], bytes]
    fate: Fate = "quarantined"
    why: str = ""
    key: str | None = None
    stage: Literal["intake", "ocr"] = "intake"
    store_refuses: bool = False

    def landing_key(self, code: str) -> str:
        """Where the corpus puts this kind in the landing bucket, for dossier ``code``."""
        return self.key.format(code=code) if self.key is not None else f"scans/{code}/{self.name}"


def _png() -> bytes:
    return img.encoded(img.text_image(), "PNG", dpi=(200, 200))


_LONG_FOLDERS = "scans/{code}/" + "thu-muc-con-rat-dai-cua-phong-mot-cua/" * 25 + "don.png"

KINDS: tuple[HostileFile, ...] = (
    # Empty, truncated, damaged.
    HostileFile("zero-bytes.pdf", "document.empty", lambda: b"", why="nothing to keep but the fact"),
    HostileFile("zero-pages.pdf", "document.empty", pdf.zero_pages_pdf, why="a page tree without pages"),
    HostileFile("truncated.pdf", "document.unreadable", pdf.truncated_pdf, why="no %%EOF: ask for a re-upload"),
    HostileFile("header-only.pdf", "document.unreadable", pdf.header_only_pdf, why="a header and nothing else"),
    HostileFile("garbage-body.pdf", "document.unreadable", pdf.garbage_body_pdf, why="random bytes between markers"),
    HostileFile(
        "no-xref.pdf",
        None,
        pdf.no_xref_pdf,
        "stored",
        "no cross-reference table: PDFium rebuilds it from the objects, as every reader does",
    ),
    HostileFile(
        "broken-xref.pdf",
        None,
        pdf.broken_xref_pdf,
        "stored",
        "every xref offset wrong: rebuilt from the objects, the page reads",
    ),
    HostileFile("xref-loop.pdf", None, pdf.xref_loop_pdf, "stored", "a /Prev chain that loops on itself"),
    HostileFile("truncated.png", "document.unreadable", img.truncated_png, why="an interrupted upload", stage="ocr"),
    HostileFile("bad-crc.png", "document.unreadable", img.png_bad_crc, why="header checksum wrong"),
    HostileFile("header-only.png", "document.unreadable", img.png_header_only, why="IHDR, no image data", stage="ocr"),
    HostileFile("truncated.jpg", "document.unreadable", img.truncated_jpeg, why="a third of a JPEG", stage="ocr"),
    HostileFile("markers-only.jpg", "document.unreadable", img.jpeg_markers_only, why="SOI then EOI, no frame"),
    HostileFile("header-only.tif", "document.unreadable", lambda: b"II*\x00", why="TIFF magic, no IFD offset"),
    HostileFile(
        "ifd-beyond-eof.tif",
        "document.unreadable",
        img.tiff_ifd_beyond_eof,
        why="the first IFD offset points past the end of the file",
    ),
    HostileFile(
        "ifd-loop.tif",
        "document.blank_page",
        lambda: img.tiff_file(64, 64, loop=True),
        "stored",
        "the IFD chain points back at itself: Pillow stops at the loop and reads the one (plain) page",
    ),
    HostileFile(
        "strip-beyond-eof.tif",
        "document.unreadable",
        lambda: img.tiff_file(800, 1000, pixels=b"", strip_offset=0x7FFFFF00),
        why="the image data is said to be 2 GB into a 200-byte file",
        stage="ocr",
    ),
    HostileFile(
        "zero-size.tif", "document.unreadable", lambda: img.tiff_file(0, 0, pixels=b""), why="an image of 0 x 0 pixels"
    ),
    HostileFile(
        "bigtiff-header.tif",
        "document.unreadable",
        lambda: b"II+\x00\x08\x00\x00\x00" + b"\xff" * 8,
        why="BigTIFF magic, first IFD nowhere",
    ),
    # Passwords.
    HostileFile("encrypted-rc4.pdf", "document.encrypted", pdf.encrypted_rc4_pdf, why="user password (RC4, R2)"),
    HostileFile(
        "encrypted-aes256.pdf", "document.encrypted", pdf.encrypted_aes256_pdf, why="user password (AES-256, R6)"
    ),
    HostileFile(
        "owner-password-only.pdf",
        None,
        pdf.owner_password_only_pdf,
        "stored",
        "only an owner password (no printing): every reader opens it without asking",
    ),
    # Not a document type of the contract, whatever the name says.
    HostileFile(
        "page.pdf",
        "document.unsupported_type",
        lambda: b"<!DOCTYPE html><html><body><script>alert(1)</script>Trang 1</body></html>",
        why="an HTML page saved under a PDF name",
    ),
    HostileFile(
        "don.docx.pdf",
        "document.unsupported_type",
        lambda: b"PK\x03\x04\x14\x00\x06\x00word/document.xml",
        why="a Word file renamed",
    ),
    HostileFile("scan.gif", "document.unsupported_type", lambda: img.other_image("GIF"), why="GIF"),
    HostileFile("scan.bmp", "document.unsupported_type", lambda: img.other_image("BMP"), why="BMP"),
    HostileFile("scan.webp", "document.unsupported_type", lambda: img.other_image("WEBP"), why="WebP"),
    HostileFile("logo.svg.png", "document.unsupported_type", lambda: img.SVG_WITH_SCRIPT, why="SVG with a script"),
    HostileFile("setup.pdf", "document.unsupported_type", img.windows_executable, why="a Windows program"),
    HostileFile(
        "archive.pdf",
        "document.unsupported_type",
        img.zip_bomb,
        why="a ZIP bomb (500 MB unpacked): refused from its first bytes, never unpacked",
    ),
    HostileFile("scan.pdf.gz", "document.unsupported_type", pdf.gzipped_pdf, why="a gzip-compressed PDF"),
    # Polyglots and wrong extensions.
    HostileFile(
        "polyglot-pdf-zip.pdf",
        None,
        pdf.pdf_zip_polyglot,
        "stored",
        "a valid PDF with a ZIP appended: kept byte for byte in the raw bucket and typed application/pdf; "
        "the searchable PDF is rebuilt from pixels, so the payload goes no further",
    ),
    HostileFile(
        "polyglot-html-pdf.html",
        None,
        pdf.html_pdf_polyglot,
        "stored",
        "HTML around a PDF that starts in the first kilobyte: readers show the PDF, so it is one; typed "
        "application/pdf, never served as HTML",
    ),
    HostileFile(
        "polyglot-jpeg-html.jpg",
        None,
        img.jpeg_html_polyglot,
        "stored",
        "a valid JPEG with an HTML comment segment: the pixels are the document; typed image/jpeg",
    ),
    HostileFile("scan-really-png.pdf", None, _png, "stored", "a PNG named .pdf: the bytes decide the type"),
    HostileFile("scan-really-pdf.jpg", None, pdf.text_page_pdf, "stored", "a PDF named .jpg"),
    HostileFile(
        "junk-before-header.pdf",
        None,
        pdf.junk_before_header_pdf,
        "stored",
        "500 bytes of scanner junk before %PDF- (allowed within the first kilobyte, as readers do)",
    ),
    # Bombs and sizes.
    HostileFile("bomb.png", "document.too_large", img.png_bomb, why="13,000 x 13,000 px (169 MP) in 250 kB"),
    HostileFile(
        "huge-dimensions.jpg",
        "document.too_large",
        img.jpeg_huge_dimensions,
        why="a JPEG frame header claiming 65,500 x 65,500 px",
    ),
    HostileFile(
        "huge-dimensions.tif",
        "document.too_large",
        lambda: img.tiff_file(100_000, 100_000, pixels=b"x"),
        why="a TIFF claiming 100,000 x 100,000 px",
    ),
    HostileFile("2001-pages.tif", "document.too_large", img.tiff_many_frames, why="over the 2,000-page limit"),
    HostileFile("2001-pages.pdf", "document.too_large", pdf.many_pages_pdf, why="over the 2,000-page limit"),
    HostileFile(
        "lying-page-count.pdf",
        "document.blank_page",
        pdf.lying_page_count_pdf,
        "stored",
        "/Count says ten million pages, the tree holds one (empty) page: PDFium counts the real pages",
    ),
    HostileFile(
        "huge-mediabox.pdf",
        "document.too_large",
        pdf.huge_mediabox_pdf,
        why="a 200 x 200 inch page: 3,600 MP at 300 dpi",
    ),
    HostileFile(
        "absurd-mediabox.pdf",
        "document.blank_page",
        pdf.absurd_mediabox_pdf,
        "stored",
        "a MediaBox of 1e30 points: PDFium falls back to a default page size, which is empty",
    ),
    HostileFile(
        "empty-mediabox.pdf",
        "document.blank_page",
        pdf.empty_mediabox_pdf,
        "stored",
        "a 0 x 0 MediaBox: likewise a default-size empty page",
    ),
    HostileFile(
        "huge-image.pdf",
        "document.too_large",
        pdf.huge_image_pdf,
        why="an A4 page showing a 60,000 x 60,000 px image: the page is small, the image is not",
    ),
    HostileFile(
        "flate-bomb.pdf", "document.too_large", pdf.flate_bomb_pdf, why="a 1 MB content stream that inflates to 1 GB"
    ),
    HostileFile(
        "metadata-bomb.png",
        "document.too_large",
        img.png_with_text_chunks,
        why="a scan with a zTXt chunk that inflates to 100 MB: Pillow refuses it at open, a bomb",
    ),
    HostileFile(
        "deep-nesting.pdf",
        "document.blank_page",
        pdf.deep_nesting_pdf,
        "stored",
        "an unused entry nested 100,000 arrays deep: PDFium stops at its depth limit; the page is empty",
    ),
    HostileFile(
        "page-tree-loop.pdf",
        "document.unreadable",
        pdf.page_tree_loop_pdf,
        why="a page-tree node that lists itself: PDFium counts two pages and cannot load the second",
    ),
    # Odd but readable.
    HostileFile("ccitt-g4.tif", None, img.g4_tiff, "stored", "a bilevel CCITT Group 4 TIFF"),
    HostileFile("ccitt-g4.pdf", None, pdf.ccitt_pdf, "stored", "a PDF page that is one CCITT G4 image"),
    HostileFile("jbig2.pdf", None, pdf.jbig2_pdf, "stored", "a PDF page that is one JBIG2 image (MMR)"),
    HostileFile(
        "jbig2-garbage.pdf",
        "document.blank_page",
        pdf.jbig2_garbage_pdf,
        "stored",
        "a JBIG2 image of random bytes: PDFium draws nothing, so the page is kept and flagged blank",
    ),
    HostileFile(
        "javascript.pdf",
        None,
        pdf.javascript_pdf,
        "stored",
        "OpenAction and page JavaScript: never run (PDFium here has no JavaScript engine); a document",
    ),
    HostileFile("launch-action.pdf", None, pdf.launch_action_pdf, "stored", "a /Launch action: never followed"),
    HostileFile("acroform.pdf", None, pdf.acroform_pdf, "stored", "a filled form is still a document"),
    HostileFile(
        "attachment.pdf",
        None,
        pdf.attachment_pdf,
        "stored",
        "an embedded .exe: kept in the untouched original, never extracted",
    ),
    HostileFile(
        "bad-tounicode.pdf",
        None,
        pdf.bad_tounicode_pdf,
        "stored",
        "a text layer mapping to NUL, lone surrogates, U+FFFE, ESC and RLO: the text is cleaned",
    ),
    HostileFile(
        "legacy-encoding.pdf",
        None,
        pdf.invalid_utf8_text_pdf,
        "stored",
        "TCVN3 bytes, stray non-UTF-8 bytes and a broken UTF-16 string in the text layer",
    ),
    HostileFile("cmyk.jpg", None, img.jpeg_cmyk, "stored", "a CMYK JPEG"),
    HostileFile("16-bit.png", None, img.png_16bit, "stored", "16-bit greyscale"),
    HostileFile(
        "extreme-aspect.png",
        "document.blank_page",
        img.png_extreme_aspect,
        "stored",
        "20,000 x 3 px: valid, nothing on it",
    ),
    HostileFile("one-pixel.png", "document.blank_page", img.png_one_pixel, "stored", "1 x 1 px"),
    # Landing keys.
    HostileFile("Đơn đề nghị (bản scan) 01.png", None, _png, "stored", "Vietnamese letters and spaces in the name"),
    HostileFile(
        "nfd-name.png",
        None,
        _png,
        "stored",
        "a name in decomposed Unicode (NFD, as macOS writes)",
        key="scans/{code}/\u0110o\u031bn-\u0111e\u0302\u0300-ngh\u1ecb.png",
    ),
    HostileFile("long-key.png", None, _png, "stored", "a 1,000-character key (25 nested folders)", key=_LONG_FOLDERS),
    HostileFile(
        "long-name.png",
        None,
        _png,
        "stored",
        "a 200-byte file name (nanio keeps objects as files and fails past about 240 bytes; MinIO allows 255)",
        key="scans/{code}/" + "d" * 196 + ".png",
    ),
    HostileFile(
        "dot-dot.png",
        "landing.unknown_key",
        _png,
        why="a '..' segment: refused, a path trick",
        key="scans/{code}/../../../etc/passwd.png",
        store_refuses=True,
    ),
    HostileFile(
        "dot-dot-folder.png",
        "landing.unknown_key",
        _png,
        why="a dossier folder named '..'",
        key="scans/../don.png",
        store_refuses=True,
    ),
    HostileFile(
        "control-chars.png",
        "landing.unknown_key",
        _png,
        why="a newline and an escape in the key: a log-forging name",
        key="scans/{code}/don\n\x1b[31m.png",
        store_refuses=True,
    ),
    HostileFile(
        "bidi-override.png",
        "landing.unknown_key",
        _png,
        why="a right-to-left override that makes 'gnp.exe' read as 'exe.png'",
        key="scans/{code}/don\u202egnp.exe",
    ),
    HostileFile(
        "empty-segment.png",
        "landing.unknown_key",
        _png,
        why="an empty folder name (two slashes)",
        key="scans/{code}//don.png",
        store_refuses=True,
    ),
)


def by_name(name: str) -> HostileFile:
    """The kind called ``name``."""
    return next(kind for kind in KINDS if kind.name == name)
