"""End to end: the DAG sohoa_publish in a real Airflow 3 publishes a snapshot and emits its asset event
(``sohoa_published``, with the snapshot id in its extra) for downstream DAGs."""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg2
import pytest

from sohoa.config import Settings
from sohoa.orchestration.airflow_client import AirflowClient, trigger_and_wait
from sohoa.publish import snapshot
from sohoa.services import airflow, manager
from sohoa.storage import s3

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration" / "publish"))
from publish_testkit import EXPECTED, load_dataset  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def airflow_settings(s3_server: str, services_home: Path,
                     pg_server: str, port_factory: Callable[[], int]) -> Iterator[Settings]:
    """Airflow over a database of this module's own: the snapshot must hold exactly the planted dossiers, and
    the session's shared database also holds what earlier end-to-end modules ingested."""
    from pydantic import SecretStr

    from sohoa.db.migrate import migrate

    tag = uuid.uuid4().hex[:8]
    database = f"sohoa_e2e_publish_{tag}"
    admin = psycopg2.connect(pg_server)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{database}"')
    admin.close()
    database_url = pg_server.rpartition("/")[0] + "/" + database
    migrate(database_url)
    settings = Settings(
        home=services_home / f"e2e-publish-{tag}", database_url=SecretStr(database_url),
        airflow_database=f"airflow_e2e_{tag}", embedded_airflow_port=port_factory(), s3_endpoint=s3_server,
        s3_access_key="test-access", s3_secret_key=SecretStr("test-secret-key-123"),
        bucket_landing=f"landing-e2p-{tag}", bucket_raw=f"raw-e2p-{tag}", bucket_derived=f"derived-e2p-{tag}",
        bucket_quarantine=f"quarantine-e2p-{tag}", bucket_published=f"published-e2p-{tag}",
        pseudonym_key=SecretStr("test-pseudonym-key"),
    )
    manager.up(settings)
    try:
        yield settings
    finally:
        airflow.stop(settings)
        admin = psycopg2.connect(pg_server)
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{settings.airflow_database}" WITH (FORCE)')
            cur.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.close()


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
        body = api._get("/assets/events", source_dag_id="sohoa_publish") or {}
        extras = [e.get("extra") or {} for e in body.get("asset_events", [])]
        if any(x.get("snapshot") == latest for x in extras):
            break
        time.sleep(2)
    assert any(x.get("snapshot") == latest and x.get("rows", {}).get("ho_so.parquet") == len(EXPECTED)  # type: ignore[union-attr]
               for x in extras), extras
