"""How a full build cuts the series numbers into the daily table's partitions, one per lane."""

from __future__ import annotations

from sohoa.kpi import daily_parts


def test_ranges_cover_every_series_number_and_balance_the_dossiers() -> None:
    weights = [(1, 10), (2, 10), (3, 10), (4, 10), (7, 40)]
    assert daily_parts.split(weights, 2) == [(None, 7), (7, None)]  # 40 and 40 dossiers
    even = [(i, 10) for i in range(1, 7)]
    assert daily_parts.split(even, 3) == [(None, 3), (3, 5), (5, None)]  # 20 dossiers each
    # a series stays whole: after 30 dossiers, the one of 40 takes the rest (no third range of 10)
    assert daily_parts.split(weights, 3) == [(None, 4), (4, None)]


def test_fewer_series_than_lanes_and_no_series_give_fewer_ranges() -> None:
    assert daily_parts.split([(5, 100)], 2) == [(None, None)]
    assert daily_parts.split([], 2) == [(None, None)]
    assert daily_parts.split([(1, 1), (2, 1)], 1) == [(None, None)]


def test_conditions_and_bounds_in_sql() -> None:
    assert daily_parts.condition("id", (None, 7)) == "id < 7"
    assert daily_parts.condition("id", (7, 9)) == "id >= 7 AND id < 9"
    assert daily_parts.condition("id", (None, None)) == "true"
    assert daily_parts.bound((None, 7)) == "FROM (MINVALUE) TO (7)"
    assert daily_parts.bound((7, None)) == "FROM (7) TO (MAXVALUE)"
