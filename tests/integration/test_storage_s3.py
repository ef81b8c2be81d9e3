"""S3 conformance of what sohoa relies on, through the real minio SDK over HTTP.

Runs against nanio by default; point ``SOHOA_TEST_S3_ENDPOINT`` (with ``SOHOA_TEST_S3_ACCESS_KEY`` and
``SOHOA_TEST_S3_SECRET_KEY``) at a real MinIO to run the same checks there.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from minio.error import S3Error
from pydantic import SecretStr

from sohoa.config import Settings
from sohoa.storage import s3

pytestmark = pytest.mark.integration


@pytest.fixture
def s3_settings(settings: Settings) -> Settings:
    endpoint = os.environ.get("SOHOA_TEST_S3_ENDPOINT")
    if not endpoint:
        return settings
    return settings.model_copy(
        update={
            "s3_endpoint": endpoint,
            "s3_access_key": os.environ["SOHOA_TEST_S3_ACCESS_KEY"],
            "s3_secret_key": SecretStr(os.environ["SOHOA_TEST_S3_SECRET_KEY"]),
        }
    )


def test_round_trip_listing_and_content_keys(s3_settings: Settings, tmp_path: Path) -> None:
    client = s3.make_client(s3_settings)
    s3.ensure_buckets(client, s3_settings)
    s3.ensure_buckets(client, s3_settings)  # idempotent
    data = os.urandom(3 * 1024 * 1024 + 17)
    sha = hashlib.sha256(data).hexdigest()
    source = tmp_path / "blob"
    source.write_bytes(data)
    key = s3.content_key(sha)
    assert sha in key
    assert key.startswith("sha256/")
    assert s3.put_immutable(client, s3_settings.bucket_raw, key, source, "application/octet-stream")
    assert not s3.put_immutable(client, s3_settings.bucket_raw, key, source, "application/octet-stream")
    back = tmp_path / "back"
    assert s3.download(client, s3_settings.bucket_raw, key, back) == sha
    assert back.read_bytes() == data
    s3.put_bytes(client, s3_settings.bucket_landing, "scans/X-1/trang 1.pdf", b"%PDF-1.4", "application/pdf")
    s3.put_bytes(client, s3_settings.bucket_landing, "records/a.jsonl", b"{}\n", "application/x-ndjson")
    listed = {o.key: o for o in s3.list_objects(client, s3_settings.bucket_landing)}
    assert set(listed) == {"scans/X-1/trang 1.pdf", "records/a.jsonl"}
    assert listed["records/a.jsonl"].size == 3
    assert listed["records/a.jsonl"].etag


def test_wrong_secret_is_refused(s3_settings: Settings) -> None:
    bad = s3_settings.model_copy(update={"s3_secret_key": SecretStr("not-the-secret")})
    with pytest.raises(S3Error):
        s3.make_client(bad).bucket_exists(s3_settings.bucket_raw)
