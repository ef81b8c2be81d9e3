"""Record feeds with hostile content, through the real intake path (landing bucket, loader, PostgreSQL).

SQL and HTML payloads are stored verbatim and never executed (the portal's escaping is tested in tests/portal);
10 MB lines, invalid UTF-8, JSON nested 10,000 deep, NUL bytes, byte-order marks and CSV quotes that never close
each damage only their own line, which is stored with its line number and the reason; the rest of the batch
loads, and the batch's bytes are kept as they arrived.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from db_rows import rows as _rows
from kpi_inputs_check import assert_kept_inputs_match_view

from sohoa.config import Settings
from sohoa.intake import pipeline
from sohoa.storage import s3

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

AGENCY = "000.00.32.H19"
SQL = "Robert'); DROP TABLE sohoa.dossier; --"
SQL_2 = "1' OR '1'='1'; SELECT pg_sleep(30); --"
HTML = "<script>alert(document.cookie)</script><img src=x onerror=alert(1)>"
TEN_MB = 10 * 1024 * 1024


def _record(n: int, **fields: Any) -> dict[str, Any]:
    return {
        "MaHoSo": f"{AGENCY}-260105-{n:04d}",
        "MaTTHC": "2.000815.000.00.00.H19",
        "MaCoQuan": AGENCY,
        "NgayTiepNhan": "2026-01-05T09:00:00+07:00",
        "TrangThaiHoSo": 2,
        "CapNhatLuc": "2026-01-05T09:00:00+07:00",
        **fields,
    }


def _line(n: int, **fields: Any) -> bytes:
    return json.dumps(_record(n, **fields), ensure_ascii=False).encode()


def _jsonl_batch() -> tuple[bytes, dict[int, str]]:
    """The batch, and for each line number what it is."""
    nested = b'{"MaHoSo": "' + AGENCY.encode() + b'-260105-0099", "x": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"
    lines: list[tuple[str, bytes]] = [
        ("sql", b"\xef\xbb\xbf" + _line(1, ChuHoSo=SQL, TenTTHC=SQL_2)),
        ("html", _line(2, TenTTHC=HTML, TaiLieuNop=[{"MaThanhPhanHoSo": "TP1", "TenTepDinhKem": HTML}])),
        ("long_valid", _line(3, TenTTHC="A" * TEN_MB)),
        ("long_garbage", b"{" + b"x" * TEN_MB),
        ("bad_utf8", b'{"MaHoSo": "' + AGENCY.encode() + b'-260105-0005", "ChuHoSo": "Nguy\xd2\xea n"}'),
        ("nested", nested),
        (
            "nested_list_field",
            _line(7, DanhSachLePhi=json.loads("[" * 500 + "]" * 500))
            .replace(b"[" * 500, b"[" * 10_000)
            .replace(b"]" * 500, b"]" * 10_000),
        ),
        ("nul_escape", _line(8, ChuHoSo="Tr\u0000n")),
        ("nul_byte", b'{"MaHoSo": "a\x00b"}'),
        ("bom_again", b"\xef\xbb\xbf" + _line(10)),
        ("plain", _line(11)),
    ]
    return b"\n".join(data for _, data in lines) + b"\n", {i + 1: what for i, (what, _) in enumerate(lines)}


def _load(settings: Settings, key: str, data: bytes) -> None:
    client = s3.make_client(settings)
    s3.put_bytes(client, settings.bucket_landing, key, data, "application/octet-stream")
    pipeline.run_all(settings)
    # Nothing lost: the batch's bytes are kept as they arrived.
    assert s3.get_bytes(client, settings.bucket_landing, key) == data


def test_hostile_jsonl_lines_are_kept_each_with_its_reason(settings: Settings) -> None:
    data, what = _jsonl_batch()
    key = "records/hostile.jsonl"
    _load(settings, key, data)

    versions = {
        r[0]: r[1:]
        for r in _rows(
            settings,
            "SELECT line_no, usable, chu_ho_so, ten_tthc, length(raw_text), tai_lieu_nop::text "
            "FROM sohoa.record_version",
        )
    }
    assert sorted(versions) == sorted(what)  # every line stored, numbered as in the file
    findings = {}
    for line_no, rule, detail in _rows(
        settings, "SELECT line_no, rule, detail FROM quality.issues WHERE object_key = %s AND severity = 'error'", key
    ):
        findings.setdefault(what[line_no], []).append((rule, detail))
    # Payloads are data: stored verbatim, never executed.
    assert versions[1][1] == SQL
    assert versions[1][2] == SQL_2
    assert versions[2][2] == HTML
    assert HTML in versions[2][4]
    assert _rows(settings, "SELECT count(*) FROM sohoa.dossier")[0][0] >= 4
    # A 10 MB line: loaded whole when it is a valid record, kept and explained when it is not.
    assert versions[3][0] is True
    assert len(versions[3][2]) == TEN_MB
    assert findings["long_garbage"][0][0] == "record.invalid_json"
    assert versions[4][3] == TEN_MB + 1
    assert findings["bad_utf8"] == [("record.invalid_json", "the line is not valid UTF-8")]
    assert findings["nested"] == [("record.invalid_json", "the line is not valid JSON (nested too deeply)")]
    assert findings["nested_list_field"][0][0] == "record.invalid_json"
    assert findings["nul_byte"][0][0] == "record.invalid_json"
    assert versions[8][1] == "Tr\ufffdn"  # PostgreSQL text cannot hold NUL: it becomes U+FFFD
    # The rest of the batch loads: the payload lines, the lines with a BOM, the plain line.
    usable = {what[n] for n, v in versions.items() if v[0]}
    assert {"sql", "html", "long_valid", "nul_escape", "bom_again", "plain"} <= usable
    # Details say what is wrong, never the line's content.
    for rule_details in findings.values():
        for _, detail in rule_details:
            assert len(detail) < 300
            assert "DROP" not in detail
            assert "<script>" not in detail
    (counts,) = _rows(settings, "SELECT line_count, usable_count, unusable_count FROM sohoa.record_batch")
    assert counts == (len(what), len(usable), len(what) - len(usable))
    # The KPI inputs the loader kept for these dossiers are those of their definition (migration 0016).
    assert assert_kept_inputs_match_view(settings.dsn()) >= 4


def test_a_csv_quote_that_never_closes_damages_only_its_line(settings: Settings) -> None:
    header = "MaHoSo,MaTTHC,MaCoQuan,NgayTiepNhan,TrangThaiHoSo,CapNhatLuc,ChuHoSo"

    def row(n: int, name: str) -> str:
        return f"{AGENCY}-260105-{n:04d},2.000815,{AGENCY},2026-01-05T09:00:00+07:00,2,2026-01-05T09:00:00+07:00,{name}"

    lines = [
        header,
        row(1, "An"),
        row(2, '"Nguyen Van B'),
        row(3, '"Tran, Thi C"'),
        row(4, "D\"'; DROP TABLE x;"),
        row(5, '"multi\nline"'),
    ]
    data = ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()
    key = "records/hostile.csv"
    _load(settings, key, data)

    versions = {
        r[0]: (r[1], r[2]) for r in _rows(settings, "SELECT line_no, usable, chu_ho_so FROM sohoa.record_version")
    }
    assert versions[2] == (True, "An")
    assert versions[3][0] is False
    assert versions[4] == (True, "Tran, Thi C")
    assert versions[5] == (True, "D\"'; DROP TABLE x;")
    assert versions[6] == (True, "multi\nline")
    (finding,) = _rows(settings, "SELECT rule, detail FROM quality.issues WHERE object_key = %s AND line_no = 3", key)
    assert finding[0] == "record.invalid_json"
    assert "never closes" in finding[1]
    assert assert_kept_inputs_match_view(settings.dsn()) == 4
