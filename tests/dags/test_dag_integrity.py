"""DAG integrity: every DAG file imports without error, fast, with tags, retries and docs, and pulls no
heavy library at parse time (the DAG processor parses these files constantly)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parents[2] / "dags"
DAG_FILES = sorted(DAGS.glob("*.py"))
HEAVY = (
    "pandas",
    "PIL",
    "pytesseract",
    "great_expectations",
    "pdfplumber",
    "pypdfium2",
    "minio",
    "psycopg2",
    "sohoa",
    "ocr",
)


@pytest.fixture(scope="module")
def dagbag():  # type: ignore[no-untyped-def]
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_there_are_dags() -> None:
    assert DAG_FILES, "no DAG files in dags/"


def test_no_import_errors(dagbag) -> None:  # type: ignore[no-untyped-def]
    assert dagbag.import_errors == {}, "\n".join(f"{f}: {e}" for f, e in dagbag.import_errors.items())


def test_every_dag_has_tags_retries_and_docs(dagbag) -> None:  # type: ignore[no-untyped-def]
    assert dagbag.dags
    for dag_id, dag in dagbag.dags.items():
        assert "sohoa" in dag.tags, f"{dag_id} lacks the sohoa tag"
        assert dag.doc_md, f"{dag_id} has no doc_md"
        for task in dag.tasks:
            assert task.retries >= 1, f"{dag_id}.{task.task_id} has no retries"


def test_ingest_dag_emits_the_ingested_asset(dagbag) -> None:  # type: ignore[no-untyped-def]
    dag = dagbag.dags["sohoa_ingest"]
    outlets = [o for t in dag.tasks for o in t.outlets]
    assert any(getattr(o, "name", "") == "sohoa_ingested" for o in outlets)
    assert dag.get_task("ocr_documents").pool == "sohoa_ocr"


def test_ocr_has_a_celery_queue_of_its_own_and_the_rest_the_default(dagbag) -> None:  # type: ignore[no-untyped-def]
    from sohoa.config import Settings

    dag = dagbag.dags["sohoa_ingest"]
    assert dag.get_task("ocr_documents").queue == Settings().ocr_queue == "ocr"
    assert {t.queue for t in dag.tasks if t.task_id != "ocr_documents"} == {"default"}


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_parses_without_heavy_imports(path: Path) -> None:
    code = (
        "import sys, time, runpy\n"
        "t = time.perf_counter()\n"
        f"runpy.run_path({str(path)!r})\n"
        "elapsed = time.perf_counter() - t\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print(repr((elapsed, heavy)))\n"
    )
    # Airflow itself is imported first so that only the DAG file's own cost is measured.
    # Airflow puts the plugins folder on sys.path before it parses DAG files.
    env = {**os.environ, "PYTHONPATH": str(DAGS.parent / "plugins")}
    done = subprocess.run(
        [sys.executable, "-c", "import airflow.sdk\n" + code],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    elapsed, heavy = eval(done.stdout.strip().splitlines()[-1])  # noqa: S307 - our own repr
    assert heavy == [], f"{path.name} imports {heavy} at parse time"
    print(f"{path.name} parsed in {elapsed:.2f} s")  # timing is reported, never asserted (noisy machines)


def test_quality_dag_runs_after_ingestion(dagbag) -> None:  # type: ignore[no-untyped-def]
    dag = dagbag.dags["sohoa_quality"]
    condition = dag.timetable.asset_condition
    assert [a.name for a in condition.objects] == ["sohoa_ingested"]
    assert {t.task_id for t in dag.tasks} == {"validate_record_batches", "recheck_documents", "validate_documents"}


def test_publish_dag_runs_on_new_data_and_daily_and_emits_its_own_asset(dagbag) -> None:  # type: ignore[no-untyped-def]
    dag = dagbag.dags["sohoa_publish"]
    timetable = dag.timetable
    assert "sohoa_ingested" in repr(timetable.asset_condition)
    assert (timetable.timetable.expression, timetable.timetable.timezone) == ("0 2 * * *", "Asia/Ho_Chi_Minh")
    outlets = [o for t in dag.tasks for o in t.outlets]
    assert [getattr(o, "name", "") for o in outlets] == ["sohoa_published"]
