"""The records officers' web portal: sign-in, uploads, dossiers, reports (FastAPI + Jinja2, Vietnamese first).

``create_app(settings)`` builds the ASGI app; ``sohoa portal`` serves it with uvicorn and the Airflow plugin in
``plugins/sohoa_portal_plugin.py`` mounts the same app in Airflow's API server. The core of the portal (users,
sessions, uploads, queries) takes its connection and S3 client as arguments and never imports Airflow.
"""

from __future__ import annotations

from sohoa.portal.app import create_app

__all__ = ["create_app"]
