"""Dates as Vietnamese documents print them.

Two families cover what one-stop documents use (Decree 30/2020/NĐ-CP for official documents, and the
usual numeric form in forms and bodies):

- words: ``ngày 08 tháng 7 năm 2021`` (day and month with or without a leading zero, any case, any
  spacing, the line may wrap between the words);
- numbers: ``08/07/2021``, ``8/7/2021``, ``08-07-2021``, ``08.07.2021``: always day first.

A match that is not a real calendar date (``31/02/2021``) is not a date. Years outside 1900..2199 are
rejected: they are OCR misreadings far more often than real dates.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

# The words are matched on the text with its diacritics folded away ("nắm", "nam" and "năm" are all "nam"): OCR
# often drops or changes a tone or vowel mark, and nothing else in a document reads "ngay .. thang .. nam ..".
WORD_DATE = re.compile(
    r"ngay\s+(?P<d>[0-9]{1,2})\s+thang\s+(?P<m>[0-9]{1,2})\s+nam\s+(?P<y>[0-9]{4})(?![0-9])",
    re.IGNORECASE,
)
NUMERIC_DATE = re.compile(
    r"(?<![0-9/.\-])(?P<d>[0-9]{1,2})(?P<sep>[/.\-])(?P<m>[0-9]{1,2})(?P=sep)(?P<y>[0-9]{4})"
    r"(?![0-9])"
)
MIN_YEAR, MAX_YEAR = 1900, 2199


@dataclass(frozen=True)
class DateMatch:
    """A date found in a text: its value and where it is (``start``/``end`` offsets of the whole match)."""

    value: date
    start: int
    end: int
    form: str  # "words" or "numeric"


def _make(day: str, month: str, year: str) -> date | None:
    y = int(year)
    if not MIN_YEAR <= y <= MAX_YEAR:
        return None
    try:
        return date(y, int(month), int(day))
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def _base(ch: str) -> str:
    """A character without its diacritics ("ắ" -> "a", "đ" -> "d"); always one character, so offsets hold."""
    if ch in "đĐ":
        return "d" if ch == "đ" else "D"
    decomposed = unicodedata.normalize("NFD", ch)
    return decomposed[0] if decomposed and len(decomposed[0]) == 1 else ch


def fold(text: str) -> str:
    """The text with every character replaced by its base letter, same length (offsets map one to one)."""
    return "".join(map(_base, text))


def find_dates(text: str) -> list[DateMatch]:
    """Every date of the text in reading order; overlapping matches keep the word form."""
    found: list[DateMatch] = []
    for m in WORD_DATE.finditer(fold(text)):
        value = _make(m["d"], m["m"], m["y"])
        if value is not None:
            found.append(DateMatch(value, m.start(), m.end(), "words"))
    taken = [(d.start, d.end) for d in found]
    for m in NUMERIC_DATE.finditer(text):
        if any(s < m.end() and m.start() < e for s, e in taken):
            continue
        value = _make(m["d"], m["m"], m["y"])
        if value is not None:
            found.append(DateMatch(value, m.start(), m.end(), "numeric"))
    return sorted(found, key=lambda d: d.start)


def parse_date(text: str) -> date | None:
    """The date a short text holds in either form (``"ngày 8 tháng 7 năm 2021"``, ``"08/07/2021"``), or None."""
    dates = find_dates(text)
    return dates[0].value if dates else None
