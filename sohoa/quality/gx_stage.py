"""Great Expectations validation of what sohoa holds: record batches, extracted fields, OCR quality.

What a run does, per suite of ``schemas/gx/``:

1. build a pandas frame from PostgreSQL with no personal data in it (an identity number becomes "passes its
   rules: yes/no", a name is never read);
2. run the suite (:mod:`sohoa.quality.gx_suites`) and publish its Data Docs as static HTML in the derived
   bucket under ``quality/gx/<suite>/<validation id>/`` (private bucket, like everything derived from scans);
3. store the result in ``sohoa.gx_validation`` and summarise each failed expectation as a finding in
   ``quality.issues`` (rule ``meta.rule`` of the suite file; severity ``error`` for a critical expectation,
   ``warning`` otherwise; the detail gives counts, never values);
4. after committing all that, raise :class:`QualityGateFailed` if a critical expectation failed, so the
   Airflow task fails loudly (and is not retried: the data are stored, the feed must be fixed).

Record batches are validated once each, in load order (``target = record_batch:<id>``). Documents and OCR
pages are validated once each too: a run covers the originals that are new or changed since the last run
(``sohoa.ocr_result.gx_checked_at`` is null: new OCR, a person's correction, a re-check after the record
changed; ``target = new``), or all of them on request (``target = all``, ``sohoa quality validate --all``).
A finding of an earlier run closes when the same expectation passes over the next originals: it tells the
state of the feed, and one bad week does not keep the gate red for ever. A failing expectation marks data,
it never removes any.

A critical expectation fails the task only when it was evaluated over at least ``SOHOA_GX_GATE_MIN_ROWS``
rows (default 20): over a batch of four lines one broken line is 25%, which says nothing about a feed. Under
that size the failure is still stored and reported as an error finding.
"""

from __future__ import annotations

import logging
import mimetypes
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2.extras
from minio import Minio

from sohoa.config import Settings
from sohoa.db.connection import Connection, connect
from sohoa.extract.store import effective_fields
from sohoa.quality.gx_suites import SuiteRun, run_suite
from sohoa.quality.issues import Issue, Source, record_issues
from sohoa.records.codes import cccd_problem
from sohoa.storage import s3

log = logging.getLogger(__name__)

DOCS_PREFIX = "quality/gx"
ONLINE_DROP_FACTOR = 0.5  # a batch's online share under half the stored share is a "sudden drop"


class QualityGateFailed(RuntimeError):
    """A critical expectation failed; everything was stored, the operators must look at the feed."""

    def __init__(self, message: str, outcomes: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.outcomes = outcomes or []  # every run of the step, as validate_* returns them


@dataclass(frozen=True)
class ValidationOutcome:
    suite: str
    target: str
    validation_id: int
    success: bool
    critical_failed: bool
    failed_rules: tuple[str, ...]
    data_docs_uri: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "target": self.target,
            "validation_id": self.validation_id,
            "success": self.success,
            "critical_failed": self.critical_failed,
            "failed_rules": list(self.failed_rules),
            "data_docs_uri": self.data_docs_uri,
        }


# --- frames (no personal data) --------------------------------------------------------------------------


