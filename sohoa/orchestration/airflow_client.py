"""Trigger and follow sohoa's DAGs through Airflow 3's REST API (``/api/v2``), for ``sohoa run``.

Authentication: a JWT from ``POST /auth/token`` (simple auth manager) with the configured user.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from sohoa.config import Settings

log = logging.getLogger(__name__)

INGEST_DAG = "sohoa_ingest"
OCR_POOL = "sohoa_ocr"
TERMINAL = {"success", "failed"}
GET_ATTEMPTS = 4  # a read of the REST API, retried on 5xx or a failed connection
GET_RETRY_WAIT_S = 0.5  # before the first retry; doubled before each next one


class AirflowError(RuntimeError):
    """Airflow could not be reached or refused; the message says what to do."""


@dataclass(frozen=True)
class RunOutcome:
    dag_id: str
    run_id: str
    state: str
    failed: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def succeeded(self) -> bool:
        return self.state == "success"


class AirflowClient:
    def __init__(self, settings: Settings) -> None:
        from sohoa.services.airflow import admin_password

        self.base = settings.airflow_base_url()
        self.http = httpx.Client(base_url=self.base, timeout=30)
        try:
            response = self.http.post(
                "/auth/token", json={"username": settings.airflow_username, "password": admin_password(settings)}
            )
        except httpx.HTTPError as exc:
            raise AirflowError(
                f"Airflow does not answer at {self.base} ({type(exc).__name__}); start it with `sohoa services up`"
            ) from exc
        if response.status_code not in (200, 201):
            raise AirflowError(f"Airflow refused the sign-in at {self.base} (HTTP {response.status_code})")
        token = response.json()["access_token"]
        self.http.headers["Authorization"] = f"Bearer {token}"

    def _get(self, path: str, **params: Any) -> Any:
        """GET ``/api/v2<path>``: its JSON, or None for 404.

        A read is retried (``GET_ATTEMPTS`` in all, waiting ``GET_RETRY_WAIT_S`` doubled each time) when the API
        server answers 5xx or the connection fails: the API server of a busy Airflow answers a single request 500
        now and then (seen in CI: ``/assets/events`` while the scheduler was writing the run's events), and one
        such answer must not end ``sohoa run --wait`` while the runs it follows go on. Writes are never retried.
        """
        wait = GET_RETRY_WAIT_S
        for attempt in range(1, GET_ATTEMPTS + 1):
            try:
                response = self.http.get(f"/api/v2{path}", params=params)
            except httpx.TransportError:
                if attempt == GET_ATTEMPTS:
                    raise
            else:
                if response.status_code < 500 or attempt == GET_ATTEMPTS:
                    break
            log.warning("Airflow API GET %s failed (attempt %d of %d); retrying", path, attempt, GET_ATTEMPTS)
            time.sleep(wait)
            wait *= 2
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()

    def runs(self, dag_id: str, *, limit: int = 100, state: list[str] | None = None) -> list[dict[str, Any]]:
        """The DAG's runs (Airflow's JSON: ``dag_run_id``, ``state``, ``queued_at``, ``start_date``,
        ``end_date``...), at most ``limit``, only those in ``state`` if given; [] for an unknown DAG."""
        params: dict[str, Any] = {"limit": limit}
        if state:
            params["state"] = state
        body = self._get(f"/dags/{dag_id}/dagRuns", **params) or {}
        runs: list[dict[str, Any]] = body.get("dag_runs", [])
        return runs

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """The task instances of one run, mapped ones each on its own (``task_id``, ``map_index``, ``state``,
        ``start_date``, ``end_date``, ``try_number``...); [] for an unknown run."""
        body = self._get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", limit=1000) or {}
        tis: list[dict[str, Any]] = body.get("task_instances", [])
        return tis

    def dag(self, dag_id: str) -> dict[str, Any] | None:
        """The DAG as Airflow last parsed it (``tags``, ``description``, ``last_parsed_time``...); None if unknown."""
        body: dict[str, Any] | None = self._get(f"/dags/{dag_id}")
        return body

    def wait_for_dag(self, dag_id: str, timeout_s: float = 180) -> None:
        """Wait until the DAG processor has parsed the DAG (a fresh install needs a few seconds)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._get(f"/dags/{dag_id}") is not None:
                return
            time.sleep(2)
        errors = self._get("/importErrors") or {}
        names = [e.get("filename", "?") for e in errors.get("import_errors", [])]
        hint = f"; import errors in: {', '.join(names)}" if names else ""
        raise AirflowError(f"DAG {dag_id} did not appear in Airflow within {timeout_s:.0f} s{hint}")

    def ensure_pool(self, name: str, slots: int, description: str) -> None:
        """Create the pool if it is missing; a task in a missing pool would wait forever."""
        if self._get(f"/pools/{name}") is not None:
            return
        response = self.http.post("/api/v2/pools", json={"name": name, "slots": slots, "description": description})
        if response.status_code >= 400 and response.status_code != 409:
            raise AirflowError(f"could not create pool {name}: HTTP {response.status_code}")

    def pool_slots(self, name: str) -> int | None:
        """How many tasks of the pool may run at once, or None when the pool does not exist."""
        body = self._get(f"/pools/{name}")
        return int(body["slots"]) if body else None

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        self.http.patch(f"/api/v2/dags/{dag_id}", json={"is_paused": False}).raise_for_status()
        response = self.http.post(f"/api/v2/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf or {}})
        if response.status_code >= 400:
            raise AirflowError(f"could not trigger {dag_id}: HTTP {response.status_code} {response.text[:200]}")
        run_id: str = response.json()["dag_run_id"]
        return run_id

    def run_state(self, dag_id: str, run_id: str) -> str:
        body = self._get(f"/dags/{dag_id}/dagRuns/{run_id}")
        return str(body["state"]) if body else "unknown"

    def run_seconds(self, dag_id: str, run_id: str) -> float | None:
        """How long a run took by Airflow's own clock (start to end), or None before it has both."""
        body = self._get(f"/dags/{dag_id}/dagRuns/{run_id}") or {}
        return _span_seconds(body.get("start_date"), body.get("end_date"))

    def task_seconds(self, dag_id: str, run_id: str) -> dict[str, float]:
        """Seconds per task of a run, summed over its mapped instances (the work, not the wall time)."""
        totals: dict[str, float] = {}
        for ti in self.task_instances(dag_id, run_id):
            span = _span_seconds(ti.get("start_date"), ti.get("end_date"))
            if span is not None:
                totals[ti["task_id"]] = totals.get(ti["task_id"], 0.0) + span
        return totals

    def failed_tasks(self, dag_id: str, run_id: str) -> list[str]:
        failed = []
        for ti in self.task_instances(dag_id, run_id):
            if ti.get("state") in ("failed", "upstream_failed"):
                index = ti.get("map_index", -1)
                failed.append(ti["task_id"] + (f"[{index}]" if index is not None and index >= 0 else ""))
        return failed

    def task_states(self, dag_id: str, run_id: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        for ti in self.task_instances(dag_id, run_id):
            state = ti.get("state") or "queued"
            counts[state] = counts.get(state, 0) + 1
        return counts

    def has_active_run(self, dag_id: str) -> bool:
        """Whether the DAG has a queued or running run (at max_active_runs, the scheduler makes no new run)."""
        body = self._get(f"/dags/{dag_id}/dagRuns", state=["queued", "running"], limit=1) or {}
        return bool(body.get("total_entries") or body.get("dag_runs"))

    def asset_consumers(self, dag_id: str) -> list[str]:
        """DAGs scheduled on the assets that ``dag_id`` produces (they run when it emits them)."""
        body = self._get("/assets", limit=1000) or {}
        consumers: list[str] = []
        for asset in body.get("assets", []):
            if any(t.get("dag_id") == dag_id for t in asset.get("producing_tasks", [])):
                consumers += [d["dag_id"] for d in asset.get("scheduled_dags", []) if d["dag_id"] not in consumers]
        return consumers

    def asset_events(self, source_dag_id: str, source_run_id: str | None = None) -> list[dict[str, Any]]:
        """The asset events a DAG's runs (or one run) emitted, as Airflow's JSON (``extra``,
        ``created_dagruns``...); [] when there are none."""
        params: dict[str, Any] = {"source_dag_id": source_dag_id, "limit": 1000}
        if source_run_id is not None:
            params["source_run_id"] = source_run_id
        body = self._get("/assets/events", **params) or {}
        events: list[dict[str, Any]] = body.get("asset_events", [])
        return events

    def runs_started_by(self, dag_id: str, run_id: str) -> list[tuple[str, str]]:
        """The (dag_id, run_id) of the runs that the asset events of one run created."""
        return [
            (r["dag_id"], r["run_id"])
            for event in self.asset_events(dag_id, run_id)
            for r in event.get("created_dagruns", [])
        ]


def _span_seconds(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def _follow(
    client: AirflowClient, dag_id: str, run_id: str, timeout_s: float, report: Callable[[str], None]
) -> RunOutcome:
    """Poll one run until it ends (or time runs out), reporting task states as they change."""
    started = time.monotonic()
    last = ""
    while True:
        state = client.run_state(dag_id, run_id)
        if state in TERMINAL:
            break
        if time.monotonic() - started > timeout_s:
            raise AirflowError(f"{dag_id} run {run_id} still {state} after {timeout_s:.0f} s")
        counts = client.task_states(dag_id, run_id)
        line = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        if line != last:
            report(f"{dag_id}: {line}")
            last = line
        time.sleep(3)
    failed = client.failed_tasks(dag_id, run_id) if state != "success" else []
    # Airflow's own start and end: a consumer run followed after another may have ended long before.
    seconds = client.run_seconds(dag_id, run_id)
    outcome = RunOutcome(dag_id, run_id, state, failed, time.monotonic() - started if seconds is None else seconds)
    report(f"{dag_id} run {run_id}: {state} in {outcome.seconds:.0f} s")
    return outcome


def follow_chain(
    client: AirflowClient, first: RunOutcome, *, timeout_s: float, report: Callable[[str], None], appear_s: float = 120
) -> list[RunOutcome]:
    """Wait for the runs that ``first`` set off through assets (publish, KPI...), and theirs in turn.

    A consumer run is created by the scheduler a few seconds after the asset event; each expected consumer
    gets ``appear_s`` to appear. Returns the outcomes of the downstream runs, in the order they ended.
    """
    outcomes: list[RunOutcome] = []
    pending = [first]
    seen = {(first.dag_id, first.run_id)}
    deadline = time.monotonic() + timeout_s
    while pending:
        parent = pending.pop(0)
        if not parent.succeeded:
            continue
        expected = set(client.asset_consumers(parent.dag_id))
        appear_by = time.monotonic() + appear_s
        while True:
            started = client.runs_started_by(parent.dag_id, parent.run_id)
            missing = expected - {d for d, _ in started}
            if not missing or time.monotonic() > deadline:
                break
            # A consumer at max_active_runs (e.g. sohoa_kpi's nightly run going on) gets its asset-triggered
            # run only when that run ends: keep waiting while one is active, then appear_s more.
            if any(client.has_active_run(d) for d in missing):
                appear_by = max(appear_by, time.monotonic() + appear_s)
            elif time.monotonic() > appear_by:
                break
            time.sleep(2)
        for dag_id, run_id in started:
            if (dag_id, run_id) in seen:
                continue
            seen.add((dag_id, run_id))
            report(f"{parent.dag_id} set off {dag_id} run {run_id}")
            outcome = _follow(client, dag_id, run_id, max(1.0, deadline - time.monotonic()), report)
            outcomes.append(outcome)
            pending.append(outcome)
        missing = expected - {d for d, _ in started}
        if missing:
            report(f"no run of {', '.join(sorted(missing))} appeared after {parent.dag_id} (paused?)")
    return outcomes


def trigger_and_wait(
    settings: Settings,
    *,
    wait: bool,
    timeout_s: float = 3600,
    report: Callable[[str], None] = print,
    dag_id: str = INGEST_DAG,
) -> RunOutcome:
    """Trigger the ingestion DAG; with ``wait``, poll until the run ends (or time runs out)."""
    client = AirflowClient(settings)
    client.wait_for_dag(dag_id)
    client.ensure_pool(OCR_POOL, settings.ocr_pool_slots(), "sohoa OCR tasks (one per core)")
    run_id = client.trigger(dag_id)
    report(f"triggered {dag_id} run {run_id}")
    if not wait:
        return RunOutcome(dag_id, run_id, "queued")
    return _follow(client, dag_id, run_id, timeout_s, report)


def run_chain(
    settings: Settings, *, timeout_s: float = 3600, report: Callable[[str], None] = print, dag_id: str = INGEST_DAG
) -> list[RunOutcome]:
    """Trigger ingestion and wait for it and for every run it sets off through assets (``sohoa run --wait``)."""
    first = trigger_and_wait(settings, wait=True, timeout_s=timeout_s, report=report, dag_id=dag_id)
    return [first, *follow_chain(AirflowClient(settings), first, timeout_s=timeout_s, report=report)]
