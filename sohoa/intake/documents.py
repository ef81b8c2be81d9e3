"""Store one scanned component or result from the landing bucket: sniff, check, keep the original.

The original's bytes go unchanged to the raw bucket under a key derived from their SHA-256, then one
transaction records the original, the document and its findings and marks the landing object done. A
crash between the two leaves at most an unreferenced original that the rerun reuses (same key), never
a duplicate. Bad files (unreadable, encrypted, unsupported, empty, too large) are copied to the
quarantine bucket, explained in ``quality.issues``, and the run goes on.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

from minio import Minio

from ocr.errors import (
    BadInput,
    CorruptDocument,
    EmptyDocument,
    EncryptedDocument,
    TooLarge,
    UnsupportedType,
)
from ocr.triage import Limits, inspect
from sohoa.config import Settings
from sohoa.db.connection import Connection
from sohoa.extract.crosscheck import barcode_mismatch
from sohoa.intake import landing
from sohoa.intake.dossier_codes import codes_on_barcodes
from sohoa.intake.landing import LandingKey
from sohoa.quality.issues import Issue, record_issues
from sohoa.storage import s3
from sohoa.storage.s3 import LandingObject

log = logging.getLogger(__name__)

QUARANTINE_RULES: dict[type[BadInput], str] = {
    EncryptedDocument: "document.encrypted",
    CorruptDocument: "document.unreadable",
    UnsupportedType: "document.unsupported_type",
    EmptyDocument: "document.empty",
    TooLarge: "document.too_large",
}


@dataclass(frozen=True)
class DocumentOutcome:
    object_key: str
    status: str  # stored, duplicate, quarantined
    sha256: str
    document_id: int | None = None
    rule: str | None = None


def limits_of(settings: Settings) -> Limits:
    return Limits(
        max_bytes=settings.max_document_bytes,
        max_pages=settings.max_document_pages,
        max_page_megapixels=settings.max_page_megapixels,
        max_page_content_mb=settings.max_page_content_mb,
    )


def ingest_document(
    conn: Connection, client: Minio, settings: Settings, obj: LandingObject, lk: LandingKey
) -> DocumentOutcome:
    """Take in one landing object of kind scan, result or inbox; the caller commits."""
    with tempfile.TemporaryDirectory(prefix="sohoa-doc-") as tmp:
        path = Path(tmp) / "original"
        sha = s3.download(client, settings.bucket_landing, obj.key, path)
        try:
            info = inspect(path, limits=limits_of(settings), name=lk.file_name or "file")
        except BadInput as exc:
            return quarantine(conn, client, settings, obj, lk, path, sha, exc)
        printed = codes_on_barcodes(path, info.mime_type, formats=settings.barcode_formats)
        raw_key = s3.content_key(sha)
        s3.put_immutable(client, settings.bucket_raw, raw_key, path, info.mime_type)
    with conn.cursor() as cur:
        cur.execute(
            """INSERT INTO sohoa.original (sha256, raw_uri, size_bytes, mime_type, page_count, barcode_codes)
               VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (sha256) DO NOTHING""",
            (sha, s3.uri(settings.bucket_raw, raw_key), obj.size, info.mime_type, info.page_count, printed),
        )
    loai = "ket_qua" if lk.kind == "result" else "thanh_phan"
    issues: list[Issue] = []
    ma_ho_so, linked_by = _dossier_of(lk, printed)
    mismatch = barcode_mismatch(lk.ma_ho_so, printed, obj.key, sha) if lk.ma_ho_so is not None else None
    if mismatch is not None:
        issues.append(mismatch)
    kept = _existing_document(conn, ma_ho_so, sha)
    if kept is not None:
        kept_id, kept_key = kept
        issues.append(
            Issue(
                "document",
                "document.duplicate",
                "info",
                f"identical bytes already stored as document {kept_id} ({kept_key})",
                ma_ho_so=ma_ho_so,
                object_key=obj.key,
                scope=obj.etag,
            )
        )
        record_issues(conn, issues)
        landing.mark(conn, obj, lk.kind, "duplicate", sha256=sha, detail=f"duplicate of document {kept_id}")
        return DocumentOutcome(obj.key, "duplicate", sha, kept_id)
    with conn.cursor() as cur:
        cur.execute(
            """INSERT INTO sohoa.document (ma_ho_so, loai, ten_giay_to, landing_key, sha256, linked_by, linked_at)
               VALUES (%s, %s, %s, %s, %s, %s, CASE WHEN %s IS NULL THEN NULL ELSE now() END) RETURNING id""",
            (ma_ho_so, loai, lk.file_name or obj.key, obj.key, sha, linked_by, linked_by),
        )
        row = cur.fetchone()
        assert row is not None
        document_id: int = row[0]
        if ma_ho_so is not None:
            cur.execute("SELECT 1 FROM sohoa.dossier WHERE ma_ho_so = %s", (ma_ho_so,))
            known = cur.fetchone() is not None
    if ma_ho_so is None:
        issues.append(
            Issue(
                "document",
                "document.unassigned",
                "warning",
                f"inbox scan (document {document_id}) is not yet linked to a dossier",
                object_key=obj.key,
                scope=sha,
            )
        )
    elif not known:
        issues.append(
            Issue(
                "document",
                "document.unknown_dossier",
                "warning",
                f"no record of dossier {ma_ho_so} yet; the document waits for it",
                ma_ho_so=ma_ho_so,
                object_key=obj.key,
                scope=sha,
            )
        )
    record_issues(conn, issues)
    landing.mark(conn, obj, lk.kind, "done", sha256=sha)
    return DocumentOutcome(obj.key, "stored", sha, document_id)


def _dossier_of(lk: LandingKey, printed: list[str]) -> tuple[str | None, str | None]:
    """The dossier a new document belongs to and how that is known.

    A folder names the dossier of a scan or result (a differing barcode is flagged, not obeyed: the officer
    chose the folder). An inbox scan takes the code of the barcode on its first page when exactly one dossier
    code is printed there; otherwise it waits for its OCR text or a person.
    """
    if lk.kind != "inbox":
        return lk.ma_ho_so, "folder"
    if len(printed) == 1:
        return printed[0], "barcode"
    return None, None


def _existing_document(conn: Connection, ma_ho_so: str | None, sha: str) -> tuple[int, str] | None:
    with conn.cursor() as cur:
        cur.execute(
            """SELECT id, landing_key FROM sohoa.document
                WHERE sha256 = %s AND ma_ho_so IS NOT DISTINCT FROM %s ORDER BY id LIMIT 1""",
            (sha, ma_ho_so),
        )
        row = cur.fetchone()
    return (row[0], row[1]) if row else None


def quarantine(
    conn: Connection,
    client: Minio,
    settings: Settings,
    obj: LandingObject,
    lk: LandingKey,
    path: Path,
    sha: str,
    error: BadInput,
) -> DocumentOutcome:
    """Keep a bad file in the quarantine bucket and explain why; nothing is lost."""
    rule = next((r for cls, r in QUARANTINE_RULES.items() if isinstance(error, cls)), "document.unreadable")
    s3.put_immutable(client, settings.bucket_quarantine, s3.content_key(sha), path, "application/octet-stream")
    record_issues(
        conn, [Issue("document", rule, "error", str(error), ma_ho_so=lk.ma_ho_so, object_key=obj.key, scope=sha)]
    )
    landing.mark(conn, obj, lk.kind, "quarantined", sha256=sha, detail=rule)
    log.warning("quarantined %s: %s", landing.printable(obj.key), rule)
    return DocumentOutcome(obj.key, "quarantined", sha, rule=rule)


def quarantine_unknown_key(
    conn: Connection, client: Minio, settings: Settings, obj: LandingObject, lk: LandingKey
) -> DocumentOutcome:
    """A key outside the landing contract: kept in quarantine, explained, not ignored."""
    with tempfile.TemporaryDirectory(prefix="sohoa-doc-") as tmp:
        path = Path(tmp) / "original"
        sha = s3.download(client, settings.bucket_landing, obj.key, path)
        s3.put_immutable(client, settings.bucket_quarantine, s3.content_key(sha), path, "application/octet-stream")
    record_issues(
        conn,
        [
            Issue(
                "document",
                "landing.unknown_key",
                "error",
                lk.reason or "unknown key",
                object_key=obj.key,
                scope=obj.etag,
            )
        ],
    )
    landing.mark(conn, obj, "unknown", "quarantined", sha256=sha, detail="landing.unknown_key")
    return DocumentOutcome(obj.key, "quarantined", sha, rule="landing.unknown_key")
