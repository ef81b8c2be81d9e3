"""Record findings close when a later state of the dossier is clean (real PostgreSQL and S3 server)."""

from __future__ import annotations

import json

import psycopg2
import pytest

from sohoa.config import Settings
from sohoa.intake import pipeline
from sohoa.storage import s3

pytestmark = pytest.mark.integration

AGENCY = "000.00.32.H19"
A = f"{AGENCY}-260105-0001"
BAD_CCCD = "000190012345"  # province 000 does not exist
GOOD_CCCD = "075190012345"


def _put(settings: Settings, key: str, *lines: dict[str, object]) -> None:
    data = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines).encode()
    s3.put_bytes(s3.make_client(settings), settings.bucket_landing, key, data, "application/x-ndjson")
    pipeline.run_all(settings)


def _state(updated: str, cccd: str, **extra: object) -> dict[str, object]:
    return {
        "MaHoSo": A,
        "MaTTHC": "2.000815",
        "MaCoQuan": AGENCY,
        "TrangThaiHoSo": 4,
        "LoaiDoiTuong": 1,
        "SoGiayToChuHoSo": cccd,
        "NgayTiepNhan": "2026-01-05T09:00:00+07:00",
        "CapNhatLuc": updated,
        **extra,
    }


def _open(settings: Settings) -> list[tuple[str, str, int]]:
    conn = psycopg2.connect(settings.dsn())
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT rule, object_key, line_no FROM quality.issues WHERE ma_ho_so = %s "
                "AND resolved_at IS NULL ORDER BY object_key, line_no, rule",
                (A,),
            )
            return list(cur.fetchall())
    finally:
        conn.close()


def test_findings_follow_the_current_state(settings: Settings) -> None:
    _put(
        settings,
        "records/1.jsonl",
        _state("2026-01-05T10:00:00+07:00", BAD_CCCD, NgayHenTra="2026-01-04T09:00:00+07:00"),
    )
    assert _open(settings) == [
        ("record.bad_cccd", "records/1.jsonl", 1),
        ("record.deadline_before_receipt", "records/1.jsonl", 1),
    ]

    # A later, clean state: the old findings close (they stay in quality.issues with resolved_at).
    _put(settings, "records/2.jsonl", _state("2026-01-06T10:00:00+07:00", GOOD_CCCD))
    assert _open(settings) == []

    # An older state arriving late is superseded at once: its finding is recorded, already closed.
    _put(settings, "records/3.jsonl", _state("2026-01-05T12:00:00+07:00", BAD_CCCD))
    assert _open(settings) == []

    # A newer state with the problem again: one open finding, on the new line.
    _put(
        settings,
        "records/4.jsonl",
        _state("2026-01-07T10:00:00+07:00", GOOD_CCCD),
        _state("2026-01-08T10:00:00+07:00", BAD_CCCD),
    )
    assert _open(settings) == [("record.bad_cccd", "records/4.jsonl", 2)]

    # A broken line arriving after the current state stays open for the operators.
    _put(settings, "records/5.jsonl", _state("2026-01-09", GOOD_CCCD))
    assert _open(settings) == [("record.bad_cccd", "records/4.jsonl", 2), ("record.bad_datetime", "records/5.jsonl", 1)]

    conn = psycopg2.connect(settings.dsn())
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM quality.issues WHERE ma_ho_so = %s AND resolved_at IS NOT NULL", (A,))
            closed = cur.fetchone()
    finally:
        conn.close()
    assert closed == (3,)  # the two of batch 1 and the late older state's
