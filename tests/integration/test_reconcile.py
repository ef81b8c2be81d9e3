"""Nightly reconciliation against the real PostgreSQL and S3 server: it finds what went missing or rotted,
repairs what can be redone from data still held, and reports the rest in quality.issues."""

from __future__ import annotations

import io
from datetime import timedelta

import psycopg2
import pytest

from sohoa.config import Settings
from sohoa.intake import pipeline
from sohoa.intake.reconcile import reconcile
from sohoa.sample.documents import render_blank_page
from sohoa.storage import s3

pytestmark = pytest.mark.integration

CODE = "000.00.32.H19-260105-0001"


def _png(seed: int) -> bytes:
    buf = io.BytesIO()
    render_blank_page(seed=seed).convert("RGB").save(buf, "PNG", dpi=(200, 200))
    return buf.getvalue()


def _one(settings: Settings, sql: str, *args: object) -> object:
    conn = psycopg2.connect(settings.dsn())
    try:
        with conn.cursor() as cur:
            cur.execute(sql, args)
            row = cur.fetchone()
            return row[0] if row else None
    finally:
        conn.close()


def _open(settings: Settings, rule: str) -> int:
    return int(_one(settings, "SELECT count(*) FROM quality.issues WHERE rule = %s AND resolved_at IS NULL", rule))  # type: ignore[call-overload]


@pytest.fixture
def ingested(settings: Settings) -> dict[str, str]:
    """Two stored scans and one quarantined file, OCR done; returns landing key -> raw key."""
    client = s3.make_client(settings)
    files = {f"scans/{CODE}/a.png": _png(1), f"scans/{CODE}/b.png": _png(2), f"scans/{CODE}/bad.pdf": b"%PDF-1.4 trunc"}
    for key, data in files.items():
        s3.put_bytes(client, settings.bucket_landing, key, data, "application/octet-stream")
    pipeline.run_all(settings)
    conn = psycopg2.connect(settings.dsn())
    with conn.cursor() as cur:
        cur.execute("SELECT d.landing_key, o.raw_uri FROM sohoa.document d JOIN sohoa.original o USING (sha256)")
        keys = {k: u.split("/", 3)[3] for k, u in cur.fetchall()}
    conn.close()
    return keys


def test_a_healthy_store_is_clean_and_every_original_is_hashed(settings: Settings, ingested: dict[str, str]) -> None:
    report = reconcile(settings, fixity_sample=10)
    assert report.clean, report.as_dict()
    assert report.originals == 2
    assert report.fixity_checked == 2
    assert report.fixity_failed == 0
    assert _one(settings, "SELECT count(*) FROM sohoa.original WHERE fixity_ok") == 2
    assert _one(settings, "SELECT count(*) FROM sohoa.reconciliation_run WHERE finished_at IS NOT NULL") == 1


def test_a_lost_or_rotten_original_is_restored_from_landing(settings: Settings, ingested: dict[str, str]) -> None:
    client = s3.make_client(settings)
    lost, rotten = ingested[f"scans/{CODE}/a.png"], ingested[f"scans/{CODE}/b.png"]
    good = s3.get_bytes(client, settings.bucket_raw, rotten)
    client.remove_object(settings.bucket_raw, lost)
    s3.put_bytes(client, settings.bucket_raw, rotten, bytes([good[0] ^ 1]) + good[1:], "image/png")  # one bit

    report = reconcile(settings, fixity_sample=10)

    assert report.repaired == {"original_restored_from_landing": 1, "original_restored_after_fixity_failure": 1}
    assert report.fixity_failed == 1
    assert report.clean
    assert s3.sha256_of(client, settings.bucket_raw, lost) == lost.rsplit("/", 1)[-1]
    assert s3.sha256_of(client, settings.bucket_raw, rotten) == rotten.rsplit("/", 1)[-1]


def test_what_cannot_be_repaired_is_reported_then_resolved(settings: Settings, ingested: dict[str, str]) -> None:
    client = s3.make_client(settings)
    raw_key = ingested[f"scans/{CODE}/a.png"]
    data = s3.get_bytes(client, settings.bucket_raw, raw_key)
    client.remove_object(settings.bucket_raw, raw_key)
    client.remove_object(settings.bucket_landing, f"scans/{CODE}/a.png")  # the landing copy is gone too

    report = reconcile(settings)
    assert not report.clean
    assert report.problems == {"document.missing_original": 1}
    assert _open(settings, "document.missing_original") == 1

    s3.put_bytes(client, settings.bucket_raw, raw_key, data, "image/png")  # an operator restores it from backup
    assert reconcile(settings).clean
    assert _open(settings, "document.missing_original") == 0  # the finding is resolved, still on record
    assert _one(settings, "SELECT count(*) FROM quality.issues WHERE rule = 'document.missing_original'") == 1


def test_missing_derived_artefacts_are_rebuilt_by_the_next_run(settings: Settings, ingested: dict[str, str]) -> None:
    client = s3.make_client(settings)
    sha = ingested[f"scans/{CODE}/a.png"].rsplit("/", 1)[-1]
    client.remove_object(settings.bucket_derived, s3.derived_prefix(sha) + "text.txt")

    report = reconcile(settings)
    assert report.repaired == {"ocr_scheduled_again": 1}
    pipeline.run_all(settings)
    assert s3.exists(client, settings.bucket_derived, s3.derived_prefix(sha) + "text.txt")
    assert reconcile(settings).clean
    assert _open(settings, "document.missing_derived") == 0


def test_stuck_landing_objects_and_orphans_are_reported(settings: Settings, ingested: dict[str, str]) -> None:
    client = s3.make_client(settings)
    s3.put_bytes(client, settings.bucket_landing, f"scans/{CODE}/late.png", _png(3), "image/png")
    s3.put_bytes(client, settings.bucket_raw, s3.content_key("0" * 64), b"left by a crash", "image/png")

    report = reconcile(settings, grace=timedelta(0))
    assert report.problems == {"landing.unprocessed": 1, "document.orphan_original": 1}
    assert not report.clean  # an unprocessed landing object needs a look; an orphan alone would not

    pipeline.run_all(settings)
    assert reconcile(settings, grace=timedelta(0)).problems == {"document.orphan_original": 1}
    assert _open(settings, "landing.unprocessed") == 0
