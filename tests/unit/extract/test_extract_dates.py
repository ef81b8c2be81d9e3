"""Dates in the forms Vietnamese documents print them, read day first."""

from __future__ import annotations

from datetime import date

import pytest

from sohoa.extract.dates import find_dates, parse_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ngày 08 tháng 7 năm 2021", date(2021, 7, 8)),
        ("Đồng Nai, ngày 8 tháng 07 năm 2021", date(2021, 7, 8)),
        ("NGÀY 31 THÁNG 12 NĂM 2020", date(2020, 12, 31)),
        ("ngày 08\ntháng 7 năm\n2021", date(2021, 7, 8)),  # wrapped over lines
        ("ngay 08 thang 7 nam 2021", date(2021, 7, 8)),  # tone marks lost by OCR
        ("Lạng Sơn, ngày 22 tháng 8 nắm 2023", date(2023, 8, 22)),  # a wrong mark read by OCR (seen)
        ("ngảy 1 thắng 2 nấm 2022", date(2022, 2, 1)),
        ("08/07/2021", date(2021, 7, 8)),
        ("8/7/2021", date(2021, 7, 8)),
        ("08-07-2021", date(2021, 7, 8)),
        ("08.07.2021", date(2021, 7, 8)),
        ("tiếp nhận ngày 29/02/2024;", date(2024, 2, 29)),
    ],
)
def test_date_forms(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "31/02/2021",
        "ngày 30 tháng 2 năm 2021",
        "29/02/2023",
        "08/13/2021",
        "08/07/1850",
        "08/07-2021",
        "123/QĐ-UBND",
        "000.00.32.H19-210708-0032",
        "1/2/20215",
    ],
)
def test_not_dates(text: str) -> None:
    assert parse_date(text) is None


def test_dates_are_found_in_reading_order_with_their_offsets() -> None:
    text = "Ngày sinh: 03/10/1990\nHuế, ngày 24 tháng 5 năm 2024"
    found = find_dates(text)
    assert [d.value for d in found] == [date(1990, 10, 3), date(2024, 5, 24)]
    assert text[found[0].start : found[0].end] == "03/10/1990"
    assert text[found[1].start : found[1].end] == "ngày 24 tháng 5 năm 2024"
    assert [d.form for d in found] == ["numeric", "words"]
