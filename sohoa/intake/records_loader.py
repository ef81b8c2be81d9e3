"""Load one dossier-record batch from the landing bucket into PostgreSQL, in one transaction.

Every line is stored (``sohoa.record_version``), usable or not, with its batch and line number; every
finding becomes a ``quality.issues`` row; the winning state per dossier (greatest ``CapNhatLuc``, then
the later batch, then the later line) is upserted into ``sohoa.dossier``.

Lines go in with ``COPY`` in parts of :data:`PART_LINES` lines, each part's winning states upserted right after
its ``COPY``, while a thread parses the next part: the parse is Python (one core) and the ``COPY`` and the upsert
are the server's work (the other core), so a batch costs about the longer of the two instead of their sum.
Upserting part by part ends in the same rows as one upsert of the whole batch: the winner is decided by a total
order (``CapNhatLuc``, batch, line), compared with what is there.

A batch is identified by the SHA-256 of its bytes: the same batch uploaded again, under any name, is
recorded as a duplicate and changes nothing else.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from typing import TypeVar

from minio import Minio

from sohoa.config import Settings
from sohoa.db.connection import Connection
from sohoa.intake import landing
from sohoa.intake.inbox import link_waiting_inbox
from sohoa.intake.kpi_flags import LineFlags
from sohoa.intake.record_rows import COLUMNS, copy_bytes, issues_of
from sohoa.intake.records_parallel import WORKERS, Job, read_in_workers, worth_workers
from sohoa.quality.issues import Issue, record_issues
from sohoa.records.catalogue import AgencyInfo, Catalogue, ProcedureInfo
from sohoa.records.datetimes import today_in_vietnam
from sohoa.records.parse import jsonl_raw_lines, read_batch
from sohoa.records.validate import Checks
from sohoa.storage.s3 import LandingObject, get_bytes

log = logging.getLogger(__name__)

# Lines per part of a batch (see the module docstring): ~16 MB of COPY text for the national portal's records,
# a fraction of a second of parsing before the server has work, and few enough statements to cost nothing.
PART_LINES = 10_000


@dataclass(frozen=True)
class BatchOutcome:
    object_key: str
    status: str  # "loaded" or "duplicate"
    batch_id: int | None
    lines: int = 0
    usable: int = 0
    unusable: int = 0
    findings: int = 0
    dossiers_changed: int = 0


def batch_format(key: str) -> str:
    if key.endswith(".jsonl.gz"):
        return "jsonl.gz"
    if key.endswith(".csv"):
        return "csv"
    return "jsonl"


def load_catalogue(conn: Connection) -> Catalogue | None:
    """The current catalogues, or None when neither has been uploaded (then nothing is "unknown")."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT ma_tthc, ten_tthc, ma_linh_vuc, ten_linh_vuc, thoi_han_giai_quyet, co_phi_le_phi, "
            "co_ket_qua_giay, toan_trinh FROM sohoa.procedure"
        )
        procedures = {r[0]: ProcedureInfo(*r) for r in cur.fetchall()}
        cur.execute("SELECT ma_co_quan, ten_co_quan, cap, ma_co_quan_cha FROM sohoa.agency")
        agencies = {r[0]: AgencyInfo(*r) for r in cur.fetchall()}
    if not procedures and not agencies:
        return None
    return Catalogue(procedures=procedures, agencies=agencies)


def load_records_object(conn: Connection, client: Minio, settings: Settings, obj: LandingObject) -> BatchOutcome:
    """Load one landing object of kind ``records``; the caller commits."""
    return load_records_bytes(conn, settings, obj, get_bytes(client, settings.bucket_landing, obj.key))


