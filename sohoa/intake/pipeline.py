"""The ingestion stages as plain functions over settings and object keys (what the DAG tasks call).

Each stage opens its own connection and S3 client and commits one transaction per landing object, so
one bad object never holds back the others and a retried task redoes only what did not commit.
Transient failures (S3 or PostgreSQL unreachable) raise, for Airflow to retry; bad input never raises.
Stages exchange small JSON-able values (keys, etags, hashes): never file contents.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sohoa.config import Settings
from sohoa.db.connection import Connection, connect
from sohoa.intake import landing
from sohoa.intake.landing import classify
from sohoa.storage import s3
from sohoa.storage.s3 import LandingObject

log = logging.getLogger(__name__)

ObjectRef = dict[str, Any]  # {"key", "etag", "size", "last_modified"}: JSON-able, for XCom
ALREADY_DONE = "already_done"  # outcome of an object a previous try committed: left alone


@dataclass
class Plan:
    catalogues: list[ObjectRef] = field(default_factory=list)
    records: list[ObjectRef] = field(default_factory=list)
    documents: list[ObjectRef] = field(default_factory=list)
    unknown: list[ObjectRef] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[ObjectRef]]:
        return asdict(self)

    def for_tasks(self, batch_size: int, *, multiple_of: int = 1) -> dict[str, Any]:
        """What the DAG's tasks are given: catalogues and record batches as listed, and the documents (with the
        unknown keys, which the same stage quarantines) already cut into the batches of the mapped ingest tasks.

        Cutting here, in the planning task, spares the DAG a task of pure computation between the records and
        the first stored document (a task's scheduling and start-up, one after the other, on every run).
        """
        return {
            "catalogues": self.catalogues,
            "records": self.records,
            "document_batches": chunks(self.documents + self.unknown, batch_size, multiple_of=multiple_of),
        }


def to_ref(obj: LandingObject) -> ObjectRef:
    return {
        "key": obj.key,
        "etag": obj.etag,
        "size": obj.size,
        "last_modified": obj.last_modified.isoformat() if obj.last_modified else None,
    }


def from_ref(ref: ObjectRef) -> LandingObject:
    modified = ref.get("last_modified")
    return LandingObject(
        ref["key"], ref["etag"], int(ref["size"]), datetime.fromisoformat(modified) if modified else None
    )


def plan(settings: Settings) -> Plan:
    """Everything new in the landing bucket, sorted into the contract's kinds, in arrival order."""
    client = s3.make_client(settings)
    objects = list(s3.list_objects(client, settings.bucket_landing))
    with connect(settings) as conn:
        new = landing.pending(conn, objects)
    result = Plan()
    for obj in new:
        kind = classify(obj.key).kind
        ref = to_ref(obj)
        if kind == "catalogue":
            result.catalogues.append(ref)
        elif kind == "records":
            result.records.append(ref)
        elif kind in ("scan", "result", "inbox"):
            result.documents.append(ref)
        else:
            result.unknown.append(ref)
    log.info(
        "landing: %d catalogue, %d record batch, %d document and %d unknown object(s) new",
        len(result.catalogues),
        len(result.records),
        len(result.documents),
        len(result.unknown),
    )
    return result


def _committed(conn: Connection, obj: LandingObject) -> tuple[str, str | None] | None:
    """What became of an object that an earlier try of this task (or another run) committed; None if nothing.

    Stages are given their object references once, at planning; a retried task gets the same list, parts of
    which its first try may have committed. Those are skipped (outcome status ``already_done``).
    """
    done = landing.claim(conn, obj)
    if done is not None:
        log.info("landing object already taken in (%s); left alone", done[0])
    return done


def chunks(items: list[Any], size: int, *, multiple_of: int = 1) -> list[list[Any]]:
    """Consecutive chunks of at most ``size`` items, in order.

    With ``multiple_of`` (the cores), as many chunks as the next multiple of it, of sizes at most one apart, so
    that the last round of mapped tasks keeps every core busy: 100 documents in chunks of 20 on 2 cores made a
    fifth task that ran alone after the first four.
    """
    count = -(-len(items) // size)
    if multiple_of <= 1 or count % multiple_of == 0:
        return [items[i : i + size] for i in range(0, len(items), size)]
    count = min(len(items), -(-count // multiple_of) * multiple_of)
    base, extra = divmod(len(items), count)
    out, start = [], 0
    for i in range(count):
        end = start + base + (1 if i < extra else 0)
        out.append(items[start:end])
        start = end
    return out


def load_catalogues(settings: Settings, refs: list[ObjectRef]) -> dict[str, int]:
    from sohoa.intake.catalogue_loader import load_catalogue_object

    client = s3.make_client(settings)
    loaded: dict[str, int] = {}
    for ref in refs:
        obj = from_ref(ref)
        with connect(settings) as conn:
            if _committed(conn, obj) is not None:
                continue
            loaded[ref["key"]] = load_catalogue_object(conn, client, settings, obj)
    return loaded


def load_records(settings: Settings, refs: list[ObjectRef]) -> list[dict[str, Any]]:
    """Load record batches in arrival order (the order decides ties between equal CapNhatLuc)."""
    from sohoa.intake.records_loader import BatchOutcome, load_records_object

    client = s3.make_client(settings)
    outcomes = []
    for ref in refs:
        obj = from_ref(ref)
        with connect(settings) as conn:
            if _committed(conn, obj) is not None:
                outcomes.append(asdict(BatchOutcome(obj.key, ALREADY_DONE, None)))
                continue
            outcomes.append(asdict(load_records_object(conn, client, settings, obj)))
    return outcomes


def ingest_documents(settings: Settings, refs: list[ObjectRef]) -> list[dict[str, Any]]:
    from sohoa.intake.documents import DocumentOutcome, ingest_document, quarantine_unknown_key

    client = s3.make_client(settings)
    outcomes = []
    for ref in refs:
        obj = from_ref(ref)
        lk = classify(obj.key)
        with connect(settings) as conn:
            if (done := _committed(conn, obj)) is not None:
                outcomes.append(asdict(DocumentOutcome(obj.key, ALREADY_DONE, done[1] or "")))
                continue
            if lk.kind in ("scan", "result", "inbox"):
                outcome = ingest_document(conn, client, settings, obj, lk)
            else:
                outcome = quarantine_unknown_key(conn, client, settings, obj, lk)
        outcomes.append(asdict(outcome))
    return outcomes


def ocr_pending(settings: Settings) -> list[str]:
    from sohoa.intake.ocr_stage import pending_originals

    with connect(settings) as conn:
        return pending_originals(conn)


def ocr_batches(settings: Settings, *, max_pages: int = 24, max_files: int = 8, slots: int = 1) -> list[list[str]]:
    """The originals waiting for OCR, in bounded batches for mapped tasks: at most ``max_pages`` pages and
    ``max_files`` files each (a file with more pages than that is a batch of its own), oldest first.

    Bounded by pages, not files, so that one task's duration is predictable whatever the mix of one-page
    photos and fifty-page PDFs: short enough to retry cheaply, long enough that start-up is amortised.

    With ``slots`` (how many OCR tasks run at once: the ``sohoa_ocr`` pool), the work is then cut into a
    multiple of ``slots`` batches of about equal pages, so that the last round of tasks ends together instead
    of one task running alone while the other slots idle (on 2 cores, 25 batches of 20 pages left one core
    idle for a whole batch at the end).
    """
    from sohoa.intake.ocr_stage import pending_pages

    with connect(settings) as conn:
        pending = pending_pages(conn)
    batches = _cut_by_pages(pending, max_pages, max_files)
    rounds = -(-len(batches) // max(1, slots))
    if slots > 1 and len(batches) % slots:
        batches = _cut_evenly(pending, rounds * slots)
    return batches


def _cut_by_pages(pending: list[tuple[str, int]], max_pages: int, max_files: int) -> list[list[str]]:
    """Consecutive batches of at most ``max_pages`` pages and ``max_files`` files (a bigger file alone)."""
    batches: list[list[str]] = []
    current: list[str] = []
    pages = 0
    for sha, count in pending:
        if current and (pages + count > max_pages or len(current) >= max_files):
            batches.append(current)
            current, pages = [], 0
        current.append(sha)
        pages += count
    if current:
        batches.append(current)
    return batches


def _cut_evenly(pending: list[tuple[str, int]], n: int) -> list[list[str]]:
    """Up to ``n`` consecutive batches of about equal pages: each cut falls on the file boundary nearest to its
    share of the pages (arrival order is kept; no batch is empty)."""
    total = sum(count for _, count in pending)
    batches: list[list[str]] = []
    current: list[str] = []
    done = 0
    for i, (sha, count) in enumerate(pending):
        current.append(sha)
        done += count
        target = total * (len(batches) + 1) / n
        left = len(pending) - i - 1
        # Cut here when this boundary is nearer the target than the next one would be, keeping a file for each
        # batch still to come.
        next_count = pending[i + 1][1] if left else 0
        if left and len(batches) < n - 1 and abs(done - target) <= abs(done + next_count - target):
            batches.append(current)
            current = []
    if current:
        batches.append(current)
    return batches


def ocr_originals(settings: Settings, shas: list[str]) -> list[dict[str, Any]]:
    from sohoa.intake.ocr_stage import ocr_original

    client = s3.make_client(settings)
    outcomes = []
    for sha in shas:
        with connect(settings) as conn:
            outcomes.append(asdict(ocr_original(conn, client, settings, sha)))
    return outcomes


def run_all(settings: Settings) -> dict[str, Any]:
    """The whole ingestion without Airflow, in the DAG's order (for tests and one-off use)."""
    p = plan(settings)
    summary: dict[str, Any] = {
        "catalogues": load_catalogues(settings, p.catalogues),
        "records": load_records(settings, p.records),
        "documents": ingest_documents(settings, p.documents + p.unknown),
    }
    summary["ocr"] = ocr_originals(settings, ocr_pending(settings))
    return summary
