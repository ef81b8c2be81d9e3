"""Shared fixtures: a real PostgreSQL, a real S3 server (nanio over HTTP) and sohoa settings for them.

PostgreSQL: ``SOHOA_TEST_DATABASE_URL`` (a server where the tests may create databases, e.g. CI's
service) or, when unset, the embedded server started under a temporary home. Each test session gets
its own fresh database, dropped at the end.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg2
import pytest
from pydantic import SecretStr

from sohoa.config import Settings
from sohoa.services.processes import free_port

# Airflow reads its configuration at import: keep the tests away from ~/airflow and the examples.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="sohoa-test-airflow-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "False")


@pytest.fixture(scope="session")
def port_factory() -> Callable[[], int]:
    """Hands out free TCP ports on 127.0.0.1."""
    return free_port


def _replace_db(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def services_home() -> Iterator[Path]:
    """State of the test session's services; outside pytest's basetemp, whose cleanup by another
    concurrent pytest run would pull the data folder from under a running PostgreSQL."""
    home = Path(tempfile.mkdtemp(prefix="sohoa-test-home-"))
    yield home
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server(services_home: Path) -> Iterator[str]:
    """An admin URL of a running PostgreSQL server (ends with /postgres)."""
    url = os.environ.get("SOHOA_TEST_DATABASE_URL")
    if url:
        yield _replace_db(url, "postgres")
        return
    from sohoa.services import postgres

    settings = Settings(home=services_home, embedded_pg_port=free_port())
    postgres.start(settings)
    try:
        yield settings.dsn("postgres")
    finally:
        postgres.stop(settings)


@pytest.fixture(scope="session")
def database_url(pg_server: str) -> Iterator[str]:
    """A fresh, migrated database for this test session."""
    from sohoa.db.migrate import migrate

    name = f"sohoa_test_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(pg_server)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    url = _replace_db(pg_server, name)
    migrate(url)
    try:
        yield url
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session")
def s3_server(services_home: Path) -> Iterator[str]:
    """A nanio server over real HTTP on a free port; yields its endpoint URL."""
    from sohoa.services import processes
    from sohoa.services.s3 import spawn_nanio

    port = free_port()
    home = services_home / "s3-test"
    home.mkdir()
    spawn_nanio(home, port=port, data_dir=home / "data", access_key="test-access", secret_key="test-secret-key-123")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        processes.stop(home, "s3", grace_s=5)


@pytest.fixture
def settings(database_url: str, s3_server: str, tmp_path: Path) -> Iterator[Settings]:
    """Settings for one test: the session's database, emptied, and buckets of its own on the S3 server."""
    from sohoa.storage.s3 import ensure_buckets, make_client

    tag = uuid.uuid4().hex[:8]
    s = Settings(
        home=tmp_path / "home",
        database_url=SecretStr(database_url),
        s3_endpoint=s3_server,
        s3_access_key="test-access",
        s3_secret_key=SecretStr("test-secret-key-123"),
        bucket_landing=f"landing-{tag}",
        bucket_raw=f"raw-{tag}",
        bucket_derived=f"derived-{tag}",
        bucket_quarantine=f"quarantine-{tag}",
        bucket_published=f"published-{tag}",
        pseudonym_key=SecretStr("test-pseudonym-key"),
    )
    _truncate(database_url)
    ensure_buckets(make_client(s), s)
    return s


def _truncate(url: str) -> None:
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                "SELECT string_agg(format('%I.%I', schemaname, tablename), ', ') FROM pg_tables "
                # kpi.ngay_nghi is seed data (the holiday calendar): kept.
                "WHERE schemaname IN ('sohoa', 'portal') OR (schemaname = 'kpi' AND tablename <> 'ngay_nghi')"
            )
            row = cur.fetchone()
            if row and row[0]:
                cur.execute(f"TRUNCATE {row[0]} RESTART IDENTITY CASCADE")
    finally:
        conn.close()