def load_records_bytes(conn: Connection, settings: Settings, obj: LandingObject, data: bytes) -> BatchOutcome:
    """Load the bytes of a record batch that arrived as ``obj``; the caller commits."""
    sha = hashlib.sha256(data).hexdigest()
    with conn.cursor() as cur:
        cur.execute("SELECT id, object_key FROM sohoa.record_batch WHERE sha256 = %s", (sha,))
        existing = cur.fetchone()
    if existing is not None:
        landing.mark(
            conn, obj, "records", "duplicate", sha256=sha, detail=f"same bytes as batch {existing[0]} ({existing[1]})"
        )
        return BatchOutcome(obj.key, "duplicate", existing[0])
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO sohoa.record_batch (object_key, sha256, format) VALUES (%s, %s, %s) RETURNING id",
            (obj.key, sha, batch_format(obj.key)),
        )
        row = cur.fetchone()
        assert row is not None
        batch_id: int = row[0]

    key = settings.secret_pseudonym_key()
    catalogue = load_catalogue(conn)
    issues: list[Issue] = []
    counts = {"lines": 0, "usable": 0}

    def parts_of_lines() -> Generator[tuple[bytes, LineFlags], None, None]:
        part = _Part()
        for line in read_batch(obj.key, data, catalogue=catalogue):
            counts["lines"] += 1
            if line.usable:
                counts["usable"] += 1
                part.flags.add(line)
            issues.extend(issues_of(obj.key, sha, line))
            if part.add(copy_bytes(batch_id, line, key), 1):
                yield part.take()
                part = _Part()
        if part.lines:
            yield part.take()

    def parts_from_workers() -> Generator[tuple[bytes, LineFlags], None, None]:
        # the same bytes, findings and counts as parts_of_lines, read by worker processes in chunks of lines
        job = Job(batch_id, key, obj.key, sha, Checks(catalogue, today_in_vietnam()))
        log.info("batch %s: %d bytes, read by %d worker processes", batch_id, len(data), WORKERS)
        part = _Part()
        for chunk in read_in_workers(jsonl_raw_lines(obj.key, data), job):
            counts["lines"] += chunk.lines
            counts["usable"] += chunk.usable
            issues.extend(chunk.issues)
            part.flags.extend(chunk.flags)
            if part.add(chunk.copy_text, chunk.lines):
                yield part.take()
                part = _Part()
        if part.lines:
            yield part.take()

    workers = worth_workers(obj.key, len(data), settings.records_workers_min_bytes)
    source = parts_from_workers() if workers else parts_of_lines()
    # Memory stays bounded by two parts, whatever the batch size. Closed at once on failure, so that worker
    # processes stop with it; the transaction (the caller's) then holds none of the batch.
    upserted = 0  # the batch's lines up to this number are upserted
    with closing(source), closing(read_ahead(source)) as parts:
        for text, part_flags in parts:
            with conn.cursor() as cur:
                cur.copy_expert(
                    f"COPY sohoa.record_version ({', '.join(COLUMNS)}) FROM STDIN WITH (FORMAT text)",
                    io.BytesIO(text),
                    # one read for the part: each read takes the GIL back from the parsing thread
                    size=max(len(text), 1),
                )
                cur.execute("SELECT max(line_no) FROM sohoa.record_version WHERE batch_id = %s", (batch_id,))
                row = cur.fetchone()
                last = int(row[0]) if row and row[0] is not None else upserted
            upsert_dossiers(conn, batch_id, part_flags, lines=(upserted, last))
            upserted = last
    findings = record_issues(conn, issues)
    with conn.cursor() as cur:  # the dossiers whose state is now this batch's (a part may update another's)
        cur.execute("SELECT count(*) FROM sohoa.dossier WHERE batch_id = %s", (batch_id,))
        row = cur.fetchone()
        changed = int(row[0]) if row else 0
    from sohoa.quality.record_findings import close_superseded_findings  # issue 5: findings of old states

    close_superseded_findings(conn, batch_id)
    unusable = counts["lines"] - counts["usable"]
    with conn.cursor() as cur:
        cur.execute(
            "UPDATE sohoa.record_batch SET line_count = %s, usable_count = %s, unusable_count = %s WHERE id = %s",
            (counts["lines"], counts["usable"], unusable, batch_id),
        )
    resolve_waiting_documents(conn)
    link_waiting_inbox(conn)  # inbox scans whose printed code names a dossier of this batch
    landing.mark(conn, obj, "records", "done", sha256=sha, detail=f"{counts['lines']} lines, {unusable} not usable")
    log.info(
        "batch %s: %d lines (%d not usable), %d findings, %d dossiers changed",
        batch_id,
        counts["lines"],
        unusable,
        findings,
        changed,
    )
    return BatchOutcome(obj.key, "loaded", batch_id, counts["lines"], counts["usable"], unusable, findings, changed)


