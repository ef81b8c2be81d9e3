"""The ingestion stages as plain functions over settings and object keys (what the DAG tasks call).

Each stage opens its own connection and S3 client and commits one transaction per landing object, so
one bad object never holds back the others and a retried task redoes only what did not commit.
Transient failures (S3 or PostgreSQL unreachable) raise, for Airflow to retry; bad input never raises.
Stages exchange small JSON-able values (keys, etags, hashes): never file contents.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sohoa.config import Settings
from sohoa.db.connection import Connection, connect, reused
from sohoa.intake import landing
from sohoa.intake.landing import classify
from sohoa.storage import s3
from sohoa.storage.s3 import LandingObject

log = logging.getLogger(__name__)

# At most this many mapped tasks per expansion: Airflow refuses to map more than [core] max_map_length (1,024 by
# default) and fails the task that pushed the list, so a backlog larger than that is left for the next run.
MAX_MAPPED = 1000

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

    def for_tasks(self, batch_size: int, *, multiple_of: int = 1, max_batches: int = MAX_MAPPED) -> dict[str, Any]:
        """What the DAG's tasks are given: catalogues and record batches as listed, and the documents (with the
        unknown keys, which the same stage quarantines) already cut into the batches of the mapped ingest tasks.

        Cutting here, in the planning task, spares the DAG a task of pure computation between the records and
        the first stored document (a task's scheduling and start-up, one after the other, on every run).
        At most ``max_batches`` batches (:data:`MAX_MAPPED`): a larger landing (a backfill) is taken in by
        successive runs, oldest first; what is left waits in the landing bucket, unmarked, for the next run.
        """
        batches = chunks(self.documents + self.unknown, batch_size, multiple_of=multiple_of)
        return {
            "catalogues": self.catalogues,
            "records": self.records,
            "document_batches": _first_batches(batches, max_batches, "landing objects"),
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


def _first_batches(batches: list[list[Any]], max_batches: int, what: str) -> list[list[Any]]:
    """The first ``max_batches`` batches; logs how many items are left for the next run (their count only)."""
    if len(batches) <= max_batches:
        return batches
    left = sum(len(b) for b in batches[max_batches:])
    log.warning("%d %s wait for the next run: one run maps at most %d tasks", left, what, max_batches)
    return batches[:max_batches]


def chunks(items: list[Any], size: int, *, multiple_of: int = 1) -> list[list[Any]]:
    """Consecutive chunks of at most ``size`` items, in order.

    With ``multiple_of`` (the cores), as many chunks as the next multiple of it, of sizes at most one apart, so
    that the last round of mapped tasks keeps every core busy: 100 documents in chunks of 20 on 2 cores made a
    fifth task that ran alone after the first four. (:func:`cut` with every item of weight 1.)
    """
    return [items[a:b] for a, b in cut([1] * len(items), max_items=size, multiple_of=multiple_of)]


def cut(
    weights: Sequence[float],
    *,
    max_weight: float | None = None,
    max_items: int | None = None,
    multiple_of: int = 1,
    last_round: float = 1.0,
) -> list[tuple[int, int]]:
    """Cut items of the given weights into consecutive batches, as ``(start, end)`` index ranges, in order.

    Every batch holds at most ``max_items`` items and ``max_weight`` of weight (an item heavier than that is a
    batch of its own): the bound always holds. The fewest batches that keep it are taken first; when
    ``multiple_of`` (the slots that run the batches at once) is more than 1 and that count is not a multiple of
    it, or ``last_round`` is below 1, the items are cut again into the next multiple of it (never more batches
    than items), of about equal weight: each cut falls on the item boundary nearest to its share of the weight
    left (after each cut, the rest is shared again), within the bound. ``last_round`` is the share of each batch
    of the last round (the last ``multiple_of`` batches) against the others: batches start in order, so with
    smaller ones last the slots end closer together whatever the speed of each item (in list scheduling the
    idle tail is at most the last batch to start).

    A cut is taken only where the items after it still fit in the batches left (the fewest batches each suffix
    needs is known beforehand), and forced where the next item would break the bound, or where every batch
    left needs one of the items left: so the bound is kept and, when re-cut, the count is exact.
    """
    n = len(weights)
    heavy = max_weight if max_weight is not None else float("inf")
    most = max_items if max_items is not None else n or 1
    # reach[i]: the end of the longest batch that starts at item i and keeps the bound (at least one item).
    reach = [0] * n
    end, total_in = 0, 0.0
    for i in range(n):
        if end < i + 1:
            end, total_in = i + 1, weights[i]
        while end < n and end - i < most and total_in + weights[end] <= heavy:
            total_in += weights[end]
            end += 1
        reach[i] = end
        total_in -= weights[i]
    # fewest[i]: the fewest batches items i.. need (greedy, longest first batch, is optimal for consecutive
    # batches); fewest[n] = 0.
    fewest = [0] * (n + 1)
    for i in range(n - 1, -1, -1):
        fewest[i] = 1 + fewest[reach[i]]
    greedy, i = [], 0
    while i < n:
        greedy.append((i, reach[i]))
        i = reach[i]
    slots = max(1, multiple_of)
    if n == 0 or slots == 1 or (len(greedy) % slots == 0 and last_round == 1.0):
        return greedy
    count = min(n, -(-len(greedy) // slots) * slots)
    shares = [1.0] * (count - min(slots, count)) + [last_round] * min(slots, count)
    total = float(sum(weights))
    out: list[tuple[int, int]] = []
    start, done = 0, 0.0
    target = total * shares[0] / sum(shares)
    for i in range(n):
        done += weights[i]
        if i == n - 1:
            break
        closed = len(out) + 1  # batches closed if we cut after item i
        left = count - closed  # batches still to come after the cut
        if left <= 0:
            continue
        must = reach[start] == i + 1 or n - i - 1 == left
        may = fewest[i + 1] <= left
        near = abs(done - target) <= abs(done + weights[i + 1] - target)
        if must or (may and near):
            out.append((start, i + 1))
            start = i + 1
            # The next batch's share of what is left (a forced cut moves the rest, not just one batch).
            target = done + (total - done) * shares[len(out)] / sum(shares[len(out) :])
    out.append((start, n))
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
    with reused(settings) as conn:
        for ref in refs:
            obj = from_ref(ref)
            lk = classify(obj.key)
            with conn:  # one transaction per object: its data and its landing mark commit together
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


def ocr_batches(
    settings: Settings,
    *,
    max_pages: int = 24,
    max_files: int = 8,
    slots: int = 1,
    last_round: float = 0.5,
    max_batches: int = MAX_MAPPED,
) -> list[list[str]]:
    """The originals waiting for OCR, in bounded batches for mapped tasks: at most ``max_pages`` pages and
    ``max_files`` files each (a file with more pages than that is a batch of its own), oldest first.

    Bounded by pages, not files, so that one task's duration is predictable whatever the mix of one-page
    photos and fifty-page PDFs: short enough to retry cheaply, long enough that start-up is amortised.

    With ``slots`` (how many OCR tasks run at once: the ``sohoa_ocr`` pool), the work is cut into a multiple of
    ``slots`` batches of about equal pages, the last round's batches of ``last_round`` of the others' pages,
    within the same bounds (:func:`cut`): on 2 cores, 25 batches of 20 pages left one core idle for a whole
    batch at the end, and 14 equal batches still ended up to half a batch apart, because pages do not take
    equal time (phone photos and rotated pages are slower; triage cannot tell them apart cheaply).

    At most ``max_batches`` batches, the oldest work first: a backlog beyond that (tens of thousands of pages,
    e.g. a province's first import) waits for the next run instead of making the mapped task fail.
    """
    from sohoa.intake.ocr_stage import pending_pages

    with connect(settings) as conn:
        pending = pending_pages(conn)
    ranges = cut(
        [pages for _, pages in pending],
        max_weight=max_pages,
        max_items=max_files,
        multiple_of=slots,
        last_round=last_round,
    )
    return _first_batches([[sha for sha, _ in pending[a:b]] for a, b in ranges], max_batches, "originals to OCR")


def ocr_originals(settings: Settings, shas: list[str]) -> list[dict[str, Any]]:
    from sohoa.intake.ocr_stage import ocr_original

    client = s3.make_client(settings)
    outcomes = []
    with reused(settings) as conn:
        for sha in shas:
            with conn:  # one transaction per original: its OCR, findings and fields commit together
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
