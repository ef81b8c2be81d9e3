"""Reading a dossier-record batch: JSON Lines (plain or gzip) or CSV, one :class:`RecordLine` per line.

Nothing in a batch stops the reading except the end of its bytes:

- a line that is not valid UTF-8, not valid JSON (``NaN`` and ``Infinity`` are not JSON), holds an
  unpaired UTF-16 surrogate escape, or is valid JSON but not an object, becomes a ``record.invalid_json``
  line (error, not usable); so does a CSV row the csv module cannot read (e.g. a cell over 128 KiB);
- a gzip stream that turns out corrupt or truncated yields the lines decoded before the damage, then one
  ``record.batch_unreadable`` line (error) numbered after the last line read: the rest of the batch is
  unreadable, and the loader keeps the batch's bytes;
- an exact repeat of an earlier line gets ``record.duplicate_line`` (info) naming the first one;
- a CSV row with more or fewer cells than the header gets ``record.bad_csv_row`` (warning): missing cells
  read as null, extra ones are kept in ``raw["_extra_cells"]``.

A JSON Lines batch may start with a byte-order mark (so may any line: exports concatenated into one batch)
and use CRLF line ends; blank lines are skipped but
counted. CSV cells are text: integer fields accept digit text (as they do in JSON, see
:mod:`sohoa.records.validate`), list fields hold JSON text.

The only exception is :class:`BatchUnreadable`, raised by :func:`read_batch` itself (before any line) for a
name that is no batch format of the contract.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import zlib
from collections.abc import Iterable, Iterator
from datetime import date
from json.encoder import encode_basestring
from typing import Any, Literal, NamedTuple

import orjson

from sohoa.records.catalogue import Catalogue
from sohoa.records.csv_rows import read_csv_rows
from sohoa.records.datetimes import today_in_vietnam
from sohoa.records.model import Finding, RecordLine
from sohoa.records.validate import LIST_FIELDS, Checks, unreadable_line, validate_record

BatchFormat = Literal["jsonl", "jsonl.gz", "csv"]

_BOM = b"\xef\xbb\xbf"
_quote = encode_basestring  # a str as a JSON string literal (C-accelerated; what json.dumps uses)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class BatchUnreadable(Exception):
    """The batch as a whole cannot be read; ``reason`` says why (it never holds the batch's content)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_JSON = json.JSONDecoder(parse_constant=_reject_constant)

# orjson reads a line several times faster than the json module, but differs from it in two ways: it reads an
# integer beyond 64 bits as a float, and it stops at 1,024 levels of nesting where the json module's limit is
# Python's recursion limit. A line that could hit either (a run of 19 digits; many brackets) and any line orjson
# refuses are read by the json module, so every line reads to the same value, or fails with the same reason,
# as with the json module alone.
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_NUMBER = b"0" * 19
_MANY_BRACKETS = 256


def batch_format(name: str) -> BatchFormat:
    """The format a landing key names (case-insensitive suffix ``.jsonl``, ``.jsonl.gz`` or ``.csv``).

    Raises:
        BatchUnreadable: for any other name.
    """
    lowered = name.lower()
    if lowered.endswith(".jsonl.gz"):
        return "jsonl.gz"
    if lowered.endswith(".jsonl"):
        return "jsonl"
    if lowered.endswith(".csv"):
        return "csv"
    raise BatchUnreadable("a record batch is named *.jsonl, *.jsonl.gz or *.csv")


def read_batch(
    name: str, data: bytes, *, catalogue: Catalogue | None = None, today: date | None = None
) -> Iterator[RecordLine]:
    """Parse and validate one dossier-record batch, lazily.

    Args:
        name: the landing key; its suffix decides the format.
        data: the batch's bytes as received.
        catalogue: procedures and agencies to check against; None skips ``record.unknown_*``.
        today: the current date for the birth-year rule; defaults to today in Vietnam.

    Returns:
        An iterator of one :class:`RecordLine` per non-blank line (CSV: per row), in order.

    Raises:
        BatchUnreadable: at once, when ``name`` is not a batch format of the contract.
    """
    fmt = batch_format(name)
    checks = Checks(catalogue, today if today is not None else today_in_vietnam())
    if fmt == "csv":
        return _read_csv(data, checks)
    return _read_jsonl(jsonl_raw_lines(name, data), checks)


class _Duplicates:
    """Remembers a digest of every line seen, to name the first of two identical lines."""

    def __init__(self) -> None:
        self._first: dict[bytes, int] = {}

    def first(self, content: bytes, line_no: int) -> int | None:
        """The earlier line with the same bytes, or None when ``content`` is seen for the first time."""
        digest = hashlib.blake2b(content, digest_size=16).digest()
        first = self._first.setdefault(digest, line_no)
        return None if first == line_no else first

    def finding(self, content: bytes, line_no: int) -> tuple[Finding, ...]:
        return _repeat_finding(self.first(content, line_no))


def _repeat_finding(first: int | None) -> tuple[Finding, ...]:
    if first is None:
        return ()
    return (Finding("record.duplicate_line", "info", f"same text as line {first}"),)


def _decode(text: str) -> tuple[Any, str | None]:
    """The JSON value of a text, or None and why it is not one."""
    try:
        value = _JSON.decode(text)
    except json.JSONDecodeError as exc:
        return None, f"not valid JSON ({exc.msg} at column {exc.colno})"
    except ValueError as exc:  # NaN, Infinity, over-long integers
        return None, f"not valid JSON ({exc})"
    except RecursionError:
        return None, "not valid JSON (nested too deeply)"
    if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(value):
        return None, "not valid text (an unpaired UTF-16 surrogate escape)"
    return value, None


def _decode_line(raw: bytes, text: str) -> tuple[Any, str | None]:
    """:func:`_decode` of a line that is valid UTF-8 (``raw``, and ``text`` decoded from it), faster."""
    if _LONG_NUMBER not in raw.translate(_DIGITS_AS_ZERO) and raw.count(b"[") + raw.count(b"{") < _MANY_BRACKETS:
        try:
            return orjson.loads(raw), None
        except orjson.JSONDecodeError:
            pass  # the json module gives the reason (and reads what orjson alone refuses, e.g. 1e400)
    return _decode(text)


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return _LONE_SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


def _kind(value: Any) -> str:
    return {list: "a list", str: "a text", bool: "a boolean", type(None): "null"}.get(type(value), "a number")


class RawLine(NamedTuple):
    """One non-blank line of a JSON Lines batch as cut out of the batch, before any decoding.

    What needs the batch in order (the line number, the earlier line with the same bytes, where a gzip stream
    breaks) is settled here, so that :func:`read_raw_line` depends on nothing but the line: lines can then be
    read in any order or process and come out the same.

    Attributes:
        line_no: the 1-based physical line.
        raw: the bytes without line end and byte-order mark (empty for a break).
        repeat_of: the first earlier line with exactly these bytes, if any.
        broken: set on the last item when the gzip stream is corrupt or truncated: the finding's detail.
    """

    line_no: int
    raw: bytes
    repeat_of: int | None = None
    broken: str | None = None


def jsonl_raw_lines(name: str, data: bytes) -> Iterator[RawLine]:
    """The non-blank lines of a JSON Lines batch (plain or gzip, by ``name``), in order, lazily."""
    lines: Iterable[bytes] = io.BytesIO(data)
    if batch_format(name) == "jsonl.gz":
        lines = gzip.GzipFile(fileobj=io.BytesIO(data), mode="rb")  # decompressed as it is read
    return _raw_lines(lines)


def _raw_lines(source: Iterable[bytes]) -> Iterator[RawLine]:
    duplicates = _Duplicates()
    line_no = 0
    lines = iter(source)
    while True:
        try:
            raw = next(lines)
        except StopIteration:
            return
        except (OSError, EOFError, zlib.error):
            yield RawLine(
                line_no + 1,
                b"",
                broken=f"the gzip stream is corrupt or truncated after line {line_no}; "
                "the rest of the batch cannot be read",
            )
            return
        line_no += 1
        if raw.endswith(b"\n"):
            raw = raw[:-1]
            if raw.endswith(b"\r"):
                raw = raw[:-1]
        if raw.startswith(_BOM):  # the batch's, or that of an export concatenated onto it
            raw = raw[len(_BOM) :]
        if not raw.strip():
            continue
        # Every line's digest is remembered, readable or not: identical bytes read identically, so the first
        # of two identical JSON objects is always a JSON object too.
        yield RawLine(line_no, raw, duplicates.first(raw, line_no))


def read_raw_line(line: RawLine, checks: Checks) -> RecordLine:
    """One line of a JSON Lines batch, decoded and validated (depends on nothing else of the batch)."""
    if line.broken is not None:
        return unreadable_line(line.line_no, "", line.broken, rule="record.batch_unreadable")
    raw, line_no = line.raw, line.line_no
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return unreadable_line(line_no, raw.decode("utf-8", errors="replace"), "the line is not valid UTF-8")
    value, problem = _decode_line(raw, text)
    if problem is not None:
        return unreadable_line(line_no, text, f"the line is {problem}")
    if not isinstance(value, dict):
        return unreadable_line(line_no, text, f"the line is valid JSON but {_kind(value)}, not an object")
    return validate_record(line_no, text, value, checks, _repeat_finding(line.repeat_of))


def _read_jsonl(lines: Iterable[RawLine], checks: Checks) -> Iterator[RecordLine]:
    for line in lines:
        yield read_raw_line(line, checks)


def _read_csv(data: bytes, checks: Checks) -> Iterator[RecordLine]:
    rows = read_csv_rows(data)
    header = next(rows, None)
    if header is None:
        return
    names = [name.strip() for name in header.cells]
    header_problem = None
    if header.error is not None or not header.valid_utf8 or not names:
        header_problem = "the CSV header row cannot be read, so no row can be"
    keys = [_quote(name) for name in names]
    duplicates = _Duplicates()
    for row in rows:
        if row.error is not None:
            yield unreadable_line(row.line_no, "", row.error)
            continue
        if header_problem is not None or not row.valid_utf8:
            text = json.dumps(dict(zip(names, row.cells, strict=False)), ensure_ascii=False)
            yield unreadable_line(row.line_no, text, header_problem or "the row is not valid UTF-8")
            continue
        obj, text = _csv_object(names, keys, row.cells)
        extra: tuple[Finding, ...] = ()
        if len(row.cells) != len(names):
            extra = (
                Finding(
                    "record.bad_csv_row", "warning", f"the row has {len(row.cells)} cells, the header {len(names)}"
                ),
            )
        extra += duplicates.finding(text.encode("utf-8"), row.line_no)
        yield validate_record(row.line_no, text, obj, checks, extra)


def _csv_object(names: list[str], keys: list[str], cells: list[str]) -> tuple[dict[str, Any], str]:
    """A CSV row as the JSON object of the contract, and that object as JSON text.

    An empty cell is null; a list field's cell is parsed as JSON (kept as text when it is not, and the
    validator then reports it). Cells beyond the header's are kept under ``_extra_cells``. The text is
    built alongside the object, a list cell's JSON going in as received: faster than ``json.dumps``.
    ``keys`` are the names as JSON strings.
    """
    obj: dict[str, Any] = {}
    parts = []
    for name, key, cell in zip(names, keys, cells, strict=False):
        if not cell or cell.isspace():
            obj[name] = None
            parts.append(f"{key}: null")
            continue
        if name in LIST_FIELDS:
            value, problem = _decode(cell)
            if problem is None:
                obj[name] = value
                parts.append(f"{key}: {cell.strip()}")
                continue
        obj[name] = cell
        parts.append(f"{key}: {_quote(cell)}")
    if len(cells) > len(names):
        obj["_extra_cells"] = extra = cells[len(names) :]
        parts.append(f'"_extra_cells": {json.dumps(extra, ensure_ascii=False)}')
    return obj, "{" + ", ".join(parts) + "}"
