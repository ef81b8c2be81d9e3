"""The embedded S3 server: ``nanio`` (file-backed, checks SigV4 signatures) on 127.0.0.1."""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path

from nanio.storage.paths import META_DIR_NAME

from sohoa.config import Settings
from sohoa.services import processes
from sohoa.services.processes import ProcessRecord, ServiceError

NAME = "s3"

log = logging.getLogger(__name__)

# nanio writes an object to ``.tmp.<uuid4 hex>`` beside its final path, then renames it (nanio/storage/filesystem.py)
_STAGING = re.compile(r"\.tmp\.[0-9a-f]{32}")


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
    remove_staging_leftovers(Path(data_dir))
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


def remove_staging_leftovers(data_dir: Path) -> int:
    """Delete the half-written files a killed nanio left in ``data_dir``; return how many. Call it only while no
    nanio serves ``data_dir``.

    nanio stages every PUT in a ``.tmp.<uuid4 hex>`` file beside the object's path and renames it when the body
    is complete; a nanio killed mid-PUT leaves that file, and its listings then show it as an object (found by the
    S3-server-killed fault test: an "orphan" in the raw bucket that no rerun would ever adopt). MinIO keeps such
    files out of the buckets and clears them when it starts; this does the same for nanio. A staging file never
    has nanio's metadata sidecar (written after the rename), so a real object that happens to be named like one
    (it would have its sidecar) is left alone.
    """
    removed = 0
    if not data_dir.is_dir():
        return removed
    for bucket in data_dir.iterdir():
        if not bucket.is_dir() or bucket.name.startswith("."):
            continue
        for path in bucket.rglob(".tmp.*"):
            if not _STAGING.fullmatch(path.name) or not path.is_file() or path.is_symlink():
                continue
            key = path.relative_to(bucket).as_posix()
            if key.startswith(META_DIR_NAME + "/") or (bucket / META_DIR_NAME / f"{key}.json").exists():
                continue
            path.unlink()
            removed += 1
    if removed:
        log.warning("removed %d half-written file(s) a stopped S3 server (nanio) left in %s", removed, data_dir)
    return removed


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
