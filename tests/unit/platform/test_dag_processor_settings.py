"""The embedded Airflow's DAG processor parses a DAG file when it changes, not every 30 s
(sohoa.services.airflow.dag_processor_environment); tests/e2e/test_dag_pickup.py checks the pick-up itself."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from sohoa.config import Settings
from sohoa.services import airflow


def test_unchanged_files_are_left_alone_and_changes_found_by_modification_time(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, database_url=SecretStr("postgresql://u:p@db:5432/sohoa"))
    for executor in ("local", "celery"):
        env = airflow.environment(settings.model_copy(update={"airflow_executor": executor}))
        assert int(env["AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL"]) >= 300
        # What lets an edit through long before that interval: a file modified since its last parse is queued.
        assert env["AIRFLOW__DAG_PROCESSOR__FILE_PARSING_SORT_MODE"] == "modified_time"
        # A new DAG file is found when the folder is listed again.
        assert int(env["AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL"]) <= 30
