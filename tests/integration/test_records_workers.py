"""A large batch loaded with worker processes, against the real PostgreSQL: the same database afterwards.

What a data engineer checks: the stored lines (every column, by line number), the findings and the latest
states are those of the one-process load of the same batch, and a worker that dies fails the load without
leaving anything behind (no batch, no line, the landing object not marked done).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import uuid

import psycopg2
import psycopg2.errors
import pytest
from kpi_inputs_check import assert_kept_inputs_match_view

from sohoa.config import Settings
from sohoa.intake import records_loader, records_parallel
from sohoa.sample.records import generate_records
from sohoa.storage.s3 import LandingObject

pytestmark = pytest.mark.integration

KEY = "records/export.jsonl"
LINES = (
    "SELECT line_no, usable, ma_ho_so, ma_tthc, ma_tthc_quoc_gia, ten_tthc, ma_linh_vuc, ma_co_quan, kenh_thuc_hien,"
    " loai_doi_tuong, chu_ho_so, so_giay_to, chu_ho_so_ma_hoa, ngay_nop, ngay_tiep_nhan, ngay_hen_tra,"
    " ngay_ket_thuc_xu_ly, ngay_tra, trang_thai, duoc_thanh_toan_truc_tuyen, hinh_thuc_thanh_toan,"
    " danh_gia_hai_long, cap_nhat_luc, ho_so_bo_sung::text, le_phi::text, tai_lieu_nop::text,"
    " giay_to_ket_qua::text, raw_text FROM sohoa.record_version ORDER BY batch_id, line_no"
)
FINDINGS = (
    "SELECT line_no, rule, severity, detail, ma_ho_so, object_key FROM sohoa.issue WHERE source = 'record'"
    " ORDER BY line_no, rule, detail, severity, ma_ho_so"
)
STATES = "SELECT ma_ho_so, line_no, cap_nhat_luc FROM sohoa.dossier ORDER BY ma_ho_so"


def _batch() -> bytes:
    batch = generate_records(300, seed=5, start=dt.date(2026, 1, 5), end=dt.date(2026, 2, 27)).jsonl_bytes()
    lines = batch.split(b"\n")
    return b"\n".join([*lines[:40], b"", b"not json", *lines[:5], *lines[40:]])  # blank, bad and repeated lines


def _snapshot(cur: psycopg2.extensions.cursor) -> list[list[tuple[object, ...]]]:
    out = []
    for sql in (LINES, FINDINGS, STATES):
        cur.execute(sql)
        out.append(cur.fetchall())
    return out


def _load(conn: psycopg2.extensions.connection, settings: Settings, data: bytes) -> records_loader.BatchOutcome:
    obj = LandingObject(KEY, uuid.uuid4().hex, len(data), None)
    return records_loader.load_records_bytes(conn, settings, obj, data)


def test_workers_load_what_one_process_loads(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _batch()
    conn = psycopg2.connect(settings.dsn())
    try:
        assert not records_parallel.worth_workers(KEY, len(data), settings.records_workers_min_bytes)
        alone = _load(conn, settings, data)
        with conn.cursor() as cur:
            expected = _snapshot(cur)
        conn.rollback()

        monkeypatch.setattr(records_parallel, "CHUNK_LINES", 16)
        monkeypatch.setattr(records_loader, "PART_LINES", 40)  # parts of three chunks, upserted one by one
        with conn:
            parallel = _load(conn, settings.model_copy(update={"records_workers_min_bytes": 0}), data)
        with conn.cursor() as cur:
            assert _snapshot(cur) == expected
        assert assert_kept_inputs_match_view(settings.dsn()) > 200  # the workers' KPI flags
    finally:
        conn.close()
    assert parallel.lines == alone.lines > 300
    assert (parallel.usable, parallel.findings, parallel.dossiers_changed) == (
        alone.usable,
        alone.findings,
        alone.dossiers_changed,
    )
    assert any(row[1] == "record.duplicate_line" for row in expected[1])


def test_a_dying_worker_fails_the_load_and_leaves_nothing(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(records_parallel, "CHUNK_LINES", 16)
    real = records_parallel._start_worker
    started: list[subprocess.Popen[bytes]] = []

    # A worker killed while the COPY runs: the second worker is killed as soon as it is started.
    def killed() -> subprocess.Popen[bytes]:
        proc = real()
        started.append(proc)
        if len(started) == 2:
            proc.kill()
        return proc

    monkeypatch.setattr(records_parallel, "_start_worker", killed)
    conn = psycopg2.connect(settings.dsn())
    try:
        with pytest.raises(records_parallel.WorkerFailed), conn:  # the load stops before its next part
            _load(conn, settings.model_copy(update={"records_workers_min_bytes": 0}), _batch())
        with conn.cursor() as cur:
            cur.execute("SELECT (SELECT count(*) FROM sohoa.record_batch), (SELECT count(*) FROM sohoa.record_version)")
            assert cur.fetchone() == (0, 0)
            cur.execute("SELECT count(*) FROM sohoa.landing_object WHERE object_key = %s", (KEY,))
            assert cur.fetchone() == (0,)
    finally:
        conn.close()


def _restated(batch: bytes, stamp: str | None, first: int, count: int, status: int) -> bytes:
    """Lines ``first`` to ``first + count`` of ``batch`` again with another status, updated at ``stamp``
    (None: at the same instant, a tie that the later line wins); lines that are not JSON objects are left out."""
    out = []
    for raw in batch.split(b"\n")[first : first + count]:
        try:
            record = json.loads(raw)
        except ValueError:
            continue  # the generator's planted broken lines
        if not isinstance(record, dict):
            continue
        record["CapNhatLuc"] = stamp or record["CapNhatLuc"]
        record["TrangThaiHoSo"] = status
        out.append(json.dumps(record, ensure_ascii=False).encode())
    return b"\n".join(out) + b"\n"


def test_a_batch_loaded_in_parts_ends_in_the_rows_of_one_part(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each part of a batch is upserted right after its COPY (records_loader.PART_LINES): a dossier's states
    # spread over parts, older after newer, newer after older, and ties, must end as one upsert of the batch
    # ends, and so must a second batch that restates some dossiers on top of the first.
    first = _batch()
    older, newer, newest = "2025-12-01T08:00:00+07:00", "2026-03-02T08:00:00+07:00", "2026-03-09T08:00:00+07:00"
    first += _restated(first, older, 0, 20, 3) + _restated(first, newer, 20, 20, 4) + _restated(first, None, 60, 5, 5)
    second = _restated(first, newest, 100, 30, 6) + _restated(first, older, 130, 30, 6)
    conn = psycopg2.connect(settings.dsn())
    try:
        whole = [_load(conn, settings, first), _load(conn, settings, second)]
        with conn.cursor() as cur:
            expected = _snapshot(cur)
        conn.rollback()

        monkeypatch.setattr(records_loader, "PART_LINES", 7)
        with conn:
            parts = [_load(conn, settings, first), _load(conn, settings, second)]
        with conn.cursor() as cur:
            assert _snapshot(cur) == expected
        assert assert_kept_inputs_match_view(settings.dsn()) > 200
    finally:
        conn.close()
    assert [o.lines for o in parts] == [o.lines for o in whole]
    assert [o.dossiers_changed for o in parts] == [o.dossiers_changed for o in whole]
    assert whole[0].dossiers_changed > 250
    assert 0 < whole[1].dossiers_changed < 60
