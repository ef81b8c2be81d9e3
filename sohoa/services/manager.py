"""``sohoa services up|down|status``: the local services of the embedded default, as one unit.

What runs depends on the configuration: PostgreSQL only when ``SOHOA_DATABASE_URL`` is unset, the S3
server only when ``SOHOA_S3_ENDPOINT`` is unset, Airflow only when ``SOHOA_AIRFLOW_URL`` is unset. ``up``
is idempotent and returns when every service answers; ``down`` stops exactly what ``up`` started.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import psycopg2

from sohoa.config import Settings
from sohoa.services import airflow, api, portal, postgres, processes, s3, workers

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServiceState:
    name: str
    embedded: bool
    running: bool
    endpoint: str


def up(
    settings: Settings,
    *,
    with_airflow: bool = True,
    with_portal: bool = False,
    report: Callable[[str], None] = log.info,
) -> None:
    """Start what the configuration asks for, then create the buckets and apply migrations.

    The web services (the portal and the read API) start only when asked (``sohoa services up`` asks): their
    ports come from ``SOHOA_PORTAL_PORT`` and ``SOHOA_API_PORT``, not from ``settings``, so callers that run
    services on ports of their own (tests) leave them out.
    """
    from sohoa.db.migrate import migrate
    from sohoa.storage.s3 import ensure_buckets, make_client

    settings.home.mkdir(parents=True, exist_ok=True)
    if settings.is_database_embedded:
        report("PostgreSQL (embedded) ...")
        postgres.start(settings)
    else:
        _ensure_external_databases(settings)
    if settings.is_s3_embedded:
        report("S3 server (nanio) ...")
        s3.start(settings)
    report("database schema ...")
    migrate(settings.dsn())
    ensure_buckets(make_client(settings), settings)
    if with_airflow and settings.is_airflow_embedded:
        extra = ", Celery workers ocr and default" if settings.is_celery else ""
        report(f"Airflow (api-server, scheduler, dag-processor, triggerer{extra}) ...")
        airflow.start(settings)
    if with_portal:
        report("portal ...")
        portal.start(settings)
        report("read API ...")
        api.start(settings)


def _ensure_external_databases(settings: Settings) -> None:
    """With SOHOA_DATABASE_URL, create sohoa's and Airflow's databases on that server when allowed."""
    dbname = urlsplit(settings.dsn()).path.lstrip("/") or "postgres"
    try:
        postgres.ensure_databases(settings.dsn("postgres"), (dbname, settings.airflow_database))
    except psycopg2.Error as exc:
        log.warning("could not create databases on the configured server (%s); assuming they exist", type(exc).__name__)


def down(settings: Settings, *, report: Callable[[str], None] = log.info) -> list[str]:
    stopped: list[str] = []
    if api.stop(settings):
        stopped.append("api")
    if portal.stop(settings):
        stopped.append("portal")
    if airflow.stop(settings):
        stopped.append("airflow")
    if s3.stop(settings):
        stopped.append("s3")
    if postgres.stop(settings):
        stopped.append("postgresql")
    for name in stopped:
        report(f"stopped {name}")
    return stopped


def states(settings: Settings) -> list[ServiceState]:
    return [
        ServiceState("postgresql", settings.is_database_embedded, _db_answers(settings), _redact(settings.dsn())),
        ServiceState(
            "s3", settings.is_s3_embedded, processes.port_open(*_host_port(settings.s3_host())), settings.s3_url()
        ),
        ServiceState("airflow", settings.is_airflow_embedded, _airflow_answers(settings), settings.airflow_base_url()),
        *(
            ServiceState(
                spec.record_name,
                settings.is_airflow_embedded,
                processes.is_running(settings.home, spec.record_name),
                spec.node(),
            )
            for spec in workers.worker_specs(settings)
        ),
        ServiceState("portal", True, portal.running(), portal.url()),
        ServiceState("api", True, api.running(), api.url()),
    ]


def status_json(settings: Settings) -> dict[str, Any]:
    """The contract of ``status --json``: endpoints and, for the local defaults, credentials."""
    return {
        "database_url": settings.dsn(),
        "s3_endpoint": settings.s3_url(),
        "s3_access_key": settings.s3_access_key,
        "s3_secret_key": settings.s3_secret_key.get_secret_value(),
        "airflow_url": settings.airflow_base_url(),
        "airflow_username": settings.airflow_username,
        "airflow_password": airflow.admin_password(settings),
        "portal_url": portal.url(),
        "api_url": api.url(),
        "buckets": {
            "landing": settings.bucket_landing,
            "raw": settings.bucket_raw,
            "derived": settings.bucket_derived,
            "quarantine": settings.bucket_quarantine,
            "published": settings.bucket_published,
        },
        "services": {s.name: {"embedded": s.embedded, "running": s.running} for s in states(settings)},
    }


def _db_answers(settings: Settings) -> bool:
    try:
        psycopg2.connect(settings.dsn(), connect_timeout=2).close()
        return True
    except psycopg2.Error:
        return False


def _airflow_answers(settings: Settings) -> bool:
    try:
        return airflow.api_ready(settings)
    except Exception:  # noqa: BLE001 - anything but an answer means "not running"
        return False


def _host_port(hostport: str) -> tuple[str, int]:
    host, _, port = hostport.rpartition(":")
    return host or "127.0.0.1", int(port or 80)


def _redact(url: str) -> str:
    """The URL without its password, for display."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url
