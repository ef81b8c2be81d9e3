"""sohoa configuration, read from ``SOHOA_*`` environment variables.

Every setting has a safe local default so that ``make demo`` works on a fresh machine: the embedded
PostgreSQL and the nanio S3 server under ``.sohoa/``, both bound to 127.0.0.1 only. In production the
province sets ``SOHOA_DATABASE_URL``, ``SOHOA_S3_ENDPOINT`` and the keys (or Airflow Connections, see
``plugins/sohoa_airflow``).

Secrets (``s3_secret_key``, ``pseudonym_key``, passwords inside ``database_url``) are ``SecretStr`` so
that printing or logging a ``Settings`` object never shows them.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# QR codes and linear barcodes (sohoa.intake.dossier_codes says why these).
DEFAULT_BARCODE_FORMATS = "QRCode,MicroQRCode,AllLinear"


def _default_home() -> Path:
    """The state folder: ``SOHOA_HOME`` or ``.sohoa`` in the current directory."""
    return Path(os.environ.get("SOHOA_HOME", ".sohoa")).resolve()


class Settings(BaseSettings):
    """All of sohoa's knobs. Field ``x`` is read from the environment variable ``SOHOA_X``."""

    model_config = SettingsConfigDict(env_prefix="SOHOA_", extra="ignore")

    home: Path = Field(default_factory=_default_home, description="state folder of the embedded services")

    # The embedded services' ports (15432, 19000, 18080; the portal 18090, the read API 18091) lie below Linux's
    # ephemeral range (32768-60999): a port inside it can be held as the local end of an outgoing connection
    # (a busy host, a test suite's thousands of loopback connections), and the service then cannot bind it.

    # PostgreSQL. Unset: the embedded server started by `sohoa services up`.
    database_url: SecretStr | None = None
    embedded_pg_port: int = 15432

    # S3 object storage. Unset endpoint: the embedded nanio server.
    s3_endpoint: str | None = None
    s3_access_key: str = "sohoa"
    s3_secret_key: SecretStr = SecretStr("sohoa-local-secret")
    s3_secure: bool = False
    s3_region: str = "us-east-1"
    embedded_s3_port: int = 19000

    bucket_landing: str = "landing"
    bucket_raw: str = "raw"
    bucket_derived: str = "derived"
    bucket_quarantine: str = "quarantine"
    bucket_published: str = "published"

    # Airflow (the local default runs it; production points at its own).
    airflow_url: str | None = None
    embedded_airflow_port: int = 18080
    airflow_username: str = "admin"
    airflow_password: SecretStr | None = None
    airflow_database: str = "airflow"
    dags_folder: Path | None = None

    # A JSON Lines record batch of this many bytes or more (gzip: a fifth of it) is parsed and validated by two
    # worker processes beside the loader (docs/intake.md, "Records at volume"): worth it where the loader has
    # free cores. Unset (the default): one process always; on a 2-CPU machine already busy, workers measured
    # no faster. 16777216 (16 MB, ~10,000 lines) is a sensible value where cores are free; 0: always workers.
    records_workers_min_bytes: int | None = Field(default=None, ge=0)

    # Scale-out (docs/scale-out.md). "local": LocalExecutor, tasks run inside the scheduler's machine.
    # "celery": CeleryExecutor; `sohoa services up` also starts two Celery workers, one on the OCR queue
    # and one on Airflow's default queue, fed by the broker below; task results go to PostgreSQL.
    airflow_executor: Literal["local", "celery"] = "local"
    # The broker may carry a password: a SecretStr, never printed. The default is a local Redis, database 0.
    celery_broker_url: SecretStr = SecretStr("redis://127.0.0.1:6379/0")
    # Celery's result backend; unset: Airflow's metadata database (``db+postgresql``), so no second store.
    celery_result_backend: SecretStr | None = None
    # A prefix for every Redis key and channel of this deployment's broker, so that two deployments (or two
    # test runs) can share one Redis database without taking each other's tasks. Empty: no prefix.
    celery_key_prefix: str = ""
    # Worker processes of the OCR worker and of the default-queue worker. Unset: one OCR process per core
    # (each OCR task keeps one core busy), and two for the default queue (its tasks mostly wait on S3/SQL).
    celery_ocr_concurrency: int | None = Field(default=None, ge=1)
    celery_default_concurrency: int = Field(default=2, ge=1)
    # The Celery queue of the OCR tasks of sohoa_ingest (read by the DAG file, so that OCR can get workers
    # of its own); every other task goes to Airflow's default queue ("default"). Ignored by LocalExecutor.
    ocr_queue: str = "ocr"

    # Keyed pseudonyms of identity numbers (HMAC-SHA256). The local default key is generated once and kept
    # under SOHOA_HOME; production must set SOHOA_PSEUDONYM_KEY.
    pseudonym_key: SecretStr | None = None

    # Document limits (document.too_large) and OCR.
    max_document_bytes: int = 500 * 1024 * 1024
    max_document_pages: int = 2000
    max_page_megapixels: float = 150.0
    max_page_content_mb: float = 100.0  # a PDF page's drawing instructions, inflated (flate bombs)
    ocr_page_timeout_s: float = 120.0
    # Barcode formats read on page 1 of every scan at intake (zxing-cpp's names, comma-separated; "All" for every
    # format): QR codes and linear barcodes, what one-stop receipts print the dossier code in. Every format
    # added is searched on every page that has no code, most of them: Data Matrix, PDF417 and Aztec together
    # make the pass about 4 times as costly (docs/intake.md, "Inbox scans").
    barcode_formats: str = DEFAULT_BARCODE_FORMATS
    # Budget of one hostile or odd file (docs/intake.md, "Hostile input"): triage plus OCR of one file of the
    # corpus must stay within these on a 2-core machine; bench/hostile_bench.py measures every kind against
    # them and the tests kill a run that takes twice as long (a hang). What keeps a file inside them is the
    # limits above: a page or image over max_page_megapixels is refused before a pixel is decoded, and a
    # 150 MP RGB page is 450 MB of pixels.
    hostile_seconds_limit: float = 120.0
    hostile_memory_limit_mb: int = 1024
    # Pages one OCR task reads in parallel. The Airflow pool sohoa_ocr runs one task per core, so each task
    # uses one core by default; raise it (and lower the pool) to spread one long document over several cores.
    ocr_workers_per_task: int = 1
    ocr_pdfa: bool = False  # searchable PDFs as validated PDF/A-2b (slower; for archives that require it)

    # Great Expectations gates: a critical expectation that fails over fewer rows than this (a tiny batch, a
    # handful of new pages) is recorded as an error finding but does not fail the task: a share over four
    # lines says nothing about a feed.
    gx_gate_min_rows: int = 20

    @field_validator("barcode_formats")
    @classmethod
    def _known_barcode_formats(cls, value: str) -> str:
        import zxingcpp

        try:
            zxingcpp.barcode_formats_from_str(value)
        except ValueError as exc:
            raise ValueError(f"SOHOA_BARCODE_FORMATS: {exc} (zxing-cpp's format names, comma-separated)") from exc
        return value

    @property
    def is_database_embedded(self) -> bool:
        return self.database_url is None

    @property
    def is_s3_embedded(self) -> bool:
        return self.s3_endpoint is None

    @property
    def is_airflow_embedded(self) -> bool:
        return self.airflow_url is None

    @property
    def is_celery(self) -> bool:
        return self.airflow_executor == "celery"

    def ocr_worker_concurrency(self) -> int:
        """Processes of the OCR worker: the setting, or one per core of this machine."""
        return self.celery_ocr_concurrency or max(1, os.cpu_count() or 1)

    def ocr_pool_slots(self) -> int:
        """Slots of Airflow's ``sohoa_ocr`` pool, i.e. how many OCR tasks run at once: one per process of the OCR
        worker with Celery, else one per core of this machine (each task reads its pages one at a time)."""
        return self.ocr_worker_concurrency() if self.is_celery else max(1, os.cpu_count() or 2)

    def dsn(self, database: str | None = None) -> str:
        """The libpq connection URL of sohoa's database (or of ``database`` on the same server)."""
        if self.database_url is not None:
            url = self.database_url.get_secret_value()
        else:
            url = f"postgresql://postgres@127.0.0.1:{self.embedded_pg_port}/sohoa"
        if database is None:
            return url
        parts = urlsplit(url)
        return urlunsplit(parts._replace(path="/" + database))

    def s3_host(self) -> str:
        """``host:port`` of the S3 endpoint, as the minio SDK wants it."""
        if self.s3_endpoint is None:
            return f"127.0.0.1:{self.embedded_s3_port}"
        endpoint = self.s3_endpoint
        if "://" in endpoint:
            parts = urlsplit(endpoint)
            return parts.netloc
        return endpoint

    def s3_url(self) -> str:
        scheme = "https" if self.s3_secure or (self.s3_endpoint or "").startswith("https://") else "http"
        return f"{scheme}://{self.s3_host()}"

    def airflow_base_url(self) -> str:
        return (self.airflow_url or f"http://127.0.0.1:{self.embedded_airflow_port}").rstrip("/")

    def secret_pseudonym_key(self) -> bytes:
        """The HMAC key for pseudonyms: configured, or the local one generated under ``home``."""
        if self.pseudonym_key is not None:
            return self.pseudonym_key.get_secret_value().encode()
        return _local_secret(self.home / "secrets" / "pseudonym.key")


def _local_secret(path: Path) -> bytes:
    """Read, or create once with owner-only permissions, a random local secret."""
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = os.urandom(32).hex().encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(value)
    return value


def local_secret(name: str, settings: Settings | None = None) -> str:
    """A random secret kept under ``home/secrets`` (Airflow's JWT secret, its admin password...)."""
    settings = settings or get_settings()
    return _local_secret(settings.home / "secrets" / name).decode()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once; tests build their own ``Settings``)."""
    return Settings()
