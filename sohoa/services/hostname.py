"""The host name Airflow records for a task instance that a local Celery worker runs.

Airflow stores in ``task_instance.hostname`` what ``[core] hostname_callable`` returns, by default the
machine's FQDN. The embedded CeleryExecutor runs two workers on one machine, so the FQDN cannot tell them
apart; each worker is started with this function as its callable and its Celery node name (``ocr@host``,
``default@host``) in ``SOHOA_CELERY_WORKER_NODE``, so the metadata database says which worker ran a task,
in the same words as ``celery inspect`` and Flower. Deliberately tiny: it runs in every task process.
"""

from __future__ import annotations

import os
import socket

NODE_VARIABLE = "SOHOA_CELERY_WORKER_NODE"


def task_hostname() -> str:
    """The worker's Celery node name when set, else the machine's FQDN (Airflow's default)."""
    return os.environ.get(NODE_VARIABLE) or socket.getfqdn()
