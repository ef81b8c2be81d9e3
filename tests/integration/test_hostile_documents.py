"""Every kind of the hostile corpus (sohoa/sample/hostile.py) through the real intake path: the landing bucket
of a real S3 server, triage, the raw or quarantine bucket, OCR with the real Tesseract, PostgreSQL.

Each kind must meet the fate the corpus table gives it: quarantined with its rule and a message naming the
file, or stored (and OCR'd) with the warning it deserves; the run goes on; nothing that arrived is lost. No
speed is asserted: the timeout only turns a hang into a failure (time and memory per kind are measured by
``bench/hostile_bench.py``).
"""

from __future__ import annotations

import hashlib

import psycopg2
import pytest
from minio.error import S3Error

from sohoa.config import Settings
from sohoa.intake import pipeline
from sohoa.intake.landing import printable
from sohoa.sample.hostile import KINDS, HostileFile
from sohoa.storage import s3

pytestmark = [pytest.mark.integration, pytest.mark.timeout(3600)]


def _code(index: int) -> str:
    """One dossier per kind, so that kinds with the same bytes are not duplicates of each other."""
    return f"000.00.32.H19-260105-{index + 1:04d}"


def _problems(
    kind: HostileFile,
    key: str,
    sent: bytes,
    landing: dict[str, tuple[str, str]],
    issues: dict[tuple[str, str], tuple[str, str]],
    stored: dict[str, str],
    settings: Settings,
) -> list[str]:
    """What is wrong with one kind's fate (empty when it met the table)."""
    client = s3.make_client(settings)
    sha = hashlib.sha256(sent).hexdigest()
    if key not in landing:
        return ["no landing_object row"]
    status, landed_sha = landing[key]
    problems = []
    if landed_sha != sha:
        problems.append(f"sha256 {landed_sha} recorded, {sha} sent")
    if kind.fate == "quarantined":
        if status != "quarantined":
            problems.append(f"status {status}, expected quarantined")
        assert kind.rule is not None
        found = issues.get((key, kind.rule))
        if found is None:
            problems.append(f"no {kind.rule} finding; has {sorted(r for k, r in issues if k == key)}")
        else:
            severity, detail = found
            named = printable(key) if kind.rule == "landing.unknown_key" else key.rsplit("/", 1)[-1]
            if severity != "error" or named not in detail:
                problems.append(f"finding {severity} {detail!r} does not name {named!r}")
        if s3.get_bytes(client, settings.bucket_quarantine, s3.content_key(sha)) != sent:
            problems.append("quarantine copy differs from what was sent")
    else:
        if status != "done":
            problems.append(f"status {status}, expected done")
        if stored.get(key) != "done":
            problems.append(f"OCR status {stored.get(key)}, expected done")
        if kind.rule is not None and (key, kind.rule) not in issues:
            problems.append(f"no {kind.rule} finding; has {sorted(r for k, r in issues if k == key)}")
        if s3.get_bytes(client, settings.bucket_raw, s3.content_key(sha)) != sent:
            problems.append("raw original differs from what was sent")
    return problems


def test_every_hostile_kind_meets_its_fate_and_the_run_goes_on(settings: Settings) -> None:
    client = s3.make_client(settings)
    sent: dict[str, tuple[HostileFile, bytes]] = {}
    for index, kind in enumerate(KINDS):
        key = kind.landing_key(_code(index))
        data = kind.make()
        if kind.store_refuses:  # the store refuses the key; sohoa's own refusal is a unit test of classify
            with pytest.raises((ValueError, S3Error)):
                s3.put_bytes(client, settings.bucket_landing, key, data, "application/octet-stream")
            continue
        s3.put_bytes(client, settings.bucket_landing, key, data, "application/octet-stream")
        sent[key] = (kind, data)
    assert len(sent) >= 40

    pipeline.run_all(settings)  # bad input never raises

    conn = psycopg2.connect(settings.dsn())
    with conn.cursor() as cur:
        cur.execute("SELECT object_key, status, sha256 FROM sohoa.landing_object")
        landing = {k: (st, sha) for k, st, sha in cur.fetchall()}
        cur.execute("SELECT object_key, rule, severity, detail FROM quality.issues")
        issues = {(k, r): (sev, d) for k, r, sev, d in cur.fetchall()}
        cur.execute(
            "SELECT d.landing_key, r.status FROM sohoa.document d LEFT JOIN sohoa.ocr_result r ON r.sha256 = d.sha256"
        )
        stored = {k: st for k, st in cur.fetchall()}
    conn.close()
    failures = {}
    for key, (kind, data) in sent.items():
        problems = _problems(kind, key, data, landing, issues, stored, settings)
        if problems:
            failures[kind.name] = problems
    assert not failures, failures
    # Every object in the landing bucket has exactly one fate.
    assert {o.key for o in s3.list_objects(client, settings.bucket_landing)} == set(landing)


def test_a_key_that_lies_about_its_name_never_names_a_document(settings: Settings) -> None:
    """Regression: ``scans/<code>/don\\u202egnp.exe`` (shown as "donexe.png") used to be stored as a document
    under that name."""
    client = s3.make_client(settings)
    key = "scans/000.00.32.H19-260105-0001/don\u202egnp.exe"
    s3.put_bytes(client, settings.bucket_landing, key, b"\x89PNG\r\n\x1a\n", "image/png")
    pipeline.run_all(settings)
    conn = psycopg2.connect(settings.dsn())
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM sohoa.document")
        documents = cur.fetchone()
        cur.execute("SELECT rule, detail FROM quality.issues WHERE object_key = %s", (key,))
        ((rule, detail),) = cur.fetchall()
    conn.close()
    assert documents == (0,)
    assert rule == "landing.unknown_key"
    assert "bidirectional" in detail
    assert "don\\u202egnp.exe" in detail  # named, with the override escaped
