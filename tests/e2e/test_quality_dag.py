"""The sohoa_quality DAG run by a real Airflow (``dag.test()`` against its own metadata database): a feed with
40% malformed dossier codes fails the validation task loudly, after its findings and Data Docs are stored."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest

from sohoa.config import Settings
from sohoa.intake import pipeline
from sohoa.storage import s3

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
AGENCY = "000.00.32.H19"

RUN_DAG = """
import json
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder={dags!r})
assert not bag.import_errors, bag.import_errors
run = bag.dags["sohoa_quality"].test()
states = {{ti.task_id: str(ti.state) for ti in run.get_task_instances()}}
from sqlalchemy import text
from airflow.settings import Session
links = {{r[0]: r[1] if not isinstance(r[1], str) or not r[1].startswith('"') else json.loads(r[1])
         for r in Session().execute(text("SELECT task_id, value FROM xcom WHERE key = '_link_GxDataDocsLink'"))}}
print("RESULT " + json.dumps({{"state": str(run.state), "tasks": states, "links": links}}))
"""


def _line(i: int) -> str:
    code = f"HS-{i:05d}" if i % 5 < 2 else f"{AGENCY}-260105-{i:04d}"
    return json.dumps(
        {
            "MaHoSo": code,
            "MaTTHC": "2.000815",
            "MaCoQuan": AGENCY,
            "TrangThaiHoSo": 2,
            "NgayTiepNhan": "2026-01-05T09:00:00+07:00",
            "CapNhatLuc": "2026-01-05T10:00:00+07:00",
        }
    )


def test_quality_dag_fails_loudly_on_a_bad_feed(settings: Settings, tmp_path: Path) -> None:
    s3.put_bytes(
        s3.make_client(settings),
        settings.bucket_landing,
        "records/feed.jsonl",
        "\n".join(_line(i) for i in range(50)).encode(),
        "application/x-ndjson",
    )
    pipeline.run_all(settings)

    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "plugins")]),
        "SOHOA_HOME": str(settings.home),
        "SOHOA_DATABASE_URL": settings.dsn(),
        "SOHOA_S3_ENDPOINT": settings.s3_endpoint or "",
        "SOHOA_S3_ACCESS_KEY": settings.s3_access_key,
        "SOHOA_S3_SECRET_KEY": settings.s3_secret_key.get_secret_value(),
        "SOHOA_PSEUDONYM_KEY": "test-pseudonym-key",
        "SOHOA_BUCKET_LANDING": settings.bucket_landing,
        "SOHOA_BUCKET_RAW": settings.bucket_raw,
        "SOHOA_BUCKET_DERIVED": settings.bucket_derived,
        "SOHOA_BUCKET_QUARANTINE": settings.bucket_quarantine,
        "SOHOA_BUCKET_PUBLISHED": settings.bucket_published,
    }
    env.pop("AIRFLOW__CORE__UNIT_TEST_MODE", None)
    airflow = str(Path(sys.executable).parent / "airflow")
    migrated = subprocess.run(
        [airflow, "db", "migrate"], env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert migrated.returncode == 0, migrated.stderr[-2000:]
    done = subprocess.run(
        [sys.executable, "-c", RUN_DAG.format(dags=str(ROOT / "dags"))],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    result_line = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert result_line, (done.stdout[-3000:], done.stderr[-3000:])
    result = json.loads(result_line[-1].removeprefix("RESULT "))

    assert result["state"] == "failed", (result, done.stdout[-4000:], done.stderr[-4000:])
    assert result["tasks"]["validate_record_batches"] == "failed"
    # Stored before failing: the summary in quality.issues and the validation with its Data Docs.
    conn = psycopg2.connect(settings.dsn())
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT severity, object_key FROM quality.issues WHERE rule = 'gx.records.dossier_code_format'")
            assert cur.fetchall() == [("error", "records/feed.jsonl")]
            cur.execute(
                "SELECT critical_failed, data_docs_uri FROM sohoa.gx_validation WHERE suite = %s", ("sohoa_records",)
            )
            [(critical, uri)] = cur.fetchall()
            cur.execute("SELECT count(*) FROM sohoa.record_version")
            assert cur.fetchone() == (50,)
    finally:
        conn.close()
    assert critical is True
    assert uri.endswith("/index.html")
    # The failed task carries a "GX Data Docs" button: the portal's page (mounted in Airflow under /sohoa) of
    # exactly this validation's Data Docs.
    key = uri.removeprefix("s3://").split("/", 1)[1]
    assert result["links"]["validate_record_batches"] == "/sohoa/reports/data-docs/" + key.removeprefix("quality/gx/")
    # Failing loudly means no retry: the task failed on its first try.
    assert "AirflowFailException" in done.stdout + done.stderr or "critical data-quality" in done.stdout + done.stderr
