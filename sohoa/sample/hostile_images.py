"""Hostile and odd image files (PNG, JPEG, TIFF) and files of other types, for the hostile-input corpus.

TIFFs are written tag by tag with :mod:`struct` so that their damage (an IFD past the end of the file, an
IFD chain that loops, strips that do not exist) is exactly what the name says.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image as PILImage

_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def text_image(size: tuple[int, int] = (1654, 1000), mode: str = "L") -> PILImage.Image:
    """A light page with a few lines of large Vietnamese text (what a scan of a form's header looks like)."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("L", size, 250)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(_FONT, 44)
    for n, line in enumerate(("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "ĐƠN ĐỀ NGHỊ CẤP GIẤY PHÉP", "Số: 12/2026")):
        draw.text((120, 120 + 90 * n), line, fill=20, font=font)
    return image.convert(mode)


def text_bitmap() -> PILImage.Image:
    """A bilevel A4 page at 200 dpi with text: what a black-and-white office scan is."""
    return text_image((1654, 2339), "1")


def encoded(image: PILImage.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **params)
    return buf.getvalue()


def g4_strip(image: PILImage.Image) -> bytes:
    """The CCITT Group 4 (T.6) code of a bilevel image, ink coded as black: one strip of a G4 TIFF."""
    from PIL import Image, ImageOps, TiffImagePlugin

    saved = TiffImagePlugin.STRIP_SIZE
    TiffImagePlugin.STRIP_SIZE = 1 << 30  # one strip for the whole page
    try:
        # Pillow writes a bilevel G4 TIFF as "min is white" with 1 bits as ink only for an inverted
        # image; going through the inverted grey image keeps the ink black for every reader.
        ink = ImageOps.invert(image.convert("L")).convert("1")
        data = encoded(ink, "TIFF", compression="group4")
    finally:
        TiffImagePlugin.STRIP_SIZE = saved
    with Image.open(io.BytesIO(data)) as tiff:
        tags = tiff.tag_v2  # type: ignore[attr-defined]
        offsets, counts = tags[273], tags[279]
        if len(offsets) != 1:
            raise RuntimeError("expected one strip")
        return data[offsets[0] : offsets[0] + counts[0]]


def g4_tiff() -> bytes:
    """A valid bilevel TIFF compressed with CCITT Group 4 (what fax-era scanners still write)."""
    return encoded(text_bitmap(), "TIFF", compression="group4", dpi=(200, 200))


def png_bomb(side: int = 13_000) -> bytes:
    """A valid greyscale PNG of ``side`` x ``side`` white pixels, compressed to almost nothing.

    Written row by row so that building it never holds the image in memory.
    """
    compressor = zlib.compressobj(9)
    row = b"\x00" + b"\xff" * side
    parts = [compressor.compress(row * 500) for _ in range(side // 500)]
    parts.append(compressor.compress(row * (side % 500)))
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", b"".join(parts))
        + _png_chunk(b"IEND", b"")
    )


def truncated_png() -> bytes:
    """A real PNG scan cut short, as an interrupted upload leaves it."""
    from PIL import Image

    data = encoded(Image.effect_noise((800, 1000), 60), "PNG", dpi=(200, 200))
    return data[: len(data) // 2]


def png_bad_crc() -> bytes:
    """A PNG whose header chunk fails its checksum."""
    data = bytearray(encoded(text_image(), "PNG", dpi=(200, 200)))
    data[29] ^= 0xFF  # last byte of the IHDR CRC
    return bytes(data)


def png_header_only() -> bytes:
    """A PNG header announcing an 800 x 1000 image, then no image data at all."""
    header = struct.pack(">IIBBBBB", 800, 1000, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IEND", b"")


def png_16bit() -> bytes:
    """A 16-bit greyscale scan (some archival scanners write them)."""
    import numpy as np
    from PIL import Image

    pixels = np.asarray(text_image(), dtype=np.uint16) * 257
    return encoded(Image.fromarray(pixels), "PNG", dpi=(200, 200))


def png_extreme_aspect() -> bytes:
    """A strip 20,000 pixels long and 3 high: a valid image no page looks like."""
    from PIL import Image

    return encoded(Image.new("L", (20_000, 3), 255), "PNG", dpi=(200, 200))


def png_one_pixel() -> bytes:
    from PIL import Image

    return encoded(Image.new("L", (1, 1), 0), "PNG")


def png_with_text_chunks() -> bytes:
    """A valid scan with a megabyte of zTXt metadata that inflates to 100 MB (a metadata bomb)."""
    data = encoded(text_image(), "PNG", dpi=(200, 200))
    compressor = zlib.compressobj(9)
    bomb = b"".join(compressor.compress(b"A" * (1 << 20)) for _ in range(100)) + compressor.flush()
    chunk = _png_chunk(b"zTXt", b"Comment\x00\x00" + bomb)
    return data[:33] + chunk + data[33:]


def jpeg(image: PILImage.Image | None = None, **params: object) -> bytes:
    return encoded(image or text_image().convert("RGB"), "JPEG", quality=80, dpi=(200, 200), **params)


def jpeg_huge_dimensions() -> bytes:
    """A real JPEG whose frame header claims 65,500 x 65,500 pixels (4,290 megapixels)."""
    data = bytearray(jpeg())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", 65_500, 65_500)
    return bytes(data)


def truncated_jpeg() -> bytes:
    data = jpeg()
    return data[: len(data) // 3]


def jpeg_markers_only() -> bytes:
    """Start-of-image immediately followed by end-of-image: no frame at all."""
    return b"\xff\xd8\xff\xd9"


def jpeg_cmyk() -> bytes:
    """A CMYK JPEG, as print workflows and some phone apps write."""
    return jpeg(text_image().convert("CMYK"))


def jpeg_html_polyglot() -> bytes:
    """A valid JPEG whose comment segment is an HTML page with a script (served as HTML, it would run)."""
    return jpeg(comment=b"<html><body><script>alert(document.cookie)</script></body></html>")


def _tiff_entry(tag: int, value: int, kind: int = 3) -> bytes:
    if kind == 3:  # SHORT, left-justified in the value field
        return struct.pack("<HHIHH", tag, 3, 1, value, 0)
    return struct.pack("<HHII", tag, 4, 1, value)  # LONG


def tiff_ifd(width: int, height: int, strip_offset: int, strip_bytes: int, next_ifd: int = 0) -> bytes:
    """One little-endian IFD of an uncompressed 8-bit greyscale image in one strip (114 bytes)."""
    entries = [
        _tiff_entry(256, width, 4),
        _tiff_entry(257, height, 4),
        _tiff_entry(258, 8),
        _tiff_entry(259, 1),
        _tiff_entry(262, 1),
        _tiff_entry(273, strip_offset, 4),
        _tiff_entry(277, 1),
        _tiff_entry(278, height, 4),
        _tiff_entry(279, strip_bytes, 4),
    ]
    return struct.pack("<H", len(entries)) + b"".join(entries) + struct.pack("<I", next_ifd)


_IFD_SIZE = 2 + 9 * 12 + 4


def tiff_file(
    width: int, height: int, *, pixels: bytes | None = None, strip_offset: int | None = None, loop: bool = False
) -> bytes:
    """A one-image TIFF: header, IFD at offset 8, pixels after it (or a strip offset of your choosing)."""
    pixels = bytes([240]) * (width * height) if pixels is None else pixels
    data_at = 8 + _IFD_SIZE
    ifd = tiff_ifd(
        width, height, data_at if strip_offset is None else strip_offset, len(pixels) or 1, next_ifd=8 if loop else 0
    )
    return b"II*\x00" + struct.pack("<I", 8) + ifd + pixels


def tiff_many_frames(count: int = 2001, side: int = 8) -> bytes:
    """``count`` tiny pages chained IFD after IFD."""
    frame = _IFD_SIZE + side * side
    out = [b"II*\x00" + struct.pack("<I", 8)]
    for n in range(count):
        at = 8 + n * frame
        out.append(tiff_ifd(side, side, at + _IFD_SIZE, side * side, 0 if n == count - 1 else at + frame))
        out.append(bytes([240]) * (side * side))
    return b"".join(out)


def tiff_ifd_beyond_eof() -> bytes:
    return b"II*\x00" + struct.pack("<I", 0x7FFFFFF0) + b"\x00" * 64


def other_image(fmt: str) -> bytes:
    """A small valid image in a format the contract does not accept (GIF, BMP, WebP)."""
    return encoded(text_image((400, 300), "RGB"), fmt)


def zip_bomb() -> bytes:
    """A ZIP archive a few hundred kilobytes long that unpacks to 500 MB."""
    import zipfile

    buf = io.BytesIO()
    with (
        zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open("scan.pdf", "w", force_zip64=True) as member,
    ):
        block = b"\x00" * (1 << 20)
        for _ in range(500):
            member.write(block)
    return buf.getvalue()


def windows_executable() -> bytes:
    return b"MZ\x90\x00\x03\x00\x00\x00" + os.urandom(56) + b"PE\x00\x00" + os.urandom(200)


SVG_WITH_SCRIPT = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">'
    b'<script>alert(1)</script><text x="10" y="50">Don</text></svg>'
)
