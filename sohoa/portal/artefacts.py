"""Page images and page text of an OCR'd original, and report files, read from the object store.

Page images are rendered from the searchable PDF (always a PDF, whatever the original's type) with
pypdfium2 and cached next to it in the derived bucket, under a key made of the original's SHA-256 and the
page number only. OCR text comes from ``text.txt``, whose pages are separated by form feeds.
"""

from __future__ import annotations

import io
import mimetypes
import tempfile
from pathlib import Path, PurePosixPath

from minio import Minio
from minio.error import S3Error

from sohoa.storage import s3

IMAGE_WIDTHS = (240, 1000)


def split_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` to (bucket, key)."""
    rest = uri.removeprefix("s3://")
    bucket, _, key = rest.partition("/")
    return bucket, key


def page_texts(client: Minio, text_uri: str) -> list[str]:
    bucket, key = split_uri(text_uri)
    return s3.get_bytes(client, bucket, key).decode("utf-8", errors="replace").split("\f")


def page_image(client: Minio, searchable_uri: str, sha256: str, page_no: int, width: int) -> bytes | None:
    """PNG of one page at ``width`` pixels (one of IMAGE_WIDTHS); None when the page does not exist."""
    if width not in IMAGE_WIDTHS:
        width = IMAGE_WIDTHS[0]
    bucket, pdf_key = split_uri(searchable_uri)
    cache_key = f"{s3.derived_prefix(sha256)}pages/p{page_no}-w{width}.png"
    try:
        return s3.get_bytes(client, bucket, cache_key)
    except S3Error as exc:
        if exc.code not in ("NoSuchKey", "NoSuchObject", "NotFound"):
            raise
    png = _render(client, bucket, pdf_key, page_no, width)
    if png is not None:
        s3.put_bytes(client, bucket, cache_key, png, "image/png")
    return png


def _render(client: Minio, bucket: str, pdf_key: str, page_no: int, width: int) -> bytes | None:
    import pypdfium2 as pdfium

    with tempfile.TemporaryDirectory(prefix="sohoa-portal-") as tmp:
        path = Path(tmp) / "searchable.pdf"
        s3.download(client, bucket, pdf_key, path)
        pdf = pdfium.PdfDocument(str(path))
        try:
            if not 1 <= page_no <= len(pdf):
                return None
            page = pdf[page_no - 1]
            scale = width / page.get_width()
            image = page.render(scale=scale).to_pil()
            out = io.BytesIO()
            image.convert("RGB").save(out, format="PNG", optimize=True)
            return out.getvalue()
        finally:
            pdf.close()


def forget_page_images(client: Minio, bucket: str, sha256: str) -> int:
    """Drop the cached page images of an original (before its OCR runs again: the new searchable PDF may turn
    or clean the pages differently); returns how many were removed."""
    prefix = f"{s3.derived_prefix(sha256)}pages/"
    names = [o.object_name for o in client.list_objects(bucket, prefix=prefix, recursive=True) if o.object_name]
    for name in names:  # a few objects (pages x widths): one request each works on every S3 server
        client.remove_object(bucket, name)
    return len(names)


def report_key(prefix: str, path: str) -> str | None:
    """The object key of a report file under ``prefix``; None for a path that tries to leave it."""
    parts = [p for p in PurePosixPath(path or "index.html").parts if p not in ("", "/")]
    if any(p in (".", "..") or "\\" in p for p in parts):
        return None
    relative = "/".join(parts) or "index.html"
    if path.endswith("/"):
        relative += "/index.html"
    return prefix + relative


def content_type_of(key: str) -> str:
    guessed = mimetypes.guess_type(key)[0] or "application/octet-stream"
    return guessed + ("; charset=utf-8" if guessed.startswith("text/") or guessed.endswith("json") else "")


def has_objects(client: Minio, bucket: str, prefix: str) -> bool:
    try:
        return next(iter(client.list_objects(bucket, prefix=prefix, recursive=True)), None) is not None
    except S3Error:
        return False
