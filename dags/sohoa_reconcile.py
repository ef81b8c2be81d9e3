"""
### sohoa_reconcile: nightly check that every file and record is accounted for exactly once

Compares the landing, raw, quarantine and derived buckets with PostgreSQL, repairs what can be redone from data
sohoa still holds (a lost original copied again from landing, missing OCR artefacts rebuilt by the next ingest),
reports the rest in `quality.issues`, and re-computes the SHA-256 of a sample of stored originals (fixity), the
least recently checked first. Runs at 02:30 Vietnam time, after the KPI build. The task fails when something is
left for a person, so that the failure is seen; the findings are stored first.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task

FIXITY_SAMPLE = 200


@dag(
    dag_id="sohoa_reconcile",
    schedule="30 2 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Ho_Chi_Minh"),
    catchup=False,
    max_active_runs=1,
    tags=["sohoa", "reconcile"],
    default_args={
        "owner": "sohoa",
        "retries": 2,
        "retry_delay": timedelta(minutes=5),
        "execution_timeout": timedelta(hours=3),
    },
    doc_md=__doc__,
)
def sohoa_reconcile() -> None:
    @task
    def reconcile() -> dict[str, object]:
        from airflow.sdk.exceptions import AirflowFailException

        from sohoa.intake.reconcile import reconcile as run
        from sohoa_airflow.errors import task_errors
        from sohoa_airflow.hooks import sohoa_settings

        with task_errors():
            report = run(sohoa_settings(), fixity_sample=FIXITY_SAMPLE)
        if not report.clean:
            raise AirflowFailException(
                f"reconciliation left problems for a person: {report.problems} (see quality.issues)"
            )
        return report.as_dict()

    reconcile()


sohoa_reconcile()
