"""What the end-to-end modules share: a real Airflow of their own over the test session's services.

The fixture ``airflow_env`` is registered by tests/e2e/conftest.py; the modules import ``scan_png`` and the
``AirflowFactory`` type from here.

Each module gets its own Airflow metadata database, ports, state folder and buckets (and, when asked, a sohoa
database of its own), so modules never see each other's runs or rows, and a developer's running services are
never touched. ``scan_png`` draws the one-page application form the modules land as a scan.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from pydantic import SecretStr

from sohoa.config import Settings
from sohoa.services import airflow, manager


def _admin(pg_server: str, *statements: str) -> None:
    admin = psycopg2.connect(pg_server)
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            for statement in statements:
                cur.execute(statement)
    finally:
        admin.close()


AirflowFactory = Callable[..., contextlib.AbstractContextManager[Settings]]


@pytest.fixture(scope="module")
def airflow_env(
    database_url: str, s3_server: str, services_home: Path, pg_server: str, port_factory: Callable[[], int]
) -> AirflowFactory:
    """A factory of running Airflows: ``with airflow_env("publish", own_database=True, **overrides) as settings``.

    ``own_database`` gives the module a fresh, migrated sohoa database instead of the session's shared one
    (for assertions over whole tables); ``overrides`` are further Settings fields (the executor, say).
    Leaving the block stops Airflow and drops the databases it created.
    """

    @contextlib.contextmanager
    def start(name: str, *, own_database: bool = False, **overrides: Any) -> Iterator[Settings]:
        from sohoa.db.migrate import migrate

        tag = uuid.uuid4().hex[:8]
        url = database_url
        created: list[str] = []
        if own_database:
            database = f"sohoa_e2e_{name}_{tag}"
            _admin(pg_server, f'CREATE DATABASE "{database}"')
            created.append(database)
            url = pg_server.rpartition("/")[0] + "/" + database
            migrate(url)
        fields: dict[str, Any] = {
            "home": services_home / f"e2e-{name}-{tag}",
            "database_url": SecretStr(url),
            "airflow_database": f"airflow_e2e_{name}_{tag}",
            "embedded_airflow_port": port_factory(),
            "s3_endpoint": s3_server,
            "s3_access_key": "test-access",
            "s3_secret_key": SecretStr("test-secret-key-123"),
            "pseudonym_key": SecretStr("e2e-pseudonym-key"),
            **{
                f"bucket_{b}": f"{b}-e2e-{name}-{tag}" for b in ("landing", "raw", "derived", "quarantine", "published")
            },
        }
        settings = Settings(**{**fields, **overrides})
        created.append(settings.airflow_database)
        try:
            manager.up(settings)
            yield settings
        finally:
            airflow.stop(settings)
            _admin(pg_server, *(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)' for db in created))

    return start


def scan_png(path: Path, code: str) -> None:
    """A one-page application form at 200 dpi that prints the dossier code ``code``."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (1654, 700), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf", 40)
    draw.text((100, 150), "ĐƠN ĐỀ NGHỊ CẤP GIẤY PHÉP XÂY DỰNG", fill="black", font=font)
    draw.text((100, 300), f"Mã hồ sơ: {code}", fill="black", font=font)
    image.save(path, dpi=(200, 200))
