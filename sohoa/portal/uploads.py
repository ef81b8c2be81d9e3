"""Uploads from the portal into the landing bucket, and what became of each file.

Object keys follow the landing contract (contracts/inputs.md) and carry no personal data: an officer's file
``Nguyễn Văn A - CCCD.pdf`` for dossier ``000.00.32.H19-210708-0032`` lands as
``scans/000.00.32.H19-210708-0032/portal-<upload id>-<file id>.pdf``; the original name stays in
``portal.upload_file`` (shown to authorised users only). The extension is kept for people browsing the
bucket; the pipeline types files by their bytes, never by name.

A ZIP (by name *and* by its bytes) is spooled to a temporary file, because its directory sits at the end, and
each member is streamed to its own key; folders inside are flattened, hidden files (``__MACOSX``,
``.DS_Store``) skipped, and the number of members and their expanded size are limited (zip bombs).
"""

from __future__ import annotations

import re
import secrets
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Literal

from sohoa.db.connection import Connection
from sohoa.portal.users import User

Target = Literal["dossier", "inbox"]
_EXTENSION = re.compile(r"^[a-z0-9]{1,5}$")
# A dossier code must be usable as one key segment; sector systems number their own way, so the national
# pattern is not required here (the record validation flags a bad code).
_DOSSIER_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class UploadError(ValueError):
    """An upload request the portal refuses; the message says why (and names the file, not its content)."""


@dataclass(frozen=True)
class Upload:
    id: int
    public_id: str
    user_id: int
    ma_co_quan: str | None
    target: Target
    ma_ho_so: str | None
    created_at: datetime
    finished_at: datetime | None
    trigger_status: str | None

    @property
    def prefix(self) -> str:
        return f"scans/{self.ma_ho_so}/" if self.target == "dossier" else "inbox/"


def check_dossier_code(code: str) -> str:
    code = code.strip()
    if not _DOSSIER_CODE.match(code):
        raise UploadError("mã hồ sơ không hợp lệ (invalid dossier code): chỉ chữ, số, '.', '-', '_', tối đa 64 ký tự")
    return code


def may_upload_for(user: User, ma_ho_so: str, record_agency: str | None) -> bool:
    """An officer uploads for their own agency's dossiers: the record's agency when the record is known,
    else the agency part of the national code (``<agency>-<YYMMDD>-<NNNN>``)."""
    if user.is_reviewer:
        return True
    agency = record_agency if record_agency is not None else ma_ho_so.split("-", 1)[0]
    return agency == user.ma_co_quan


def extension_of(name: str) -> str:
    suffix = PurePosixPath(name).suffix.lower().lstrip(".")
    return suffix if _EXTENSION.match(suffix) else "bin"


def is_zip_name(name: str) -> bool:
    return name.lower().endswith(".zip")


def looks_like_zip(head: bytes) -> bool:
    return head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06")


_UPLOAD_COLUMNS = "id, public_id, user_id, ma_co_quan, target, ma_ho_so, created_at, finished_at, trigger_status"


def create_upload(conn: Connection, user: User, target: Target, ma_ho_so: str | None) -> Upload:
    with conn.cursor() as cur:
        cur.execute(
            f"""INSERT INTO portal.upload (public_id, user_id, ma_co_quan, target, ma_ho_so)
                VALUES (%s, %s, %s, %s, %s) RETURNING {_UPLOAD_COLUMNS}""",
            (secrets.token_hex(6), user.id, user.ma_co_quan, target, ma_ho_so if target == "dossier" else None),
        )
        row = cur.fetchone()
    assert row is not None
    return Upload(*row)


def get_upload(conn: Connection, public_id: str) -> Upload | None:
    with conn.cursor() as cur:
        cur.execute(f"SELECT {_UPLOAD_COLUMNS} FROM portal.upload WHERE public_id = %s", (public_id,))
        row = cur.fetchone()
    return Upload(*row) if row else None


def may_see_upload(user: User, upload: Upload) -> bool:
    """Reviewers see every upload; an officer sees the uploads of their agency."""
    return user.is_reviewer or (upload.ma_co_quan is not None and upload.ma_co_quan == user.ma_co_quan)


def list_uploads(conn: Connection, user: User, limit: int = 50) -> list[tuple[Upload, int]]:
    """Recent uploads visible to the user, with their file counts."""
    where, params = ("", ()) if user.is_reviewer else ("WHERE u.ma_co_quan = %s", (user.ma_co_quan,))
    with conn.cursor() as cur:
        cur.execute(
            f"""SELECT {", ".join("u." + c.strip() for c in _UPLOAD_COLUMNS.split(","))},
                       (SELECT count(*) FROM portal.upload_file f WHERE f.upload_id = u.id)
                  FROM portal.upload u {where} ORDER BY u.created_at DESC LIMIT %s""",
            (*params, limit),
        )
        return [(Upload(*r[:9]), int(r[9])) for r in cur.fetchall()]


def count_files(conn: Connection, upload: Upload) -> int:
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM portal.upload_file WHERE upload_id = %s", (upload.id,))
        row = cur.fetchone()
    return int(row[0]) if row else 0


def reserve_file(conn: Connection, upload: Upload, original_name: str) -> tuple[int, str]:
    """Reserve a file row and its object key before the bytes flow; returns (file id, key)."""
    with conn.cursor() as cur:
        cur.execute("SELECT nextval(pg_get_serial_sequence('portal.upload_file', 'id'))")
        row = cur.fetchone()
        assert row is not None
        file_id = int(row[0])
        key = f"{upload.prefix}portal-{upload.public_id}-{file_id}.{extension_of(original_name)}"
        cur.execute(
            """INSERT INTO portal.upload_file (id, upload_id, object_key, original_name, status)
               VALUES (%s, %s, %s, %s, 'uploading')""",
            (file_id, upload.id, key, original_name[:500]),
        )
    return file_id, key


