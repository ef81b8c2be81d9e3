"""CSV reading shared by record batches and catalogues: UTF-8 with an optional byte-order mark, standard
quoting, and the physical line where each row starts (a quoted cell may span lines)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import NamedTuple

# Bytes that are not UTF-8 survive decoding as lone surrogates (errors="surrogateescape"), so one bad
# row is reported without losing the rows around it.
_UNDECODABLE = re.compile("[\udc80-\udcff]")


class CsvRow(NamedTuple):
    """One CSV row.

    Attributes:
        line_no: 1-based physical line where the row starts.
        cells: the cells; text that was not UTF-8 is replaced by U+FFFD when ``valid_utf8`` is False.
        valid_utf8: False when the row's bytes were not valid UTF-8.
        error: a reason when the csv module could not read the row (then ``cells`` is empty).
    """

    line_no: int
    cells: list[str]
    valid_utf8: bool = True
    error: str | None = None


# A quoted cell may span physical lines; one that has not closed after this many lines is taken to be a
# stray quote, not a long cell (otherwise one unbalanced quote would swallow the rest of the batch).
MAX_ROW_LINES = 200


def read_csv_rows(data: bytes) -> Iterator[CsvRow]:
    """The rows of a CSV file, header included, skipping blank lines.

    Rows are cut by quote parity before the csv module reads them, so that a quote that never closes
    damages only its own line: a row that starts an unbalanced quote (no closing quote within
    :data:`MAX_ROW_LINES` lines, or a multi-line row whose cell count differs from the header's) is read as
    its line alone when that gives the header's number of cells (a literal quote, ``5" floppy``), else
    reported as an error row, and reading goes on at the next line.

    Args:
        data: the file's bytes.

    Yields:
        One :class:`CsvRow` per non-blank row, in order.
    """
    try:
        text = data.decode("utf-8-sig")
        check_utf8 = False
    except UnicodeDecodeError:
        text = data.decode("utf-8-sig", errors="surrogateescape")
        check_utf8 = True
    lines = list(io.StringIO(text, newline=""))  # split as the csv module does: \n, \r\n or \r
    expected: int | None = None  # the header's cell count
    i = 0
    while i < len(lines):
        start, cells, error, i = _next_row(lines, i, expected)
        if error is not None:
            yield CsvRow(start, [], error=error)
            continue
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            continue
        if expected is None:
            expected = len(cells)
        if check_utf8 and _UNDECODABLE.search("".join(cells)):
            yield CsvRow(start, [_UNDECODABLE.sub("\ufffd", cell) for cell in cells], valid_utf8=False)
            continue
        yield CsvRow(start, cells)


def _parse(chunk: list[str]) -> list[list[str]]:
    return list(csv.reader(chunk))


def _next_row(lines: list[str], i: int, expected: int | None) -> tuple[int, list[str], str | None, int]:
    """The row starting at physical line ``i`` (0-based): (1-based line, cells, error, next line index)."""
    quotes = lines[i].count('"')
    j = i + 1
    while quotes % 2 and j < len(lines) and j - i < MAX_ROW_LINES:
        quotes += lines[j].count('"')
        j += 1
    try:
        if quotes % 2 == 0:
            rows = _parse(lines[i:j])
            if len(rows) <= 1 and (j == i + 1 or expected is None or (rows and len(rows[0]) == expected)):
                return i + 1, rows[0] if rows else [], None, j
        alone = _parse(lines[i : i + 1])
    except csv.Error as exc:
        return i + 1, [], f"CSV row cannot be read ({exc})", j if quotes % 2 == 0 else i + 1
    # Alone, the line reads with the header's cell count and no cell swallowed its line end: the quote was a
    # literal one inside a cell (``5" floppy``). Otherwise a quoted cell opened here and never closed.
    if (
        len(alone) == 1
        and (expected is None or len(alone[0]) == expected)
        and not any("\n" in cell or "\r" in cell for cell in alone[0])
    ):
        return i + 1, alone[0], None, i + 1
    return i + 1, [], "CSV row cannot be read (a quoted cell opened on this line never closes)", i + 1
