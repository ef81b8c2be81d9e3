"""The records officers' portal as a local service (``sohoa portal`` in a child process) for
``sohoa services up``; it listens on ``SOHOA_PORTAL_HOST``:``SOHOA_PORTAL_PORT`` (127.0.0.1:18090)."""

from __future__ import annotations

import sys

from sohoa.config import Settings
from sohoa.portal.settings import PortalSettings
from sohoa.services import processes
from sohoa.services.processes import ServiceError

NAME = "portal"


def url(portal: PortalSettings | None = None) -> str:
    portal = portal or PortalSettings()
    host = "127.0.0.1" if portal.host in ("0.0.0.0", "") else portal.host
    return f"http://{host}:{portal.port}"


def running(portal: PortalSettings | None = None) -> bool:
    portal = portal or PortalSettings()
    return processes.port_open("127.0.0.1" if portal.host in ("0.0.0.0", "") else portal.host, portal.port)


def start(settings: Settings) -> None:
    if processes.is_running(settings.home, NAME):
        return
    portal = PortalSettings()
    if running(portal):
        raise ServiceError(f"port {portal.port} is taken by another program; set SOHOA_PORTAL_PORT")
    argv = [sys.executable, "-m", "sohoa.cli.main", "portal", "--host", portal.host, "--port", str(portal.port)]
    record = processes.spawn(settings.home, NAME, argv, env=processes.child_env({"SOHOA_HOME": str(settings.home)}))
    processes.wait_until(lambda: running(portal), what="the portal", timeout_s=60, record=record)


def stop(settings: Settings) -> bool:
    return processes.stop(settings.home, NAME, grace_s=10)
