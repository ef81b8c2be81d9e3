"""The records loader's fast paths give what the general paths give, on the lines where they could differ.

Loading speed comes from shortcuts (orjson for a line's JSON, a COPY line built without a call per field, a
datetime form read without a conversion through UTC); each must store the same bytes and report the same
findings as the general path, including on hostile lines.
"""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest

from sohoa.intake.record_rows import copy_bytes, copy_line, copy_row
from sohoa.records.datetimes import VIETNAM, parse_datetime
from sohoa.records.parse import _decode, read_batch

BASE = {
    "MaHoSo": "000.00.32.H19-260105-0001",
    "MaTTHC": "2.000815.000.00.00.H19",
    "MaCoQuan": "000.00.32.H19",
    "NgayTiepNhan": "2026-01-05T09:00:00+07:00",
    "TrangThaiHoSo": 2,
    "CapNhatLuc": "2026-01-05T09:00:00+07:00",
}


def line(**fields: object) -> bytes:
    return json.dumps({**BASE, **fields}, ensure_ascii=False).encode()


TRICKY = [
    line(),
    line(TrangThaiHoSo=18446744073709551616),
    line(DanhSachLePhi=[{"TenPhiLePhi": "x", "Gia": 123456789012345678901234567890}, {"Gia": 1.5}, {"Gia": 1e300}]),
    b'{"MaHoSo": 1e400}',
    b'{"TrangThaiHoSo": NaN}',
    b'{"ChuHoSo": "\\ud800"}',
    line(ChuHoSo="tab\there\\back\nnl\rcr\x00nul"),
    line(
        TaiLieuNop=[
            {
                "MaThanhPhanHoSo": "TP\x00",
                "TenTepDinhKem": 'a\\b"c\t',
                "DuocSoHoa": 1,
                "DuocTaiSuDung": 0,
                "DuocLayTuKhoDMQG": 0,
            }
        ]
    ),
    line(TaiLieuNop=[{"MaThanhPhanHoSo": " TP ", "DuocSoHoa": "1", "DuocTaiSuDung": 2}, 5, None]),
    line(
        DanhSachHoSoBoSung=[
            {"NgayBoSung": "2026-01-05T09:00:00.123456789+07:00", "NgayTiepNhanBoSung": "20260106080000"},
            {"NgayBoSung": "1960-01-01T00:00:00+07:00"},
        ]
    ),
    line(DanhSachGiayToKetQua=[{"TenGiayTo": " GP ", "MaGiayToKetQua": 5, "DuongDanTepTinKetQua": "s3://x\\y"}]),
    line(SoGiayToChuHoSo=" 0751 9348 8459 ", LoaiDoiTuong=1, ChuHoSo="Nguyễn Văn A"),
    b"[" * 1000 + b"]" * 1000,
    b'{"a": ' + b"[" * 1100 + b"]" * 1100 + b"}",
    b'{"k": "\\\\u0000"}',
    b"\xff\xfe",
]


@pytest.mark.parametrize("index", range(len(TRICKY)))
def test_copy_line_is_the_general_paths(index: int) -> None:
    batch = TRICKY[index] + b"\n"
    for read in read_batch("records/t.jsonl", batch, today=date(2026, 1, 10)):
        assert copy_bytes(7, read, b"key") == copy_line(copy_row(7, read, b"key")).encode()


def _utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# Lines that are not UTF-8 are refused before any JSON decoding (the first test covers them).
@pytest.mark.parametrize("index", [i for i, raw in enumerate(TRICKY) if _utf8(raw)])
def test_a_line_reads_as_the_json_module_reads_it(index: int) -> None:
    raw = TRICKY[index]
    value, problem = _decode(raw.decode("utf-8"))
    [read] = read_batch("records/t.jsonl", raw + b"\n", today=date(2026, 1, 10))
    if problem is None and isinstance(value, dict):
        assert read.raw == value
        assert [type(v) for v in read.raw.values()] == [type(v) for v in value.values()]  # a big int stays an int
    else:
        assert read.raw is None
        assert problem is None or read.findings[0].detail == f"the line is {problem}"


@pytest.mark.parametrize(
    "text",
    [
        "2026-01-05T09:00:00+07:00",
        "1999-12-31T23:59:59+07:00",
        "1976-01-01T00:00:00+07:00",
        "1960-06-01T00:00:00+07:00",
        "2026-01-05T02:00:00Z",
        "20260105090000",
    ],
)
def test_datetime_fast_form_is_the_general_value(text: str) -> None:
    expected = datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(VIETNAM) if "-" in text else None
    value = parse_datetime(text)
    if expected is not None:
        assert value == expected
        assert value.isoformat() == expected.isoformat()
    assert value.tzinfo is VIETNAM


def test_a_date_that_does_not_exist_is_still_refused() -> None:
    with pytest.raises(ValueError, match="names no real date"):
        parse_datetime("2026-02-30T09:00:00+07:00")
