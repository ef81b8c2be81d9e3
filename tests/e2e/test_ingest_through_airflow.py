"""End to end: a small batch through a real Airflow 3 (api-server, scheduler, dag-processor, triggerer,
LocalExecutor), triggered over the REST API exactly as ``sohoa run --wait`` does, then the views checked.

Airflow gets its own metadata database on the test PostgreSQL server and its own ports, so the test
never touches a developer's running services.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_airflow import AirflowFactory, scan_png

from sohoa.config import Settings
from sohoa.db.connection import connect
from sohoa.orchestration.airflow_client import AirflowClient, RunOutcome, run_chain
from sohoa.storage import s3

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow]

AGENCY = "000.00.32.H19"
KNOWN = f"{AGENCY}-260105-0001"
OTHER = f"{AGENCY}-260105-0002"
WAITING = f"{AGENCY}-260106-0009"  # a scan arrives before any record of its dossier


@pytest.fixture(scope="module")
def airflow_settings(airflow_env: AirflowFactory) -> Iterator[Settings]:
    """A database of the module's own: its tests compare whole tables (every landing object's fate), and the
    session's shared database also holds what the other end-to-end modules ingested."""
    with airflow_env("ingest", own_database=True) as settings:
        yield settings


def _records() -> bytes:
    base = {
        "MaTTHC": "2.000815.000.00.00.H19",
        "MaCoQuan": AGENCY,
        "KenhThucHien": 2,
        "NgayTiepNhan": "2026-01-05T09:00:00+07:00",
        "NgayHenTra": "20260112170000",
        "SoGiayToChuHoSo": "075095012345",
        "LoaiDoiTuong": 1,
        "ChuHoSo": "Nguyễn Văn An",
    }
    lines = [
        {**base, "MaHoSo": KNOWN, "TrangThaiHoSo": 2, "CapNhatLuc": "2026-01-05T09:00:00+07:00"},
        {**base, "MaHoSo": KNOWN, "TrangThaiHoSo": 4, "CapNhatLuc": "2026-01-06T02:00:00Z"},
        {**base, "MaHoSo": OTHER, "TrangThaiHoSo": 11, "CapNhatLuc": "20260105100000"},
    ]
    text = "\n".join(json.dumps(x, ensure_ascii=False) for x in lines)
    return (text + '\n{"MaHoSo": \n').encode()


def _chain_succeeded(outcomes: list[RunOutcome]) -> None:
    """Ingestion and every DAG it sets off succeeded. The batch plants a broken line in four: the record gate
    records it as a finding, but four lines are too few to call the feed broken (SOHOA_GX_GATE_MIN_ROWS)."""
    for o in outcomes:
        assert o.succeeded, (o.dag_id, o.state, o.failed)


