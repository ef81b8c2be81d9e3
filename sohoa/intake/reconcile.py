"""Nightly reconciliation of the landing, raw, quarantine and derived buckets with the database, and fixity.

What it compares, what it repairs by itself (only what can be redone from data sohoa still holds, never by
deleting anything), and what it reports in ``quality.issues`` for a person:

- ``landing.unprocessed`` (warning): a landing object not committed long after it arrived. No repair: the next
  ingest run takes it; reported so that a stuck feed is seen.
- ``document.missing_original`` (error): an original on record whose raw object is missing or has another size.
  Copied again from a landing object with the same SHA-256 when one is still there.
- ``document.orphan_original`` (info): a raw object no original row refers to (a run stopped between writing and
  committing). Kept, never deleted: the rerun that commits reuses it.
- ``document.missing_quarantine_copy`` (error): a quarantined file whose copy is missing. Copied again from
  landing when still there.
- ``document.missing_derived`` (warning): an OCR result whose derived artefacts are missing. The OCR result is
  dropped, so the next ingest run rebuilds it from the original.
- ``document.fixity_failed`` (error): a stored original whose bytes no longer hash to its SHA-256. Copied again
  from a landing object with the right bytes when one is there.

Fixity re-reads a sample of originals each run, the least recently checked first, so the whole store is covered
over successive nights. A finding that is not found again is resolved (``resolved_at``).
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg2.extras
from minio import Minio

from sohoa.config import Settings
from sohoa.db.connection import Connection, connect
from sohoa.quality.issues import Issue, Severity, record_issues
from sohoa.storage import s3
from sohoa.storage.s3 import LandingObject

log = logging.getLogger(__name__)

RULES = (
    "landing.unprocessed",
    "document.missing_original",
    "document.orphan_original",
    "document.missing_quarantine_copy",
    "document.missing_derived",
    "document.fixity_failed",
)
DERIVED_NAMES = ("text.txt", "searchable.pdf", "pages.json")


@dataclass
class Report:
    """What one reconciliation saw, repaired and left for a person."""

    landing_objects: int = 0
    raw_objects: int = 0
    originals: int = 0
    fixity_checked: int = 0
    fixity_failed: int = 0
    repaired: dict[str, int] = field(default_factory=dict)
    problems: dict[str, int] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        """True when nothing is left for a person (orphans that a rerun will adopt aside)."""
        return not {k: v for k, v in self.problems.items() if k != "document.orphan_original" and v}

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "clean": self.clean}


class _Run:
    def __init__(self, conn: Connection, client: Minio, settings: Settings, grace: timedelta) -> None:
        self.conn, self.client, self.settings = conn, client, settings
        self.cutoff = datetime.now(UTC) - grace
        self.report = Report()
        self.issues: list[Issue] = []

    def problem(
        self,
        rule: str,
        detail: str,
        *,
        key: str | None,
        scope: str,
        ma_ho_so: str | None = None,
        severity: Severity = "error",
    ) -> None:
        self.report.problems[rule] = self.report.problems.get(rule, 0) + 1
        self.issues.append(
            Issue(
                "document",
                rule,
                severity,
                detail,
                ma_ho_so=ma_ho_so,
                object_key=key,
                scope=scope,
            )
        )

    def repaired(self, what: str) -> None:
        self.report.repaired[what] = self.report.repaired.get(what, 0) + 1

    def rows(self, sql: str, *args: object) -> list[tuple[object, ...]]:
        with self.conn.cursor() as cur:
            cur.execute(sql, args)
            return list(cur.fetchall())


def reconcile(settings: Settings, *, fixity_sample: int = 100, grace: timedelta = timedelta(hours=1)) -> Report:
    """Compare the buckets with the database, repair what is safe, record the rest; one run, logged."""
    client = s3.make_client(settings)
    with connect(settings) as conn:
        run = _Run(conn, client, settings, grace)
        with conn.cursor() as cur:
            cur.execute("INSERT INTO sohoa.reconciliation_run DEFAULT VALUES RETURNING id")
            row = cur.fetchone()
            assert row is not None
            run_id = row[0]
        conn.commit()
        landing_by_sha = _check_landing(run)
        _check_originals(run, landing_by_sha)
        _check_quarantine(run)
        _check_derived(run)
        _check_fixity(run, landing_by_sha, fixity_sample)
        record_issues(conn, run.issues)
        _resolve_gone(conn, run.issues)
        r = run.report
        with conn.cursor() as cur:
            cur.execute(
                """UPDATE sohoa.reconciliation_run
                      SET finished_at = now(), landing_objects = %s, raw_objects = %s, originals = %s,
                          repaired = %s, problems = %s, fixity_checked = %s, fixity_failed = %s
                    WHERE id = %s""",
                (
                    r.landing_objects,
                    r.raw_objects,
                    r.originals,
                    psycopg2.extras.Json(r.repaired),
                    psycopg2.extras.Json(r.problems),
                    r.fixity_checked,
                    r.fixity_failed,
                    run_id,
                ),
            )
        conn.commit()
    log.info(
        "reconciliation %s: repaired %s, problems %s, fixity %d checked %d failed",
        run_id,
        r.repaired,
        r.problems,
        r.fixity_checked,
        r.fixity_failed,
    )
    return r


def _check_landing(run: _Run) -> dict[str, LandingObject]:
    """Landing objects not committed after the grace period; returns the committed ones by SHA-256."""
    objects = list(s3.list_objects(run.client, run.settings.bucket_landing))
    run.report.landing_objects = len(objects)
    committed = {
        (str(k), str(e)): str(s) if s else None
        for k, e, s in run.rows("SELECT object_key, etag, sha256 FROM sohoa.landing_object")
    }
    by_sha: dict[str, LandingObject] = {}
    for obj in objects:
        key = (obj.key, obj.etag)
        if key in committed:
            sha = committed[key]
            if sha:
                by_sha.setdefault(sha, obj)
        elif obj.last_modified is not None and obj.last_modified < run.cutoff:
            run.problem(
                "landing.unprocessed",
                f"in the landing bucket since {obj.last_modified:%Y-%m-%d %H:%M} UTC and not yet ingested",
                key=obj.key,
                scope=obj.etag,
                severity="warning",
            )
    return by_sha


def _check_originals(run: _Run, landing_by_sha: dict[str, LandingObject]) -> None:
    raw = {o.key: o for o in s3.list_objects(run.client, run.settings.bucket_raw)}
    run.report.raw_objects = len(raw)
    originals = run.rows("SELECT sha256, raw_uri, size_bytes FROM sohoa.original")
    run.report.originals = len(originals)
    referenced = set()
    for sha, uri, size in originals:
        key = str(uri).split("/", 3)[3]
        referenced.add(key)
        stored = raw.get(key)
        if stored is not None and stored.size == size:
            continue
        if _restore(run, str(sha), run.settings.bucket_raw, key, landing_by_sha):
            run.repaired("original_restored_from_landing")
        else:
            run.problem(
                "document.missing_original",
                "the original is missing from the raw bucket or has "
                "another size, and no landing copy is left to restore it",
                key=key,
                scope=str(sha),
            )
    for key, obj in raw.items():
        if key not in referenced and obj.last_modified is not None and obj.last_modified < run.cutoff:
            run.problem(
                "document.orphan_original",
                "stored original with no database record (a run stopped between writing and committing); kept",
                key=key,
                scope=obj.etag,
                severity="info",
            )


def _check_quarantine(run: _Run) -> None:
    rows = run.rows(
        "SELECT object_key, sha256 FROM sohoa.landing_object WHERE status = 'quarantined' AND sha256 IS NOT NULL"
    )
    if not rows:
        return
    held = {o.key for o in s3.list_objects(run.client, run.settings.bucket_quarantine)}
    landing = {o.key: o for o in s3.list_objects(run.client, run.settings.bucket_landing)}
    for landing_key, sha in rows:
        key = s3.content_key(str(sha))
        if key in held:
            continue
        source = landing.get(str(landing_key))
        if source is not None and _restore(run, str(sha), run.settings.bucket_quarantine, key, {str(sha): source}):
            run.repaired("quarantine_copy_restored")
        else:
            run.problem(
                "document.missing_quarantine_copy",
                "the quarantined file's copy is missing and the landing object is gone",
                key=str(landing_key),
                scope=str(sha),
            )


def _check_derived(run: _Run) -> None:
    present: set[str] = {o.key for o in s3.list_objects(run.client, run.settings.bucket_derived, "ocr/")}
    for (sha,) in run.rows("SELECT sha256 FROM sohoa.ocr_result WHERE status = 'done'"):
        prefix = s3.derived_prefix(str(sha))
        missing = [n for n in DERIVED_NAMES if prefix + n not in present]
        if not missing:
            continue
        with run.conn.cursor() as cur:  # derived artefacts are rebuildable: let the next run redo the OCR
            cur.execute("DELETE FROM sohoa.ocr_page WHERE sha256 = %s", (sha,))
            cur.execute("DELETE FROM sohoa.ocr_result WHERE sha256 = %s", (sha,))
        run.conn.commit()
        run.repaired("ocr_scheduled_again")
        run.problem(
            "document.missing_derived",
            f"derived artefact(s) {', '.join(missing)} were missing; OCR scheduled again",
            key=prefix,
            scope=str(sha),
            severity="warning",
        )


def _check_fixity(run: _Run, landing_by_sha: dict[str, LandingObject], sample: int) -> None:
    rows = run.rows(
        """SELECT sha256, raw_uri FROM sohoa.original
            ORDER BY fixity_checked_at ASC NULLS FIRST, stored_at LIMIT %s""",
        sample,
    )
    for sha, uri in rows:
        key = str(uri).split("/", 3)[3]
        actual = s3.sha256_of(run.client, run.settings.bucket_raw, key)
        if actual is None:
            continue  # reported above as a missing original
        ok = actual == sha
        run.report.fixity_checked += 1
        if not ok:
            run.report.fixity_failed += 1
            if _restore(run, str(sha), run.settings.bucket_raw, key, landing_by_sha):
                run.repaired("original_restored_after_fixity_failure")
                ok = True
            else:
                run.problem(
                    "document.fixity_failed",
                    "the stored original no longer hashes to its SHA-256 and no landing copy is left to restore it",
                    key=key,
                    scope=str(sha),
                )
        with run.conn.cursor() as cur:
            cur.execute(
                "UPDATE sohoa.original SET fixity_checked_at = now(), fixity_ok = %s WHERE sha256 = %s", (ok, sha)
            )
        run.conn.commit()


def _restore(run: _Run, sha: str, bucket: str, key: str, landing_by_sha: dict[str, LandingObject]) -> bool:
    """Copy the bytes with this SHA-256 from a landing object back to ``bucket/key``, after checking them."""
    source = landing_by_sha.get(sha)
    if source is None:
        return False
    with tempfile.TemporaryDirectory(prefix="sohoa-restore-") as tmp:
        path = Path(tmp) / "copy"
        if s3.download(run.client, run.settings.bucket_landing, source.key, path) != sha:
            return False  # the landing object changed since: not the bytes we need
        s3.put_file(run.client, bucket, key, path, "application/octet-stream")
    log.info("restored %s/%s from landing", bucket, key)
    return True


def _resolve_gone(conn: Connection, found: list[Issue]) -> None:
    """Resolve earlier reconciliation findings that this run no longer sees."""
    with conn.cursor() as cur:
        cur.execute(
            """UPDATE sohoa.issue SET resolved_at = now()
                WHERE rule = ANY(%s) AND resolved_at IS NULL AND NOT (fingerprint = ANY(%s))""",
            (list(RULES), [i.fingerprint() for i in found]),
        )
