"""The holiday seed (schemas/migrations/0004b_kpi_holidays.sql): what kpi.md lists, every year 2019-2027,
lunar holidays included, weekdays only."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

SEED = Path(__file__).resolve().parents[3] / "schemas" / "migrations" / "0004b_kpi_holidays.sql"


def _days() -> list[date]:
    return [date.fromisoformat(d) for d in re.findall(r"\('(\d{4}-\d{2}-\d{2})',", SEED.read_text(encoding="utf-8"))]


def test_2021_and_2022_are_exactly_the_lists_of_kpi_md() -> None:
    days = _days()
    assert [d for d in days if d.year == 2021] == [
        date(2021, 1, 1),
        date(2021, 2, 10),
        date(2021, 2, 11),
        date(2021, 2, 12),
        date(2021, 2, 15),
        date(2021, 2, 16),
        date(2021, 4, 21),
        date(2021, 4, 30),
        date(2021, 5, 3),
        date(2021, 9, 2),
        date(2021, 9, 3),
    ]
    assert [d for d in days if d.year == 2022] == [
        date(2022, 1, 3),
        date(2022, 1, 31),
        date(2022, 2, 1),
        date(2022, 2, 2),
        date(2022, 2, 3),
        date(2022, 2, 4),
        date(2022, 4, 11),
        date(2022, 5, 2),
        date(2022, 5, 3),
        date(2022, 9, 1),
        date(2022, 9, 2),
    ]


def test_every_year_2019_to_2027_has_tet_and_the_hung_kings_day() -> None:
    days = set(_days())
    lunar_new_year = {
        2019: date(2019, 2, 5),
        2020: date(2020, 1, 24),
        2021: date(2021, 2, 12),
        2022: date(2022, 2, 1),
        2023: date(2023, 1, 23),
        2024: date(2024, 2, 12),
        2025: date(2025, 1, 29),
        2026: date(2026, 2, 17),
        2027: date(2027, 2, 8),
    }
    for year, day in lunar_new_year.items():  # a weekday of each Tết holiday
        assert day in days, year
    # Giỗ Tổ Hùng Vương (10th of the 3rd lunar month), or the weekday off for it.
    hung_kings = [
        date(2019, 4, 15),
        date(2020, 4, 2),
        date(2021, 4, 21),
        date(2022, 4, 11),
        date(2023, 5, 2),
        date(2024, 4, 18),
        date(2025, 4, 7),
        date(2026, 4, 27),
        date(2027, 4, 16),
    ]
    for day in hung_kings:
        assert day in days, day
    for year in range(2019, 2028):
        assert sum(d.year == year for d in days) >= 9, year


def test_only_weekdays_and_no_duplicates() -> None:
    days = _days()
    assert len(days) == len(set(days))
    assert all(d.weekday() < 5 for d in days)