def finish_file(conn: Connection, file_id: int, *, size: int | None, error: str | None) -> None:
    with conn.cursor() as cur:
        cur.execute(
            "UPDATE portal.upload_file SET status = %s, size_bytes = %s, error = %s WHERE id = %s",
            ("rejected" if error else "stored", size, error, file_id),
        )


def record_rejection(conn: Connection, upload: Upload, original_name: str, error: str) -> None:
    """A file refused before any byte was stored (too many files...): listed with its reason all the same."""
    file_id, _ = reserve_file(conn, upload, original_name)
    finish_file(conn, file_id, size=None, error=error)


def mark_finished(conn: Connection, upload: Upload, trigger_status: str) -> None:
    with conn.cursor() as cur:
        cur.execute(
            "UPDATE portal.upload SET finished_at = COALESCE(finished_at, now()), trigger_status = %s WHERE id = %s",
            (trigger_status, upload.id),
        )


@dataclass(frozen=True)
class ZipMember:
    info: zipfile.ZipInfo

    @property
    def name(self) -> str:
        return PurePosixPath(self.info.filename).name


def zip_members(path: Path, *, max_members: int, max_expanded_bytes: int, zip_name: str) -> list[ZipMember]:
    """The files inside a ZIP worth uploading; raises UploadError naming the ZIP and the reason."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise UploadError(f"{zip_name}: tệp ZIP hỏng (corrupt ZIP: {exc})") from exc
    members = [ZipMember(i) for i in infos if not i.is_dir() and not _hidden(i.filename)]
    if any(i.flag_bits & 0x1 for i in infos):
        raise UploadError(f"{zip_name}: ZIP có mật khẩu, không mở được (encrypted ZIP)")
    if len(members) > max_members:
        raise UploadError(f"{zip_name}: quá {max_members} tệp trong ZIP (more than {max_members} files)")
    expanded = sum(m.info.file_size for m in members)
    if expanded > max_expanded_bytes:
        raise UploadError(
            f"{zip_name}: giải nén quá {max_expanded_bytes // (1024 * 1024)} MB (expands beyond the limit)"
        )
    if not members:
        raise UploadError(f"{zip_name}: ZIP không có tệp nào (empty ZIP)")
    return members


def _hidden(name: str) -> bool:
    return any(part.startswith(".") or part == "__MACOSX" for part in PurePosixPath(name).parts)


def iter_member_chunks(path: Path, member: ZipMember, chunk: int = 1024 * 1024) -> Iterator[bytes]:
    """Decompress one member chunk by chunk (zipfile checks the CRC and the declared size at the end)."""
    with zipfile.ZipFile(path) as archive, archive.open(member.info) as handle:
        while block := handle.read(chunk):
            yield block


# What became of each file: the portal's own record, then the pipeline's (landing object, document, OCR).
Fate = Literal["rejected", "uploading", "waiting", "stored", "duplicate", "quarantined", "ocr_done", "ocr_failed"]


@dataclass(frozen=True)
class FileFate:
    file_id: int
    original_name: str
    size_bytes: int | None
    object_key: str
    fate: Fate
    reason: str | None
    document_id: int | None
    confidence: float | None
    pages: int | None


def file_fates(conn: Connection, upload: Upload) -> list[FileFate]:
    with conn.cursor() as cur:
        cur.execute(
            """SELECT f.id, f.original_name, f.size_bytes, f.object_key, f.status, f.error,
                      lo.status, lo.detail, d.id, r.status, r.mean_confidence, r.page_count,
                      (SELECT i.rule || ': ' || i.detail FROM sohoa.issue i
                        WHERE i.object_key = f.object_key AND i.severity = 'error' ORDER BY i.id LIMIT 1)
                 FROM portal.upload_file f
                 LEFT JOIN LATERAL (SELECT status, detail, sha256 FROM sohoa.landing_object l
                                     WHERE l.object_key = f.object_key ORDER BY l.processed_at DESC LIMIT 1) lo
                        ON true
                 LEFT JOIN LATERAL (SELECT id, sha256 FROM sohoa.document doc
                                     WHERE doc.sha256 = lo.sha256
                                       AND (doc.landing_key = f.object_key OR lo.status = 'duplicate')
                                     ORDER BY doc.id LIMIT 1) d ON true
                 LEFT JOIN sohoa.ocr_result r ON r.sha256 = d.sha256
                WHERE f.upload_id = %s ORDER BY f.id""",
            (upload.id,),
        )
        rows = cur.fetchall()
    fates = []
    for file_id, name, size, key, status, error, lo_status, lo_detail, doc_id, ocr_status, conf, pages, issue in rows:
        fate: Fate
        reason = None
        if status == "rejected":
            fate, reason = "rejected", error
        elif status == "uploading":
            fate = "uploading"
        elif lo_status is None:
            fate = "waiting"
        elif lo_status == "quarantined":
            fate, reason = "quarantined", issue or lo_detail
        elif lo_status == "duplicate":
            fate, reason = "duplicate", lo_detail
        elif ocr_status == "done":
            fate = "ocr_done"
        elif ocr_status == "failed":
            fate, reason = "ocr_failed", issue
        else:
            fate = "stored"
        fates.append(
            FileFate(file_id, name, size, key, fate, reason, doc_id, float(conf) if conf is not None else None, pages)
        )
    return fates
