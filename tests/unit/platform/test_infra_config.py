"""infra/ stays in step with sohoa: the compose file and the Helm values parse, name only real settings,
route OCR to its own queue as the DAG does, and run every Airflow component.

Docker and Kubernetes do not run on the machines this is built on, so this is what can be checked here:
syntax, names and the wiring between them (not that the images start). The Helm key names below are the
official Airflow chart's (chart/values.schema.json of apache/airflow at commit 1520bde6, a chart
line with Celery worker sets) and the MinIO chart's (helm/minio/values.yaml, chart 5.4.0): a key in the
wrong place is rejected by the chart's schema or silently ignored by its templates.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from sohoa.config import Settings

ROOT = Path(__file__).resolve().parents[3]
INFRA = ROOT / "infra"
SETTING_NAMES = {f"SOHOA_{name.upper()}" for name in Settings.model_fields}
# What a deployment must set (no local default makes sense there).
REQUIRED = {
    "SOHOA_DATABASE_URL",
    "SOHOA_S3_ENDPOINT",
    "SOHOA_S3_ACCESS_KEY",
    "SOHOA_S3_SECRET_KEY",
    "SOHOA_PSEUDONYM_KEY",
    "SOHOA_AIRFLOW_EXECUTOR",
    "SOHOA_OCR_QUEUE",
}
SECRET_SETTINGS = {
    "SOHOA_DATABASE_URL",
    "SOHOA_S3_SECRET_KEY",
    "SOHOA_PSEUDONYM_KEY",
    "SOHOA_CELERY_BROKER_URL",
    "SOHOA_AIRFLOW_PASSWORD",
    "SOHOA_CELERY_RESULT_BACKEND",
}
# `workers` of the Airflow chart (additionalProperties: false there) and `workers.celery`; the Celery
# worker settings in the first group are deprecated under `workers` in favour of `workers.celery`.
CHART_WORKERS_KEYS = {
    "replicas",
    "revisionHistoryLimit",
    "command",
    "args",
    "livenessProbe",
    "updateStrategy",
    "podManagementPolicy",
    "strategy",
    "serviceAccount",
    "keda",
    "hpa",
    "persistence",
    "kerberosSidecar",
    "kerberosInitContainer",
    "podDisruptionBudget",
    "resources",
    "terminationGracePeriodSeconds",
    "safeToEvict",
    "extraContainers",
    "extraInitContainers",
    "extraPorts",
    "extraVolumes",
    "extraVolumeMounts",
    "nodeSelector",
    "runtimeClassName",
    "priorityClassName",
    "affinity",
    "tolerations",
    "topologySpreadConstraints",
    "hostAliases",
    "annotations",
    "podAnnotations",
    "schedulerName",
    "labels",
    "logGroomerSidecar",
    "securityContext",
    "containerLifecycleHooks",
    "securityContexts",
    "waitForMigrations",
    "env",
    "volumeClaimTemplates",
    "celery",
    "kubernetes",
}
CHART_CELERY_KEYS = {
    "replicas",
    "revisionHistoryLimit",
    "command",
    "args",
    "livenessProbe",
    "updateStrategy",
    "strategy",
    "podManagementPolicy",
    "enableDefault",
    "queue",
    "sets",
    "securityContexts",
    "containerLifecycleHooks",
    "podDisruptionBudget",
    "keda",
    "persistence",
    "kerberosSidecar",
    "kerberosInitContainer",
    "resources",
}
DEPRECATED_UNDER_WORKERS = {
    "replicas",
    "args",
    "livenessProbe",
    "persistence",
    "strategy",
    "keda",
    "resources",
    "podDisruptionBudget",
    "nodeSelector",
    "tolerations",
    "affinity",
    "annotations",
}


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = _load(INFRA / "compose.yaml")
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def helm() -> dict[str, Any]:
    data = _load(INFRA / "helm" / "values.yaml")
    assert isinstance(data, dict)
    return data


def _queues(command: list[str]) -> str:
    return command[command.index("--queues") + 1]


def test_compose_runs_the_stores_and_every_airflow_component(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {
        "postgres",
        "redis",
        "minio",
        "airflow-init",
        "airflow-apiserver",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-triggerer",
        "airflow-worker-ocr",
        "airflow-worker-default",
    } <= set(services)
    assert services["airflow-scheduler"]["command"] == ["airflow", "scheduler"]
    assert services["airflow-dag-processor"]["command"] == ["airflow", "dag-processor"]
    assert services["airflow-triggerer"]["command"] == ["airflow", "triggerer"]
    assert services["airflow-apiserver"]["command"][:2] == ["airflow", "api-server"]
    for name in ("airflow-apiserver", "airflow-scheduler", "airflow-worker-ocr", "airflow-worker-default"):
        build = services[name]["build"]
        assert (INFRA / build["context"] / build["dockerfile"]).resolve() == INFRA / "airflow.Dockerfile"


def test_compose_names_only_real_settings_and_all_the_required_ones(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        env = service.get("environment") or {}
        unknown = {k for k in env if k.startswith("SOHOA_")} - SETTING_NAMES
        assert not unknown, (name, unknown)
        if name.startswith("airflow-"):
            assert set(env) >= REQUIRED, (name, REQUIRED - set(env))
            assert env["SOHOA_AIRFLOW_EXECUTOR"] == "celery"
            assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"


def test_compose_routes_ocr_to_its_own_worker(compose: dict[str, Any]) -> None:
    services = compose["services"]
    env = services["airflow-worker-ocr"]["environment"]
    assert _queues(services["airflow-worker-ocr"]["command"]) == env["SOHOA_OCR_QUEUE"] == Settings().ocr_queue
    assert _queues(services["airflow-worker-default"]["command"]) == env["AIRFLOW__OPERATORS__DEFAULT_QUEUE"]
    # The result backend is PostgreSQL, the broker Redis.
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql")
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")


def test_compose_writes_no_secret(compose: dict[str, Any]) -> None:
    """Every password comes from the env file: a secret setting's value is a `${...}` reference."""
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            secret_name = re.search(r"PASSWORD|SECRET|FERNET|_KEY$", key) and not key.endswith("_FILE")
            if key in SECRET_SETTINGS or secret_name:
                assert "${" in str(value), (name, key)
            if "://" in str(value) and "@" in str(value):
                userinfo = str(value).split("://", 1)[1].split("@", 1)[0]
                assert ":" not in userinfo or "${" in userinfo, (name, key)


