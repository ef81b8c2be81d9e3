"""A large batch loaded with worker processes, against the real PostgreSQL: the same database afterwards.

What a data engineer checks: the stored lines (every column, by line number), the findings and the latest
states are those of the one-process load of the same batch, and a worker that dies fails the load without
leaving anything behind (no batch, no line, the landing object not marked done).
"""

from __future__ import annotations

import datetime as dt
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
    " giay_to_ket_qua::text, raw_text FROM sohoa.record_version ORDER BY line_no"
)
FINDINGS = (
    "SELECT line_no, rule, severity, detail, ma_ho_so, object_key FROM sohoa.issue WHERE source = 'record'"
    " ORDER BY line_no, rule, detail"
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
        with pytest.raises(psycopg2.errors.QueryCanceled, match="WorkerFailed"), conn:  # COPY refuses the read
            _load(conn, settings.model_copy(update={"records_workers_min_bytes": 0}), _batch())
        with conn.cursor() as cur:
            cur.execute("SELECT (SELECT count(*) FROM sohoa.record_batch), (SELECT count(*) FROM sohoa.record_version)")
            assert cur.fetchone() == (0, 0)
            cur.execute("SELECT count(*) FROM sohoa.landing_object WHERE object_key = %s", (KEY,))
            assert cur.fetchone() == (0,)
    finally:
        conn.close()
