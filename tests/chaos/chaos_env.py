"""The services the chaos suite owns: an embedded PostgreSQL, nanio on a small filesystem of its own, and Airflow.

Everything runs under a temporary home on free ports, so a developer's services, CI's PostgreSQL service and the
other test sessions are never touched. nanio's data directory is a tmpfs mounted for the suite (so that the disk can
really fill up); where mounting is not permitted it is a plain folder and the full-disk fault is skipped, saying so.
``close`` stops every process the suite started (and any OCR child a killed task left behind) and unmounts.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import psycopg2
from chaos_batch import Batch

from sohoa.config import Settings
from sohoa.services import manager, processes
from sohoa.services.scratch import scratch_settings
from sohoa.storage import s3

STORE_MB = 160  # the S3 store's filesystem: room for a few batches, small enough to fill in a second


def mount_tmpfs(path: Path, size_mb: int) -> str | None:
    """Mount a tmpfs of ``size_mb`` on ``path``; None when done, else why it could not be mounted."""
    path.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0755", "chaos-s3", str(path)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"mount failed: {exc}"
    return None if done.returncode == 0 else f"mount failed: {done.stderr.strip()[:200]}"


def unmount(path: Path) -> None:
    for _ in range(10):
        done = subprocess.run(["umount", str(path)], capture_output=True, text=True, timeout=30, check=False)
        if done.returncode == 0 or not os.path.ismount(path):
            return
        import time

        time.sleep(1)
    subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=30, check=False)


@dataclass
class ChaosEnv:
    """The suite's services and the sohoa settings that point at them."""

    settings: Settings
    store: Path  # nanio's data directory
    mounted: bool
    mount_error: str | None
    orphans: list[psutil.Process] = field(default_factory=list)  # children a killed task left running

    @classmethod
    def start(cls) -> ChaosEnv:
        home = Path(tempfile.mkdtemp(prefix="sohoa-chaos-"))
        store = home / "s3"
        error = mount_tmpfs(store, STORE_MB)
        settings = scratch_settings(home, "chaos")
        env = cls(settings, store, error is None, error)
        try:
            manager.up(settings)
        except BaseException:
            env.close()
            raise
        return env

    def close(self) -> None:
        """Stop every service and leftover child, unmount, delete the home."""
        try:
            manager.down(self.settings)
        finally:
            for proc in self.orphans:
                with contextlib.suppress(psutil.Error):
                    proc.kill()
            if self.mounted:
                unmount(self.store)
            shutil.rmtree(self.settings.home, ignore_errors=True)

    def scheduler(self) -> psutil.Process | None:
        record = processes.read_record(self.settings.home, "airflow-scheduler")
        return record.process() if record else None

    def reset(self) -> None:
        """Empty the buckets and sohoa's tables (not Airflow's): each fault starts from the same state."""
        client = s3.make_client(self.settings)
        for bucket in (
            self.settings.bucket_landing,
            self.settings.bucket_raw,
            self.settings.bucket_derived,
            self.settings.bucket_quarantine,
            self.settings.bucket_published,
        ):
            for obj in s3.list_objects(client, bucket):
                client.remove_object(bucket, obj.key)
        conn = psycopg2.connect(self.settings.dsn())
        try:
            with conn, conn.cursor() as cur:
                cur.execute(
                    "SELECT string_agg(format('%I.%I', schemaname, tablename), ', ') FROM pg_tables "
                    "WHERE schemaname IN ('sohoa', 'portal') "
                    "OR (schemaname = 'kpi' AND tablename <> 'ngay_nghi')"
                )
                row = cur.fetchone()
                if row and row[0]:
                    cur.execute(f"TRUNCATE {row[0]} RESTART IDENTITY CASCADE")
        finally:
            conn.close()

    def land(self, batch: Batch) -> None:
        client = s3.make_client(self.settings)
        for key, data in batch.files.items():
            s3.put_bytes(client, self.settings.bucket_landing, key, data, "application/octet-stream")

    def count(self, sql: str) -> int:
        """A count from sohoa's database, or -1 while it does not answer."""
        try:
            conn = psycopg2.connect(self.settings.dsn(), connect_timeout=2)
        except psycopg2.OperationalError:
            return -1
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
                row = cur.fetchone()
                return int(row[0]) if row else 0
        except psycopg2.Error:
            return -1
        finally:
            conn.close()
