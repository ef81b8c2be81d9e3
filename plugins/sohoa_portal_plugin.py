"""Mount the records officers' portal in Airflow 3's API server, under ``/sohoa/``, with a link in Airflow's
navigation.

The portal keeps its own sign-in (officers have no Airflow account, and Airflow's auth does not protect
plugin apps); sessions, CSRF and roles work as in the stand-alone ``sohoa portal``. Settings come from the
sohoa Connections when Airflow has them.

The app is built on its first request, not when the plugin is imported. Airflow imports every plugin in
every process that asks for plugins, and that includes every task process (the Task SDK's runner integrates
the plugins' macros when it builds a task's context): built at import, the portal (FastAPI, its templates,
its settings, two Connection lookups through the API server) cost each task of the ingestion DAG about half
a second of CPU and two round trips, beside the OCR of the other pool slot (issue 4's benchmark,
2026-12-07). Building opens no connection either: the database pool opens on the first request, so a
database that is down does not stop the API server from starting.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from airflow.plugins_manager import AirflowPlugin

if TYPE_CHECKING:
    from starlette.types import Receive, Scope, Send

log = logging.getLogger(__name__)

URL_PREFIX = "/sohoa"


def portal_app() -> Any:
    from sohoa.config import get_settings
    from sohoa.portal import create_app

    try:
        from sohoa_airflow.hooks import sohoa_settings

        settings = sohoa_settings()
    except Exception as exc:  # noqa: BLE001 - no Connections (or no metadata DB yet): the environment decides
        log.info("sohoa portal: using environment settings (%s)", type(exc).__name__)
        settings = get_settings()
    return create_app(settings)


class LazyApp:
    """An ASGI app that builds the real one (``build()``) on its first request and hands every request to it.

    Starlette's ``Mount`` passes only HTTP and WebSocket scopes to a mounted app (no lifespan), so nothing is
    missed before the first request. The check and the build run without an ``await`` between them, so two
    first requests on one event loop build once.
    """

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build
        self._app: Any = None

    @property
    def app(self) -> Any:
        if self._app is None:
            self._app = self._build()
        return self._app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


class SohoaPortalPlugin(AirflowPlugin):
    name = "sohoa_portal"
    fastapi_apps = [{"app": LazyApp(portal_app), "url_prefix": URL_PREFIX, "name": "sohoa portal"}]
    external_views = [
        {"name": "Cổng số hóa hồ sơ (sohoa)", "href": "sohoa/", "destination": "nav", "url_route": "sohoa_portal"}
    ]
