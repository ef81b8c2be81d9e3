"""Every kind of bad file is kept, quarantined with its rule, and the run goes on (real PostgreSQL, S3, Tesseract)."""

from __future__ import annotations

import hashlib

import psycopg2
import pytest

from sohoa.config import Settings
from sohoa.intake import pipeline
from sohoa.sample.hostile import KINDS
from sohoa.storage import s3

pytestmark = pytest.mark.integration

CODE = "000.00.32.H19-260105-0001"


def test_each_bad_file_is_quarantined_with_its_rule(settings: Settings) -> None:
    client = s3.make_client(settings)
    sent: dict[str, bytes] = {}
    for kind in KINDS:
        key = f"scans/{CODE}/{kind.name}"
        sent[key] = kind.make()
        s3.put_bytes(client, settings.bucket_landing, key, sent[key], "application/octet-stream")

    pipeline.run_all(settings)

    conn = psycopg2.connect(settings.dsn())
    with conn.cursor() as cur:
        cur.execute("SELECT object_key, status, sha256 FROM sohoa.landing_object")
        landing = {k: (st, sha) for k, st, sha in cur.fetchall()}
        cur.execute("SELECT object_key, rule, detail FROM quality.issues WHERE severity = 'error'")
        findings = {(k, r): d for k, r, d in cur.fetchall()}
    conn.close()
    for kind in KINDS:
        key = f"scans/{CODE}/{kind.name}"
        status, sha = landing[key]
        assert status == "quarantined", (kind.name, status)
        assert (key, kind.rule) in findings, (kind.name, [r for k, r in findings if k == key])
        assert kind.name in findings[(key, kind.rule)]  # the message names the file
        assert sha == hashlib.sha256(sent[key]).hexdigest()
        kept = s3.get_bytes(client, settings.bucket_quarantine, s3.content_key(sha))
        assert kept == sent[key]  # nothing that arrives is lost
