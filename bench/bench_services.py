"""The services a portal benchmark runs against: a fresh database on a PostgreSQL server and a nanio of its own.

``with bench_services() as settings`` creates the database (on SOHOA_TEST_DATABASE_URL's server, default the
machine's service), migrates it, starts nanio on a free port with the buckets made, and yields the Settings that
point at both; leaving the block stops nanio and drops the database. Airflow is not started: the settings point
``airflow_url`` at a closed port, so a "finish" in the portal defers to the scheduled run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg2
from pydantic import SecretStr

from sohoa.config import Settings
from sohoa.services.processes import free_port

S3_ACCESS_KEY = "bench"
S3_SECRET_KEY = "bench-secret-key-123"
PSEUDONYM_KEY = "bench"
NO_AIRFLOW = "http://127.0.0.1:9"

__all__ = ["bench_database", "bench_services", "free_port", "service_env"]


def _admin(url: str, statement: str) -> None:
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
    finally:
        conn.close()


@contextlib.contextmanager
def bench_database(admin_url: str, prefix: str = "sohoa_bench", *, keep: bool = False) -> Iterator[str]:
    """A new database on ``admin_url``'s server, migrated, as a URL; dropped on leaving unless ``keep``."""
    from sohoa.db.migrate import migrate

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    _admin(admin_url, f'CREATE DATABASE "{name}"')
    try:
        url = admin_url.rsplit("/", 1)[0] + "/" + name
        migrate(url)
        yield url
    finally:
        if not keep:
            _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def bench_services() -> Iterator[Settings]:
    from sohoa.services import processes
    from sohoa.services.s3 import spawn_nanio
    from sohoa.storage import s3

    admin_url = os.environ.get("SOHOA_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    home = Path(tempfile.mkdtemp(prefix="sohoa-bench-"))
    s3_port = free_port()
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, home, ignore_errors=True)
        database_url = stack.enter_context(bench_database(admin_url))
        stack.callback(processes.stop, home, "s3", grace_s=5)
        spawn_nanio(home, port=s3_port, data_dir=home / "s3", access_key=S3_ACCESS_KEY, secret_key=S3_SECRET_KEY)
        settings = Settings(
            home=home,
            database_url=SecretStr(database_url),
            s3_endpoint=f"http://127.0.0.1:{s3_port}",
            s3_access_key=S3_ACCESS_KEY,
            s3_secret_key=SecretStr(S3_SECRET_KEY),
            pseudonym_key=SecretStr(PSEUDONYM_KEY),
            airflow_url=NO_AIRFLOW,
        )
        s3.ensure_buckets(s3.make_client(settings), settings)
        yield settings


def service_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of a sohoa process (the portal) that uses the same services as ``settings``."""
    from sohoa.services import processes

    return processes.child_env(
        {
            "SOHOA_HOME": str(settings.home),
            "SOHOA_DATABASE_URL": settings.dsn(),
            "SOHOA_S3_ENDPOINT": settings.s3_url(),
            "SOHOA_S3_ACCESS_KEY": S3_ACCESS_KEY,
            "SOHOA_S3_SECRET_KEY": S3_SECRET_KEY,
            "SOHOA_PSEUDONYM_KEY": PSEUDONYM_KEY,
            "SOHOA_AIRFLOW_URL": NO_AIRFLOW,
            **extra,
        }
    )
