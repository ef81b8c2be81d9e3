"""
### sohoa_kpi: the nightly KPI tables (Decision 766 indicators) and the monthly KPI reports

Runs at **01:00 Vietnam time** (Asia/Ho_Chi_Minh) and also whenever `sohoa_ingest` emits the asset
`sohoa://ingested`, so the tables follow the data within minutes during the day.

1. `build_kpi`: an incremental build with build date B = the run's local date (the days before B): only the
   days and periods that changed records, documents, the catalogue or the holiday calendar touched, the
   new day, and the periods not yet ended (`sohoa.kpi.build`, the same code as `sohoa kpi build`). A build
   that fails leaves the previous tables readable and intact and is logged in `kpi.build_log`; a retry
   redoes it whole.
2. `write_reports`: the HTML KPI report per agency for the months the build rewrote (the latest two), in
   the published bucket under `kpi/bao-cao/<YYYY-MM>/<MaCoQuan>.html`; emits the asset `sohoa://kpi`.

A rebuild of a range is `sohoa kpi build --from DATE --to DATE` (docs/kpi.md).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import Asset, AssetOrTimeSchedule, CronTriggerTimetable, dag, task

INGESTED = Asset(name="sohoa_ingested", uri="sohoa://ingested")
KPI = Asset(name="sohoa_kpi", uri="sohoa://kpi")
VIETNAM = "Asia/Ho_Chi_Minh"

default_args = {
    "owner": "sohoa",
    "retries": 3,
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": True,
    "execution_timeout": timedelta(hours=1),
}


@dag(
    dag_id="sohoa_kpi",
    schedule=AssetOrTimeSchedule(timetable=CronTriggerTimetable("0 1 * * *", timezone=VIETNAM), assets=[INGESTED]),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["sohoa", "kpi"],
    default_args=default_args,
    doc_md=__doc__,
)
def sohoa_kpi() -> None:
    @task
    def build_kpi(**context: Any) -> dict[str, Any]:
        from sohoa.kpi.build import build, today_in_vietnam
        from sohoa_airflow.errors import task_errors
        from sohoa_airflow.hooks import sohoa_settings

        build_date = today_in_vietnam(context["dag_run"].run_after)
        with task_errors():
            return build(sohoa_settings(), build_date=build_date, reports=False).as_dict()

    @task(outlets=[KPI])
    def write_reports(summary: dict[str, Any]) -> list[str]:
        from datetime import date

        from sohoa.kpi.report import write_reports as run
        from sohoa_airflow.errors import task_errors
        from sohoa_airflow.hooks import sohoa_settings

        months = [date.fromisoformat(m) for m in summary["months"]][-2:]
        with task_errors():
            return run(sohoa_settings(), months) if months else []

    write_reports(build_kpi())


sohoa_kpi()
