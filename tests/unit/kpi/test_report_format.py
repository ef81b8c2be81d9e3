"""Small pure pieces of the KPI package: Vietnamese number format, report keys, SQL rendering."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from sohoa.kpi.build import _kind
from sohoa.kpi.report import report_key, so_vn
from sohoa.kpi.sql import render


def test_numbers_are_written_the_vietnamese_way() -> None:
    assert so_vn(28300) == "28.300"
    assert so_vn(Decimal("99.15"), 2) == "99,15"
    assert so_vn(None) == "–"


def test_report_keys_carry_no_personal_data() -> None:
    assert report_key(date(2021, 4, 1), "000.00.32.H19") == "kpi/bao-cao/2021-04/000.00.32.H19.html"
    assert report_key(date(2021, 4, 1), "*") == "kpi/bao-cao/2021-04/tat-ca.html"


def test_every_placeholder_of_the_sql_must_be_given() -> None:
    sql = render("ngay_chi_tiet", ho_so="kpi.ho_so", doan="kpi.doan")
    assert "{" not in sql
    assert "FROM kpi.ho_so h" in sql
    with pytest.raises(KeyError):
        render("ky_co_quan", cqn="kpi.co_quan_ngay")


def test_which_build_runs() -> None:
    day = date(2021, 5, 1)
    assert _kind(None, None, None, False) == "full"  # never built
    assert _kind(day, date(2021, 1, 1), None, False) == "incremental"
    assert _kind(day, date(2021, 1, 1), date(2021, 3, 1), False) == "range"
    assert _kind(day, date(2021, 1, 1), date(2020, 12, 1), False) == "full"  # from before the first day
    assert _kind(day, date(2021, 1, 1), None, True) == "full"
