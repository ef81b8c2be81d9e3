"""Decide what a file is and whether it can be processed, before any pixel is decoded.

:func:`sniff` reads the type from the first bytes (never from the name); :func:`inspect` opens the file
far enough to count pages and size them, and enforces the limits of the output contract:

- zero bytes, or no page: :class:`~ocr.errors.EmptyDocument`;
- more than ``max_bytes`` bytes or ``max_pages`` pages, or a page over ``max_page_megapixels`` at the
  resolution it would be processed (a PDF page at its render resolution, an image at its own size since
  it is decoded whole), or a PDF page that draws an image over that many pixels (PDFium decodes images
  whole), or whose drawing instructions inflate to more than ``max_page_content_mb`` (a flate bomb):
  :class:`~ocr.errors.TooLarge`;
- a PDF that needs a password: :class:`~ocr.errors.EncryptedDocument` (one with only an owner password
  opens and is processed);
- damaged or cut-short files: :class:`~ocr.errors.CorruptDocument`. A PDF must end with its ``%%EOF``
  marker: a truncated upload is refused even when PDFium could rebuild part of it, so the officer is told
  to upload it again rather than silently losing pages.
"""

from __future__ import annotations

from pathlib import Path

from ocr.errors import CorruptDocument, EmptyDocument, EncryptedDocument, TooLarge, UnsupportedType
from ocr.models import (
    MIME_JPEG,
    MIME_PDF,
    MIME_PNG,
    MIME_TIFF,
    DocumentInfo,
    Limits,
    OcrOptions,
    PageInfo,
)
from ocr.pdfstreams import page_over_content_limit
from ocr.rasterise import (
    image_dpi,
    open_image,
    pdf_largest_image,
    pdf_page_dpi,
    pdf_page_pixels,
    pillow_reason,
    processing_dpi,
)

__all__ = ["Limits", "inspect", "sniff"]

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", MIME_PNG),
    (b"\xff\xd8\xff", MIME_JPEG),
    (b"II*\x00", MIME_TIFF),
    (b"MM\x00*", MIME_TIFF),
    (b"II+\x00", MIME_TIFF),  # BigTIFF
    (b"MM\x00+", MIME_TIFF),
)
# PDF readers accept a header anywhere in the first kilobyte (some scanners prepend junk).
_PDF_HEADER_WINDOW = 1024
_PDF_TAIL_WINDOW = 64 * 1024


def sniff(source: Path | str | bytes, *, name: str | None = None) -> str:
    """The MIME type of a file, from its first bytes.

    Args:
        source: a path, or the file's leading bytes (at least the first kilobyte for a PDF).
        name: how to call the file in error messages (defaults to the path's base name).

    Returns:
        ``application/pdf``, ``image/tiff``, ``image/jpeg`` or ``image/png``.

    Raises:
        EmptyDocument: no bytes at all.
        UnsupportedType: anything else.
    """
    if isinstance(source, bytes):
        head, label = source[:_PDF_HEADER_WINDOW], name or "data"
    else:
        path = Path(source)
        label = name or path.name
        with path.open("rb") as fh:
            head = fh.read(_PDF_HEADER_WINDOW)
    if not head:
        raise EmptyDocument(label, "the file is empty (0 bytes)")
    for magic, mime in _MAGIC:
        if head.startswith(magic):
            return mime
    if b"%PDF-" in head:
        return MIME_PDF
    raise UnsupportedType(label, "the content is not a PDF, TIFF, JPEG or PNG")


def inspect(
    path: Path,
    *,
    limits: Limits | None = None,
    name: str | None = None,
    options: OcrOptions | None = None,
) -> DocumentInfo:
    """Type, size and pages of a file, refusing what cannot or must not be processed.

    Reads headers only: no page is rendered and no image decoded.

    Args:
        path: the file.
        limits: size limits (default: ``options.limits``, i.e. the contract's defaults).
        name: how to call the file in error messages (default: the path's base name).
        options: the OCR options whose resolution policy decides the processed page size.

    Raises:
        BadInput: one of its subclasses, with a message naming the file and the fix.
    """
    options = options or OcrOptions()
    limits = limits or options.limits
    label = name or path.name
    size = path.stat().st_size
    if size == 0:
        raise EmptyDocument(label, "the file is empty (0 bytes)")
    if size > limits.max_bytes:
        raise TooLarge(label, f"the file has {size / 1e6:.0f} MB, over the limit of {limits.max_bytes / 1e6:.0f} MB")
    mime = sniff(path, name=label)
    read_pages = _pdf_pages if mime == MIME_PDF else _image_pages
    pages = read_pages(path, label, limits, options)
    return DocumentInfo(mime_type=mime, size_bytes=size, page_count=len(pages), pages=tuple(pages))


