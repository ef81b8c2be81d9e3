"""What an operator does with Airflow during and after a fault: trigger, watch, clear what failed.

Everything goes through Airflow 3's REST API (``/api/v2``) with sohoa's own client, as ``sohoa run`` does. Calls
are retried for a while: during a PostgreSQL restart the API server answers with errors (its metadata database is
on the restarted server).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from sohoa.config import Settings
from sohoa.orchestration.airflow_client import INGEST_DAG, AirflowClient, AirflowError

T = TypeVar("T")
ACTIVE = ("queued", "running")
CONSUMERS = ("sohoa_publish", "sohoa_kpi", "sohoa_quality", "sohoa_reconcile")  # paused during the suite


class Operator:
    """An Airflow client that rides out a short outage of the API server."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.client = self._retry(lambda: AirflowClient(settings))

    def _retry(self, call: Callable[[], T], *, for_s: float = 120) -> T:
        deadline = time.monotonic() + for_s
        while True:
            try:
                return call()
            except (httpx.HTTPError, AirflowError, KeyError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(2)

    def _call(self, call: Callable[[AirflowClient], T]) -> T:
        def attempt() -> T:
            try:
                return call(self.client)
            except httpx.HTTPStatusError as exc:
                if exc.response.status_code == 401:  # the token of a restarted API server
                    self.client = AirflowClient(self.settings)
                raise

        return self._retry(attempt)

    def runs(self) -> list[dict[str, Any]]:
        return self._call(lambda c: c.runs(INGEST_DAG))

    def trigger(self) -> str:
        return self._call(lambda c: c.trigger(INGEST_DAG))

    def task_instances(self, run_id: str) -> list[dict[str, Any]]:
        return self._call(lambda c: c.task_instances(INGEST_DAG, run_id))

    def new_runs(self, since: set[str]) -> list[dict[str, Any]]:
        """The ingest runs not in ``since`` (a scheduled run may start next to the triggered one)."""
        return [r for r in self.runs() if r["dag_run_id"] not in since]

    def running(self, since: set[str], task_id: str) -> list[dict[str, Any]]:
        """Running instances of ``task_id`` in the runs not in ``since``."""
        return [
            ti
            for r in self.new_runs(since)
            if r["state"] in ACTIVE
            for ti in self.task_instances(r["dag_run_id"])
            if ti["task_id"] == task_id and ti["state"] == "running"
        ]

    def seen_failure(self, since: set[str]) -> bool:
        """Whether a task of the runs not in ``since`` has failed or waits for a retry."""
        return any(
            ti["state"] in ("up_for_retry", "failed", "upstream_failed")
            for r in self.new_runs(since)
            for ti in self.task_instances(r["dag_run_id"])
        )

    def retries(self, run_id: str) -> int:
        """Task tries beyond the first in a run: what Airflow retried by itself."""
        return sum(max(0, int(ti.get("try_number") or 1) - 1) for ti in self.task_instances(run_id))

    def wait_quiet(self, since: set[str], *, timeout_s: float = 900) -> dict[str, str]:
        """Wait until no ingest run is queued or running; return the state of each run not in ``since``."""
        deadline = time.monotonic() + timeout_s
        while True:
            runs = self.runs()
            if not any(r["state"] in ACTIVE for r in runs):
                return {r["dag_run_id"]: r["state"] for r in runs if r["dag_run_id"] not in since}
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"ingest runs still active after {timeout_s:.0f} s: "
                    f"{[(r['dag_run_id'], r['state']) for r in runs if r['state'] in ACTIVE]}"
                )
            time.sleep(3)

    def clear_failed(self, run_id: str) -> int:
        """Clear the failed tasks of a run and everything downstream of them, as an operator does in the UI."""

        def clear(c: AirflowClient) -> Any:
            response = c.http.post(
                f"/api/v2/dags/{INGEST_DAG}/clearTaskInstances",
                json={
                    "dry_run": False,
                    "dag_run_id": run_id,
                    "only_failed": True,
                    "include_downstream": True,
                    "reset_dag_runs": True,
                },
            )
            response.raise_for_status()
            return response.json()

        body = self._call(clear)
        return len(body.get("task_instances", []))


def pause(op: Operator, dag_id: str) -> None:
    """Pause a DAG (the suite runs only the ingestion: publish, KPI and quality runs would compete for the CPU)."""

    def patch(c: AirflowClient) -> None:
        c.wait_for_dag(dag_id)
        c.http.patch(f"/api/v2/dags/{dag_id}", json={"is_paused": True}).raise_for_status()

    op._call(patch)
