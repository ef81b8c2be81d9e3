"""Reads of Airflow's REST API survive a passing 5xx (seen in CI: one 500 from ``/assets/events`` ended a
``sohoa run --wait`` whose runs went on to succeed), and still fail, with the status, when the error persists."""

from __future__ import annotations

import httpx
import pytest

from sohoa.orchestration import airflow_client
from sohoa.orchestration.airflow_client import AirflowClient


def _client(answers: list[int], seen: list[str]) -> AirflowClient:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        status = answers.pop(0) if answers else 200
        return httpx.Response(status, json={"asset_events": [{"id": 7}]} if status == 200 else {"detail": "boom"})

    client = AirflowClient.__new__(AirflowClient)  # no sign-in: the transport answers every request itself
    client.http = httpx.Client(base_url="http://airflow.test", transport=httpx.MockTransport(handle))
    return client


@pytest.fixture(autouse=True)
def _no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(airflow_client, "GET_RETRY_WAIT_S", 0.0)


def test_a_passing_server_error_is_retried() -> None:
    seen: list[str] = []
    client = _client([500, 503], seen)
    assert client._get("/assets/events", source_dag_id="sohoa_ingest") == {"asset_events": [{"id": 7}]}
    assert seen == ["/api/v2/assets/events"] * 3


def test_a_persistent_server_error_is_raised_after_the_last_attempt() -> None:
    seen: list[str] = []
    client = _client([500] * airflow_client.GET_ATTEMPTS, seen)
    with pytest.raises(httpx.HTTPStatusError, match="500"):
        client._get("/assets/events")
    assert len(seen) == airflow_client.GET_ATTEMPTS


def test_client_errors_are_not_retried() -> None:
    seen: list[str] = []
    client = _client([404, 400], seen)
    assert client._get("/dags/unknown/dagRuns") is None  # 404: "no such thing", at once
    with pytest.raises(httpx.HTTPStatusError, match="400"):
        client._get("/dags/x/dagRuns")
    assert len(seen) == 2
