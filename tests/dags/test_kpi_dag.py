"""The KPI DAG: nightly at 01:00 Vietnam time, also after each ingestion, build then reports."""

from __future__ import annotations

from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture(scope="module")
def dag():  # type: ignore[no-untyped-def]
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS / "sohoa_kpi.py"))
    assert bag.import_errors == {}
    return bag.dags["sohoa_kpi"]


def test_runs_at_one_in_the_morning_vietnam_time_and_after_ingestion(dag) -> None:  # type: ignore[no-untyped-def]
    cron = dag.timetable.timetable
    assert cron.expression == "0 1 * * *"
    assert str(cron.timezone) == "Asia/Ho_Chi_Minh"
    assert "sohoa_ingested" in repr(dag.timetable.asset_condition)


def test_builds_then_writes_the_reports(dag) -> None:  # type: ignore[no-untyped-def]
    assert dag.get_task("write_reports").upstream_task_ids == {"build_kpi"}
    assert any(getattr(o, "name", "") == "sohoa_kpi" for o in dag.get_task("write_reports").outlets)
    assert dag.max_active_runs == 1
