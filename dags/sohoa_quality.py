"""
### sohoa_quality: Great Expectations validation and review states, after each ingestion

Runs when `sohoa_ingest` updates the asset `sohoa://ingested` (and can be triggered by hand).

1. `validate_record_batches`: the suite `schemas/gx/records.json` over each record batch not yet
   validated; failed expectations become `quality.issues` rows (`gx.records.*`), the GX Data Docs go to
   the derived bucket (`quality/gx/...`, linked from `sohoa.gx_validation.data_docs_uri` and this task's
   log). A critical failure (e.g. 40% malformed dossier codes in a feed) **fails this task, without retry,
   after everything is stored**: the data are kept and marked, the feed must be fixed.
2. in parallel, `recheck_documents` (cross-checks of documents whose dossier record changed, review
   states), then `validate_documents`: the suites `documents.json` (extracted fields) and `ocr.json`
   (OCR quality) over the originals that are new or changed since the last run.

Each gate task has a **GX Data Docs** button (the portal's page of the run's Data Docs, under `/sohoa`).

Great Expectations is imported inside the tasks only (it takes seconds to import).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Asset, dag, task

from sohoa_airflow.gx_links import GxValidationOperator

INGESTED = Asset(name="sohoa_ingested", uri="sohoa://ingested")

default_args = {
    "owner": "sohoa",
    "retries": 2,
    "retry_delay": timedelta(seconds=30),
    "execution_timeout": timedelta(hours=1),
}


@dag(
    dag_id="sohoa_quality",
    schedule=[INGESTED],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["sohoa", "quality"],
    default_args=default_args,
    doc_md=__doc__,
)
def sohoa_quality() -> None:
    # The gates are GxValidationOperator tasks: same functions, plus a "GX Data Docs" button in Airflow's UI.
    GxValidationOperator(task_id="validate_record_batches", step="records")
    validate_documents = GxValidationOperator(task_id="validate_documents", step="documents")

    @task
    def recheck_documents() -> dict[str, int]:
        from sohoa.extract.stage import recheck_documents as run
        from sohoa_airflow.errors import task_errors
        from sohoa_airflow.hooks import sohoa_settings

        with task_errors():
            return run(sohoa_settings())

    # Two independent branches: a failed record gate does not hold back the document checks, and the run
    # still ends failed (a failed leaf task) for the operators to see.
    recheck_documents() >> validate_documents


sohoa_quality()
