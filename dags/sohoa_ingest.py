"""
### sohoa_ingest: everything new in the landing bucket, into PostgreSQL and the raw bucket

Order: catalogues, then record batches (in arrival order: it breaks ties between equal `CapNhatLuc`),
then documents (scans, results, inbox) in mapped batches, then OCR of the stored originals in mapped
batches through the `sohoa_ocr` pool, on the Celery queue `SOHOA_OCR_QUEUE` (default `ocr`). Unknown
keys are quarantined. Emits the asset `sohoa://ingested` when done, for the publish and KPI DAGs.

Every task is idempotent: a landing object is marked done in the same transaction as its data, so a
retry or a rerun redoes only what did not commit. Bad input is quarantined, not retried.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import Asset, dag, task

INGESTED = Asset(name="sohoa_ingested", uri="sohoa://ingested")
DOCUMENT_BATCH = 20
# Pages per mapped OCR task: 30-50 s of one core (0.8-1.2 s a page on the 2-core box), so that a task's start-up
# (~2 s) is a small share and a retry stays cheap. bench/e2e_pages_bench.py measures the orchestration overhead.
OCR_BATCH_PAGES = 40
# The Celery queue of the OCR tasks (SOHOA_OCR_QUEUE, default as in sohoa.config), so that OCR can have
# workers (machines) of its own; every other task uses Airflow's default queue. LocalExecutor ignores it.
OCR_QUEUE = os.environ.get("SOHOA_OCR_QUEUE", "ocr")

default_args = {
    "owner": "sohoa",
    "retries": 3,
    "retry_delay": timedelta(seconds=20),
    "retry_exponential_backoff": True,
    "execution_timeout": timedelta(hours=2),
}


@dag(
    dag_id="sohoa_ingest",
    schedule=timedelta(minutes=15),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["sohoa", "ingest"],
    default_args=default_args,
    doc_md=__doc__,
)
def sohoa_ingest() -> None:
    @task
    def plan_landing(ti: Any = None) -> list[list[dict[str, Any]]]:
        """The documents, cut into the ingest batches, as the return value (what the mapped ingest expands
        over); catalogues and record batches as the XComs ``catalogues`` and ``records``."""
        from sohoa.intake.pipeline import plan
        from sohoa_airflow.errors import task_errors
        from sohoa_airflow.hooks import sohoa_settings

        with task_errors():
            # A multiple of the cores, so that the last round of ingest tasks does not leave a core idle.
            parts = plan(sohoa_settings()).for_tasks(DOCUMENT_BATCH, multiple_of=os.cpu_count() or 1)
        ti.xcom_push(key="catalogues", value=parts["catalogues"])
        ti.xcom_push(key="records", value=parts["records"])
        batches: list[list[dict[str, Any]]] = parts["document_batches"]
        return batches

    @task
    def load_catalogues(refs: list[dict[str, Any]]) -> dict[str, int]:
        from sohoa.intake.pipeline import load_catalogues as run
        from sohoa_airflow.errors import task_errors
        from sohoa_airflow.hooks import sohoa_settings

        with task_errors():
            return run(sohoa_settings(), refs)

    @task
    def load_records(refs: list[dict[str, Any]], _catalogues: dict[str, int]) -> list[dict[str, Any]]:
        from sohoa.intake.pipeline import load_records as run
        from sohoa_airflow.errors import task_errors
        from sohoa_airflow.hooks import sohoa_settings

        with task_errors():
            return run(sohoa_settings(), refs)

    @task
    def ingest_documents(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        from sohoa.intake.pipeline import ingest_documents as run
        from sohoa_airflow.errors import task_errors
        from sohoa_airflow.hooks import sohoa_settings

        with task_errors():
            return run(sohoa_settings(), batch)

    @task(trigger_rule="all_done")
    def ocr_batches(_documents: Any) -> list[list[str]]:
        from sohoa.intake.pipeline import ocr_batches as batches
        from sohoa_airflow.hooks import sohoa_settings

        settings = sohoa_settings()
        # As many batches as a multiple of the pool's slots, the last round's half the size of the others, so
        # that the slots end close together (pages do not take equal time).
        return batches(settings, max_pages=OCR_BATCH_PAGES, slots=settings.ocr_pool_slots())

    @task(pool="sohoa_ocr", queue=OCR_QUEUE, execution_timeout=timedelta(hours=1))
    def ocr_documents(shas: list[str]) -> list[dict[str, Any]]:
        from sohoa.intake.pipeline import ocr_originals
        from sohoa_airflow.errors import task_errors
        from sohoa_airflow.hooks import sohoa_settings

        with task_errors():
            return ocr_originals(sohoa_settings(), shas)

    @task(outlets=[INGESTED], trigger_rule="none_failed")
    def finish(_ocr: Any) -> None:
        """Mark the asset: downstream DAGs (publish, KPI) run on new data."""

    landing_plan = plan_landing()
    catalogues = load_catalogues(landing_plan["catalogues"])
    records = load_records(landing_plan["records"], catalogues)
    # Documents after the records: a scan is linked to its dossier, and flagged if the dossier is unknown.
    stored = ingest_documents.expand(batch=landing_plan)
    records >> stored
    ocr = ocr_documents.expand(shas=ocr_batches(stored))
    finish(ocr)


sohoa_ingest()
