"""The embedded Airflow re-parses a DAG file when it changes, not on a clock (sohoa.services.airflow,
``MIN_FILE_PROCESS_INTERVAL_S``): an edited DAG file and a new one are picked up within seconds, although an
unchanged file is left alone for ten minutes (so that parsing does not take CPU from OCR)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from e2e_airflow import AirflowFactory

from sohoa.orchestration.airflow_client import AirflowClient
from sohoa.services import airflow

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow]

DAG = """
from datetime import datetime

from airflow.sdk import dag, task


@dag(dag_id="{dag_id}", schedule=None, start_date=datetime(2026, 1, 1), catchup=False, tags=["{tag}"])
def pickup() -> None:
    @task
    def noop() -> None:
        pass

    noop()


pickup()
"""
# Far below the interval at which an unchanged file is parsed again: only a change can explain a pick-up.
PICKUP_S = 90


def _within(seconds: float, done: Callable[[], bool]) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if done():
            return time.monotonic() - started
        time.sleep(1)
    raise AssertionError(f"not seen within {seconds} s")


def test_an_edited_and_a_new_dag_file_are_picked_up_long_before_the_parse_interval(
    airflow_env: AirflowFactory, tmp_path: Path
) -> None:
    assert airflow.MIN_FILE_PROCESS_INTERVAL_S >= 5 * PICKUP_S
    dags = tmp_path / "dags"
    dags.mkdir()
    first = dags / "sohoa_pickup_a.py"
    first.write_text(DAG.format(dag_id="sohoa_pickup_a", tag="v1"), encoding="utf-8")
    with airflow_env("pickup", dags_folder=dags) as settings:
        client = AirflowClient(settings)
        client.wait_for_dag("sohoa_pickup_a")

        def tags(dag_id: str) -> list[str]:
            body = client.dag(dag_id) or {}
            return sorted(t["name"] for t in body.get("tags", []))

        _within(PICKUP_S, lambda: tags("sohoa_pickup_a") == ["v1"])
        time.sleep(2)  # the edit's mtime after the first parse's end, as a person's edit would be
        first.write_text(DAG.format(dag_id="sohoa_pickup_a", tag="v2"), encoding="utf-8")
        os.utime(first)
        _within(PICKUP_S, lambda: tags("sohoa_pickup_a") == ["v2"])

        (dags / "sohoa_pickup_b.py").write_text(DAG.format(dag_id="sohoa_pickup_b", tag="new"), encoding="utf-8")
        _within(PICKUP_S, lambda: tags("sohoa_pickup_b") == ["new"])
