"""The embedded S3 server: ``nanio`` (file-backed, checks SigV4 signatures) on 127.0.0.1."""

from __future__ import annotations

import sys
from pathlib import Path

from sohoa.config import Settings
from sohoa.services import processes
from sohoa.services.processes import ProcessRecord, ServiceError

NAME = "s3"


def data_dir(settings: Settings) -> str:
    return str(settings.home / "s3")


def spawn_nanio(
    home: Path,
    *,
    port: int,
    data_dir: Path | str,
    access_key: str,
    secret_key: str,
    region: str | None = None,
    timeout_s: float = 30,
) -> ProcessRecord:
    """Start nanio on 127.0.0.1:``port`` over ``data_dir`` and wait until it answers.

    The one place that knows nanio's command line: the embedded default, the tests' S3 server, the fault tests
    (which kill it and start it again on the same data) and the benchmarks all start it here. The process is
    recorded under ``home`` as ``s3``, so ``processes.stop(home, "s3")`` stops it. Without ``region`` nanio
    uses its own default.
    """
    env = processes.child_env({"NANIO_ACCESS_KEY": access_key, "NANIO_SECRET_KEY": secret_key})
    argv = [sys.executable, "-m", "nanio", "serve", "--data-dir", str(data_dir), "--host", "127.0.0.1"]
    argv += ["--port", str(port)]
    if region is not None:
        argv += ["--region", region]
    argv += ["--no-access-log", "--log-level", "warning"]
    record = processes.spawn(home, NAME, argv, env=env)
    processes.wait_until(
        lambda: processes.port_open("127.0.0.1", port), what="the S3 server (nanio)", timeout_s=timeout_s, record=record
    )
    return record


def start(settings: Settings) -> None:
    if processes.is_running(settings.home, NAME):
        return
    port = settings.embedded_s3_port
    if processes.port_open("127.0.0.1", port):
        raise ServiceError(f"port {port} is taken by another program; set SOHOA_EMBEDDED_S3_PORT")
    (settings.home / "s3").mkdir(parents=True, exist_ok=True)
    spawn_nanio(
        settings.home,
        port=port,
        data_dir=data_dir(settings),
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key.get_secret_value(),
        region=settings.s3_region,
    )


def stop(settings: Settings) -> bool:
    return processes.stop(settings.home, NAME, grace_s=10)
