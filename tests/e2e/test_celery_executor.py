"""End to end on CeleryExecutor: the same DAGs, a real Redis broker, results in PostgreSQL, two workers.

Airflow (api-server, scheduler, dag-processor, triggerer) and the two Celery workers of
``SOHOA_AIRFLOW_EXECUTOR=celery`` start as ``sohoa services up`` starts them, in a temporary home with free
ports and a metadata database of their own. A small batch with a scan goes through ``sohoa_ingest`` (and
the DAGs its asset sets off); the metadata database must then say that the OCR task instances ran on the
queue ``ocr`` and on the OCR worker, every other ingestion task on the default queue and worker.

Redis: ``SOHOA_TEST_REDIS_URL`` (default database 13 of the local server, kept for these tests). The run
also gets a key prefix of its own, so two runs at once on one machine (CI and a developer) never take
each other's tasks; at the end every key under that prefix is deleted, and checked gone.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg2
import pytest
from e2e_airflow import AirflowFactory, scan_png
from pydantic import SecretStr

from sohoa.config import Settings
from sohoa.db.connection import connect
from sohoa.orchestration.airflow_client import RunOutcome, run_chain
from sohoa.services import airflow, processes, workers
from sohoa.storage import s3

# Start-up of six Airflow processes plus the ingestion chain (the scheduled run the DAG starts with, then the
# triggered one and the DAGs they set off): longer than the suite's 600 s default on a busy 2-core machine.
pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow, pytest.mark.heavy, pytest.mark.timeout(2400)]

REDIS_URL = os.environ.get("SOHOA_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
AGENCY = "000.00.32.H19"
CODE = f"{AGENCY}-260105-0031"
QUALITY_GATES = {"validate_record_batches", "validate_documents"}


def _redis() -> object:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(
            f"Redis is not reachable at {REDIS_URL.rsplit('@', 1)[-1]} ({type(exc).__name__}): "
            "start redis-server or set SOHOA_TEST_REDIS_URL"
        )
    return client


def _delete_prefixed(client: object, prefix: str) -> int:
    import redis

    assert isinstance(client, redis.Redis)
    keys = list(client.scan_iter(match=f"{prefix}*", count=500))
    if keys:
        client.delete(*keys)
    return len(keys)


@pytest.fixture(scope="module")
def celery_settings(airflow_env: AirflowFactory) -> Iterator[Settings]:
    import redis

    client = _redis()
    assert isinstance(client, redis.Redis)
    prefix = f"sohoa-e2e-{uuid.uuid4().hex[:8]}:"
    try:
        with airflow_env(
            "celery",
            airflow_executor="celery",
            celery_broker_url=SecretStr(REDIS_URL),
            celery_key_prefix=prefix,
            celery_ocr_concurrency=1,
            celery_default_concurrency=3,
        ) as settings:
            yield settings
    finally:
        _delete_prefixed(client, prefix)
        assert not list(client.scan_iter(match=f"{prefix}*")), "Redis keys left behind"
        client.close()


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
        "MaHoSo": CODE,
        "TrangThaiHoSo": 4,
        "CapNhatLuc": "2026-01-06T02:00:00Z",
    }
    return (json.dumps(base, ensure_ascii=False) + "\n").encode()


def _task_instances(settings: Settings, dag_id: str) -> list[tuple[str, str, int, str, str, str]]:
    """(task_id, run_id, map_index, state, queue, hostname) of every task instance of a DAG, from the metadata
    database. Every run counts: the scheduled run that starts when the DAG first appears may take the batch
    before the triggered one (max_active_runs=1), leaving the triggered run nothing to OCR."""
    conn = psycopg2.connect(settings.dsn(settings.airflow_database))
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT task_id, run_id, map_index, state, queue, hostname FROM task_instance "
                "WHERE dag_id = %s ORDER BY task_id, run_id, map_index",
                (dag_id,),
            )
            return list(cur.fetchall())
    finally:
        conn.close()


def _service_tree(settings: Settings) -> list[psutil.Process]:
    """Every live process that the services of ``settings`` started, children included."""
    tree: list[psutil.Process] = []
    for record_file in processes.run_dir(settings.home).glob("*.json"):
        record = processes.read_record(settings.home, record_file.stem)
        proc = record.process() if record else None
        if proc is not None:
            tree.append(proc)
            tree.extend(proc.children(recursive=True))
    return tree


def test_ingest_on_celery_routes_ocr_to_its_worker(celery_settings: Settings, tmp_path: Path) -> None:
    settings = celery_settings
    ocr_node, default_node = (spec.node() for spec in workers.worker_specs(settings))
    assert workers.ping(settings, [ocr_node, default_node]) == {ocr_node, default_node}

    client = s3.make_client(settings)
    scan = tmp_path / "don.png"
    scan_png(scan, CODE)
    s3.put_bytes(client, settings.bucket_landing, "records/2026-01-06.jsonl", _records(), "application/x-ndjson")
    s3.put_file(client, settings.bucket_landing, f"scans/{CODE}/don.png", scan, "image/png")

    outcomes: list[RunOutcome] = run_chain(settings, timeout_s=1800, report=lambda _m: None)
    ingest = outcomes[0]
    assert ingest.dag_id == "sohoa_ingest"
    assert ingest.succeeded, (ingest.state, ingest.failed)
    for o in outcomes[1:]:  # the DAGs set off by the asset ran on the same workers
        if o.dag_id == "sohoa_quality":
            assert set(o.failed) <= QUALITY_GATES, (o.dag_id, o.failed)
        else:
            assert o.succeeded, (o.dag_id, o.state, o.failed)

    ran = [ti for ti in _task_instances(settings, "sohoa_ingest") if ti[3] == "success"]
    ocr = [ti for ti in ran if ti[0] == "ocr_documents"]
    others = [ti for ti in ran if ti[0] != "ocr_documents"]
    assert ocr, ran  # the scan was OCR'd by a mapped ocr_documents task instance...
    assert {(ti[4], ti[5]) for ti in ocr} == {("ocr", ocr_node)}  # ...queued on "ocr", run by the OCR worker
    assert {ti[0] for ti in others} >= {"plan_landing", "load_records", "ingest_documents", "finish"}
    assert {(ti[4], ti[5]) for ti in others} == {("default", default_node)}

    with connect(settings) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT d.ma_ho_so, o.status, o.page_count, o.text_uri FROM sohoa.document d "
            "JOIN sohoa.ocr_result o USING (sha256)"
        )
        stored = cur.fetchall()
    assert len(stored) == 1
    ma_ho_so, _status, pages, text_uri = stored[0]
    assert (ma_ho_so, pages) == (CODE, 1)
    text = s3.get_bytes(client, settings.bucket_derived, text_uri.split("/", 3)[3]).decode()
    assert CODE in text.replace(" ", "")

    # `services down` (here: Airflow's part of it) leaves no process of the run behind, workers included.
    tree = _service_tree(settings)
    assert {p.pid for p in tree} >= {
        r.pid
        for r in (processes.read_record(settings.home, s.record_name) for s in workers.worker_specs(settings))
        if r
    }
    airflow.stop(settings)
    _gone, alive = psutil.wait_procs([p for p in tree if p.is_running()], timeout=10)
    assert not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE], alive