def test_the_dockerfile_installs_tesseract_vie_and_osd_and_the_locked_environment() -> None:
    text = (INFRA / "airflow.Dockerfile").read_text(encoding="utf-8")
    for package in ("tesseract-ocr", "tesseract-ocr-vie", "tesseract-ocr-osd"):
        assert re.search(rf"\b{package}\b", text), package
    assert "uv sync --frozen --no-dev" in text
    for folder in ("sohoa", "ocr", "dags", "plugins", "schemas"):
        assert f"COPY {folder} " in text, folder


def test_helm_values_use_celery_with_the_ocr_queue_split(helm: dict[str, Any]) -> None:
    assert helm["executor"] == "CeleryExecutor"
    assert helm["airflowVersion"] == "3.3.0"
    env = {item["name"]: item["value"] for item in helm["env"]}
    secrets = {item["envName"] for item in helm["secret"]}
    names = set(env) | secrets
    assert not ({n for n in names if n.startswith("SOHOA_")} - SETTING_NAMES)
    assert names >= REQUIRED
    assert not (set(env) & SECRET_SETTINGS), "secret settings must come from a Kubernetes Secret"
    assert env["SOHOA_AIRFLOW_EXECUTOR"] == "celery"
    celery = helm["workers"]["celery"]
    # The default set consumes Airflow's default queue; each named set only its own queue (`-q <queue>`).
    assert celery["enableDefault"] is True
    assert celery["queue"] == helm["config"]["operators"]["default_queue"] == "default"
    assert [s["queue"] for s in celery["sets"]] == [env["SOHOA_OCR_QUEUE"]] == [Settings().ocr_queue]
    assert helm["config"]["core"]["dags_folder"] == "/opt/sohoa/dags"  # baked into the image


