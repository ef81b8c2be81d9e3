"""How much a PDF page's drawing instructions inflate to, measured without inflating them into memory.

A content stream is usually a few kilobytes; a hostile one is a megabyte of deflate that inflates to a
gigabyte, and PDFium inflates the whole stream before drawing (measured: 2.1 GB resident and a minute for a
1 GB stream). Triage therefore counts, page by page, the inflated bytes of the page's content streams and
of the form XObjects it draws (to three levels), stopping as soon as a page is over the limit: memory stays
at one megabyte of output at a time, and time at about a second per gigabyte refused.

Only ``/FlateDecode`` (alone, the form every PDF writer uses) is measured; an unfiltered stream counts its
length; other filter chains are rare in content streams and count their stored length.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

_CHUNK = 1 << 20
_FORM_DEPTH = 3


def inflated_size(raw: bytes, cap: int) -> int:
    """Bytes ``raw`` inflates to, counting no further than just past ``cap`` (a damaged stream counts
    what inflated before the damage, as readers draw it)."""
    inflater = zlib.decompressobj()
    total, data = 0, raw
    try:
        while data and total <= cap:
            total += len(inflater.decompress(data, _CHUNK))
            data = inflater.unconsumed_tail
            if inflater.eof:
                break
    except zlib.error:
        pass
    return total


def _stream_size(stream: Any, cap: int) -> int:
    import pikepdf

    filters = stream.get("/Filter")
    if isinstance(filters, pikepdf.Array):
        filters = filters[0] if len(filters) == 1 else filters
    raw = stream.read_raw_bytes()
    if filters is None:
        return len(raw)
    if filters in (pikepdf.Name.FlateDecode, pikepdf.Name("/Fl")):
        return inflated_size(raw, cap)
    return len(raw)


def _contents(obj: Any) -> list[Any]:
    import pikepdf

    contents = obj.get("/Contents")
    if isinstance(contents, pikepdf.Stream):
        return [contents]
    if isinstance(contents, pikepdf.Array):
        return [c for c in contents if isinstance(c, pikepdf.Stream)]
    return []


def _forms(obj: Any) -> list[Any]:
    import pikepdf

    resources = obj.get("/Resources")
    xobjects = resources.get("/XObject") if isinstance(resources, pikepdf.Dictionary) else None
    if not isinstance(xobjects, pikepdf.Dictionary):
        return []
    return [x for _, x in xobjects.items() if isinstance(x, pikepdf.Stream) and x.get("/Subtype") == pikepdf.Name.Form]


def _page_content_bytes(page: Any, cap: int) -> int:
    total = sum(_stream_size(s, cap) for s in _contents(page))
    seen: set[tuple[int, int]] = set()
    level = _forms(page)
    for _ in range(_FORM_DEPTH):
        following = []
        for form in level:
            if total > cap:
                return total
            if form.objgen in seen:
                continue
            seen.add(form.objgen)
            total += _stream_size(form, cap - total)
            following.extend(_forms(form))
        level = following
    return total


def page_over_content_limit(path: Path, max_bytes: int) -> tuple[int, int] | None:
    """The first page (1-based number, inflated bytes) whose drawing instructions exceed ``max_bytes``, or
    ``None``. A file pikepdf cannot open returns ``None``: PDFium, which has already opened it, decides."""
    import pikepdf

    try:
        pdf = pikepdf.open(path)
    except (pikepdf.PdfError, pikepdf.PasswordError, OSError, ValueError):
        return None
    try:
        for number, page in enumerate(pdf.pages, start=1):
            size = _page_content_bytes(page.obj, max_bytes)
            if size > max_bytes:
                return number, size
    except (pikepdf.PdfError, RecursionError, ValueError, TypeError):
        return None
    finally:
        pdf.close()
    return None
