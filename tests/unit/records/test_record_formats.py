"""Batch formats: JSON Lines (plain, gzip), CSV; line numbers, encodings, damaged input."""

from __future__ import annotations

import csv
import dataclasses
import gzip
import io
import json
from datetime import date
from typing import Any

import pytest
from records_testkit import CLEAN, TODAY, jsonl, parse, record, rules

from sohoa.records.catalogue import Catalogue, read_agencies_csv, read_procedures_csv
from sohoa.records.model import RecordLine
from sohoa.records.parse import BatchUnreadable, batch_format, read_batch
from sohoa.sample.catalogues import agencies_csv, procedures_csv
from sohoa.sample.records import CONTRACT_FIELDS, generate_records


def csv_batch(rows: list[dict[str, Any]], *, bom: bool = False, newline: str = "\r\n") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline)
    writer.writerow(CONTRACT_FIELDS)
    for row in rows:
        writer.writerow(
            [
                ""
                if row.get(f) is None
                else json.dumps(row[f], ensure_ascii=False)
                if isinstance(row.get(f), list)
                else str(row[f])
                for f in CONTRACT_FIELDS
            ]
        )
    return (b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode("utf-8")


def comparable(line: RecordLine) -> dict[str, Any]:
    """A line without what legitimately differs between formats: where it is, its text, its raw form."""
    fields = dataclasses.asdict(line)
    for name in ("line_no", "raw_text", "raw"):
        fields.pop(name)
    fields["findings"] = [(f["rule"], f["severity"]) for f in fields["findings"]]
    return fields


# --- names -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("records/a.jsonl", "jsonl"),
        ("records/a.jsonl.gz", "jsonl.gz"),
        ("records/a.csv", "csv"),
        ("records/A.JSONL", "jsonl"),
        ("records/a.CSV", "csv"),
    ],
)
def test_batch_format_from_the_key(name: str, fmt: str) -> None:
    assert batch_format(name) == fmt


@pytest.mark.parametrize("name", ["records/a.json", "records/a.csv.gz", "records/a.txt", "records/a"])
def test_other_names_raise_at_once(name: str) -> None:
    with pytest.raises(BatchUnreadable) as caught:
        read_batch(name, jsonl(record()))  # raised by the call, before any iteration
    assert "jsonl" in caught.value.reason


# --- JSON Lines --------------------------------------------------------------------------------------


def test_blank_lines_are_skipped_but_counted() -> None:
    data = b"\n" + jsonl(record()) + b"   \n\t\n" + jsonl(record(TrangThaiHoSo=9))
    assert [line.line_no for line in parse(data)] == [2, 5]


def test_crlf_line_ends_and_a_byte_order_mark() -> None:
    data = b"\xef\xbb\xbf" + jsonl(record()).replace(b"\n", b"\r\n") + jsonl(record(TrangThaiHoSo=9))
    lines = parse(data)
    assert [line.findings for line in lines] == [(), ()]
    assert not lines[0].raw_text.endswith("\r")


def test_last_line_without_newline() -> None:
    data = jsonl(record()) + json.dumps(record(TrangThaiHoSo=9)).encode()
    assert [line.trang_thai for line in parse(data)] == [10, 9]


def test_raw_text_is_the_line_as_received() -> None:
    text = json.dumps(record(), ensure_ascii=False, indent=None, separators=(",", ":"))
    (line,) = parse((text + "\n").encode())
    assert line.raw_text == text


def test_invalid_utf8_line_does_not_stop_the_batch() -> None:
    bad = b'{"MaHoSo": "000.00.32.H19-210708-0032", "ChuHoSo": "Nguy\xea\xf1 V\xe3n"}\n'
    lines = parse(jsonl(record()) + bad + jsonl(record(TrangThaiHoSo=9)))
    assert [line.line_no for line in lines] == [1, 2, 3]
    assert rules(lines[1]) == [("record.invalid_json", "error")]
    assert "UTF-8" in lines[1].findings[0].detail
    assert not lines[1].usable
    assert "\ufffd" in lines[1].raw_text  # stored, with the undecodable bytes replaced
    assert lines[0].usable
    assert lines[2].usable


