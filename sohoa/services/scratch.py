"""Settings for the embedded default on a throwaway home and free ports: for benchmarks and fault suites.

A benchmark or the chaos suite starts PostgreSQL, nanio and Airflow of its own (what ``make demo`` runs on a
fresh machine) without touching a developer's services, the machine's PostgreSQL or another session's ports:
every service is embedded under ``home`` on a port the OS says is free, with S3 keys made up for the run.
Start them with :func:`sohoa.services.manager.up` and stop them with ``manager.down``.

It lives in sohoa (not in tests/ or bench/) because both the benchmarks and the chaos suite use it, and neither
should import the other's folder for it.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from pydantic import SecretStr

from sohoa.config import Settings
from sohoa.services.processes import free_port


def scratch_settings(home: Path, label: str) -> Settings:
    """Every service embedded under ``home`` on free ports; ``label`` names the run in the S3 keys and the
    pseudonym key (``load``, ``chaos``...), which only need to differ from a real installation's."""
    return Settings(
        home=home,
        database_url=None,
        s3_endpoint=None,
        airflow_url=None,
        embedded_pg_port=free_port(),
        embedded_s3_port=free_port(),
        embedded_airflow_port=free_port(),
        s3_access_key=f"{label}-{uuid.uuid4().hex[:6]}",
        s3_secret_key=SecretStr(f"{label}-secret-{uuid.uuid4().hex}"),
        pseudonym_key=SecretStr(f"{label}-pseudonym-key"),
    )
