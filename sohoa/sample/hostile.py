"""Bad files of the kinds that reach a landing bucket, each with the quality rule sohoa must give it.

Used by the end-to-end and reliability tests: every file here must be kept (quarantined or stored), explained
in ``quality.issues`` with its rule, in bounded time and memory, and the run must go on. All are built from
code, small on disk (the decompression bomb is a few hundred kilobytes that would decode to 169 megapixels).
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image


@dataclass(frozen=True)
class HostileFile:
    name: str  # file name as uploaded (the extension may lie)
    rule: str  # the quality rule sohoa must record for it
    make: Callable[[], bytes]


def minimal_pdf(objects: list[bytes], trailer_extra: bytes = b"") -> bytes:
    """A minimal, well-formed PDF from numbered objects (object 1 is the catalogue)."""
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R " % (len(objects) + 1) + trailer_extra + b">>\n"
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return out


CATALOGUE = b"<< /Type /Catalog /Pages 2 0 R >>"
ONE_PAGE = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
A4_PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"


def image_pdf(pages: int = 2, dpi: int = 100) -> bytes:
    """A valid image-only PDF (what a scanner writes), light grey pages."""
    images = [Image.new("RGB", (int(8.27 * dpi), int(11.69 * dpi)), (250, 250, 250)) for _ in range(pages)]
    buf = io.BytesIO()
    images[0].save(buf, "PDF", save_all=True, append_images=images[1:], resolution=float(dpi))
    return buf.getvalue()


def encrypted_pdf() -> bytes:
    """A PDF under the standard security handler whose user password is not empty: readers ask for it."""
    encrypt = b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P -4 >>" % (
        os.urandom(32).hex().encode(), os.urandom(32).hex().encode())
    doc_id = b"<00112233445566778899aabbccddeeff>"
    return minimal_pdf([CATALOGUE, ONE_PAGE, A4_PAGE, encrypt], b"/Encrypt 4 0 R /ID [%s %s] " % (doc_id, doc_id))


def png_bomb(side: int = 13_000) -> bytes:
    """A valid greyscale PNG of ``side`` x ``side`` white pixels, compressed to almost nothing.

    Written row by row so that building it never holds the image in memory.
    """
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    compressor = zlib.compressobj(9)
    row = b"\x00" + b"\xff" * side
    parts = [compressor.compress(row * 500) for _ in range(side // 500)]
    parts.append(compressor.compress(row * (side % 500)))
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b"")


def truncated_png() -> bytes:
    """A real PNG scan cut short, as an interrupted upload leaves it."""
    buf = io.BytesIO()
    Image.effect_noise((800, 1000), 60).save(buf, "PNG", dpi=(200, 200))
    data = buf.getvalue()
    return data[: len(data) // 2]


KINDS: tuple[HostileFile, ...] = (
    HostileFile("zero-bytes.pdf", "document.empty", lambda: b""),
    HostileFile("truncated.pdf", "document.unreadable", lambda: image_pdf()[: len(image_pdf()) // 2]),
    HostileFile("garbage-body.pdf", "document.unreadable", lambda: b"%PDF-1.4\n" + os.urandom(4000) + b"\n%%EOF\n"),
    HostileFile("encrypted.pdf", "document.encrypted", encrypted_pdf),
    HostileFile("page.pdf", "document.unsupported_type",  # an HTML page saved under a PDF name
                lambda: b"<!DOCTYPE html><html><body><script>alert(1)</script>Trang 1</body></html>"),
    HostileFile("don.docx.pdf", "document.unsupported_type", lambda: b"PK\x03\x04\x14\x00\x06\x00word/document.xml"),
    HostileFile("bomb.png", "document.too_large", png_bomb),
    HostileFile("truncated.png", "document.unreadable", truncated_png),
)