def records_frame(conn: Connection, batch_id: int) -> Any:
    """One row per line of a batch, identity numbers reduced to whether they pass their rules."""
    import pandas as pd  # type: ignore[import-untyped,unused-ignore]

    with conn.cursor() as cur:
        cur.execute(
            """SELECT v.line_no, v.ma_ho_so, v.ma_tthc, v.ma_co_quan, v.trang_thai, COALESCE(v.kenh_thuc_hien, 1),
                      v.loai_doi_tuong, v.ngay_tiep_nhan, v.ngay_hen_tra, v.ngay_ket_thuc_xu_ly, v.cap_nhat_luc,
                      CASE WHEN v.so_giay_to IS NULL THEN NULL
                           ELSE NOT EXISTS (SELECT 1 FROM sohoa.issue i
                                             WHERE i.source = 'record' AND i.object_key = b.object_key
                                               AND i.line_no = v.line_no
                                               AND i.rule IN ('record.bad_cccd', 'record.bad_tax_code')) END
                 FROM sohoa.record_version v JOIN sohoa.record_batch b ON b.id = v.batch_id
                WHERE v.batch_id = %s ORDER BY v.line_no""",
            (batch_id,),
        )
        rows = cur.fetchall()
    columns = [
        "line_no",
        "ma_ho_so",
        "ma_tthc",
        "ma_co_quan",
        "trang_thai",
        "kenh_thuc_hien",
        "loai_doi_tuong",
        "ngay_tiep_nhan",
        "ngay_hen_tra",
        "ngay_ket_thuc_xu_ly",
        "cap_nhat_luc",
        "so_giay_to_hop_le",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    for name in ("ngay_tiep_nhan", "ngay_hen_tra", "ngay_ket_thuc_xu_ly", "cap_nhat_luc"):
        frame[name] = pd.to_datetime(frame[name], utc=True)
    for name in ("trang_thai", "kenh_thuc_hien", "loai_doi_tuong"):
        frame[name] = frame[name].astype("Int64")
    frame["so_giay_to_hop_le"] = frame["so_giay_to_hop_le"].astype("object")
    frame["truc_tuyen"] = (frame["kenh_thuc_hien"] == 2).astype(float)
    return frame


def stored_online_share(conn: Connection, before_batch: int) -> float | None:
    """Share of online lines (KenhThucHien 2) among the usable lines of earlier batches; None without history."""
    with conn.cursor() as cur:
        cur.execute(
            """SELECT avg((kenh_thuc_hien = 2)::int) FROM sohoa.record_version
                        WHERE usable AND batch_id < %s""",
            (before_batch,),
        )
        row = cur.fetchone()
    return None if row is None or row[0] is None else float(row[0])


def documents_frame(conn: Connection, shas: list[str] | None = None) -> Any:
    """One row per stored document with OCR text (of the originals ``shas``, or all): what its fields say."""
    import pandas as pd  # type: ignore[import-untyped,unused-ignore]

    with conn.cursor() as cur:
        cur.execute(
            """SELECT d.id, d.ma_ho_so, d.loai, d.sha256 FROM sohoa.document d
                         JOIN sohoa.ocr_result r ON r.sha256 = d.sha256 AND r.status = 'done'
                        WHERE %(all)s OR d.sha256 = ANY(%(shas)s) ORDER BY d.id""",
            {"all": shas is None, "shas": shas or []},
        )
        documents = cur.fetchall()
    rows = []
    for doc_id, ma_ho_so, loai, sha in documents:
        fields = effective_fields(conn, sha)
        code = fields.get("ma_ho_so")
        cccd = fields.get("so_cccd")
        date = fields.get("ngay_van_ban")
        rows.append(
            {
                "document_id": doc_id,
                "loai": loai,
                "co_ma_ho_so": code is not None and code.value is not None,
                "ma_ho_so_khop": None
                if code is None or code.value is None or ma_ho_so is None
                else code.value == ma_ho_so,
                "do_tin_cay_ma_ho_so": None if code is None or code.source == "person" else code.confidence,
                "ngay_van_ban": None if date is None else date.value,
                "so_cccd_hop_le": None
                if cccd is None or cccd.value is None
                else cccd_problem(cccd.value, _today()) is None,
            }
        )
    columns = [
        "document_id",
        "loai",
        "co_ma_ho_so",
        "ma_ho_so_khop",
        "do_tin_cay_ma_ho_so",
        "ngay_van_ban",
        "so_cccd_hop_le",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    for name in ("ma_ho_so_khop", "so_cccd_hop_le", "co_ma_ho_so"):
        frame[name] = frame[name].astype("object")
    frame["do_tin_cay_ma_ho_so"] = frame["do_tin_cay_ma_ho_so"].astype(float)
    return frame


def ocr_frame(conn: Connection, shas: list[str] | None = None) -> Any:
    """One row per page read, plus one per original whose OCR failed (``ocr_ok`` false, no page figures);
    of the originals ``shas``, or of all."""
    import pandas as pd  # type: ignore[import-untyped,unused-ignore]

    with conn.cursor() as cur:
        cur.execute(
            """SELECT p.sha256, p.page_no, p.dpi, p.confidence::float, p.blank, p.rotation, true
                         FROM sohoa.ocr_page p WHERE %(all)s OR p.sha256 = ANY(%(shas)s)
                       UNION ALL
                       SELECT r.sha256, NULL, NULL, NULL, NULL, NULL, false
                         FROM sohoa.ocr_result r
                        WHERE r.status = 'failed' AND (%(all)s OR r.sha256 = ANY(%(shas)s))""",
            {"all": shas is None, "shas": shas or []},
        )
        rows = cur.fetchall()
    frame = pd.DataFrame(rows, columns=["sha256", "page_no", "dpi", "confidence", "blank", "rotation", "ocr_ok"])
    frame["dpi"] = frame["dpi"].astype("Int64")
    frame["rotation"] = frame["rotation"].astype("Int64")
    frame["confidence"] = frame["confidence"].astype(float)
    frame["blank"] = frame["blank"].astype("object")
    frame["ocr_ok"] = frame["ocr_ok"].astype("object")
    return frame.drop(columns=["sha256"])


def _today() -> Any:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()


# --- storing -------------------------------------------------------------------------------------------


def publish_data_docs(client: Minio, settings: Settings, site: Path | None, prefix: str) -> str | None:
    """Upload a Data Docs site (static HTML) under ``prefix``; return the ``s3://`` URI of its index page."""
    if site is None:
        return None
    for path in sorted(p for p in site.rglob("*") if p.is_file()):
        key = f"{prefix}/{path.relative_to(site).as_posix()}"
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if content_type.startswith("text/"):
            content_type += "; charset=utf-8"
        s3.put_file(client, settings.bucket_derived, key, path, content_type)
    return s3.uri(settings.bucket_derived, f"{prefix}/index.html")


def store_run(
    conn: Connection,
    client: Minio,
    settings: Settings,
    run: SuiteRun,
    *,
    target: str,
    source: Source,
    object_key: str | None = None,
    record_batch_id: int | None = None,
) -> ValidationOutcome:
    """Keep a suite run: its row, its Data Docs, its findings (closing those of the same target that passed)."""
    result = {"outcomes": [o.__dict__ for o in run.outcomes]}
    with conn.cursor() as cur:
        cur.execute(
            """INSERT INTO sohoa.gx_validation (suite, target, record_batch_id, success, critical_failed, evaluated,
                                                failed, rows_checked, statistics, result)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id""",
            (
                run.suite,
                target,
                record_batch_id,
                run.success,
                run.critical_failed,
                len(run.outcomes),
                len(run.failed),
                run.rows,
                psycopg2.extras.Json(run.statistics),
                psycopg2.extras.Json(result),
            ),
        )
        row = cur.fetchone()
        assert row is not None
        validation_id = int(row[0])
    uri = publish_data_docs(client, settings, run.docs_dir, f"{DOCS_PREFIX}/{run.suite}/{validation_id}")
    with conn.cursor() as cur:
        cur.execute("UPDATE sohoa.gx_validation SET data_docs_uri = %s WHERE id = %s", (uri, validation_id))
    issues = [
        Issue(
            source,
            o.rule,
            "error" if o.critical else "warning",
            f"{o.summary()} [GX suite {run.suite}; Data Docs in sohoa.gx_validation]",
            object_key=object_key,
            scope=f"{run.suite}|{target}|{o.expectation}|{o.column or ''}",
        )
        for o in run.failed
    ]
    record_issues(conn, issues)
    current = [i.fingerprint() for i in issues]
    rules = sorted({o.rule for o in run.outcomes})
    with conn.cursor() as cur:
        # Findings of an earlier run over the same target close when their expectation passes now.
        cur.execute(
            """UPDATE sohoa.issue SET resolved_at = now()
                WHERE rule = ANY(%s) AND source = %s AND object_key IS NOT DISTINCT FROM %s AND resolved_at IS NULL
                  AND NOT (fingerprint = ANY(%s))""",
            (rules, source, object_key, current),
        )
        cur.execute("UPDATE sohoa.issue SET resolved_at = NULL WHERE fingerprint = ANY(%s)", (current,))
    gate = run.critical_failed and run.rows >= settings.gx_gate_min_rows
    if run.critical_failed and not gate:
        log.warning(
            "GX %s over %s: a critical expectation failed over only %d row(s) (gate from %d): "
            "recorded, the task goes on",
            run.suite,
            target,
            run.rows,
            settings.gx_gate_min_rows,
        )
    outcome = ValidationOutcome(
        run.suite, target, validation_id, run.success, gate, tuple(sorted({o.rule for o in run.failed})), uri
    )
    log.info(
        "GX %s over %s: %s, %d of %d expectation(s) failed; Data Docs %s",
        run.suite,
        target,
        "passed" if run.success else "FAILED",
        len(run.failed),
        len(run.outcomes),
        uri,
    )
    return outcome


def _run_and_store(
    settings: Settings,
    suite: str,
    build: Any,
    *,
    target: str,
    source: Source,
    object_key: str | None = None,
    record_batch_id: int | None = None,
    parameters: dict[str, Any] | None = None,
    mark_checked: list[str] | None = None,
) -> ValidationOutcome:
    client = s3.make_client(settings)
    work = Path(tempfile.mkdtemp(prefix="sohoa-gx-"))
    try:
        with connect(settings) as conn:
            frame = build(conn)
            run = run_suite(suite, frame, parameters=parameters, work_dir=work, target=target)
            outcome = store_run(
                conn,
                client,
                settings,
                run,
                target=target,
                source=source,
                object_key=object_key,
                record_batch_id=record_batch_id,
            )
            if mark_checked:
                with conn.cursor() as cur:
                    cur.execute(
                        "UPDATE sohoa.ocr_result SET gx_checked_at = now() WHERE sha256 = ANY(%s)", (mark_checked,)
                    )
            return outcome
    finally:
        shutil.rmtree(work, ignore_errors=True)


# --- what the DAG calls --------------------------------------------------------------------------------


def unvalidated_batches(conn: Connection) -> list[tuple[int, str]]:
    """Record batches not yet validated by the records suite, in load order."""
    with conn.cursor() as cur:
        cur.execute("""SELECT b.id, b.object_key FROM sohoa.record_batch b
                        WHERE NOT EXISTS (SELECT 1 FROM sohoa.gx_validation g
                                           WHERE g.suite = 'sohoa_records' AND g.record_batch_id = b.id)
                        ORDER BY b.id""")
        return [(int(r[0]), str(r[1])) for r in cur.fetchall()]


def validate_record_batches(settings: Settings) -> list[dict[str, Any]]:
    """Validate every new record batch; raise :class:`QualityGateFailed` at the end if one failed critically."""
    with connect(settings) as conn:
        batches = unvalidated_batches(conn)
    outcomes = []
    for batch_id, key in batches:
        with connect(settings) as conn:
            share = stored_online_share(conn, batch_id)
        minimum = 0.0 if share is None else round(share * ONLINE_DROP_FACTOR, 4)
        outcomes.append(
            _run_and_store(
                settings,
                "records",
                lambda c, b=batch_id: records_frame(c, b),
                target=f"record_batch:{batch_id}",
                source="record",
                object_key=key,
                record_batch_id=batch_id,
                parameters={"min_online_share": minimum},
            )
        )
    _gate(outcomes)
    return [o.as_dict() for o in outcomes]


def unchecked_originals(conn: Connection) -> list[str]:
    """Originals whose OCR result (or fields) changed since the last document validation covered them."""
    with conn.cursor() as cur:
        cur.execute("SELECT sha256 FROM sohoa.ocr_result WHERE gx_checked_at IS NULL ORDER BY sha256")
        return [str(r[0]) for r in cur.fetchall()]


def validate_documents(settings: Settings, *, everything: bool = False) -> list[dict[str, Any]]:
    """Validate the extracted fields and the OCR pages of the new or changed originals (or of all of them).

    Nothing new: no run, an empty list. The originals covered are marked checked in the transaction that
    stores the results, so a crash in between validates them again rather than never.
    """
    with connect(settings) as conn:
        shas = None if everything else unchecked_originals(conn)
    if shas is not None and not shas:
        log.info("GX documents: no new or changed original since the last validation")
        return []
    target = "all" if shas is None else "new"
    outcomes = [
        _run_and_store(settings, "documents", lambda c: documents_frame(c, shas), target=target, source="document"),
        _run_and_store(
            settings, "ocr", lambda c: ocr_frame(c, shas), target=target, source="document", mark_checked=shas
        ),
    ]
    _gate(outcomes)
    return [o.as_dict() for o in outcomes]


def _gate(outcomes: list[ValidationOutcome]) -> None:
    critical = [o for o in outcomes if o.critical_failed]
    if critical:
        lines = "; ".join(
            f"{o.suite} over {o.target}: {', '.join(o.failed_rules)} (Data Docs {o.data_docs_uri})" for o in critical
        )
        raise QualityGateFailed(
            f"critical data-quality expectation(s) failed, data stored and marked: {lines}",
            [o.as_dict() for o in outcomes],
        )
