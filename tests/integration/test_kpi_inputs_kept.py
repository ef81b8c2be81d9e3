"""The per-dossier KPI inputs the loader keeps are the rows of their definition, on the test feeds.

``kpi.dau_vao`` is kept by a trigger on ``sohoa.dossier`` that takes five list booleans from the loader
(``sohoa/intake/kpi_flags.py``, migration 0016) instead of evaluating the jsonpath of the view
``kpi.dau_vao_tinh``, the inputs' single definition. What a KPI engineer checks: after every load (generated
feeds with planted defects, CSV, a re-export that changes states, edge values of every list field, the
hostile feeds), and for writers of ``sohoa.dossier`` other than the loader, the kept rows equal the view's.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import psycopg2
import pytest
from kpi_inputs_check import assert_kept_inputs_match_view

from sohoa.config import Settings
from sohoa.intake import records_loader
from sohoa.sample.catalogues import PROCEDURES
from sohoa.sample.records import generate_records
from sohoa.storage.s3 import LandingObject

pytestmark = pytest.mark.integration

AGENCY = "000.00.32.H19"


def _load(settings: Settings, key: str, data: bytes) -> records_loader.BatchOutcome:
    conn = psycopg2.connect(settings.dsn())
    try:
        with conn:
            return records_loader.load_records_bytes(
                conn, settings, LandingObject(key, uuid.uuid4().hex, 0, None), data
            )
    finally:
        conn.close()


def _record(n: int, **fields: Any) -> dict[str, Any]:
    return {
        "MaHoSo": f"{AGENCY}-260105-{n:04d}",
        "MaTTHC": PROCEDURES[0].ma_tthc,
        "MaCoQuan": AGENCY,
        "NgayTiepNhan": "2026-01-05T09:00:00+07:00",
        "TrangThaiHoSo": 4,
        "CapNhatLuc": "2026-01-06T09:00:00+07:00",
        **fields,
    }


def _document(scanned: Any = 0, path: Any = None, reused: Any = 0, from_store: Any = 0) -> dict[str, Any]:
    return {
        "MaThanhPhanHoSo": "TP01",
        "TenTepDinhKem": "a.pdf",
        "DuongDanTaiTepTin": path,
        "DuocSoHoa": scanned,
        "DuocTaiSuDung": reused,
        "DuocLayTuKhoDMQG": from_store,
    }


def _edge_records() -> list[dict[str, Any]]:
    """One record per edge of each input: the values a jsonpath and Python could read differently."""
    finished = {"TrangThaiHoSo": 10, "NgayKetThucXuLy": "2026-01-09T08:00:00+07:00"}
    fees = [0, "0.000000000000000000000000000001", 12.5, "12.5", -1, "abc", None, True, "  7 "]
    documents = [
        _document(1, "https://x/1.pdf"),
        _document("1", "https://x/1.pdf"),
        _document(1, ""),
        _document(1, "   "),
        _document(1, "\u0000"),
        _document(1, None),
        _document(True, "https://x/1.pdf"),
        _document(2, "https://x/1.pdf"),
        _document(1.0, "https://x/1.pdf", reused=1.0, from_store="1"),
        _document(0, "https://x/1.pdf", reused="1", from_store=1),
        _document(None, 5, reused=None, from_store=True),
    ]
    results: list[Any] = [
        {"TenGiayTo": "KQ", "DuongDanTepTinKetQua": "https://x/kq.pdf"},
        {"TenGiayTo": "KQ", "DuongDanTepTinKetQua": ""},
        {"TenGiayTo": "KQ", "DuongDanTepTinKetQua": None},
        {"TenGiayTo": "KQ", "DuongDanTepTinKetQua": 5},
        {"TenGiayTo": "KQ", "DuongDanTepTinKetQua": " \u0000 "},
    ]
    supplements = [
        [{"NgayBoSung": "2026-01-06T08:00:00+07:00", "NgayTiepNhanBoSung": "2026-01-07T14:00:00+07:00"}],
        [  # two waits of 30 h and 20 h: the sum's form ('2 days 02:00:00', not '50:00:00') must be the view's
            {"NgayBoSung": "2026-01-05T10:00:00+07:00", "NgayTiepNhanBoSung": "2026-01-06T16:00:00+07:00"},
            {"NgayBoSung": "2026-01-07T08:00:00+07:00", "NgayTiepNhanBoSung": "2026-01-08T04:00:00+07:00"},
        ],
        [  # same request time, answered and not; an answer before its request; a request after the finish
            {"NgayBoSung": "2026-01-06T08:00:00+07:00", "NgayTiepNhanBoSung": None},
            {"NgayBoSung": "2026-01-06T08:00:00+07:00", "NgayTiepNhanBoSung": "2026-01-06T07:00:00+07:00"},
            {"NgayBoSung": "2026-01-10T08:00:00+07:00", "NgayTiepNhanBoSung": "2026-01-11T08:00:00+07:00"},
        ],
        [{"NgayTiepNhanBoSung": "2026-01-07T14:00:00+07:00"}, {"NgayBoSung": "not a time"}],
        [],
    ]
    out: list[dict[str, Any]] = []
    n = 0
    for gia in fees:
        n += 1
        out.append(_record(n, DanhSachLePhi=[{"TenPhiLePhi": "Phí", "Gia": gia}]))
    out.append(_record(n := n + 1, DanhSachLePhi=[{"TenPhiLePhi": "Phí", "Gia": 0}, {"Gia": 3}]))
    for document in documents:
        out.append(_record(n := n + 1, TaiLieuNop=[document]))
    out.append(_record(n := n + 1, TaiLieuNop=documents))
    for result in results:
        out.append(_record(n := n + 1, DanhSachGiayToKetQua=[result], **finished))
    for requests in supplements:
        for status in (4, 7, 9, 10):
            extra = finished | {"TrangThaiHoSo": status} if status != 4 else {}
            out.append(_record(n := n + 1, DanhSachHoSoBoSung=requests, **extra))
    for status in (1, 2, 3, 5, 6, 8):
        out.append(_record(n := n + 1, TrangThaiHoSo=status, DanhSachLePhi=[{"Gia": 5}]))
    out.append(_record(n := n + 1, NgayTiepNhan=None, DanhSachLePhi=[{"Gia": 5}]))
    out.append(_record(n := n + 1, KenhThucHien=3, DuocThanhToanTrucTuyen=2, HinhThucThanhToan="QR"))
    return out


def _jsonl(records: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in records)


def test_generated_feeds_keep_the_views_inputs(settings: Settings) -> None:
    start, end = dt.date(2026, 1, 5), dt.date(2026, 3, 31)
    first = generate_records(400, seed=3, start=start, end=end)
    _load(settings, "records/first.jsonl", first.jsonl_bytes())
    assert assert_kept_inputs_match_view(settings.dsn()) > 300

    _load(settings, "records/other.csv", generate_records(200, seed=4, start=start, end=end).csv_bytes())
    assert_kept_inputs_match_view(settings.dsn())

    # A re-export: every other dossier a day later, finished (an UPDATE of its winning state).
    later = []
    for i, dossier in enumerate(first.dossiers):
        if i % 2 or not isinstance(dossier.record.get("CapNhatLuc"), str):
            continue
        later.append(dossier.record | {"CapNhatLuc": "2026-04-02T08:00:00+07:00", "TrangThaiHoSo": 10})
    outcome = _load(settings, "records/later.jsonl", _jsonl(later))
    assert outcome.dossiers_changed > 100
    assert_kept_inputs_match_view(settings.dsn())


def test_edge_values_of_the_list_fields_keep_the_views_inputs(settings: Settings) -> None:
    records = _edge_records()
    # Number literals JSON holds and Python's json module does not write: a subnormal, an overflow of
    # float8, an integer of 400 digits.
    raw = _jsonl(records) + b"".join(
        _jsonl([_record(900 + i, DanhSachLePhi=[{"Gia": 1}])]).replace(b'"Gia": 1', b'"Gia": ' + literal)
        for i, literal in enumerate((b"5e-324", b"1e-320", b"1e-400", b"1e400", b"1" + b"0" * 400, b"1.5e3"))
    )
    outcome = _load(settings, "records/edges.jsonl", raw)
    assert outcome.usable >= len(records)
    kept = assert_kept_inputs_match_view(settings.dsn())
    assert kept >= len(records) - 4  # statuses 1 and 3 and the line without NgayTiepNhan take no part


def test_writers_other_than_the_loader_get_the_same_inputs(settings: Settings) -> None:
    """The KPI bench and any repair script write sohoa.dossier directly: no loader flags, same inputs."""
    _load(settings, "records/a.jsonl", _jsonl(_edge_records()))
    _load(
        settings,
        "records/b.jsonl",
        generate_records(150, seed=8, start=dt.date(2026, 1, 5), end=dt.date(2026, 2, 27)).jsonl_bytes(),
    )
    conn = psycopg2.connect(settings.dsn())
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                "CREATE TEMP TABLE saved AS SELECT ma_ho_so, batch_id, line_no, cap_nhat_luc FROM sohoa.dossier"
            )
            cur.execute("DELETE FROM sohoa.dossier")
            cur.execute("SELECT count(*) FROM kpi.dau_vao")
            assert cur.fetchone() == (0,)
            cur.execute("INSERT INTO sohoa.dossier (ma_ho_so, batch_id, line_no, cap_nhat_luc) SELECT * FROM saved")
        assert_kept_inputs_match_view(settings.dsn())
        with conn, conn.cursor() as cur:
            # Point every dossier of the second batch at another line of its batch: an UPDATE without flags.
            cur.execute(
                """UPDATE sohoa.dossier d SET line_no = v.line_no
                     FROM sohoa.record_version v
                    WHERE v.batch_id = d.batch_id AND v.ma_ho_so = d.ma_ho_so AND v.usable
                      AND v.line_no <> d.line_no AND d.batch_id = 2"""
            )
        assert_kept_inputs_match_view(settings.dsn())
        with conn, conn.cursor() as cur:
            cur.execute("SELECT kpi.nap_lai_dau_vao()")
        assert_kept_inputs_match_view(settings.dsn())
    finally:
        conn.close()
