"""The partitions of the daily table ``kpi.ngay_chi_tiet``: ranges of series numbers, one per lane of a full build.

The daily table is partitioned by range of its series number ``chuoi`` (migration 0022) so that each lane of a
full build writes its share of the series into a table of its own with ``CREATE TABLE AS`` (which writes faster
than ``INSERT``), builds that partition's key and day index itself, on its own core, and attaches it: the
work that a separate stage did for the whole table (10,000,000 dossiers: 17.5 s of one core) is spread over
the lanes, and no lane waits for another to finish writing.

The ranges cover every integer (the first from MINVALUE, the last to MAXVALUE), so the series numbered after
the full build (an incremental build adds them) fall into the last partition. They are chosen so that each
lane gets about the same number of dossiers.
"""

from __future__ import annotations

from collections.abc import Sequence

Range = tuple[int | None, int | None]  # [lo, hi) of series numbers; None: unbounded

_PARENT_NEW = "kpi.ngay_chi_tiet_moi"  # the partitioned daily table a full build builds beside the live one


def split(weights: Sequence[tuple[int, int]], lanes: int) -> list[Range]:
    """Cut the series, given as (series number, dossiers) in ascending order, into at most ``lanes`` ranges of
    about equal dossiers, covering every integer; always at least one range."""
    total = sum(n for _, n in weights)
    bounds: list[int] = []
    running = 0
    for series, n in weights:
        # a new range starts at this series once the ones before it hold the next share
        if running and running >= total * (len(bounds) + 1) / lanes and len(bounds) < lanes - 1:
            bounds.append(series)
        running += n
    edges: list[int | None] = [None, *bounds, None]
    return list(zip(edges[:-1], edges[1:], strict=False))


def condition(column: str, r: Range) -> str:
    """The SQL condition that ``column`` lies in the range (``true`` for the range of every integer)."""
    lo, hi = r
    parts = [f"{column} >= {int(lo)}" if lo is not None else "", f"{column} < {int(hi)}" if hi is not None else ""]
    return " AND ".join(p for p in parts if p) or "true"


def bound(r: Range) -> str:
    """The partition bound of the range, as ``ATTACH PARTITION ... FOR VALUES`` takes it."""
    lo, hi = r
    return f"FROM ({'MINVALUE' if lo is None else int(lo)}) TO ({'MAXVALUE' if hi is None else int(hi)})"


def table(lane: int) -> str:
    """The partition the lane ``lane`` of a full build writes (schema-qualified)."""
    return f"{_PARENT_NEW}_{lane}"
