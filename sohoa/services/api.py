"""The read API for downstream systems as a local service (``sohoa api`` in a child process) for
``sohoa services up``; it listens on ``SOHOA_API_HOST``:``SOHOA_API_PORT`` (127.0.0.1:18091)."""

from __future__ import annotations

import sys

import httpx

from sohoa.config import Settings
from sohoa.publish.options import ApiOptions
from sohoa.services import processes
from sohoa.services.processes import ServiceError

NAME = "api"


def url(options: ApiOptions | None = None) -> str:
    options = options or ApiOptions()
    host = "127.0.0.1" if options.host in ("0.0.0.0", "") else options.host
    return f"http://{host}:{options.port}"


def running(options: ApiOptions | None = None) -> bool:
    """True when something answers ``GET /health`` with 200 at the API's address."""
    try:
        return httpx.get(url(options) + "/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def start(settings: Settings) -> None:
    if processes.is_running(settings.home, NAME):
        return
    options = ApiOptions()
    host = "127.0.0.1" if options.host in ("0.0.0.0", "") else options.host
    if processes.port_open(host, options.port):
        raise ServiceError(f"port {options.port} is taken by another program; set SOHOA_API_PORT")
    argv = [sys.executable, "-m", "sohoa.cli.main", "api"]
    record = processes.spawn(settings.home, NAME, argv, env=processes.child_env({"SOHOA_HOME": str(settings.home)}))
    processes.wait_until(lambda: running(options), what="the read API", timeout_s=60, record=record)


def stop(settings: Settings) -> bool:
    return processes.stop(settings.home, NAME, grace_s=10)
