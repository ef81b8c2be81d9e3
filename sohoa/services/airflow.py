"""The embedded Airflow 3.3: api-server, scheduler, dag-processor and triggerer, with LocalExecutor or Celery.

``SOHOA_AIRFLOW_EXECUTOR=celery`` switches to CeleryExecutor: the broker is ``SOHOA_CELERY_BROKER_URL``
(Redis or RabbitMQ), task results go to PostgreSQL (the metadata database unless
``SOHOA_CELERY_RESULT_BACKEND`` says otherwise), and two Celery workers start with the rest
(:mod:`sohoa.services.workers`): one for the OCR queue, one for the default queue.

Its metadata lives in the database ``airflow`` of the same PostgreSQL server as sohoa's. Settings are
given through ``AIRFLOW__*`` environment variables (no airflow.cfg to keep in step), sized for the
machine: a 2-core box gets parallelism 4, one API worker, two parsing processes.

The API uses Airflow's simple auth manager with one admin user; its password is generated once and
kept under ``<home>/secrets`` (readable by ``sohoa services status --json``).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
from pydantic import SecretStr

from sohoa.config import Settings, local_secret
from sohoa.services import processes, workers
from sohoa.services.processes import ServiceError

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def airflow_home(settings: Settings) -> Path:
    return settings.home / "airflow"


def admin_password(settings: Settings) -> str:
    if settings.airflow_password is not None:
        return settings.airflow_password.get_secret_value()
    return local_secret("airflow-admin-password", settings)


def metadata_dsn(settings: Settings) -> str:
    dsn = settings.dsn(settings.airflow_database)
    return "postgresql+psycopg2://" + dsn.split("://", 1)[1]


def environment(settings: Settings) -> dict[str, str]:
    """The environment every Airflow component (and so every task) runs with."""
    home = airflow_home(settings)
    home.mkdir(parents=True, exist_ok=True)
    cores = os.cpu_count() or 2
    base_url = settings.airflow_base_url()
    passwords = home / "passwords.json"
    passwords.write_text(json.dumps({settings.airflow_username: admin_password(settings)}))
    passwords.chmod(0o600)
    fernet = base64.urlsafe_b64encode(bytes.fromhex(local_secret("airflow-fernet", settings))).decode()
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(settings.dags_folder or PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor" if settings.is_celery else "LocalExecutor",
        "AIRFLOW__OPERATORS__DEFAULT_QUEUE": workers.DEFAULT_QUEUE,
        "AIRFLOW__CORE__PARALLELISM": str(max(4, 2 * cores)),
        "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": str(max(4, 2 * cores)),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__FERNET_KEY": fernet,
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{settings.airflow_username}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base_url}/execution/",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_dsn(settings),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(settings.embedded_airflow_port),
        "AIRFLOW__API__BASE_URL": base_url,
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__SECRET_KEY": local_secret("airflow-api-secret", settings),
        "AIRFLOW__API_AUTH__JWT_SECRET": local_secret("airflow-jwt-secret", settings),
        **dag_processor_environment(),
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "2",
        "AIRFLOW__SCHEDULER__STANDALONE_DAG_PROCESSOR": "True",
        # A worker's call to the execution API times out after 5 s by default; on a busy 2-core machine the
        # single API worker can take 25 s to answer "start this task", and the retry of a call that did
        # succeed is refused (HTTP 400), failing a healthy task. Seen with CeleryExecutor under CI load.
        "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "60",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        # Tesseract is 5-6 times slower per page with OpenMP threads on 2 cores: parallelise by process.
        "OMP_THREAD_LIMIT": "1",
        "PYTHONPATH": os.pathsep.join(p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")) if p),
        # The tasks read sohoa's configuration from the same variables as the CLI.
        "SOHOA_HOME": str(settings.home),
    }
    env.update(celery_environment(settings) if settings.is_celery else local_executor_environment())
    for name, value in sohoa_environment(settings).items():
        env.setdefault(name, value)
    return env


# How long a DAG file the DAG processor has parsed is left alone when it has not changed. Airflow's default (30 s)
# re-parses the five DAG files every 30 s: 0.03 of the 2 cores of the benchmark machine, taken from OCR. An
# edited file is re-parsed within about a second whatever this says (file_parsing_sort_mode = modified_time: a
# file modified since its last parse goes back in the queue on the next loop of the processor), and a new file
# is found within REFRESH_INTERVAL_S; what waits for this interval is a DAG whose shape depends on something
# other than its file (a Variable, a file it reads, the time of day): sohoa's DAGs are wiring and have none.
MIN_FILE_PROCESS_INTERVAL_S = 600
REFRESH_INTERVAL_S = 15  # how often the DAGs folder is listed for new (and deleted) files


def dag_processor_environment() -> dict[str, str]:
    """The ``[dag_processor]`` settings of the embedded default: re-parse on change, not on a clock."""
    return {
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": str(REFRESH_INTERVAL_S),
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": str(MIN_FILE_PROCESS_INTERVAL_S),
        # Airflow's default, pinned: the quick pick-up of edits above depends on it.
        "AIRFLOW__DAG_PROCESSOR__FILE_PARSING_SORT_MODE": "modified_time",
    }


# What every task of the ingestion imports before its first line of work: the Task SDK's runner and the
# sohoa stages (with them numpy, Pillow, minio, psycopg2, pytesseract and, through pytesseract, pandas).
# Imported fresh in each task process they cost 1.5-3 s of CPU per task on the 2-core box, beside the OCR
# of the other slot; imported once in the LocalExecutor's fork server, every task inherits them (see
# local_executor_environment). A name that does not import is skipped by the fork server, not fatal.
# The last three are imported on first use by the OCR engine and the barcode pass (OpenCV, pikepdf, zxing-cpp):
# about 0.2 s of CPU in each storing or OCR task (2026-12-07; 20 such tasks per 500 pages).
TASK_PRELOAD = (
    "airflow.executors.local_executor",
    "airflow.sdk.execution_time.supervisor",
    "airflow.sdk.execution_time.task_runner",
    "sohoa.intake.pipeline",
    "sohoa.intake.catalogue_loader",
    "sohoa.intake.records_loader",
    "sohoa.intake.documents",
    "sohoa.intake.ocr_stage",
    "sohoa.extract.stage",
    "cv2",
    "pikepdf",
    "zxingcpp",
)


def local_executor_environment() -> dict[str, str]:
    """The LocalExecutor's workers start from a fork server that has imported :data:`TASK_PRELOAD`.

    With the default start method (fork) the workers are forked from the scheduler, which has imported
    Airflow but none of sohoa, and each task process (forked from a worker by the Task SDK's supervisor)
    imports the task runner and sohoa's stages again. Airflow 3.3's ``mp_start_method = forkserver`` with
    ``mp_forkserver_preload`` moves those imports into one process, once; the task processes share them
    copy-on-write. Only the scheduler's section is set: the triggerer and the dag processor keep fork.
    """
    return {
        "AIRFLOW__SCHEDULER__MP_START_METHOD": "forkserver",
        "AIRFLOW__SCHEDULER__MP_FORKSERVER_PRELOAD": ",".join(TASK_PRELOAD),
    }


# Longer than any task's execution_timeout (2 h in sohoa_ingest), so the broker never hands a running task
# to a second worker; a task whose worker died is failed by the scheduler's heartbeat check and retried
# long before this.
VISIBILITY_TIMEOUT_S = 6 * 3600


def celery_environment(settings: Settings) -> dict[str, str]:
    """The ``[celery]`` settings of the scheduler and the workers: broker, result backend in PostgreSQL."""
    result_backend = (
        settings.celery_result_backend.get_secret_value()
        if settings.celery_result_backend
        else "db+" + metadata_dsn(settings)
    )
    env = {
        "AIRFLOW__CELERY__BROKER_URL": settings.celery_broker_url.get_secret_value(),
        "AIRFLOW__CELERY__RESULT_BACKEND": result_backend,
        "AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER": "1",  # an OCR task is long: never hoard a second one
        "AIRFLOW__CELERY__TASK_ACKS_LATE": "True",  # a worker that dies mid-task hands the task back
        "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT_S),
    }
    for name, value in workers.transport_options(settings).items():
        env[f"AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__{name.upper()}"] = value
    return env


def sohoa_environment(settings: Settings) -> dict[str, str]:
    """SOHOA_* variables that give the tasks the same configuration as this process (every field)."""
    env: dict[str, str] = {}
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        env[f"SOHOA_{name.upper()}"] = str(value)
    return env


def _airflow_argv(*args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("airflow")), *args]


def migrate(settings: Settings) -> None:
    env = processes.child_env(environment(settings))
    done = subprocess.run(
        _airflow_argv("db", "migrate"), env=env, capture_output=True, text=True, timeout=600, check=False
    )
    if done.returncode != 0:
        raise ServiceError(f"airflow db migrate failed: {done.stderr.strip()[-800:]}")


def ensure_pools(settings: Settings, env: dict[str, str]) -> None:
    """The OCR pool bounds how many OCR tasks run at once: one per core (each runs pages in processes).

    With Celery, one per process of the OCR worker, so that queued OCR tasks wait in Airflow (visible,
    re-prioritisable) rather than in the broker.
    """
    slots = str(settings.ocr_pool_slots())
    done = subprocess.run(
        _airflow_argv("pools", "set", "sohoa_ocr", slots, "sohoa OCR tasks"),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise ServiceError(f"could not create the sohoa_ocr pool: {done.stderr.strip()[-300:]}")


def api_ready(settings: Settings) -> bool:
    response = httpx.get(f"{settings.airflow_base_url()}/api/v2/monitor/health", timeout=3)
    return response.status_code == 200


def healthy(settings: Settings) -> bool:
    """The API answers and reports a healthy metadata database, scheduler, triggerer and dag processor."""
    response = httpx.get(f"{settings.airflow_base_url()}/api/v2/monitor/health", timeout=3)
    if response.status_code != 200:
        return False
    body = response.json()
    wanted = ("metadatabase", "scheduler", "triggerer", "dag_processor")
    return all(body.get(part, {}).get("status") == "healthy" for part in wanted)


def start(settings: Settings) -> None:
    """Start what is not running (the components, then the Celery workers if configured) and wait for it."""
    if all(processes.is_running(settings.home, f"airflow-{c}") for c in COMPONENTS):
        processes.wait_until(lambda: healthy(settings), what="Airflow", timeout_s=120)
        workers.start(settings, processes.child_env(environment(settings)), cwd=airflow_home(settings))
        return
    if not processes.is_running(settings.home, "airflow-api-server") and processes.port_open(
        "127.0.0.1", settings.embedded_airflow_port
    ):
        raise ServiceError(
            f"port {settings.embedded_airflow_port} is taken by another program; set SOHOA_EMBEDDED_AIRFLOW_PORT"
        )
    migrate(settings)
    env = processes.child_env(environment(settings))
    ensure_pools(settings, env)
    for component in COMPONENTS:
        name = f"airflow-{component}"
        if not processes.is_running(settings.home, name):
            processes.spawn(settings.home, name, _airflow_argv(component), env=env, cwd=airflow_home(settings))
    record = processes.read_record(settings.home, "airflow-api-server")
    processes.wait_until(lambda: api_ready(settings), what="the Airflow API server", timeout_s=180, record=record)
    processes.wait_until(lambda: healthy(settings), what="Airflow (scheduler, triggerer, dag processor)", timeout_s=180)
    workers.start(settings, env, cwd=airflow_home(settings))


def stop(settings: Settings) -> bool:
    stopped = False
    # The scheduler first, so that it does not start (or queue) new tasks while the rest go down; then the
    # Celery workers, while the API server they report to still answers.
    stopped |= processes.stop(settings.home, "airflow-scheduler", grace_s=30)
    stopped |= workers.stop(settings)
    for component in ("triggerer", "dag-processor", "api-server"):
        stopped |= processes.stop(settings.home, f"airflow-{component}", grace_s=30)
    return stopped
