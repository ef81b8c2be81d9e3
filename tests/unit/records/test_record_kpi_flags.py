"""The loader's KPI list flags (sohoa/intake/kpi_flags.py): each bit is its jsonpath of kpi.dau_vao_tinh.

That they equal the view's values in PostgreSQL, on every test feed, is checked by
tests/integration/test_kpi_inputs_kept.py; these tests pin each predicate's reading of a parsed line.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from records_testkit import CLEAN, parse_one

from sohoa.intake.kpi_flags import BITS, LineFlags, _double_positive, kpi_flags

SCANNED, ELECTRONIC_RESULT, FEE, REUSED, FROM_STORE = (1 << i for i in range(len(BITS)))


def _document(**changes: Any) -> dict[str, Any]:
    return {**CLEAN["TaiLieuNop"][0], **changes}


def test_the_clean_record_is_scanned_and_charged() -> None:
    assert kpi_flags(parse_one()) == SCANNED | FEE


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"DuocSoHoa": "1"}, SCANNED),
        ({"DuocSoHoa": 0}, 0),
        ({"DuongDanTaiTepTin": ""}, 0),
        ({"DuongDanTaiTepTin": "   "}, 0),
        ({"DuongDanTaiTepTin": None}, 0),
        ({"DuongDanTaiTepTin": "\u0000"}, SCANNED),  # stored as U+FFFD: not empty
        ({"DuocSoHoa": True}, 0),  # a JSON true is not 1, here or in jsonpath
        ({"DuocTaiSuDung": 1, "DuocSoHoa": 0}, REUSED),
        ({"DuocLayTuKhoDMQG": "1", "DuocSoHoa": 0}, FROM_STORE),
    ],
)
def test_submitted_documents(document: dict[str, Any], expected: int) -> None:
    line = parse_one(TaiLieuNop=[_document(**document)], DanhSachLePhi=[])
    assert kpi_flags(line) == expected


def test_any_entry_of_a_list_sets_its_bit() -> None:
    line = parse_one(
        TaiLieuNop=[_document(DuocSoHoa=0), _document(DuocTaiSuDung=1, DuongDanTaiTepTin=None)],
        DanhSachGiayToKetQua=[{"DuongDanTepTinKetQua": ""}, {"DuongDanTepTinKetQua": "https://x/kq.pdf"}],
        DanhSachLePhi=[{"Gia": 0}, {"Gia": None}, {"Gia": "12.5"}],
    )
    assert kpi_flags(line) == ELECTRONIC_RESULT | FEE | REUSED


@pytest.mark.parametrize(
    ("gia", "expected"),
    [
        (Decimal(0), False),
        (Decimal("-0"), False),
        (Decimal("0.000000000000000000000000000001"), True),
        (Decimal("1E-320"), True),  # a subnormal float8: PostgreSQL keeps it
        (Decimal("1E-400"), False),  # underflows to zero: .double() fails
        (Decimal("1E+400"), False),  # overflows: .double() fails
        (Decimal(10**400), False),
        (Decimal("NaN"), False),
        (Decimal("Infinity"), False),
        (Decimal("2000"), True),
    ],
)
def test_a_fee_is_charged_as_jsonpath_double_reads_it(gia: Decimal, expected: bool) -> None:
    assert _double_positive(gia) is expected


def test_line_flags_become_array_literals() -> None:
    flags = LineFlags()
    flags.add(parse_one())
    more = LineFlags()
    more.add(parse_one(DanhSachLePhi=[]))
    flags.extend(more)
    assert len(flags) == 2
    assert flags.as_arrays() == ("{1,1}", f"{{{SCANNED | FEE},{SCANNED}}}")
