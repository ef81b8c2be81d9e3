"""``sohoa publish`` and ``sohoa api token`` as a user runs them: a subprocess with SOHOA_* variables."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from publish_testkit import load_dataset, query

from sohoa.config import Settings
from sohoa.storage import s3

pytestmark = pytest.mark.integration


def _sohoa(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SOHOA_HOME": str(settings.home),
        "SOHOA_DATABASE_URL": settings.dsn(),
        "SOHOA_S3_ENDPOINT": settings.s3_url(),
        "SOHOA_S3_ACCESS_KEY": settings.s3_access_key,
        "SOHOA_S3_SECRET_KEY": settings.s3_secret_key.get_secret_value(),
        "SOHOA_BUCKET_PUBLISHED": settings.bucket_published,
        "SOHOA_PSEUDONYM_KEY": "test-pseudonym-key",
    }
    return subprocess.run(
        [sys.executable, "-m", "sohoa.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_sohoa_publish_writes_a_snapshot_then_reports_unchanged(settings: Settings) -> None:
    load_dataset(settings)
    first = _sohoa(settings, "publish", "--json")
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert summary["status"] == "published"
    latest = s3.get_bytes(s3.make_client(settings), settings.bucket_published, "1co/LATEST").decode()
    assert latest == summary["snapshot"]
    again = _sohoa(settings, "publish")
    assert again.returncode == 0, again.stderr
    assert f"unchanged since snapshot {latest}" in again.stdout


def test_token_commands_show_the_token_once_and_store_its_hash(settings: Settings) -> None:
    created = _sohoa(settings, "api", "token", "create", "warehouse", "--agency", "000.00.32.H19", "--days", "30")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("sohoa_")
    assert token not in str(query(settings, "SELECT * FROM sohoa.api_token"))
    assert query(settings, "SELECT agencies FROM sohoa.api_token WHERE name = 'warehouse'") == [(["000.00.32.H19"],)]
    duplicate = _sohoa(settings, "api", "token", "create", "warehouse")
    assert duplicate.returncode == 1
    assert "exists already" in duplicate.stderr
    listed = _sohoa(settings, "api", "token", "list")
    assert "warehouse" in listed.stdout
    assert token not in listed.stdout
    assert _sohoa(settings, "api", "token", "revoke", "warehouse").returncode == 0
    assert _sohoa(settings, "api", "token", "revoke", "warehouse").returncode == 1
