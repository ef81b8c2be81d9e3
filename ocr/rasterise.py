"""Turn one page of a PDF, TIFF, JPEG or PNG into pixels, at the resolution the scan was made.

Resolution policy (the same numbers triage uses to enforce the megapixel limit):

- an image file (JPEG, PNG, each TIFF page) is used at its own resolution, read from its metadata; when
  the file records none (or a nonsense value under 50 dpi), 200 dpi is assumed (``image_default_dpi``),
  the national minimum for a digitised copy;
- a PDF page is rendered at the resolution of its largest image (a scanned page is one big image), so
  no pixel is invented; a page without a significant image is rendered at 300 dpi (``pdf_default_dpi``);
- anything finer than 400 dpi (``max_ocr_dpi``) is brought down to 300 dpi (``ocr_dpi_cap``): Tesseract
  reads no better above that and takes much longer. Nothing is ever upscaled (measured worse).

The effective dpi reported for a page is the scan's own (an image's, or a PDF page's largest image's),
not the processing resolution.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

from ocr import preprocess
from ocr.errors import CorruptDocument, TooLarge
from ocr.models import MIME_PDF, Limits, OcrOptions

# A significant image covers at least this share of the page; smaller ones are logos and seals.
_SCAN_IMAGE_MIN_AREA = 0.25
_MIN_PLAUSIBLE_DPI = 50.0
_MAX_PLAUSIBLE_DPI = 4800.0

# EXIF orientation tag value -> degrees the image is turned clockwise by exif_transpose.
_EXIF_ROTATION = {1: 0, 2: 0, 3: 180, 4: 180, 5: 90, 6: 90, 7: 270, 8: 270}


@dataclass(frozen=True)
class Raster:
    """One page as pixels.

    Attributes:
        image: ``RGB`` or ``L`` pixels.
        dpi: resolution of ``image`` (the processing resolution).
        scan_dpi: the scan's own resolution (``None`` for a PDF page without images).
        rotation: degrees already turned clockwise (EXIF orientation of a photo).
    """

    image: Image.Image
    dpi: int
    scan_dpi: int | None
    rotation: int = 0


def processing_dpi(scan_dpi: int | None, options: OcrOptions) -> int:
    """Resolution a page is processed at, given its scan resolution."""
    if scan_dpi is None:
        return options.pdf_default_dpi
    return options.ocr_dpi_cap if scan_dpi > options.max_ocr_dpi else scan_dpi


def image_dpi(info: Mapping[Any, Any], default: int) -> int:
    """The resolution an image file records, or ``default`` when it records none or a nonsense value."""
    raw = info.get("dpi")
    try:
        value = float(min(raw[0], raw[1])) if raw else 0.0
    except (TypeError, ValueError, IndexError):
        value = 0.0
    if not _MIN_PLAUSIBLE_DPI <= value <= _MAX_PLAUSIBLE_DPI:
        return default
    return round(value)


@contextmanager
def open_image(path: Path, limits: Limits, label: str | None = None) -> Iterator[Image.Image]:
    """Open an image file (header only) with Pillow's decompression-bomb guard set to our limit.

    Pillow refuses outright anything over twice ``MAX_IMAGE_PIXELS``; we set it to the configured limit
    (process-wide: Pillow has no per-call setting) and check every frame ourselves before decoding.
    """
    Image.MAX_IMAGE_PIXELS = max(limits.max_page_pixels, 1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            warnings.simplefilter("ignore", UserWarning)  # "Corrupt EXIF data": the pixels may still read
            image = Image.open(path)
    except Image.DecompressionBombError as exc:
        raise TooLarge(label or path.name, f"the image is over {limits.max_page_megapixels:g} megapixels") from exc
    except ValueError as exc:
        if "Decompressed data too large" in str(exc):  # Pillow's cap on compressed text chunks
            raise TooLarge(
                label or path.name, "a metadata chunk of the image inflates past the safe size (a decompression bomb)"
            ) from exc
        raise CorruptDocument(label or path.name, pillow_reason(exc)) from exc
    except (OSError, SyntaxError) as exc:
        raise CorruptDocument(label or path.name, pillow_reason(exc)) from exc
    try:
        yield image
    finally:
        image.close()


def pillow_reason(exc: BaseException) -> str:
    """A one-line reason for an image Pillow refused, without Pillow's message (which names temporary paths)."""
    text = str(exc).lower()
    if "cannot identify image file" in text:
        return "the image's header is damaged or not an image at all"
    if "crc" in text or "broken png" in text:
        return "a checksum inside the image is wrong (the file was damaged in transit)"
    if "truncated" in text or isinstance(exc, EOFError):
        return "the image is cut short"
    return f"the image cannot be read ({type(exc).__name__})"


