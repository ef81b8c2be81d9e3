"""``sohoa run --wait`` reports how long each run took by Airflow's clock, not how long it was watched.

Consumer runs (quality, KPI, publish) are followed one after another: one that ran beside another was already over
when its turn came, and the time spent watching it said "success in 0 s" (bench/batch_load_bench.py showed it).
"""

from __future__ import annotations

from typing import Any

from sohoa.orchestration import airflow_client
from sohoa.orchestration.airflow_client import AirflowClient, RunOutcome, follow_chain


class FinishedRuns(AirflowClient):
    """An Airflow whose ingestion set off two consumer runs that have both ended already."""

    def __init__(self) -> None:  # no HTTP: the REST answers are below
        self.runs = {
            ("sohoa_quality", "q1"): {
                "state": "success",
                "start_date": "2026-01-06T02:00:05.250000Z",
                "end_date": "2026-01-06T02:00:47.750000Z",
            },
            ("sohoa_kpi", "k1"): {
                "state": "failed",
                "start_date": "2026-01-06T02:00:05+00:00",
                "end_date": "2026-01-06T02:00:08+00:00",
            },
        }

    def _get(self, path: str, **params: Any) -> Any:
        parts = path.strip("/").split("/")
        if parts[0] == "assets" and len(parts) == 1:
            return {
                "assets": [
                    {
                        "producing_tasks": [{"dag_id": "sohoa_ingest"}],
                        "scheduled_dags": [{"dag_id": "sohoa_quality"}, {"dag_id": "sohoa_kpi"}],
                    }
                ]
            }
        if parts[:2] == ["assets", "events"]:
            if params.get("source_dag_id") != "sohoa_ingest":
                return {"asset_events": []}
            return {
                "asset_events": [
                    {
                        "created_dagruns": [
                            {"dag_id": "sohoa_quality", "run_id": "q1"},
                            {"dag_id": "sohoa_kpi", "run_id": "k1"},
                        ]
                    }
                ]
            }
        if parts[0] == "dags" and parts[2] == "dagRuns" and len(parts) == 4:
            return self.runs[(parts[1], parts[3])]
        if parts[-1] == "taskInstances":
            ended = {"start_date": "2026-01-06T02:00:05Z", "end_date": "2026-01-06T02:00:07.5Z"}
            return {
                "task_instances": [
                    {"task_id": "build", "state": "failed", "map_index": -1, **ended},
                    {"task_id": "ocr", "state": "success", "map_index": 0, **ended},
                    {"task_id": "ocr", "state": "success", "map_index": 1, **ended},
                    {"task_id": "later", "state": None, "start_date": None, "end_date": None},
                ]
            }
        raise AssertionError(f"unexpected call {path} {params}")


def test_consumer_runs_report_airflows_start_to_end_not_the_time_spent_watching() -> None:
    first = RunOutcome("sohoa_ingest", "i1", "success", seconds=120.0)
    outcomes = follow_chain(FinishedRuns(), first, timeout_s=30, report=lambda _m: None)
    assert [(o.dag_id, o.state) for o in outcomes] == [("sohoa_quality", "success"), ("sohoa_kpi", "failed")]
    assert [o.seconds for o in outcomes] == [42.5, 3.0]
    assert outcomes[1].failed == ["build"]


def test_task_seconds_sum_mapped_instances_and_skip_unstarted_tasks() -> None:
    assert FinishedRuns().task_seconds("sohoa_ingest", "i1") == {"build": 2.5, "ocr": 5.0}


def test_a_run_without_an_end_has_no_span() -> None:
    assert airflow_client._span_seconds("2026-01-06T02:00:05Z", None) is None
