"""The records path against the real PostgreSQL and S3 server: landing -> parse -> COPY -> latest state.

What a data engineer checks: every line is kept with its batch and line number, the latest state wins
(ties: the later batch), findings land in quality.issues, and loading the same batch twice (even under
another name) changes nothing.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json

import pytest
from db_rows import rows as _query

from sohoa.config import Settings
from sohoa.intake import pipeline
from sohoa.sample.catalogues import agencies_csv, procedures_csv
from sohoa.sample.records import generate_records
from sohoa.storage import s3

pytestmark = pytest.mark.integration

AGENCY = "000.00.32.H19"


def _put(settings: Settings, key: str, data: bytes) -> None:
    s3.put_bytes(s3.make_client(settings), settings.bucket_landing, key, data, "application/octet-stream")


def _line(code: str, status: int, updated: str, **extra: object) -> str:
    record = {
        "MaHoSo": code,
        "MaTTHC": "2.000815",
        "MaCoQuan": AGENCY,
        "TrangThaiHoSo": status,
        "NgayTiepNhan": "2026-01-05T09:00:00+07:00",
        "CapNhatLuc": updated,
        **extra,
    }
    return json.dumps(record, ensure_ascii=False)


def test_generated_batch_loads_with_its_planted_findings(settings: Settings) -> None:
    batch = generate_records(200, seed=7, start=dt.date(2026, 1, 5), end=dt.date(2026, 3, 31))
    _put(settings, "catalogue/agencies.csv", agencies_csv())
    _put(settings, "catalogue/procedures.csv", procedures_csv())
    _put(settings, "records/export.jsonl", batch.jsonl_bytes())
    pipeline.run_all(settings)

    lines = batch.jsonl_bytes().decode().strip("\n").split("\n")
    stored = _query(settings, "SELECT count(*), count(*) FILTER (WHERE usable) FROM sohoa.record_version")[0]
    assert stored[0] == len(lines)
    expected_dossiers = {d.ma_ho_so for d in batch.dossiers if d.expect_usable}
    published = {r[0] for r in _query(settings, "SELECT ma_ho_so FROM publish.ho_so")}
    assert published == expected_dossiers
    found = dict(_query(settings, "SELECT rule, count(*) FROM quality.issues WHERE source = 'record' GROUP BY rule"))
    for rule, count in batch.expected_findings.items():
        assert found.get(rule, 0) >= count, f"{rule}: planted {count}, found {found.get(rule, 0)}"
    # Each dossier's published status is the final state the generator intended.
    final = {d.ma_ho_so: d.record["TrangThaiHoSo"] for d in batch.dossiers if d.expect_usable}
    for code, status in _query(settings, "SELECT ma_ho_so, trang_thai FROM publish.ho_so"):
        assert status == final[str(code)]


def test_latest_state_wins_and_ties_go_to_the_later_batch(settings: Settings) -> None:
    a = f"{AGENCY}-260105-0001"
    b = f"{AGENCY}-260105-0002"
    _put(
        settings,
        "records/1.jsonl",
        "\n".join(
            [
                _line(a, 4, "2026-01-06T09:00:00+07:00"),
                _line(a, 2, "2026-01-05T09:00:00+07:00"),  # older: loses although later in the file
                _line(b, 2, "20260105100000"),
                _line(b, 4, "2026-01-05T03:00:00Z"),  # same instant as the line above: later line wins
            ]
        ).encode(),
    )
    pipeline.run_all(settings)
    assert dict(_query(settings, "SELECT ma_ho_so, trang_thai FROM publish.ho_so")) == {a: 4, b: 4}

    _put(settings, "records/2.jsonl.gz", gzip.compress(_line(a, 5, "2026-01-06T09:00:00+07:00").encode()))
    pipeline.run_all(settings)
    assert dict(_query(settings, "SELECT ma_ho_so, trang_thai FROM publish.ho_so")) == {a: 5, b: 4}
    assert _query(settings, "SELECT count(*) FROM sohoa.record_version WHERE ma_ho_so = %s", a)[0][0] == 3


def test_same_batch_twice_changes_nothing(settings: Settings) -> None:
    data = (
        "\n".join([_line(f"{AGENCY}-260105-000{i}", 2, "2026-01-05T09:00:00+07:00") for i in range(1, 6)])
        + "\nnot json at all\n"
    ).encode()
    _put(settings, "records/a.jsonl", data)
    pipeline.run_all(settings)
    before = _query(
        settings,
        "SELECT (SELECT count(*) FROM sohoa.record_version), (SELECT count(*) FROM "
        "sohoa.issue), (SELECT count(*) FROM sohoa.dossier)",
    )[0]
    assert before == (6, 1, 5)
    pipeline.run_all(settings)  # nothing new
    _put(settings, "records/a-copy.jsonl", data)  # same bytes, another name
    _put(settings, "records/a.jsonl", data)  # re-uploaded under the same name
    pipeline.run_all(settings)
    after = _query(
        settings,
        "SELECT (SELECT count(*) FROM sohoa.record_version), (SELECT count(*) FROM "
        "sohoa.issue), (SELECT count(*) FROM sohoa.dossier)",
    )[0]
    assert after == before
    statuses = dict(_query(settings, "SELECT object_key, status FROM sohoa.landing_object"))
    assert statuses["records/a-copy.jsonl"] == "duplicate"


def test_csv_and_bad_lines_are_kept_with_line_numbers(settings: Settings) -> None:
    header = "MaHoSo,MaTTHC,MaCoQuan,TrangThaiHoSo,NgayTiepNhan,CapNhatLuc,DanhSachLePhi\n"
    rows = (
        f"{AGENCY}-260105-0001,2.000815,{AGENCY},2,2026-01-05T09:00:00+07:00,20260105090000,"
        '"[{""TenPhiLePhi"": ""Lệ phí"", ""Gia"": 50000}]"\n'
        f"{AGENCY}-260105-0002,2.000815,{AGENCY},2,2026-01-05,20260105090000,\n"
        f",2.000815,{AGENCY},2,2026-01-05T09:00:00+07:00,20260105090000,\n"
    )
    _put(settings, "records/b.csv", ("\ufeff" + header + rows).encode())
    pipeline.run_all(settings)
    issues = _query(settings, "SELECT line_no, rule, severity, detail FROM quality.issues ORDER BY line_no")
    assert [(i[0], i[1], i[2]) for i in issues] == [
        (3, "record.bad_datetime", "error"),
        (4, "record.missing_field", "error"),
    ]
    assert all(i[3] for i in issues)
    fees = _query(settings, "SELECT le_phi FROM sohoa.record_version WHERE line_no = 2")[0][0]
    assert fees == [{"TenPhiLePhi": "Lệ phí", "Gia": "50000"}]
    assert _query(settings, "SELECT count(*) FROM publish.ho_so")[0][0] == 1


def test_unknown_landing_key_is_quarantined_not_ignored(settings: Settings) -> None:
    _put(settings, "notes/todo.txt", b"hello")
    _put(settings, "records/export.xlsx", b"PK\x03\x04")
    pipeline.run_all(settings)
    issues = _query(settings, "SELECT object_key, rule FROM quality.issues ORDER BY object_key")
    assert issues == [("notes/todo.txt", "landing.unknown_key"), ("records/export.xlsx", "landing.unknown_key")]
    client = s3.make_client(settings)
    kept = [o.key for o in s3.list_objects(client, settings.bucket_quarantine)]
    assert len(kept) == 2


def test_control_characters_and_backslashes_survive_the_bulk_load(settings: Settings) -> None:
    code = f"{AGENCY}-260105-0009"
    tricky = 'Cấp phép \\ "xây dựng"\tnhà ở\nriêng lẻ\r\\N\x00'
    fee = {"TenPhiLePhi": "Lệ phí \\ \x00 cấp", "Gia": 50000}
    _put(
        settings,
        "records/tricky.jsonl",
        (_line(code, 2, "2026-01-05T09:00:00+07:00", TenTTHC=tricky, DanhSachLePhi=[fee]) + "\n").encode(),
    )
    pipeline.run_all(settings)
    stored = _query(
        settings,
        "SELECT ten_tthc, le_phi -> 0 ->> 'TenPhiLePhi', raw_text FROM sohoa.record_version WHERE ma_ho_so = %s",
        code,
    )
    assert stored == [(tricky.replace("\x00", "\ufffd"), "Lệ phí \\ \ufffd cấp", stored[0][2])]
    assert json.loads(str(stored[0][2]))["TenTTHC"].startswith("Cấp phép \\")
