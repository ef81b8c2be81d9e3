"""The CeleryExecutor wiring of the embedded services, without starting anything: which workers, on which
queues, with what environment; and that the broker's password never reaches a message."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from sohoa.config import Settings
from sohoa.services import airflow, hostname, workers


def _settings(tmp_path: Path, **extra: object) -> Settings:
    return Settings(home=tmp_path, database_url=SecretStr("postgresql://u:dbpass@db:5432/sohoa"), **extra)  # type: ignore[arg-type]


def test_local_executor_has_no_workers(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    assert workers.worker_specs(settings) == []
    env = airflow.environment(settings)
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert not any(k.startswith("AIRFLOW__CELERY") for k in env)


def test_celery_gets_an_ocr_worker_and_a_default_worker(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path, airflow_executor="celery", celery_ocr_concurrency=3, celery_default_concurrency=2, ocr_queue="ocr"
    )
    ocr, default = workers.worker_specs(settings)
    assert (ocr.name, ocr.queues, ocr.concurrency) == ("ocr", ("ocr",), 3)
    assert (default.name, default.queues, default.concurrency) == ("default", ("default",), 2)
    argv = workers.worker_argv(ocr)
    assert argv[1:3] == ["celery", "worker"]
    assert argv[argv.index("--queues") + 1] == "ocr"
    assert argv[argv.index("--celery-hostname") + 1] == ocr.node()
    assert ocr.node().startswith("ocr@")


def test_celery_environment_broker_results_in_postgres_and_prefix(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path,
        airflow_executor="celery",
        celery_broker_url=SecretStr("redis://:brokerpass@redis:6379/3"),
        celery_key_prefix="p1:",
    )
    env = airflow.environment(settings)
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__OPERATORS__DEFAULT_QUEUE"] == "default"
    assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://:brokerpass@redis:6379/3"
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"] == "db+postgresql+psycopg2://u:dbpass@db:5432/airflow"
    assert env["AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__GLOBAL_KEYPREFIX"] == "p1:"
    assert int(env["AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT"]) > 2 * 3600
    # The DAG file reads the OCR queue from the environment the components get.
    assert env["SOHOA_OCR_QUEUE"] == "ocr"


def test_a_rabbitmq_broker_gets_no_redis_key_prefix(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path,
        airflow_executor="celery",
        celery_key_prefix="p1:",
        celery_broker_url=SecretStr("amqp://guest:guest@127.0.0.1:5672//"),
    )
    assert workers.transport_options(settings) == {}


def test_each_worker_names_the_task_instances_it_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(tmp_path, airflow_executor="celery")
    ocr = workers.worker_specs(settings)[0]
    env = workers.worker_env(ocr, {"X": "1"})
    assert env["AIRFLOW__CORE__HOSTNAME_CALLABLE"] == "sohoa.services.hostname.task_hostname"
    monkeypatch.setenv(hostname.NODE_VARIABLE, env[hostname.NODE_VARIABLE])
    assert hostname.task_hostname() == ocr.node()
    monkeypatch.delenv(hostname.NODE_VARIABLE)
    assert hostname.task_hostname()  # the FQDN otherwise


def test_a_worker_that_does_not_answer_names_the_broker_without_its_password(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path, airflow_executor="celery", celery_broker_url=SecretStr("redis://:brokerpass@127.0.0.1:1/0")
    )
    assert "brokerpass" not in workers._broker_host(settings)
    assert "brokerpass" not in repr(settings)
