"""The embedded S3 server: ``nanio`` (file-backed, checks SigV4 signatures) on 127.0.0.1."""

from __future__ import annotations

import sys

from sohoa.config import Settings
from sohoa.services import processes
from sohoa.services.processes import ServiceError

NAME = "s3"


def data_dir(settings: Settings) -> str:
    return str(settings.home / "s3")


def start(settings: Settings) -> None:
    if processes.is_running(settings.home, NAME):
        return
    port = settings.embedded_s3_port
    if processes.port_open("127.0.0.1", port):
        raise ServiceError(f"port {port} is taken by another program; set SOHOA_EMBEDDED_S3_PORT")
    (settings.home / "s3").mkdir(parents=True, exist_ok=True)
    env = processes.child_env(
        {
            "NANIO_ACCESS_KEY": settings.s3_access_key,
            "NANIO_SECRET_KEY": settings.s3_secret_key.get_secret_value(),
        }
    )
    argv = [
        sys.executable,
        "-m",
        "nanio",
        "serve",
        "--data-dir",
        data_dir(settings),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--region",
        settings.s3_region,
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    record = processes.spawn(settings.home, NAME, argv, env=env)
    processes.wait_until(
        lambda: processes.port_open("127.0.0.1", port), what="the S3 server (nanio)", timeout_s=30, record=record
    )


def stop(settings: Settings) -> bool:
    return processes.stop(settings.home, NAME, grace_s=10)
