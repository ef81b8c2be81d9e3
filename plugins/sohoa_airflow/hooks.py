"""Turn Airflow Connections into sohoa settings, lazily, and nothing else.

In production the operators keep the database and S3 credentials in Airflow Connections:

- ``sohoa_postgres`` (type postgres): host, port, schema (the database), login, password;
- ``sohoa_s3`` (type aws or generic): host as ``http(s)://host:port``, login (access key), password
  (secret key).

Without them (the embedded default) the tasks read the same ``SOHOA_*`` environment variables as the
command line. Connections can be given as ``AIRFLOW_CONN_SOHOA_POSTGRES=postgresql://...`` too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sohoa.config import Settings

POSTGRES_CONN_ID = "sohoa_postgres"
S3_CONN_ID = "sohoa_s3"


def _connection(conn_id: str) -> Any | None:
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return Connection.get(conn_id)
    except AirflowNotFoundException:
        return None


def sohoa_settings() -> Settings:
    """sohoa's settings for a task: environment defaults, overridden by the sohoa Connections if set."""
    from pydantic import SecretStr

    from sohoa.config import Settings

    settings = Settings()
    overrides: dict[str, Any] = {}
    pg = _connection(POSTGRES_CONN_ID)
    if pg is not None:
        user = pg.login or "postgres"
        auth = f"{user}:{pg.password}@" if pg.password else f"{user}@"
        overrides["database_url"] = SecretStr(f"postgresql://{auth}{pg.host}:{pg.port or 5432}/{pg.schema}")
    s3 = _connection(S3_CONN_ID)
    if s3 is not None:
        host = s3.host or ""
        if "://" not in host:
            host = f"http://{host}:{s3.port or 9000}"
        overrides["s3_endpoint"] = host
        if s3.login:
            overrides["s3_access_key"] = s3.login
        if s3.password:
            overrides["s3_secret_key"] = SecretStr(s3.password)
    return settings.model_copy(update=overrides) if overrides else settings