def test_batch_through_airflow(airflow_settings: Settings, tmp_path: Path) -> None:
    settings = airflow_settings
    client = s3.make_client(settings)
    scan = tmp_path / "don.png"
    scan_png(scan, KNOWN)
    waiting = tmp_path / "waiting.png"
    scan_png(waiting, WAITING)
    s3.put_bytes(client, settings.bucket_landing, "records/2026-01-06.jsonl", _records(), "application/x-ndjson")
    s3.put_file(client, settings.bucket_landing, f"scans/{KNOWN}/don.png", scan, "image/png")
    s3.put_file(client, settings.bucket_landing, f"scans/{KNOWN}/don-lai.png", scan, "image/png")  # same bytes
    s3.put_file(client, settings.bucket_landing, f"scans/{WAITING}/don.png", waiting, "image/png")
    s3.put_bytes(client, settings.bucket_landing, f"results/{KNOWN}/empty.pdf", b"", "application/pdf")
    s3.put_bytes(client, settings.bucket_landing, "notes/readme.txt", b"hello", "text/plain")

    outcomes = run_chain(settings, timeout_s=900, report=lambda _m: None)
    _chain_succeeded(outcomes)
    # `sohoa run --wait` waited for every DAG that the ingestion set off through its asset, too.
    consumers = set(AirflowClient(settings).asset_consumers("sohoa_ingest"))
    assert {o.dag_id for o in outcomes[1:]} == consumers

    with connect(settings) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT ma_ho_so, trang_thai, kenh_thuc_hien, so_thanh_phan_so_hoa, chu_ho_so_ma_hoa "
            "FROM publish.ho_so ORDER BY ma_ho_so"
        )
        ho_so = cur.fetchall()
        cur.execute(
            "SELECT ma_ho_so, loai, object_uri, mime_type, so_trang, dpi_toi_thieu, text_uri "
            "FROM publish.giay_to ORDER BY ma_ho_so"
        )
        giay_to = cur.fetchall()
        # gx.* findings come from the sohoa_quality DAG, which the ingestion triggers and which runs on its own.
        cur.execute(
            "SELECT rule, severity, ma_ho_so, object_key, line_no FROM quality.issues "
            "WHERE rule NOT LIKE 'gx.%' ORDER BY rule"
        )
        issues = cur.fetchall()

    # The later state wins; the status-11 line is stored but not usable.
    assert [(r[0], r[1], r[2], r[3]) for r in ho_so] == [(KNOWN, 4, 2, 1)]
    assert ho_so[0][4]
    assert "075095012345" not in ho_so[0][4]
    # One document per distinct content and dossier, OCR'd, under a content key.
    by_code = {g[0]: g for g in giay_to}
    assert set(by_code) == {KNOWN, WAITING}
    known = by_code[KNOWN]
    assert known[1] == "thanh_phan"
    assert known[3] == "image/png"
    assert known[4] == 1
    assert known[5] == 200
    assert "/sha256/" in known[2]
    assert known[6] is not None
    rules = {(rule, severity) for rule, severity, *_ in issues}
    assert ("record.invalid_json", "error") in rules
    assert ("record.bad_status", "error") in rules
    assert ("document.duplicate", "info") in rules
    assert ("document.empty", "error") in rules
    assert ("landing.unknown_key", "error") in rules
    assert ("document.unknown_dossier", "warning") in rules
    invalid = next(i for i in issues if i[0] == "record.invalid_json")
    assert invalid[3] == "records/2026-01-06.jsonl"
    assert invalid[4] == 4

    # The OCR text of the scan is in the derived bucket and names the dossier.
    text_key = known[6].split("/", 3)[3]
    text = s3.get_bytes(client, settings.bucket_derived, text_key).decode()
    assert KNOWN in text.replace(" ", "")

    # Running again over the same landing bucket changes nothing.
    again = run_chain(settings, timeout_s=600, report=lambda _m: None)
    _chain_succeeded(again)
    with connect(settings) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT (SELECT count(*) FROM sohoa.record_version), (SELECT count(*) FROM sohoa.document), "
            "(SELECT count(*) FROM sohoa.issue WHERE rule NOT LIKE 'gx.%'), "
            "(SELECT count(*) FROM sohoa.ocr_result)"
        )
        counts = cur.fetchone()
    assert counts == (4, 2, len(issues), 2)


def _tables(settings: Settings) -> dict[str, list[tuple[object, ...]]]:
    """What a rerun must leave identical: every row of the intake tables, without the times of writing."""
    queries = {
        "landing_object": "SELECT object_key, etag, kind, status, sha256, detail FROM sohoa.landing_object",
        "document": "SELECT id, ma_ho_so, loai, landing_key, sha256, linked_by FROM sohoa.document",
        "original": "SELECT sha256, raw_uri, size_bytes, mime_type, page_count FROM sohoa.original",
        "ocr_result": "SELECT sha256, status, text_uri, page_count, min_dpi FROM sohoa.ocr_result",
        # gx.* findings belong to the sohoa_quality DAG (tested on its own in tests/e2e/test_quality_dag.py).
        "issue": "SELECT source, ma_ho_so, object_key, line_no, rule, severity, detail, resolved_at IS NULL "
        "FROM sohoa.issue WHERE rule NOT LIKE 'gx.%'",
        "record_version": "SELECT batch_id, line_no, ma_ho_so, trang_thai FROM sohoa.record_version",
    }
    with connect(settings) as conn, conn.cursor() as cur:
        out = {}
        for name, sql in queries.items():
            cur.execute(sql + " ORDER BY 1, 2, 3")
            out[name] = cur.fetchall()
    return out


