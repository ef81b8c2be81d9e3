"""The Celery workers of the embedded CeleryExecutor (``SOHOA_AIRFLOW_EXECUTOR=celery``).

Two workers, so that OCR, which keeps a core busy per task for about a minute, never starves the short
tasks (planning, record loads, document intake) and can be given machines of its own in production:

- ``ocr`` consumes the queue ``SOHOA_OCR_QUEUE`` (default ``ocr``), one process per core by default;
- ``default`` consumes Airflow's default queue (``default``), ``SOHOA_CELERY_DEFAULT_CONCURRENCY`` processes.

Each is ``airflow celery worker`` with its own Celery node name (``ocr@<host>``), recorded under
``<home>/run/celery-<name>.json`` like every other service, so ``sohoa services down`` stops exactly them.
They write task logs to the shared local log folder, where the API server reads them, so they do not start
Airflow's log server (two on one machine would fight over its port).

This module starts processes and talks to the broker (``celery`` and ``kombu``); it imports nothing of
Airflow: the workers are Airflow's CLI in child processes.
"""

from __future__ import annotations

import logging
import socket
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from sohoa.config import Settings
from sohoa.services import processes
from sohoa.services.hostname import NODE_VARIABLE

log = logging.getLogger(__name__)

DEFAULT_QUEUE = "default"  # Airflow's [operators] default_queue, set explicitly in the environment
HOSTNAME_CALLABLE = "sohoa.services.hostname.task_hostname"


@dataclass(frozen=True)
class WorkerSpec:
    """One Celery worker: its short name, the queues it consumes and its number of processes."""

    name: str
    queues: tuple[str, ...]
    concurrency: int

    @property
    def record_name(self) -> str:
        return f"celery-{self.name}"

    def node(self) -> str:
        """The Celery node name, which is also the ``hostname`` of the task instances it runs."""
        return f"{self.name}@{socket.gethostname()}"


def worker_specs(settings: Settings) -> list[WorkerSpec]:
    """The workers that ``settings`` asks for: none for LocalExecutor, the OCR and default workers for Celery."""
    if not settings.is_celery:
        return []
    return [
        WorkerSpec("ocr", (settings.ocr_queue,), settings.ocr_worker_concurrency()),
        WorkerSpec("default", (DEFAULT_QUEUE,), settings.celery_default_concurrency),
    ]


def transport_options(settings: Settings) -> dict[str, str]:
    """Broker transport options shared by the executor, the workers and :func:`ping` (the key prefix)."""
    url = settings.celery_broker_url.get_secret_value()
    if settings.celery_key_prefix and url.startswith(("redis://", "rediss://")):
        return {"global_keyprefix": settings.celery_key_prefix}
    return {}


def worker_argv(spec: WorkerSpec) -> list[str]:
    airflow = str(Path(sys.executable).with_name("airflow"))
    return [
        airflow,
        "celery",
        "worker",
        "--queues",
        ",".join(spec.queues),
        "--concurrency",
        str(spec.concurrency),
        "--celery-hostname",
        spec.node(),
        "--skip-serve-logs",
        "--without-mingle",
        "--without-gossip",
    ]


def worker_env(spec: WorkerSpec, airflow_env: Mapping[str, str]) -> dict[str, str]:
    """Airflow's environment plus what makes the task instances name this worker."""
    env = dict(airflow_env)
    env[NODE_VARIABLE] = spec.node()
    env["AIRFLOW__CORE__HOSTNAME_CALLABLE"] = HOSTNAME_CALLABLE
    return env


def ping(settings: Settings, nodes: list[str], *, timeout_s: float = 1.0) -> set[str]:
    """The nodes among ``nodes`` that answer a Celery ``ping`` over the broker (they consume tasks)."""
    from celery import Celery

    app = Celery(
        "sohoa-ping",
        broker=settings.celery_broker_url.get_secret_value(),
        broker_transport_options=transport_options(settings),
    )
    try:
        replies = app.control.ping(destination=nodes, timeout=timeout_s)
    finally:
        app.close()
    return {node for reply in replies for node in reply}


def start(settings: Settings, airflow_env: Mapping[str, str], *, cwd: Path, timeout_s: float = 120) -> None:
    """Start the workers that are not running, then wait until every one answers over the broker."""
    specs = worker_specs(settings)
    records: dict[str, processes.ProcessRecord | None] = {}
    for spec in specs:
        if not processes.is_running(settings.home, spec.record_name):
            records[spec.name] = processes.spawn(
                settings.home, spec.record_name, worker_argv(spec), env=worker_env(spec, airflow_env), cwd=cwd
            )
        else:
            records[spec.name] = processes.read_record(settings.home, spec.record_name)
    for spec in specs:
        node = spec.node()
        processes.wait_until(
            _answers(settings, node),
            what=f"the Celery worker {node} (broker {_broker_host(settings)})",
            timeout_s=timeout_s,
            record=records[spec.name],
        )


def stop(settings: Settings) -> bool:
    """Stop every worker that ``start`` recorded (whatever the executor is now set to)."""
    stopped = False
    for name in ("ocr", "default"):
        # Warm shutdown: SIGINT lets a worker finish or hand back its task (acks_late) before it exits.
        stopped |= processes.stop(settings.home, f"celery-{name}", grace_s=30)
    return stopped


def _answers(settings: Settings, node: str) -> Callable[[], bool]:
    return lambda: node in ping(settings, [node])


def _broker_host(settings: Settings) -> str:
    """The broker's host and port, for messages: never its password."""
    from urllib.parse import urlsplit

    parts = urlsplit(settings.celery_broker_url.get_secret_value())
    return f"{parts.scheme}://{parts.hostname}:{parts.port or ''}{parts.path}"
