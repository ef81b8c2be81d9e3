"""Mount the records officers' portal in Airflow 3's API server, under ``/sohoa/``, with a link in Airflow's
navigation.

The portal keeps its own sign-in (officers have no Airflow account, and Airflow's auth does not protect
plugin apps); sessions, CSRF and roles work as in the stand-alone ``sohoa portal``. Building the app opens
no connection: the database pool opens on the first request, so a database that is down does not stop
the API server from starting. Settings come from the sohoa Connections when Airflow has them.
"""

from __future__ import annotations

import logging
from typing import Any

from airflow.plugins_manager import AirflowPlugin

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


class SohoaPortalPlugin(AirflowPlugin):
    name = "sohoa_portal"
    fastapi_apps = [{"app": portal_app(), "url_prefix": URL_PREFIX, "name": "sohoa portal"}]
    external_views = [
        {"name": "Cổng số hóa hồ sơ (sohoa)", "href": "sohoa/", "destination": "nav", "url_route": "sohoa_portal"}
    ]