@pytest.mark.heavy  # make test-heavy; the whole corpus runs in tests/integration/test_hostile_documents.py
@pytest.mark.timeout(1800)  # two chains of up to 900 and 600 s: a hang fails, a loaded machine does not
def test_hostile_files_are_accounted_for_file_by_file_and_a_rerun_changes_nothing(airflow_settings: Settings) -> None:
    from sohoa.sample.hostile import KINDS

    settings = airflow_settings
    client = s3.make_client(settings)
    code = f"{AGENCY}-260107-0042"
    # A sample of the corpus's bad files, refused at intake and at OCR (the whole corpus, stored kinds and odd
    # keys included, runs through the same intake code in tests/integration/test_hostile_documents.py).
    sample = {
        "zero-bytes.pdf",
        "truncated.pdf",
        "garbage-body.pdf",
        "encrypted-rc4.pdf",
        "encrypted-aes256.pdf",
        "page.pdf",
        "don.docx.pdf",
        "bomb.png",
        "truncated.png",
        "flate-bomb.pdf",
        "huge-image.pdf",
        "2001-pages.pdf",
    }
    kinds = [k for k in KINDS if k.name in sample]
    assert len(kinds) == len(sample)
    for kind in kinds:
        s3.put_bytes(client, settings.bucket_landing, f"scans/{code}/{kind.name}", kind.make(), "application/pdf")

    def check(outcomes: list[RunOutcome]) -> None:
        # Every DAG succeeds: bad input is quarantined, not a failure. The originals that cannot be read are
        # a gx.ocr.failures finding; too few of them to fail the gate (SOHOA_GX_GATE_MIN_ROWS).
        states = {o.dag_id: (o.state, o.failed) for o in outcomes}
        assert all(state == "success" for state, _ in states.values()), states

    check(run_chain(settings, timeout_s=900, report=lambda _m: None))
    first = _tables(settings)
    fate = {row[0]: row[3] for row in first["landing_object"]}
    rules = {(row[2], row[4]) for row in first["issue"]}
    for kind in kinds:
        key = f"scans/{code}/{kind.name}"
        assert fate[key] == "quarantined", key
        assert (key, kind.rule) in rules, key
    # Every object in the landing bucket has exactly one fate.
    landed = {o.key for o in s3.list_objects(client, settings.bucket_landing)}
    assert landed == set(fate)

    check(run_chain(settings, timeout_s=600, report=lambda _m: None))
    assert _tables(settings) == first


def test_no_applicant_identity_in_airflow_task_or_service_logs(airflow_settings: Settings) -> None:
    """The Airflow side of the personal-data scan (tests/integration/test_personal_data_scan.py scans keys,
    messages and published files over a bigger batch, with the stages driven directly): after a batch whose
    applicants have names and CCCD numbers (one of them on a line that is not valid JSON, one with a bad date)
    goes through the real Airflow, no task log and no service log under SOHOA_HOME holds either."""
    import unicodedata

    settings = airflow_settings
    people = {"079196004321": "Trần Thị Bích Ngọc", "001087009876": "Hoàng Văn Thụ"}
    base = {
        "MaTTHC": "2.000815.000.00.00.H19",
        "MaCoQuan": AGENCY,
        "TrangThaiHoSo": 2,
        "LoaiDoiTuong": 1,
        "NgayTiepNhan": "2026-01-08T09:00:00+07:00",
        "CapNhatLuc": "2026-01-08T09:00:00+07:00",
    }
    (cccd_a, name_a), (cccd_b, name_b) = people.items()
    lines = [
        json.dumps(
            {**base, "MaHoSo": f"{AGENCY}-260108-0001", "ChuHoSo": name_a, "SoGiayToChuHoSo": cccd_a},
            ensure_ascii=False,
        ),
        json.dumps(
            {
                **base,
                "MaHoSo": f"{AGENCY}-260108-0002",
                "ChuHoSo": name_b,
                "SoGiayToChuHoSo": cccd_b,
                "NgayTiepNhan": "08/01/2026",
            },
            ensure_ascii=False,
        ),
        f'{{"MaHoSo": "{AGENCY}-260108-0003", "ChuHoSo": "{name_a}", "SoGiayToChuHoSo": "{cccd_a}"',
    ]
    client = s3.make_client(settings)
    s3.put_bytes(
        client,
        settings.bucket_landing,
        "records/2026-01-08-people.jsonl",
        ("\n".join(lines) + "\n").encode(),
        "application/x-ndjson",
    )
    run_chain(settings, timeout_s=900, report=lambda _m: None)

    def fold(text: str) -> str:
        decomposed = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
        return "".join(ch for ch in decomposed if not unicodedata.combining(ch))

    logs = [p for p in settings.home.rglob("*") if p.is_file() and (p.suffix == ".log" or "logs" in p.parts)]
    task_logs = [p for p in logs if "dag_id=sohoa_ingest" in str(p)]
    assert task_logs, "no Airflow task log found"
    leaks = []
    for path in logs:
        text = path.read_text(encoding="utf-8", errors="replace")
        folded = fold(text)
        leaks += [f"{path}: {n}" for n in people if n in text]
        leaks += [f"{path}: {name}" for name in people.values() if fold(name) in folded]
    assert not leaks, leaks


def test_the_portal_answers_under_sohoa_in_airflows_api_server(airflow_settings: Settings) -> None:
    """The plugin mounts the portal in the real API server; its app is built on the first request there, not
    when a process imports the plugin (every task process does: tests/portal checks that part)."""
    import urllib.request

    with urllib.request.urlopen(f"{airflow_settings.airflow_base_url()}/sohoa/login", timeout=30) as response:
        assert response.status == 200
        page = response.read().decode("utf-8")
    assert 'action="/sohoa/login"' in page
    assert "Đăng nhập" in page