def test_gzip_batch_reads_like_the_plain_one() -> None:
    data = jsonl(record(), "not json", record(TrangThaiHoSo=9))
    plain = parse(data)
    zipped = parse(gzip.compress(data), name="records/a.jsonl.gz")
    assert zipped == plain


def test_truncated_gzip_keeps_the_lines_before_the_damage() -> None:
    data = b"".join(jsonl(record(MaHoSo=f"000.00.32.H19-210708-{i:04d}")) for i in range(1, 2001))
    damaged = gzip.compress(data)[:-2000]
    lines = parse(damaged, name="records/a.jsonl.gz")
    *good, last = lines
    assert good, "the lines before the damage are read"
    assert all(line.findings == () for line in good)
    assert [line.line_no for line in good] == list(range(1, len(good) + 1))
    assert rules(last) == [("record.batch_unreadable", "error")]
    assert last.line_no == len(good) + 1
    assert not last.usable


@pytest.mark.parametrize("data", [b"", b"plain text, not gzip\n", b"\x1f\x8b\x08\x00garbage"])
def test_not_gzip_at_all(data: bytes) -> None:
    lines = parse(data, name="records/a.jsonl.gz")
    if data:
        assert [rules(line) for line in lines] == [[("record.batch_unreadable", "error")]]
        assert lines[0].line_no == 1
    else:
        assert lines == []


def test_gzip_with_a_corrupt_checksum() -> None:
    zipped = bytearray(gzip.compress(jsonl(record())))
    zipped[-8] ^= 0xFF  # the CRC-32 of the trailer
    lines = parse(bytes(zipped), name="records/a.jsonl.gz")
    assert rules(lines[-1]) == [("record.batch_unreadable", "error")]


def test_empty_batch() -> None:
    assert parse(b"") == []
    assert parse(b"", name="records/a.csv") == []
    assert parse(b"\n\n") == []


# --- CSV ---------------------------------------------------------------------------------------------


def test_csv_row_reads_like_the_json_line() -> None:
    (from_json,) = parse(jsonl(record()))
    (from_csv,) = parse(csv_batch([record()]), name="records/a.csv")
    assert comparable(from_csv) == comparable(from_json)
    assert from_csv.line_no == 2
    assert from_csv.raw is not None
    assert from_csv.raw["TrangThaiHoSo"] == "10"  # cells are text; list fields are parsed
    assert from_csv.raw["TaiLieuNop"] == CLEAN["TaiLieuNop"]
    assert json.loads(from_csv.raw_text) == from_csv.raw


def test_csv_with_bom_and_a_multi_line_cell() -> None:
    rows = [record(TenTTHC="Chứng thực bản sao\ntừ bản chính\ngiấy tờ"), record(TrangThaiHoSo=9)]
    data = csv_batch(rows, bom=True)
    lines = parse(data, name="records/a.csv")
    assert [line.findings for line in lines] == [(), ()]
    assert lines[0].ma_ho_so == CLEAN["MaHoSo"]  # the BOM is not part of the first column's name
    assert lines[0].ten_tthc == "Chứng thực bản sao\ntừ bản chính\ngiấy tờ"
    assert [line.line_no for line in lines] == [2, 5]  # the first row spans lines 2-4


def test_csv_blank_lines_and_empty_cells() -> None:
    data = csv_batch([record(NgayTra=None, DanhSachLePhi=None)], newline="\n")
    data = data.replace(b"\n", b"\n\n", 1)  # a blank line after the header
    (line,) = parse(data, name="records/a.csv")
    assert line.line_no == 3
    assert line.ngay_tra is None
    assert line.le_phi == ()
    assert line.raw is not None
    assert line.raw["NgayTra"] is None


