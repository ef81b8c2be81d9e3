"""Exactly once under faults: the S3 server killed, PostgreSQL restarted, in the middle of a batch.

A separate process runs the ingestion (as an Airflow task would) and is cut off mid-batch by the fault; after
recovery a rerun accounts for every file exactly once: one landing record per object, one document per file,
one original and one OCR result per distinct content, no finding twice, and the reconciliation is clean.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import psycopg2
import pytest
from pydantic import SecretStr

from sohoa.config import Settings
from sohoa.intake import pipeline
from sohoa.intake.reconcile import reconcile
from sohoa.sample.documents import DocFields, render_document
from sohoa.services import processes
from sohoa.services.s3 import spawn_nanio
from sohoa.storage import s3

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CODE = "000.00.32.H19-260105-0001"
FILES = 10


def _scans() -> dict[str, bytes]:
    """Small but real scans (a third of A4 at 150 dpi), each different."""
    out = {}
    for i in range(FILES):
        page = render_document("don_de_nghi", replace(DocFields.fake(i), ma_ho_so=CODE), dpi=150, seed=i)[0][0]
        crop = page.crop((0, 0, page.width, page.height // 3))
        buf = io.BytesIO()
        crop.convert("RGB").save(buf, "PNG", dpi=(150, 150))
        out[f"scans/{CODE}/trang-{i:02d}.png"] = buf.getvalue()
    return out


def _env(settings: Settings) -> dict[str, str]:
    assert settings.database_url is not None
    return processes.child_env(
        {
            "SOHOA_HOME": str(settings.home),
            "SOHOA_DATABASE_URL": settings.database_url.get_secret_value(),
            "SOHOA_S3_ENDPOINT": settings.s3_url(),
            "SOHOA_S3_ACCESS_KEY": settings.s3_access_key,
            "SOHOA_S3_SECRET_KEY": settings.s3_secret_key.get_secret_value(),
            "SOHOA_BUCKET_LANDING": settings.bucket_landing,
            "SOHOA_BUCKET_RAW": settings.bucket_raw,
            "SOHOA_BUCKET_DERIVED": settings.bucket_derived,
            "SOHOA_BUCKET_QUARANTINE": settings.bucket_quarantine,
            "SOHOA_BUCKET_PUBLISHED": settings.bucket_published,
            "SOHOA_PSEUDONYM_KEY": "test-pseudonym-key",
        }
    )


def _count(settings: Settings, sql: str) -> int:
    try:
        conn = psycopg2.connect(settings.dsn(), connect_timeout=2)
    except psycopg2.OperationalError:
        return -1
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            row = cur.fetchone()
            return int(row[0]) if row else 0
    finally:
        conn.close()


def _run_and_cut(settings: Settings, when: str, at_least: int, fault: Callable[[], None]) -> None:
    """Run the ingestion in another process and inject ``fault`` once ``when`` counts ``at_least`` rows."""
    worker = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from sohoa.config import get_settings\nfrom sohoa.intake.pipeline import run_all\nrun_all(get_settings())",
        ],
        env=_env(settings),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 300
    while _count(settings, when) < at_least:
        assert worker.poll() is None, "the batch finished before the fault could be injected"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    fault()
    _, stderr = worker.communicate(timeout=300)
    assert worker.returncode != 0, "the fault did not interrupt the batch"
    assert b"Traceback" in stderr  # a transient failure raises (for Airflow to retry); it is not swallowed


def _assert_exactly_once(settings: Settings, files: dict[str, bytes]) -> None:
    assert _count(settings, "SELECT count(*) FROM sohoa.landing_object") == len(files)
    assert _count(settings, "SELECT count(DISTINCT object_key) FROM sohoa.landing_object WHERE status = 'done'") == len(
        files
    )
    assert _count(settings, "SELECT count(*) FROM sohoa.document") == len(files)
    assert _count(settings, "SELECT count(*) FROM sohoa.original") == len(files)
    assert _count(settings, "SELECT count(*) FROM sohoa.ocr_result WHERE status = 'done'") == len(files)
    assert (
        _count(
            settings,
            "SELECT count(*) FROM (SELECT sha256, page_no FROM sohoa.ocr_page GROUP BY 1, 2 HAVING count(*) > 1) x",
        )
        == 0
    )
    report = reconcile(settings, fixity_sample=len(files))
    assert report.clean, report.as_dict()
    assert report.fixity_checked == len(files)
    assert report.fixity_failed == 0


@dataclass
class Fault:
    """Settings pointing at a service of the test's own, and how to break and restore that service."""

    settings: Settings
    cut: Callable[[], None]
    restore: Callable[[], None]


@pytest.fixture
def own_s3(settings: Settings, tmp_path: Path, port_factory: Callable[[], int]) -> Iterator[Fault]:
    """An S3 server of this test's own: killed with SIGKILL, restarted on the same data."""
    port, home = port_factory(), tmp_path / "s3"

    def start() -> None:
        spawn_nanio(home, port=port, data_dir=home / "data", access_key="test-access", secret_key="test-secret-key-123")

    def kill() -> None:
        record = processes.read_record(home, "s3")
        proc = record.process() if record else None
        assert proc is not None
        proc.kill()
        proc.wait(10)

    start()
    mine = settings.model_copy(update={"s3_endpoint": f"http://127.0.0.1:{port}"})
    s3.ensure_buckets(s3.make_client(mine), mine)
    yield Fault(mine, kill, start)
    processes.stop(home, "s3", grace_s=5)


@pytest.fixture
def own_postgres(settings: Settings, port_factory: Callable[[], int]) -> Iterator[Fault]:
    """An embedded PostgreSQL of this test's own (the machine's service is never restarted by a test)."""
    from sohoa.db.migrate import migrate
    from sohoa.services import postgres

    server = Settings(home=Path(tempfile.mkdtemp(prefix="sohoa-faults-")), embedded_pg_port=port_factory())
    postgres.start(server)
    migrate(server.dsn("sohoa"))

    def restart() -> None:
        postgres.stop(server)  # fast shutdown: open sessions are cut, as in a failover
        postgres.start(server)

    try:
        yield Fault(settings.model_copy(update={"database_url": SecretStr(server.dsn("sohoa"))}), restart, lambda: None)
    finally:
        postgres.stop(server)
        shutil.rmtree(server.home, ignore_errors=True)


def _land(settings: Settings) -> dict[str, bytes]:
    files = _scans()
    client = s3.make_client(settings)
    for key, data in files.items():
        s3.put_bytes(client, settings.bucket_landing, key, data, "image/png")
    return files


def test_s3_server_killed_mid_batch(own_s3: Fault) -> None:
    settings = own_s3.settings
    files = _land(settings)
    _run_and_cut(settings, "SELECT count(*) FROM sohoa.landing_object", 3, own_s3.cut)
    own_s3.restore()
    pipeline.run_all(settings)  # the retry
    _assert_exactly_once(settings, files)
    pipeline.run_all(settings)  # and a rerun changes nothing
    _assert_exactly_once(settings, files)


def test_postgres_restarted_mid_ocr(own_postgres: Fault) -> None:
    settings = own_postgres.settings
    files = _land(settings)
    _run_and_cut(settings, "SELECT count(*) FROM sohoa.ocr_result", 2, own_postgres.cut)
    pipeline.run_all(settings)
    _assert_exactly_once(settings, files)