def pdf_page_dpi(page: Any) -> int | None:
    """The effective resolution of a PDF page: that of its largest image, if that image is significant."""
    import pypdfium2.raw as pdfium_c

    width, height = page.get_size()
    page_area = max(width * height, 1.0)
    best_area, best_dpi = 0.0, None
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=4):
        left, bottom, right, top = obj.get_bounds()
        area = abs(right - left) * abs(top - bottom)
        if area <= best_area:
            continue
        try:
            meta = obj.get_metadata()
        except Exception:  # pdfium cannot describe some inline images; they are not the scan
            continue
        dpi = min(float(meta.horizontal_dpi), float(meta.vertical_dpi))
        if dpi > 0:
            best_area, best_dpi = area, dpi
    if best_dpi is None or best_area / page_area < _SCAN_IMAGE_MIN_AREA:
        return None
    return round(best_dpi)


def pdf_largest_image(page: Any) -> tuple[int, int]:
    """Pixel width and height of the largest image a PDF page draws (by pixel count), ``(0, 0)`` if none.

    PDFium decodes an image whole, at its own size, whatever the page's size: a 60,000-pixel image on an
    A4 page is billions of pixels in memory, so images are limited like pages.
    """
    import pypdfium2.raw as pdfium_c

    best = (0, 0)
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=4):
        try:
            width, height = obj.get_px_size()
        except Exception:  # pdfium cannot describe some inline images; they draw nothing then
            continue
        if width * height > best[0] * best[1]:
            best = (int(width), int(height))
    return best


def pdf_page_pixels(page: Any, dpi: int) -> tuple[int, int]:
    width, height = page.get_size()
    return round(width / 72 * dpi), round(height / 72 * dpi)


def load_page(path: Path, mime_type: str, index: int, options: OcrOptions, *, max_dpi: int | None = None) -> Raster:
    """Pixels of page ``index`` (0-based) of a file that triage has accepted.

    ``max_dpi`` renders a PDF page no finer than that (when only a reading copy is needed).
    """
    if mime_type == MIME_PDF:
        return _load_pdf_page(path, index, options, max_dpi)
    return _load_image_page(path, index, options)


@dataclass(frozen=True)
class PageJpeg:
    """The one JPEG a scanned PDF page consists of: its bytes and its resolution on the page."""

    data: bytes
    dpi: int


def pdf_page_jpeg(path: Path, index: int) -> PageJpeg | None:
    """The JPEG a scanned PDF page consists of, byte for byte, or ``None`` if the page is anything else.

    A scanner's PDF page is typically one JPEG image covering the page and nothing more. Showing those
    very bytes in the searchable PDF keeps the scan exactly as it was (no second lossy compression) and
    spares rendering and re-encoding it at full resolution. Anything else (more objects, a turned or
    partial image, CMYK or other colour spaces, another filter) returns ``None``.
    """
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    try:
        doc = pdfium.PdfDocument(path)
    except pdfium.PdfiumError:
        return None
    try:
        page = doc[index]
        try:
            if page.get_rotation() % 360:
                return None
            objects = list(page.get_objects(max_depth=1))
            if len(objects) != 1 or objects[0].type != pdfium_c.FPDF_PAGEOBJ_IMAGE:
                return None
            image = objects[0]
            if image.get_filters() != ["DCTDecode"]:
                return None
            if image.get_metadata().colorspace not in (
                pdfium_c.FPDF_COLORSPACE_DEVICERGB,
                pdfium_c.FPDF_COLORSPACE_DEVICEGRAY,
            ):
                return None
            m = image.get_matrix()
            width, height = page.get_size()
            if (
                abs(m.b) > 1e-6
                or abs(m.c) > 1e-6
                or abs(m.a - width) > 1
                or abs(m.d - height) > 1
                or abs(m.e) > 1
                or abs(m.f) > 1
            ):
                return None
            dpi = pdf_page_dpi(page)
            if dpi is None:
                return None
            return PageJpeg(bytes(image.get_data(decode_simple=False)), dpi)
        finally:
            page.close()
    except pdfium.PdfiumError:
        return None
    finally:
        doc.close()


