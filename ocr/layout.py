"""Reading order of a page from word boxes: side-by-side blocks block by block, left first.

Tesseract segments the two-column header of an official document (agency and number on the left, motto,
place and date on the right) and its closing blocks ("Nơi nhận" on the left, the signer on the right)
line by line across both columns, which interleaves two texts. The contract wants each block whole,
left first; a table row, on the other hand, stays one line with its cells in order.

The method, on the words Tesseract found:

1. Drop noise: words under :data:`MIN_WORD_CONFIDENCE` (specks, seal fragments), then lines whose mean
   confidence is under :data:`MIN_LINE_CONFIDENCE` (what is left of a seal or signature).
2. Cut each line into *segments* where the gap between two words is wider than 1.5 times the line's
   median word height (a column gutter; word spacing is about a third of that).
3. Group segments into *rows* by vertical overlap, top to bottom.
4. A row of exactly two segments opens a *side-by-side region* whose gutter is the gap between them.
   Following rows (and up to two single-sided rows before it: one block may start a line higher) stay
   in the region while every segment they hold is on one side of the gutter, narrowing it as they go;
   a segment that crosses the gutter (a title, a body paragraph) or a row of a ruled table ends the
   region. A region needs at least two rows.
5. In a region, the left segments are read top to bottom, then the right ones; elsewhere a row's
   segments are joined left to right (a table row is its cells in order).
"""

from __future__ import annotations

import statistics
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from ocr.models import Word

MIN_WORD_CONFIDENCE = 20.0
MIN_LINE_CONFIDENCE = 40.0
_GUTTER_HEIGHTS = 1.5
_MAX_LEAD_ROWS = 2
_SURE = 70.0
_LETTERS = frozenset({"Lu", "Ll", "Lt", "Lo", "Nd"})  # not "Lm": Tesseract's stray "ˆ" is a modifier letter


@dataclass(frozen=True)
class Segment:
    """Words of one line that sit together (no gutter between them)."""

    words: tuple[Word, ...]

    @property
    def left(self) -> int:
        return min(w.left for w in self.words)

    @property
    def right(self) -> int:
        return max(w.left + w.width for w in self.words)

    @property
    def top(self) -> int:
        return min(w.top for w in self.words)

    @property
    def bottom(self) -> int:
        return max(w.top + w.height for w in self.words)

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


def clean_lines(lines: Sequence[Sequence[Word]]) -> list[tuple[Word, ...]]:
    """Lines without noise words, and without lines that are mostly noise.

    Noise is what Tesseract reads into specks, seal fragments and empty gaps: words under
    :data:`MIN_WORD_CONFIDENCE`; unsure one- or two-character words made only of symbols (``_``, ``ˆ``,
    ``£``, ``|``: Tesseract's usual hallucinations in a wide gap); unsure words far smaller than the
    page's print.
    """
    heights = [w.height for line in lines for w in line]
    small = 0.4 * statistics.median(heights) if heights else 0.0
    kept = []
    for line in lines:
        words = tuple(w for w in line if not _is_noise(w, small))
        if words and statistics.fmean(w.confidence for w in words) >= MIN_LINE_CONFIDENCE:
            kept.append(words)
    return kept


def _is_noise(word: Word, small_height: float) -> bool:
    if word.confidence < MIN_WORD_CONFIDENCE:
        return True
    if word.confidence >= _SURE:
        return False
    symbols_only = len(word.text) <= 2 and not any(unicodedata.category(ch) in _LETTERS for ch in word.text)
    return symbols_only or word.height < small_height


def split_segments(line: Sequence[Word]) -> list[Segment]:
    """Cut a line where a gap is wider than 1.5 median word heights."""
    words = sorted(line, key=lambda w: w.left)
    if not words:
        return []
    gutter = _GUTTER_HEIGHTS * statistics.median(w.height for w in words)
    segments: list[list[Word]] = [[words[0]]]
    for previous, word in zip(words, words[1:], strict=False):
        if word.left - (previous.left + previous.width) > gutter:
            segments.append([word])
        else:
            segments[-1].append(word)
    return [Segment(tuple(s)) for s in segments]


