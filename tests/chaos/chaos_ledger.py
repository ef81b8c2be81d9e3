"""Exactly-once accounting of a batch: every landed file and record once, nothing orphaned, reconciliation clean.

``account`` returns the list of what is wrong (empty when the batch is accounted for), so that a failing fault
names every discrepancy at once instead of the first.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import psycopg2
from chaos_batch import Batch

from sohoa.config import Settings
from sohoa.intake.reconcile import Report, reconcile
from sohoa.storage import s3


def _rows(settings: Settings, sql: str) -> list[tuple[object, ...]]:
    conn = psycopg2.connect(settings.dsn(), connect_timeout=5)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return list(cur.fetchall())
    finally:
        conn.close()


def _one(settings: Settings, sql: str) -> int:
    return int(_rows(settings, sql)[0][0])  # type: ignore[call-overload]


def account(settings: Settings, batch: Batch) -> list[str]:
    """Every discrepancy between the batch and what the buckets and the database hold."""
    problems: list[str] = []
    client = s3.make_client(settings)

    def expect(what: str, actual: object, wanted: object) -> None:
        if actual != wanted:
            problems.append(f"{what}: {actual!r}, expected {wanted!r}")

    # Landing: every object has exactly one fate, the one the contract gives it.
    landed = {o.key for o in s3.list_objects(client, settings.bucket_landing)}
    expect("landing objects", sorted(landed), sorted(batch.files))
    rows = _rows(settings, "SELECT object_key, status FROM sohoa.landing_object")
    per_key = Counter(str(k) for k, _ in rows)
    expect("landing keys recorded more than once", sorted(k for k, n in per_key.items() if n > 1), [])
    expect("landing fates", dict(sorted((str(k), str(s)) for k, s in rows)), dict(sorted(batch.fates.items())))

    # Records: every line once, one winning state per dossier.
    expect("record batches", _one(settings, "SELECT count(*) FROM sohoa.record_batch"), 1)
    expect("record lines", _one(settings, "SELECT count(*) FROM sohoa.record_version"), batch.record_lines)
    expect("dossiers", _one(settings, "SELECT count(*) FROM sohoa.dossier"), batch.dossiers)

    # Documents and originals: one per distinct content, no orphan and no gap in the raw bucket.
    expect("documents", _one(settings, "SELECT count(*) FROM sohoa.document"), batch.documents)
    expect("originals", _one(settings, "SELECT count(*) FROM sohoa.original"), batch.originals)
    referenced = {str(u).split("/", 3)[3] for (u,) in _rows(settings, "SELECT raw_uri FROM sohoa.original")}
    raw = {o.key for o in s3.list_objects(client, settings.bucket_raw)}
    expect("orphan objects in raw", sorted(raw - referenced), [])
    expect("originals missing from raw", sorted(referenced - raw), [])

    # OCR: one result per original, each page once, artefacts for exactly the results on record.
    expect(
        "OCR results done",
        _one(settings, "SELECT count(*) FROM sohoa.ocr_result WHERE status = 'done'"),
        batch.originals,
    )
    expect("OCR pages", _one(settings, "SELECT count(*) FROM sohoa.ocr_page"), batch.pages)
    done = {str(s) for (s,) in _rows(settings, "SELECT sha256 FROM sohoa.ocr_result")}
    derived = {o.key.split("/")[2] for o in s3.list_objects(client, settings.bucket_derived, "ocr/")}
    expect("derived artefacts without an OCR result", sorted(derived - done), [])

    # Quarantine: exactly the copies of the quarantined files.
    wanted = {
        s3.content_key(str(s))
        for (s,) in _rows(settings, "SELECT sha256 FROM sohoa.landing_object WHERE status = 'quarantined'")
    }
    held = {o.key for o in s3.list_objects(client, settings.bucket_quarantine)}
    expect("quarantine bucket", sorted(held), sorted(wanted))

    # Findings: only the planted ones are errors (a fault must not leave a finding behind).
    errors = Counter(
        str(r)
        for (r,) in _rows(settings, "SELECT rule FROM sohoa.issue WHERE severity = 'error' AND resolved_at IS NULL")
    )
    expect("open error findings", dict(errors), {"document.empty": 1})
    return problems


def reconcile_now(settings: Settings, batch: Batch) -> Report:
    """The nightly reconciliation, run at once and without its grace period (nothing may be left pending)."""
    return reconcile(settings, fixity_sample=batch.originals + 10, grace=timedelta(0))