def jpeg_page(
    jpeg: PageJpeg, options: OcrOptions, *, max_dpi: int | None = None, ink_gray: bool = False
) -> Raster | None:
    """Pixels of a scanned PDF page decoded straight from its JPEG (see :func:`pdf_page_jpeg`).

    With ``ink_gray`` the page comes back as the grey copy recognition reads
    (:func:`ocr.preprocess.ink_gray`, taken before resizing: one channel to resize instead of three).

    The pixels PDFium would render at the same resolution, for a third of the CPU time (no page
    rendering pipeline, no BGRA buffer to convert) and without PDFium's lock. A page brought down (to
    ``max_dpi`` or :attr:`~ocr.models.OcrOptions.ocr_dpi_cap`) is resized with Pillow's bilinear
    (triangle) filter, as PDFium resamples: on the benchmark corpus 300 dpi pages read at 200 dpi then
    have half the character errors they had with a box filter (CER 0.66% -> 0.54% overall). A JPEG at
    least twice as fine as needed is decoded at a half, quarter or eighth of its size by the decoder
    itself. Returns ``None`` when Pillow cannot decode it (the caller renders the page with PDFium).
    """
    dpi = processing_dpi(jpeg.dpi, options)
    if max_dpi is not None:
        dpi = min(dpi, max_dpi)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # triage checked the page's size
            image = Image.open(io.BytesIO(jpeg.data))  # in memory: no file to close
        width = round(image.width * dpi / jpeg.dpi)
        height = round(image.height * dpi / jpeg.dpi)
        if image.mode in ("RGB", "L"):
            image.draft(image.mode, (width, height))
        image.load()
        pixels = _normal_mode(image)
        if ink_gray:
            pixels = preprocess.ink_gray(pixels)
        if pixels.size != (width, height):
            pixels = pixels.resize((width, height), Image.Resampling.BILINEAR)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None
    return Raster(pixels, dpi, jpeg.dpi)


def page_pixels(
    path: Path,
    mime_type: str,
    index: int,
    options: OcrOptions,
    original: PageJpeg | None,
    *,
    max_dpi: int | None = None,
    ink_gray: bool = False,
    pdfium_lock: AbstractContextManager[Any] | None = None,
) -> Raster:
    """Pixels of page ``index``: decoded from ``original``, the page's own JPEG (:func:`pdf_page_jpeg`), when
    there is one and it decodes (no PDFium: a third of the CPU time), else rendered or read by :func:`load_page`.

    ``ink_gray`` applies to the JPEG path only (see :func:`jpeg_page`). ``pdfium_lock`` is held around PDFium
    (it is not thread-safe: a caller that renders pages in threads passes its lock).
    """
    if original is not None:
        raster = jpeg_page(original, options, max_dpi=max_dpi, ink_gray=ink_gray)
        if raster is not None:
            return raster
    with pdfium_lock if pdfium_lock is not None else nullcontext():
        return load_page(path, mime_type, index, options, max_dpi=max_dpi)


def scanned_page(path: Path, mime_type: str, index: int, options: OcrOptions) -> Raster:
    """:func:`load_page`, with a scanned PDF page decoded from its own JPEG as the OCR engine does (same pixels
    at the same resolution, for a third of PDFium's time); anything else is rendered or read as before."""
    original = pdf_page_jpeg(path, index) if mime_type == MIME_PDF else None
    return page_pixels(path, mime_type, index, options, original)


def _load_pdf_page(path: Path, index: int, options: OcrOptions, max_dpi: int | None = None) -> Raster:
    import pypdfium2 as pdfium

    try:
        doc = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        raise CorruptDocument(path, "the PDF cannot be opened") from exc
    try:
        page = doc[index]
        scan_dpi = pdf_page_dpi(page)
        dpi = processing_dpi(scan_dpi, options)
        if max_dpi is not None:
            dpi = min(dpi, max_dpi)
        image = page.render(scale=dpi / 72, may_draw_forms=True).to_pil()
        page.close()
    except pdfium.PdfiumError as exc:
        raise CorruptDocument(path, f"page {index + 1} of the PDF cannot be rendered") from exc
    finally:
        doc.close()
    return Raster(_normal_mode(image), dpi, scan_dpi)


def _load_image_page(path: Path, index: int, options: OcrOptions) -> Raster:
    with open_image(path, options.limits) as image:
        try:
            image.seek(index)
            scan_dpi = image_dpi(image.info, options.image_default_dpi)
            orientation = image.getexif().get(0x0112, 1) if image.format == "JPEG" else 1
            image.load()
            pixels = _normal_mode(ImageOps.exif_transpose(image) if orientation != 1 else image.copy())
        except (OSError, EOFError, SyntaxError, ValueError) as exc:
            raise CorruptDocument(path, f"page {index + 1} of the image cannot be decoded") from exc
    dpi = processing_dpi(scan_dpi, options)
    if dpi != scan_dpi:
        size = (round(pixels.width * dpi / scan_dpi), round(pixels.height * dpi / scan_dpi))
        pixels = pixels.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    return Raster(pixels, dpi, scan_dpi, _EXIF_ROTATION.get(int(orientation), 0))


def _normal_mode(image: Image.Image) -> Image.Image:
    """``L`` for grey and bilevel images, ``RGB`` for everything else (16-bit grey scaled, not clipped)."""
    if image.mode in ("L", "RGB"):
        return image
    if image.mode == "1":
        return image.convert("L")
    if image.mode.startswith("I;16") or image.mode == "I":
        import numpy as np

        arr = np.asarray(image, dtype=np.float32)
        top = float(arr.max()) or 1.0
        return Image.fromarray((arr * (255.0 / top)).clip(0, 255).astype(np.uint8))
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # Transparent pixels are paper, not black.
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
        return background
    return image.convert("RGB")
