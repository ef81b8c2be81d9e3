"""
### sohoa_publish: a new snapshot of the "1 có" dataset

Runs when the ingestion DAG has landed new data (asset `sohoa_ingested`) and every day at 02:00 Vietnam
time (after the 01:00 KPI build). Calls `sohoa.publish.snapshot.publish`, the code of `sohoa publish`:
Parquet files, the national-portal projection and a manifest under
`published/1co/snapshot=<id>/`, then `1co/LATEST`; old snapshots go by the retention rule.

When the data is unchanged since the latest snapshot nothing is written and the run ends without an
asset event. When a snapshot is published, the asset `sohoa_published` (`sohoa://published`) gets an
event whose extra holds the snapshot id, schema version and row counts: downstream DAGs schedule on it.
A failure leaves `LATEST` on the previous snapshot and is retried.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import Asset, AssetOrTimeSchedule, CronTriggerTimetable, dag, task

INGESTED = Asset(name="sohoa_ingested", uri="sohoa://ingested")
PUBLISHED = Asset(name="sohoa_published", uri="sohoa://published")

default_args = {
    "owner": "sohoa",
    "retries": 3,
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": True,
    "execution_timeout": timedelta(hours=3),
}


@dag(
    dag_id="sohoa_publish",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 2 * * *", timezone="Asia/Ho_Chi_Minh"),
        assets=[INGESTED],
    ),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["sohoa", "publish"],
    default_args=default_args,
    doc_md=__doc__,
)
def sohoa_publish() -> None:
    @task
    def publish_snapshot() -> dict[str, Any]:
        from sohoa.publish.snapshot import publish
        from sohoa_airflow.errors import task_errors
        from sohoa_airflow.hooks import sohoa_settings

        with task_errors():
            return publish(sohoa_settings()).as_dict()

    @task(outlets=[PUBLISHED])
    def announce(summary: dict[str, Any]) -> str:
        """Emit the asset event for a new snapshot; skip (no event) when nothing changed."""
        from airflow.sdk import get_current_context
        from airflow.sdk.exceptions import AirflowSkipException

        if summary["status"] != "published":
            raise AirflowSkipException(f"unchanged since snapshot {summary['snapshot']}")
        rows = {f["key"].rsplit("/", 1)[-1]: f["rows"] for f in summary["files"]}
        get_current_context()["outlet_events"][PUBLISHED].extra = {
            "snapshot": summary["snapshot"],
            "schema_version": summary["schema_version"],
            "rows": rows,
        }
        snapshot: str = summary["snapshot"]
        return snapshot

    announce(publish_snapshot())


sohoa_publish()
