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


def read_csv_rows(data: bytes) -> Iterator[CsvRow]:
    """The rows of a CSV file, header included, skipping blank lines.

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
    reader = csv.reader(io.StringIO(text, newline=""))
    consumed = 0  # physical lines read so far
    while True:
        start = consumed + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            consumed = reader.line_num
            yield CsvRow(start, [], error=f"CSV row cannot be read ({exc})")
            continue
        consumed = reader.line_num
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            continue
        if check_utf8 and _UNDECODABLE.search("".join(cells)):
            yield CsvRow(start, [_UNDECODABLE.sub("\ufffd", cell) for cell in cells], valid_utf8=False)
            continue
        yield CsvRow(start, cells)