def _check_page_count(count: int, label: str, limits: Limits) -> None:
    if count == 0:
        raise EmptyDocument(label, "the document has no pages")
    if count > limits.max_pages:
        raise TooLarge(label, f"the document has {count} pages, over the limit of {limits.max_pages}")


def _check_page_size(page: PageInfo, label: str, limits: Limits) -> None:
    if page.width_px * page.height_px > limits.max_page_pixels:
        raise TooLarge(
            label,
            f"page {page.number} is {page.width_px}x{page.height_px} px ({page.megapixels:.0f} megapixels) "
            f"at {page.render_dpi} dpi, over the limit of {limits.max_page_megapixels:g} megapixels",
        )


def _check_image_size(number: int, width: int, height: int, label: str, limits: Limits) -> None:
    if width * height > limits.max_page_pixels:
        raise TooLarge(
            label,
            f"page {number} shows an image of {width}x{height} px ({width * height / 1e6:.0f} megapixels), "
            f"over the limit of {limits.max_page_megapixels:g} megapixels",
        )


def _check_page_content(path: Path, label: str, limits: Limits) -> None:
    over = page_over_content_limit(path, limits.max_page_content_bytes)
    if over is not None:
        number, size = over
        raise TooLarge(
            label,
            f"the drawing instructions of page {number} inflate to over {size / 1e6:.0f} MB, over the limit of "
            f"{limits.max_page_content_mb:g} MB (a decompression bomb or a damaged file)",
        )


def _pdf_pages(path: Path, label: str, limits: Limits, options: OcrOptions) -> list[PageInfo]:
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    with path.open("rb") as fh:
        fh.seek(max(0, path.stat().st_size - _PDF_TAIL_WINDOW))
        if b"%%EOF" not in fh.read():
            raise CorruptDocument(label, "the PDF is truncated (its end-of-file marker is missing)")
    try:
        doc = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        # PDFium refuses a page tree without pages without setting an error code of its own (the code
        # is then stale, from an earlier document): ask pdfminer whether that is the case first.
        if _pdf_has_no_pages(path):
            raise EmptyDocument(label, "the document has no pages") from exc
        if getattr(exc, "err_code", None) in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise EncryptedDocument(label, "the PDF is protected by a password") from exc
        raise CorruptDocument(label, "the PDF is damaged and cannot be opened") from exc
    try:
        count = len(doc)
        _check_page_count(count, label, limits)
        _check_page_content(path, label, limits)  # before PDFium loads a page, which inflates its content
        pages = []
        for index in range(count):
            page = doc[index]
            try:
                scan_dpi = pdf_page_dpi(page)
                dpi = processing_dpi(scan_dpi, options)
                width, height = pdf_page_pixels(page, dpi)
                image_w, image_h = pdf_largest_image(page)
            finally:
                page.close()
            info = PageInfo(index + 1, width, height, scan_dpi, dpi)
            _check_page_size(info, label, limits)
            _check_image_size(index + 1, image_w, image_h, label, limits)
            pages.append(info)
        return pages
    except pdfium.PdfiumError as exc:
        raise CorruptDocument(label, "the PDF's pages cannot be read") from exc
    finally:
        doc.close()


def _pdf_has_no_pages(path: Path) -> bool:
    import pdfplumber

    try:
        with pdfplumber.open(path) as pdf:
            return len(pdf.pages) == 0
    except Exception:  # pdfminer cannot read it either: it is damaged, not empty
        return False


def _image_pages(path: Path, label: str, limits: Limits, options: OcrOptions) -> list[PageInfo]:
    try:
        with open_image(path, limits, label) as image:
            count = getattr(image, "n_frames", 1)
            _check_page_count(count, label, limits)
            pages = []
            for index in range(count):
                image.seek(index)
                scan_dpi = image_dpi(image.info, options.image_default_dpi)
                info = PageInfo(index + 1, image.width, image.height, scan_dpi, processing_dpi(scan_dpi, options))
                _check_page_size(info, label, limits)
                pages.append(info)
            return pages
    except (TooLarge, EmptyDocument):
        raise
    except CorruptDocument as exc:
        raise CorruptDocument(label, exc.reason) from exc
    except (OSError, EOFError, SyntaxError, ValueError) as exc:
        raise CorruptDocument(label, pillow_reason(exc)) from exc
