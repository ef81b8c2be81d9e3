"""End to end: the DAG sohoa_publish in a real Airflow 3 publishes a snapshot and emits its asset event
(``sohoa_published``, with the snapshot id in its extra) for downstream DAGs."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_airflow import AirflowFactory

from sohoa.config import Settings
from sohoa.orchestration.airflow_client import AirflowClient, trigger_and_wait
from sohoa.publish import snapshot
from sohoa.storage import s3

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration" / "publish"))
from publish_testkit import EXPECTED, load_dataset  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def airflow_settings(airflow_env: AirflowFactory) -> Iterator[Settings]:
    """Airflow over a database of this module's own: the snapshot must hold exactly the planted dossiers, and
    the session's shared database also holds what earlier end-to-end modules ingested."""
    with airflow_env("publish", own_database=True) as settings:
        yield settings


def test_publish_dag_writes_a_snapshot_and_emits_the_published_asset(airflow_settings: Settings) -> None:
    settings = airflow_settings
    s3.ensure_buckets(s3.make_client(settings), settings)
    load_dataset(settings)

    outcome = trigger_and_wait(settings, wait=True, timeout_s=600, report=lambda _m: None, dag_id="sohoa_publish")
    assert outcome.succeeded, outcome.failed

    client = s3.make_client(settings)
    latest = snapshot.latest_snapshot(client, settings.bucket_published)
    assert latest is not None
    manifest = snapshot.read_manifest(client, settings.bucket_published, latest)
    assert next(f["rows"] for f in manifest["files"] if f["key"].endswith("ho_so.parquet")) == len(EXPECTED)

    # The asset event carries the snapshot id (an asset-triggered run may have published it first).
    api = AirflowClient(settings)
    deadline = time.monotonic() + 60
    extras: list[dict[str, object]] = []
    while time.monotonic() < deadline:
        extras = [e.get("extra") or {} for e in api.asset_events("sohoa_publish")]
        if any(x.get("snapshot") == latest for x in extras):
            break
        time.sleep(2)
    assert any(
        x.get("snapshot") == latest and x.get("rows", {}).get("ho_so.parquet") == len(EXPECTED)  # type: ignore[union-attr]
        for x in extras
    ), extras