def test_helm_worker_keys_are_where_the_chart_reads_them(helm: dict[str, Any]) -> None:
    workers = helm["workers"]
    assert set(workers) <= CHART_WORKERS_KEYS
    assert not (set(workers) & DEPRECATED_UNDER_WORKERS), "Celery worker settings go under workers.celery"
    assert set(workers["celery"]) <= CHART_CELERY_KEYS
    # A set is merged onto workers + workers.celery: a key neither knows would be ignored without a word.
    for worker_set in workers["celery"]["sets"]:
        assert set(worker_set) <= {"name"} | CHART_WORKERS_KEYS | CHART_CELERY_KEYS, worker_set["name"]


def test_helm_ocr_set_runs_on_its_own_nodes_with_one_process_per_core(helm: dict[str, Any]) -> None:
    (ocr,) = helm["workers"]["celery"]["sets"]
    ((label, pool),) = ocr["nodeSelector"].items()
    assert {"key": label, "operator": "Equal", "value": pool, "effect": "NoSchedule"} in ocr["tolerations"]
    concurrency = {e["name"]: e["value"] for e in ocr["env"]}["AIRFLOW__CELERY__WORKER_CONCURRENCY"]
    assert int(concurrency) == int(ocr["resources"]["requests"]["cpu"]) == int(ocr["resources"]["limits"]["cpu"])
    # The pool size the file tells the operator to set is what the OCR set runs.
    text = (INFRA / "helm" / "values.yaml").read_text(encoding="utf-8")
    slots = re.search(r"airflow pools set sohoa_ocr (\d+)", text)
    assert slots
    assert int(slots.group(1)) == ocr["replicas"] * int(concurrency)


def test_helm_values_write_no_secret_and_need_no_missing_provider(helm: dict[str, Any]) -> None:
    data = helm["data"]
    assert data["metadataSecretName"]
    assert data["brokerUrlSecretName"]
    assert not ({"metadataConnection", "resultBackendConnection", "brokerUrl"} & set(data))
    assert "password" not in helm["redis"]
    # The chart refuses redis.passwordSecretName without data.brokerUrlSecretName.
    assert not helm["redis"].get("passwordSecretName") or data["brokerUrlSecretName"]
    assert not ({"fernetKey", "apiSecretKey", "jwtSecret", "webserverSecretKey"} & set(helm))
    # The chart's create-user job runs `airflow users create`, which needs the FAB provider.
    fab_locked = "apache-airflow-providers-fab" in (ROOT / "uv.lock").read_text(encoding="utf-8")
    assert fab_locked or helm["createUserJob"]["enabled"] is False
    # The API server writes the SimpleAuthManager's password file from a variable of a Kubernetes Secret.
    script = " ".join(helm["apiServer"]["args"])
    assert helm["config"]["core"]["simple_auth_manager_passwords_file"] in script
    assert "SOHOA_AIRFLOW_PASSWORD" in script
    assert "SOHOA_AIRFLOW_PASSWORD" in {s["envName"] for s in helm["secret"]}


def test_minio_values_parse_and_create_the_buckets() -> None:
    values = _load(INFRA / "helm" / "minio-values.yaml")
    buckets = {b["name"] for b in values["buckets"]}
    defaults = Settings()
    assert buckets == {
        defaults.bucket_landing,
        defaults.bucket_raw,
        defaults.bucket_derived,
        defaults.bucket_quarantine,
        defaults.bucket_published,
    }
    assert "rootPassword" not in values
    assert values["existingSecret"]
    # The chart's default users include one with a fixed password: every user here reads its secret key
    # from a Kubernetes Secret and gets a policy this file defines.
    policies = {p["name"] for p in values["policies"]}
    assert values["users"]
    for user in values["users"]:
        assert "secretKey" not in user, user["accessKey"]
        assert user["existingSecret"], user["accessKey"]
        assert user["existingSecretKey"], user["accessKey"]
        assert user["policy"] in policies