def test_csv_row_with_invalid_utf8() -> None:
    data = csv_batch([record(), record(ChuHoSo="@@"), record(TrangThaiHoSo=9)]).replace(b"@@", b"Nguy\xea\xf1")
    lines = parse(data, name="records/a.csv")
    assert [line.line_no for line in lines] == [2, 3, 4]
    assert rules(lines[1]) == [("record.invalid_json", "error")]
    assert "UTF-8" in lines[1].findings[0].detail
    assert lines[0].findings == ()
    assert lines[2].findings == ()


def test_csv_list_cell_that_is_not_json() -> None:
    data = csv_batch([record(DanhSachLePhi="[{broken")])
    (line,) = parse(data, name="records/a.csv")
    assert rules(line) == [("record.bad_value", "warning")]
    assert line.le_phi == ()
    assert line.raw is not None
    assert line.raw["DanhSachLePhi"] == "[{broken"


def test_csv_row_with_more_or_fewer_cells() -> None:
    data = csv_batch([record()]).decode()
    header, row = data.splitlines()
    longer = f"{header}\r\n{row},extra\r\n{','.join(row.split(',')[:-1])}\r\n".encode()
    # the short row lacks CapNhatLuc
    more, fewer = parse(longer, name="records/a.csv")
    assert rules(more) == [("record.bad_csv_row", "warning")]
    assert more.raw is not None
    assert more.raw["_extra_cells"] == ["extra"]
    assert ("record.bad_csv_row", "warning") in rules(fewer)
    assert ("record.missing_field", "error") in rules(fewer)


def test_csv_cell_over_the_csv_module_limit() -> None:
    data = csv_batch([record(TenTTHC="x" * 200_000), record(TrangThaiHoSo=9)])
    bad, good = parse(data, name="records/a.csv")
    assert rules(bad) == [("record.invalid_json", "error")]
    assert bad.line_no == 2
    assert good.line_no == 3
    assert good.usable


def test_csv_duplicate_row() -> None:
    lines = parse(csv_batch([record(), record()]), name="records/a.csv")
    assert rules(lines[1]) == [("record.duplicate_line", "info")]
    assert lines[1].findings[0].detail == "same text as line 2"


# --- the same generated batch in both forms ----------------------------------------------------------


def test_generated_batch_reads_the_same_from_jsonl_and_csv() -> None:
    batch = generate_records(400, seed=7, start=date(2021, 3, 1), end=date(2021, 9, 30))
    catalogue = Catalogue.of(read_agencies_csv(agencies_csv())[0], read_procedures_csv(procedures_csv())[0])
    from_json = list(read_batch("records/b.jsonl", batch.jsonl_bytes(), catalogue=catalogue, today=TODAY))
    from_csv = list(read_batch("records/b.csv", batch.csv_bytes(), catalogue=catalogue, today=TODAY))
    assert len(from_json) == len(from_csv) == len(batch.lines)
    for a, b in zip(from_json, from_csv, strict=True):
        assert comparable(a) == comparable(b)
    assert sum(line.usable for line in from_json) > 350
    assert any(line.findings for line in from_json)


def test_csv_quote_that_never_closes_no_longer_swallows_the_rest_of_the_batch() -> None:
    """Regression: a cell opening a quote that never closed took every following row into itself."""
    from sohoa.records.csv_rows import read_csv_rows

    data = b'a,b,c\r\n1,2,3\r\n4,"5,6\r\n7,8,9\r\n10,"x\r\ny",12\r\n13,5" floppy,15\r\n'
    rows = list(read_csv_rows(data))
    assert [(r.line_no, r.cells) for r in rows if r.error is None] == [
        (1, ["a", "b", "c"]),
        (2, ["1", "2", "3"]),
        (4, ["7", "8", "9"]),
        (5, ["10", "x\r\ny", "12"]),
        (7, ["13", '5" floppy', "15"]),
    ]
    (bad,) = [r for r in rows if r.error is not None]
    assert bad.line_no == 3
    assert "never closes" in bad.error
