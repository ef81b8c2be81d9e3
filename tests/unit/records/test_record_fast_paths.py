"""The records loader's fast paths give what the general paths give, on the lines where they could differ.

Loading speed comes from shortcuts (orjson for a line's JSON, a COPY line built without a call per field, the
two usual datetime forms read without a conversion through UTC, a field's usual value read inline before its
_Reader method, HMAC pads computed once per key); each must store the same bytes and report the same findings as
the general path, including on hostile lines.
"""

from __future__ import annotations

import hmac
import json
from datetime import date, datetime
from typing import Any

import pytest

from sohoa.intake.record_rows import copy_bytes, copy_line, copy_row
from sohoa.privacy import pseudonym
from sohoa.records.datetimes import VIETNAM, DatetimeError, parse_datetime
from sohoa.records.parse import _decode, read_batch
from sohoa.records.validate import (
    _APPLICANT_TYPES,
    _CHANNELS,
    _ONLINE_PAYMENT,
    Checks,
    _Reader,
    _status,
    validate_record,
)

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
        "2026-01-05T02:00:00.000Z",
        "2026-01-05T17:00:00.5Z",
        "2026-01-05T23:59:59.123456Z",
        "2026-01-05T23:59:59.1234567Z",
        "1979-12-31T20:00:00Z",
        "1980-01-01T00:00:00Z",
        "1975-06-12T16:00:00Z",
        "2999-12-31T23:59:59Z",
        "2024-02-29T18:30:00Z",
        "20260105090000",
    ],
)
def test_datetime_fast_form_is_the_general_value(text: str) -> None:
    expected = datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(VIETNAM) if "-" in text else None
    value = parse_datetime(text)
    if expected is not None:
        assert value == expected
        assert value.isoformat() == expected.isoformat()
        assert value.fold == expected.fold
    assert value.tzinfo is VIETNAM


@pytest.mark.parametrize(
    "text", ["2026-02-30T09:00:00Z", "2025-02-29T09:00:00.000Z", "2026-13-01T00:00:00Z", "2026-01-05T24:00:00Z"]
)
def test_a_utc_date_that_does_not_exist_is_refused_as_before(text: str) -> None:
    with pytest.raises(DatetimeError, match="ISO 8601 value names no real date and time"):
        parse_datetime(text)


def test_a_date_that_does_not_exist_is_still_refused() -> None:
    with pytest.raises(ValueError, match="names no real date"):
        parse_datetime("2026-02-30T09:00:00+07:00")


KEYS = [b"", b"k", b"bench-key", bytes(range(64)), bytes(range(65)), bytes(200), "khóa bí mật".encode()]
NUMBERS = [
    None,
    "",
    " ",
    "\t\n",
    "075193488459",
    " 0751 9348 8459 ",
    "0101243150-001",
    "abc",
    "٠٧٥١٩٣٤٨٨٤٥٩",  # Arabic-Indic digits: digits, but not ASCII
    "１２３",
    "straße",
    "x\x00y",
    "\u00a0123",
]


@pytest.mark.parametrize("key", KEYS)
def test_pseudonym_is_hmac_sha256_of_the_normalised_number(key: bytes) -> None:
    for number in NUMBERS:
        normalised = "".join(number.split()).upper() if number else ""
        expected = hmac.digest(key, normalised.encode(), "sha256").hex() if normalised else None
        assert pseudonym(key, number) == expected


ODD_VALUES: list[Any] = [
    None,
    "",
    "  ",
    " x ",
    "x",
    0,
    1,
    2,
    3,
    4,
    10,
    11,
    -1,
    "1",
    " 2 ",
    1.0,
    2.5,
    True,
    False,
    [],
    {},
    18446744073709551616,
]
TEXT_FIELDS = {
    "MaHoSo": ("ma_ho_so", True),
    "MaTTHC": ("ma_tthc", True),
    "TenTTHC": ("ten_tthc", False),
    "MaLinhVuc": ("ma_linh_vuc", False),
    "MaCoQuan": ("ma_co_quan", True),
    "ChuHoSo": ("chu_ho_so", False),
    "SoGiayToChuHoSo": ("so_giay_to", False),
    "HinhThucThanhToan": ("hinh_thuc_thanh_toan", False),
}
CHOICE_FIELDS = {
    "LoaiDoiTuong": ("loai_doi_tuong", _APPLICANT_TYPES),
    "DuocThanhToanTrucTuyen": ("duoc_thanh_toan_truc_tuyen", _ONLINE_PAYMENT),
}
CHECKS = Checks(None, date(2026, 1, 10))


def _reading_findings(line: Any, name: str) -> list[Any]:
    """The findings of reading the field ``name`` (not those of the checks made on the values read after)."""
    reading = {"record.missing_field", "record.bad_value", "record.bad_status"}
    return [
        f
        for f in line.findings
        if f.rule in reading and f.detail.startswith(name + " ") and "kept as received" not in f.detail
    ]


def _read_with(name: str, value: Any) -> Any:
    obj = {**BASE, name: value}
    if value is None:
        del obj[name]
    return validate_record(1, "{}", obj, CHECKS)


@pytest.mark.parametrize("name", sorted(TEXT_FIELDS))
@pytest.mark.parametrize("value", ODD_VALUES, ids=repr)
def test_a_text_field_read_inline_is_what_the_reader_gives(name: str, value: Any) -> None:
    attribute, required = TEXT_FIELDS[name]
    reader = _Reader()
    expected = reader.text({name: value}, name, required=required)
    line = _read_with(name, value)
    assert getattr(line, attribute) == expected
    assert _reading_findings(line, name) == reader.findings


@pytest.mark.parametrize("name", [*sorted(CHOICE_FIELDS), "KenhThucHien", "TrangThaiHoSo"])
@pytest.mark.parametrize("value", ODD_VALUES, ids=repr)
def test_a_choice_field_read_inline_is_what_the_reader_gives(name: str, value: Any) -> None:
    reader = _Reader()
    obj = {name: value}
    if name == "KenhThucHien":
        attribute, expected = "kenh_thuc_hien", 1 if value is None else reader.choice(obj, name, _CHANNELS)
    elif name == "TrangThaiHoSo":
        attribute, expected = "trang_thai", _status(reader, obj)
    else:
        attribute, allowed = CHOICE_FIELDS[name]
        expected = reader.choice(obj, name, allowed)
    line = _read_with(name, value)
    assert getattr(line, attribute) == expected
    assert type(getattr(line, attribute)) is type(expected)
    assert _reading_findings(line, name) == reader.findings
