"""Build the searchable PDF: each page's image with the recognised text invisible on top of it.

A recognised page is the page image (the scan as it was, only turned upright by quarter turns if it lay
sideways; a JPEG original is embedded byte for byte, anything else is JPEG-compressed) with sohoa's own
invisible text layer over it (:mod:`ocr.overlay`: the words of ``text.txt``, in its reading order, each
on its printed place). A born-digital page that kept its own text layer is copied unchanged from the
original PDF.

Work is split in two so the page workers never hold a PDF library's state:

- :func:`image_page`, in the page's worker: writes the page's JPEG to the scratch folder (unless the
  original JPEG file itself can be embedded) and the text layer's content-stream operators, and returns
  an :class:`ImagePage` naming them;
- :func:`assemble`, once at the end: builds the whole PDF with pikepdf (qpdf) in page order, one shared
  font for every text layer, the JPEG bytes as they are (never decoded), and writes it atomically.

PDFium is not used to write: it is not thread-safe (every call would have to hold the pipeline's lock)
and it has no way to add a content stream of one's own.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from ocr import overlay
from ocr.models import Word

_JPEG_QUALITY = 75
_EMBEDDABLE_MODES = {"L": "/DeviceGray", "RGB": "/DeviceRGB"}  # JPEG modes shown as they are


@dataclass(frozen=True)
class CopiedPage:
    """Page ``index`` (0-based) of the original PDF ``path``, copied as it is (born-digital text)."""

    path: Path
    index: int


@dataclass(frozen=True)
class ImagePage:
    """A page shown as one JPEG covering it, with an optional invisible text layer.

    Attributes:
        jpeg: the JPEG file (the original image file, or a copy in the scratch folder).
        width_px: the JPEG's width in pixels.
        height_px: its height.
        colour_space: ``/DeviceGray`` or ``/DeviceRGB``.
        width_pt: the page's width in points (the scan's physical size).
        height_pt: its height.
        text: content-stream operators of the invisible text layer (``b""`` for none).
        turn: clockwise quarter turn (degrees) a reader applies to show the page upright (``/Rotate``);
            the image and the page size above are the scan as it lies.
    """

    jpeg: Path
    width_px: int
    height_px: int
    colour_space: str
    width_pt: float
    height_pt: float
    text: bytes = b""
    turn: int = 0


PagePart = CopiedPage | ImagePage


def image_page(
    scratch: Path,
    display: Image.Image,
    dpi: int,
    *,
    lines: Sequence[Sequence[Word]] = (),
    read_size: tuple[int, int] | None = None,
    skew: float = 0.0,
    jpeg: Path | bytes | None = None,
    turn: int = 0,
) -> ImagePage:
    """Prepare one page of the searchable PDF: its JPEG and its text layer (runs in a page worker).

    Args:
        scratch: where to write the page's JPEG (a file name unique to the page, e.g. ``page-00001.jpg``).
        display: the page as scanned (upright; its size and ``dpi`` give the page size).
        dpi: resolution of ``display``.
        lines: the page's words, line by line, in reading order (``text.txt``'s lines).
        read_size: pixel size of the image the words were read from (``display`` turned by ``-skew``
            and brought to the reading resolution); required when ``lines`` is not empty.
        skew: degrees the page was deskewed by before reading; the text layer is turned back by as
            much, so the scan is shown untouched and the words still sit on their printed place.
        jpeg: a JPEG file (or its bytes) holding exactly ``display``, embedded as is instead of
            re-encoding; ``display`` then only gives the size.
        turn: clockwise quarter turn (0, 90, 180, 270) that shows ``display`` upright: the page is
            marked ``/Rotate turn`` and the words (read from the upright page) are laid out on the
            upright page, so a reader shows them on their printed place.
    """
    if turn not in overlay.TURNS:
        raise ValueError(f"a page turns by a quarter turn, not {turn} degrees")
    width_pt = display.width / dpi * 72
    height_pt = display.height / dpi * 72
    path, header = _jpeg(scratch, display, dpi, jpeg)
    text = b""
    if lines:
        if read_size is None:
            raise ValueError("read_size is required with a text layer")
        upright = (height_pt, width_pt) if turn in (90, 270) else (width_pt, height_pt)
        placement = overlay.Placement(read_size[0], read_size[1], upright[0], upright[1], skew, turn)
        text = overlay.content(lines, placement)
    return ImagePage(path, header.width, header.height, _EMBEDDABLE_MODES[header.mode], width_pt, height_pt, text, turn)


def _jpeg(scratch: Path, display: Image.Image, dpi: int, jpeg: Path | bytes | None) -> tuple[Path, Image.Image]:
    """The JPEG file to embed and its header (an unloaded image: size and mode only)."""
    if jpeg is not None:
        with Image.open(io.BytesIO(jpeg) if isinstance(jpeg, bytes) else jpeg) as header:
            embeddable = header.format == "JPEG" and header.mode in _EMBEDDABLE_MODES
        if embeddable:  # CMYK and other JPEGs are re-encoded below: readers disagree on how to show them
            if isinstance(jpeg, bytes):
                scratch.write_bytes(jpeg)
                jpeg = scratch
            return jpeg, header
    shown = display if display.mode in _EMBEDDABLE_MODES else display.convert("RGB")
    shown.save(scratch, "JPEG", quality=_JPEG_QUALITY, dpi=(dpi, dpi))
    return scratch, shown


def assemble(parts: Sequence[PagePart], destination: Path) -> None:
    """Write the searchable PDF: the pages in order (written whole, then renamed into place)."""
    import pikepdf

    out = pikepdf.new()
    originals: dict[Path, pikepdf.Pdf] = {}
    try:
        font: Any = None
        for part in parts:
            if isinstance(part, CopiedPage):
                src = originals.get(part.path)
                if src is None:
                    src = originals[part.path] = pikepdf.open(part.path)
                out.pages.append(src.pages[part.index])
                continue
            if part.text and font is None:
                font = overlay.add_font(out)
            out.pages.append(pikepdf.Page(_image_page(out, part, font)))
        partial = destination.with_name(destination.name + ".part")
        out.save(partial)
        partial.replace(destination)
    finally:
        out.close()
        for src in originals.values():
            src.close()


def _image_page(out: Any, part: ImagePage, font: Any) -> Any:
    from pikepdf import Array, Dictionary, Name, Stream

    image = Stream(
        out,
        part.jpeg.read_bytes(),
        Type=Name.XObject,
        Subtype=Name.Image,
        Width=part.width_px,
        Height=part.height_px,
        ColorSpace=Name(part.colour_space),
        BitsPerComponent=8,
        Filter=Name.DCTDecode,
    )
    resources = Dictionary(XObject=Dictionary(Im0=image))
    drawing = f"q {part.width_pt:.4f} 0 0 {part.height_pt:.4f} 0 0 cm /Im0 Do Q\n".encode("ascii")
    if part.text:
        resources.Font = Dictionary({"/" + overlay.FONT_NAME: font})
        drawing += part.text
    page = Dictionary(
        Type=Name.Page,
        MediaBox=Array([0, 0, part.width_pt, part.height_pt]),
        Resources=resources,
        Contents=Stream(out, drawing),
    )
    if part.turn:
        page.Rotate = part.turn
    return out.make_indirect(page)


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
