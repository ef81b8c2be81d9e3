"""The read API as a local service: started as `sohoa services up` starts it, reported, stopped by `down`."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from sohoa.config import Settings
from sohoa.services import api, manager, processes

pytestmark = pytest.mark.integration


def test_the_api_service_starts_answers_is_reported_and_stops(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, port_factory: Callable[[], int]
) -> None:
    port = port_factory()
    monkeypatch.setenv("SOHOA_API_PORT", str(port))
    monkeypatch.setenv("SOHOA_DATABASE_URL", settings.dsn())
    monkeypatch.setenv("SOHOA_S3_ENDPOINT", settings.s3_url())
    monkeypatch.setenv("SOHOA_S3_ACCESS_KEY", settings.s3_access_key)
    monkeypatch.setenv("SOHOA_S3_SECRET_KEY", settings.s3_secret_key.get_secret_value())
    settings.home.mkdir(parents=True, exist_ok=True)
    assert manager.status_json(settings)["api_url"] == f"http://127.0.0.1:{port}"

    api.start(settings)
    try:
        assert httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/v1/ho-so").status_code == 401  # no token, no data
        assert {"name": "api", "embedded": True, "running": True, "endpoint": f"http://127.0.0.1:{port}"} in [
            vars(s) for s in manager.states(settings)
        ]
        api.start(settings)  # idempotent
    finally:
        assert api.stop(settings)
    assert not processes.port_open("127.0.0.1", port)
