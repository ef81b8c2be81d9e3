"""The embedded LocalExecutor starts its workers from a fork server that has imported what every ingestion
task imports, so that each task process inherits it instead of importing it again (sohoa.services.airflow)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from pydantic import SecretStr

from sohoa.config import Settings
from sohoa.services import airflow


def _settings(tmp_path: Path, **extra: object) -> Settings:
    return Settings(home=tmp_path, database_url=SecretStr("postgresql://u:p@db:5432/sohoa"), **extra)  # type: ignore[arg-type]


def test_the_scheduler_forks_its_workers_from_a_preloaded_fork_server(tmp_path: Path) -> None:
    env = airflow.environment(_settings(tmp_path))

    assert env["AIRFLOW__SCHEDULER__MP_START_METHOD"] == "forkserver"
    assert env["AIRFLOW__SCHEDULER__MP_FORKSERVER_PRELOAD"].split(",") == list(airflow.TASK_PRELOAD)
    # Only the scheduler: the triggerer and the DAG processor keep their own start method.
    assert "AIRFLOW__CORE__MP_START_METHOD" not in env


def test_celery_workers_are_left_as_they_are(tmp_path: Path) -> None:
    env = airflow.environment(_settings(tmp_path, airflow_executor="celery"))

    assert not any("MP_START_METHOD" in k or "FORKSERVER" in k for k in env)


def test_the_preload_names_modules_that_exist_and_every_stage_the_ingestion_dag_imports() -> None:
    """The fork server skips a name that does not import, silently: a renamed module would quietly bring the
    imports back into every task. Every name must resolve, and every sohoa module the DAG's tasks import be
    there."""
    for name in airflow.TASK_PRELOAD:
        assert importlib.util.find_spec(name) is not None, name
    dag = (Path(__file__).resolve().parents[3] / "dags" / "sohoa_ingest.py").read_text(encoding="utf-8")
    imported = set(re.findall(r"from (sohoa(?:\.\w+)+) import", dag))
    assert imported
    assert imported <= set(airflow.TASK_PRELOAD)