class _Part:
    """The lines gathered for one part of a batch: their COPY text, in order, and the KPI flags of the usable
    ones (for the KPI input trigger, see :func:`upsert_dossiers`)."""

    def __init__(self) -> None:
        self.texts: list[bytes] = []
        self.flags = LineFlags()
        self.lines = 0

    def add(self, text: bytes, lines: int) -> bool:
        """Add the COPY text of ``lines`` lines; True when the part is full (:data:`PART_LINES`)."""
        self.texts.append(text)
        self.lines += lines
        return self.lines >= PART_LINES

    def take(self) -> tuple[bytes, LineFlags]:
        return b"".join(self.texts), self.flags


_T = TypeVar("_T")


def read_ahead(items: Iterator[_T]) -> Generator[_T, None, None]:
    """The items of ``items``, each next one computed in a thread while the caller works on the current one.

    The iterator always runs in that one thread, one ``next`` at a time; closing this generator waits for a
    ``next`` under way, so ``items`` may be closed right after. Exceptions of ``items`` reach the caller at the
    item they replace. It overlaps the two when the caller's work releases the GIL while it waits, as psycopg2
    does for the whole of a statement.
    """

    def advance() -> tuple[_T] | None:
        for item in items:
            return (item,)
        return None

    with ThreadPoolExecutor(1, thread_name_prefix="read-ahead") as pool:
        pending: Future[tuple[_T] | None] = pool.submit(advance)
        try:
            while (got := pending.result()) is not None:
                pending = pool.submit(advance)
                yield got[0]
        finally:
            pending.cancel()  # one already running is waited for by the pool's shutdown


def upsert_dossiers(conn: Connection, batch_id: int, flags: LineFlags | None, *, lines: tuple[int, int]) -> int:
    """Make the winning usable lines of a part of the batch the current state where they beat what is there.

    ``lines`` (after, to): the part's lines, numbered after ``after`` up to ``to`` (see the module docstring).
    Returns the number of dossiers inserted or updated by this statement.

    ``flags`` (of the batch's usable lines) spare the KPI input trigger, which fires in this statement, its
    costliest work (migration 0016): they are written to ``kpi.dau_vao_co`` first and deleted after it,
    within the caller's transaction. Without them the trigger computes the same inputs itself.
    """
    with conn.cursor() as cur:
        if flags:
            cur.execute(
                "INSERT INTO kpi.dau_vao_co (batch_id, line_no, co) "
                "SELECT %s, u.line_no, u.co FROM unnest(%s::integer[], %s::smallint[]) AS u (line_no, co)",
                (batch_id, *flags.as_arrays()),
            )
        cur.execute(
            """
            INSERT INTO sohoa.dossier AS d (ma_ho_so, batch_id, line_no, cap_nhat_luc)
            SELECT DISTINCT ON (ma_ho_so) ma_ho_so, batch_id, line_no, cap_nhat_luc
              FROM sohoa.record_version
             WHERE batch_id = %s AND line_no > %s AND line_no <= %s AND usable
             ORDER BY ma_ho_so, cap_nhat_luc DESC, line_no DESC
            ON CONFLICT (ma_ho_so) DO UPDATE
               SET batch_id = EXCLUDED.batch_id, line_no = EXCLUDED.line_no,
                   cap_nhat_luc = EXCLUDED.cap_nhat_luc, changed_at = now()
             WHERE (EXCLUDED.cap_nhat_luc, EXCLUDED.batch_id, EXCLUDED.line_no)
                 > (d.cap_nhat_luc, d.batch_id, d.line_no)
            """,
            (batch_id, *lines),
        )
        changed = int(cur.rowcount)
        if flags:
            cur.execute("DELETE FROM kpi.dau_vao_co WHERE batch_id = %s", (batch_id,))
        return changed


def resolve_waiting_documents(conn: Connection) -> None:
    """A scan that arrived before its dossier's record is linked now: close its unknown_dossier finding."""
    with conn.cursor() as cur:
        cur.execute(
            """UPDATE sohoa.issue i SET resolved_at = now()
                WHERE i.rule = 'document.unknown_dossier' AND i.resolved_at IS NULL
                  AND EXISTS (SELECT 1 FROM sohoa.dossier d WHERE d.ma_ho_so = i.ma_ho_so)"""
        )