def group_rows(segments: Sequence[Segment]) -> list[list[Segment]]:
    """Segments on the same printed row (overlapping vertically by half the smaller height), top to bottom."""
    rows: list[list[Segment]] = []
    for seg in sorted(segments, key=lambda s: (s.top + s.bottom) / 2):
        if rows:
            row = rows[-1]
            top, bottom = min(s.top for s in row), max(s.bottom for s in row)
            overlap = min(bottom, seg.bottom) - max(top, seg.top)
            if overlap >= 0.5 * min(bottom - top, seg.bottom - seg.top):
                row.append(seg)
                continue
        rows.append([seg])
    return [sorted(row, key=lambda s: s.left) for row in rows]


def reading_order(lines: Sequence[Sequence[Word]], table_spans: Sequence[tuple[int, int]] = ()) -> list[str]:
    """Text lines of a page in the contract's reading order (see the module docstring).

    Args:
        lines: Tesseract's lines of words.
        table_spans: vertical extents ``(top, bottom)`` of ruled tables, in the same pixels as the words;
            a row inside one is a table row and never part of a side-by-side region.
    """
    return [line_text(line) for line in reading_order_words(lines, table_spans)]


def line_text(line: Sequence[Word]) -> str:
    """The text of one reading-order line: its words joined by single spaces."""
    return " ".join(w.text for w in line)


def reading_order_words(
    lines: Sequence[Sequence[Word]], table_spans: Sequence[tuple[int, int]] = ()
) -> list[tuple[Word, ...]]:
    """The words of a page, line by line, in the contract's reading order (boxes kept).

    The same lines as :func:`reading_order`, as words rather than strings, so the searchable PDF's text
    layer can be written in exactly the order of ``text.txt`` with every word on its printed place.
    """
    segments = [seg for line in clean_lines(lines) for seg in split_segments(line)]
    rows = group_rows(segments)
    in_table = [_inside(row, table_spans) for row in rows]
    out: list[tuple[Word, ...]] = []
    i = 0
    while i < len(rows):
        region = None if in_table[i] else _side_by_side(rows, i, in_table)
        if region is None:
            out.append(tuple(w for seg in rows[i] for w in seg.words))
            i += 1
            continue
        end, left, right = region
        out.extend(seg.words for seg in left)
        out.extend(seg.words for seg in right)
        i = end
    return out


def _inside(row: Sequence[Segment], spans: Sequence[tuple[int, int]]) -> bool:
    centre = sum(s.top + s.bottom for s in row) / (2 * len(row))
    return any(top <= centre <= bottom for top, bottom in spans)


def _side_by_side(
    rows: Sequence[Sequence[Segment]], start: int, in_table: Sequence[bool]
) -> tuple[int, list[Segment], list[Segment]] | None:
    """The side-by-side region starting at ``rows[start]``: its end (exclusive), left and right segments.

    The region opens at the first row of exactly two segments, which may follow a few single-sided rows
    (one block starting a line higher than the other).
    """
    opening = start
    while opening < len(rows) and len(rows[opening]) == 1 and opening - start < _MAX_LEAD_ROWS:
        opening += 1
    if opening >= len(rows) or len(rows[opening]) != 2 or in_table[opening]:
        return None
    lo, hi = rows[opening][0].right, rows[opening][1].left
    placed: list[tuple[Segment, bool]] = []  # (segment, is_left)
    end = start
    for index in range(start, len(rows)):
        row = rows[index]
        # Rows before the opening one must be single; after it, any row whose segments all keep to one
        # side (a stray mark beside a block) stays in.
        fitted = _fit(row, lo, hi) if not in_table[index] and (index >= opening or len(row) == 1) else None
        if fitted is None:
            if index <= opening:
                return None  # a lead row crosses the gutter: no region starts here
            break
        lo, hi, sides = fitted
        placed.extend(zip(row, sides, strict=True))
        end = index + 1
    if end - start < 2:
        return None  # one row is just a row (a table row keeps its cells on one line)
    return end, [s for s, is_left in placed if is_left], [s for s, is_left in placed if not is_left]


def _fit(row: Sequence[Segment], lo: int, hi: int) -> tuple[int, int, list[bool]] | None:
    """Place a row's segments on either side of the gutter ``(lo, hi)``; ``None`` if one crosses it."""
    sides = []
    for seg in row:
        if seg.left < lo and seg.right > hi:
            return None
        is_left = seg.right <= hi and (seg.left < lo or (seg.left + seg.right) / 2 < (lo + hi) / 2)
        if is_left:
            lo = max(lo, seg.right)
        else:
            hi = min(hi, seg.left)
        sides.append(is_left)
    if lo >= hi:
        return None
    return lo, hi, sides
