"""Load one dossier-record batch from the landing bucket into PostgreSQL, in one transaction.

Every line is stored (``sohoa.record_version``), usable or not, with its batch and line number; every
finding becomes a ``quality.issues`` row; the winning state per dossier (greatest ``CapNhatLuc``, then
the later batch, then the later line) is upserted into ``sohoa.dossier``. Lines go in with one ``COPY``.

A batch is identified by the SHA-256 of its bytes: the same batch uploaded again, under any name, is
recorded as a duplicate and changes nothing else.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
from minio import Minio

from sohoa.config import Settings
from sohoa.db.connection import Connection
from sohoa.intake import landing
from sohoa.intake.inbox import link_waiting_inbox
from sohoa.privacy import pseudonym
from sohoa.quality.issues import Issue, record_issues
from sohoa.records.catalogue import AgencyInfo, Catalogue, ProcedureInfo
from sohoa.records.codes import is_valid_dossier_code
from sohoa.records.model import FeeLine, RecordLine, ResultDocument, SubmittedDocument, SupplementRequest
from sohoa.records.parse import read_batch
from sohoa.storage.s3 import LandingObject, get_bytes

log = logging.getLogger(__name__)

COLUMNS = (
    "batch_id",
    "line_no",
    "usable",
    "ma_ho_so",
    "ma_tthc",
    "ma_tthc_quoc_gia",
    "ten_tthc",
    "ma_linh_vuc",
    "ma_co_quan",
    "kenh_thuc_hien",
    "loai_doi_tuong",
    "chu_ho_so",
    "so_giay_to",
    "chu_ho_so_ma_hoa",
    "ngay_nop",
    "ngay_tiep_nhan",
    "ngay_hen_tra",
    "ngay_ket_thuc_xu_ly",
    "ngay_tra",
    "trang_thai",
    "duoc_thanh_toan_truc_tuyen",
    "hinh_thuc_thanh_toan",
    "danh_gia_hai_long",
    "cap_nhat_luc",
    "ho_so_bo_sung",
    "le_phi",
    "tai_lieu_nop",
    "giay_to_ket_qua",
    "raw_text",
)


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
    lines = read_batch(obj.key, data, catalogue=load_catalogue(conn))
    issues: list[Issue] = []
    counts = {"lines": 0, "usable": 0}

    def copy_lines() -> Iterator[bytes]:
        for line in lines:
            counts["lines"] += 1
            counts["usable"] += int(line.usable)
            issues.extend(_issues_of(obj.key, sha, line))
            yield copy_bytes(batch_id, line, key)

    with conn.cursor() as cur:  # streamed: memory stays bounded by one line, whatever the batch size
        cur.copy_expert(
            f"COPY sohoa.record_version ({', '.join(COLUMNS)}) FROM STDIN WITH (FORMAT text)",
            _LineReader(copy_lines()),
            size=_COPY_CHUNK,
        )
    findings = record_issues(conn, issues)
    changed = upsert_dossiers(conn, batch_id)
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


_COPY_CHUNK = 1 << 20


class _LineReader:
    """A read-only binary file over an iterator of encoded lines, for ``copy_expert`` (which calls
    ``read(size)``), so a batch is streamed into COPY instead of built in memory first."""

    def __init__(self, lines: Iterator[bytes]) -> None:
        self._lines = lines
        self._pending = b""

    def read(self, size: int = -1, /) -> bytes:
        want = _COPY_CHUNK if size < 0 else size
        parts, have = [self._pending], len(self._pending)
        while have < want:
            line = next(self._lines, None)
            if line is None:
                break
            parts.append(line)
            have += len(line)
        chunk = b"".join(parts)
        self._pending = chunk[want:]
        return chunk[:want]

    def readline(self, size: int = -1, /) -> bytes:
        if self._pending:
            line, self._pending = self._pending, b""
            return line
        return next(self._lines, b"")


def upsert_dossiers(conn: Connection, batch_id: int) -> int:
    """Make the batch's winning usable lines the current state where they beat what is there."""
    with conn.cursor() as cur:
        cur.execute(
            """
            INSERT INTO sohoa.dossier AS d (ma_ho_so, batch_id, line_no, cap_nhat_luc)
            SELECT DISTINCT ON (ma_ho_so) ma_ho_so, batch_id, line_no, cap_nhat_luc
              FROM sohoa.record_version
             WHERE batch_id = %s AND usable
             ORDER BY ma_ho_so, cap_nhat_luc DESC, line_no DESC
            ON CONFLICT (ma_ho_so) DO UPDATE
               SET batch_id = EXCLUDED.batch_id, line_no = EXCLUDED.line_no,
                   cap_nhat_luc = EXCLUDED.cap_nhat_luc, changed_at = now()
             WHERE (EXCLUDED.cap_nhat_luc, EXCLUDED.batch_id, EXCLUDED.line_no)
                 > (d.cap_nhat_luc, d.batch_id, d.line_no)
            """,
            (batch_id,),
        )
        return int(cur.rowcount)


def resolve_waiting_documents(conn: Connection) -> None:
    """A scan that arrived before its dossier's record is linked now: close its unknown_dossier finding."""
    with conn.cursor() as cur:
        cur.execute(
            """UPDATE sohoa.issue i SET resolved_at = now()
                WHERE i.rule = 'document.unknown_dossier' AND i.resolved_at IS NULL
                  AND EXISTS (SELECT 1 FROM sohoa.dossier d WHERE d.ma_ho_so = i.ma_ho_so)"""
        )


def _issues_of(object_key: str, batch_sha: str, line: RecordLine) -> Iterable[Issue]:
    code = line.ma_ho_so if line.ma_ho_so and is_valid_dossier_code(line.ma_ho_so) else None
    if code is None and line.ma_ho_so and len(line.ma_ho_so) <= 64:
        code = line.ma_ho_so  # a sector system's own numbering is still the dossier's name
    for finding in line.findings:
        yield Issue(
            source="record",
            rule=finding.rule,
            severity=finding.severity,
            detail=finding.detail,
            ma_ho_so=code,
            object_key=object_key,
            line_no=line.line_no,
            scope=batch_sha,
        )


def _clean(value: str | None) -> str | None:
    """PostgreSQL text cannot hold NUL characters; keep everything else as received."""
    if value is None:
        return None
    return value.replace("\x00", "\ufffd")


def _scalar(value: Any) -> Any:
    if isinstance(value, str):
        return _clean(value)  # JSON would carry a NUL as \u0000, which jsonb refuses
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _list_json(items: tuple[Any, ...], contract_names: dict[str, str]) -> str:
    """A list field as JSON with the contract's field names, for the views and the KPI SQL.

    The items are flat slotted dataclasses; reading their slots directly is several times faster than
    ``dataclasses.asdict`` (which deep-copies), and this runs for every list of every record line.
    """
    if not items:
        return "[]"
    out = []
    for item in items:
        out.append({contract_names.get(k, k): _scalar(getattr(item, k)) for k in item.__slots__})
    return orjson.dumps(out).decode()


_BO_SUNG = {"ngay_bo_sung": "NgayBoSung", "ngay_tiep_nhan_bo_sung": "NgayTiepNhanBoSung"}
_LE_PHI = {"ten": "TenPhiLePhi", "gia": "Gia"}
_TAI_LIEU = {
    "ma_thanh_phan": "MaThanhPhanHoSo",
    "ten_tep": "TenTepDinhKem",
    "duong_dan": "DuongDanTaiTepTin",
    "duoc_so_hoa": "DuocSoHoa",
    "duoc_tai_su_dung": "DuocTaiSuDung",
    "duoc_lay_tu_kho_dmqg": "DuocLayTuKhoDMQG",
}
_KET_QUA = {"ten_giay_to": "TenGiayTo", "ma_giay_to_ket_qua": "MaGiayToKetQua", "duong_dan": "DuongDanTepTinKetQua"}


_TEXT_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\x00": "\ufffd"})


def _copy_field(value: object) -> str:
    if value is None:
        return "\\N"
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text or "\x00" in text:
        return text.translate(_TEXT_ESCAPES)  # PostgreSQL text cannot hold NUL: it becomes U+FFFD
    return text


def _copy_line(values: list[object]) -> str:
    """One line of COPY's text format: tab-separated, NULL as \\N, backslash and control characters escaped."""
    return "\t".join(map(_copy_field, values)) + "\n"


def _copy_row(batch_id: int, line: RecordLine, key: bytes) -> list[object]:
    """The values of one ``sohoa.record_version`` row, in the order of :data:`COLUMNS` (the general path)."""

    def ts(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    return [
        batch_id,
        line.line_no,
        "t" if line.usable else "f",
        line.ma_ho_so,
        line.ma_tthc,
        line.ma_tthc_quoc_gia,
        line.ten_tthc,
        line.ma_linh_vuc,
        line.ma_co_quan,
        line.kenh_thuc_hien,
        line.loai_doi_tuong,
        line.chu_ho_so,
        line.so_giay_to,
        pseudonym(key, line.so_giay_to),
        ts(line.ngay_nop),
        ts(line.ngay_tiep_nhan),
        ts(line.ngay_hen_tra),
        ts(line.ngay_ket_thuc_xu_ly),
        ts(line.ngay_tra),
        line.trang_thai,
        line.duoc_thanh_toan_truc_tuyen,
        line.hinh_thuc_thanh_toan,
        line.danh_gia_hai_long,
        ts(line.cap_nhat_luc),
        _list_json(line.ho_so_bo_sung, _BO_SUNG),
        _list_json(line.le_phi, _LE_PHI),
        _list_json(line.tai_lieu_nop, _TAI_LIEU),
        _list_json(line.giay_to_ket_qua, _KET_QUA),
        line.raw_text,
    ]


_NULL = "\\N"


def copy_bytes(batch_id: int, line: RecordLine, key: bytes) -> bytes:
    """One ``sohoa.record_version`` row as a line of COPY's text format (encoded), what the batch's COPY reads.

    The same bytes as ``_copy_line(_copy_row(...))``, built without a call per field: this runs for every line
    of every batch. Values are formatted by type inline; when no value holds a character that COPY's text
    format escapes (backslash, tab, line ends, NUL), which is the usual case, they are joined as they are.
    """
    ts = (
        line.ngay_nop,
        line.ngay_tiep_nhan,
        line.ngay_hen_tra,
        line.ngay_ket_thuc_xu_ly,
        line.ngay_tra,
        line.cap_nhat_luc,
    )
    ints = (
        line.kenh_thuc_hien,
        line.loai_doi_tuong,
        line.trang_thai,
        line.duoc_thanh_toan_truc_tuyen,
        line.danh_gia_hai_long,
    )
    values = [
        line.ma_ho_so,
        line.ma_tthc,
        line.ma_tthc_quoc_gia,
        line.ten_tthc,
        line.ma_linh_vuc,
        line.ma_co_quan,
        None if ints[0] is None else str(ints[0]),
        None if ints[1] is None else str(ints[1]),
        line.chu_ho_so,
        line.so_giay_to,
        pseudonym(key, line.so_giay_to),
        None if ts[0] is None else ts[0].isoformat(),
        None if ts[1] is None else ts[1].isoformat(),
        None if ts[2] is None else ts[2].isoformat(),
        None if ts[3] is None else ts[3].isoformat(),
        None if ts[4] is None else ts[4].isoformat(),
        None if ints[2] is None else str(ints[2]),
        None if ints[3] is None else str(ints[3]),
        line.hinh_thuc_thanh_toan,
        None if ints[4] is None else str(ints[4]),
        None if ts[5] is None else ts[5].isoformat(),
        _supplements_json(line.ho_so_bo_sung),
        _fees_json(line.le_phi),
        _documents_json(line.tai_lieu_nop),
        _results_json(line.giay_to_ket_qua),
        line.raw_text,
    ]
    texts = "".join([v for v in values if v is not None])
    if "\\" in texts or "\t" in texts or "\n" in texts or "\r" in texts or "\x00" in texts:
        values = [None if v is None else _escaped(v) for v in values]
    body = "\t".join([_NULL if v is None else v for v in values])
    return f"{batch_id}\t{line.line_no}\t{'t' if line.usable else 'f'}\t{body}\n".encode()


def _escaped(text: str) -> str:
    """A value escaped for COPY's text format (what ``_copy_field`` does, by whole-string replacements)."""
    if "\\" in text:
        text = text.replace("\\", "\\\\")
    if "\t" in text:
        text = text.replace("\t", "\\t")
    if "\n" in text:
        text = text.replace("\n", "\\n")
    if "\r" in text:
        text = text.replace("\r", "\\r")
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")  # PostgreSQL text cannot hold NUL
    return text


def _checked_json(data: bytes, items: tuple[Any, ...], contract_names: dict[str, str]) -> str:
    """Serialised list JSON, unless it carries a NUL (``\\u0000``), which the general path replaces."""
    if b"\\u0000" in data:
        return _list_json(items, contract_names)
    return data.decode()


def _supplements_json(items: tuple[SupplementRequest, ...]) -> str:
    if not items:
        return "[]"
    return _checked_json(
        orjson.dumps(
            [
                {
                    "NgayBoSung": i.ngay_bo_sung.isoformat(),
                    "NgayTiepNhanBoSung": None
                    if i.ngay_tiep_nhan_bo_sung is None
                    else i.ngay_tiep_nhan_bo_sung.isoformat(),
                }
                for i in items
            ]
        ),
        items,
        _BO_SUNG,
    )


def _fees_json(items: tuple[FeeLine, ...]) -> str:
    if not items:
        return "[]"
    return _checked_json(
        orjson.dumps([{"TenPhiLePhi": i.ten, "Gia": None if i.gia is None else str(i.gia)} for i in items]),
        items,
        _LE_PHI,
    )


def _documents_json(items: tuple[SubmittedDocument, ...]) -> str:
    if not items:
        return "[]"
    return _checked_json(
        orjson.dumps(
            [
                {
                    "MaThanhPhanHoSo": i.ma_thanh_phan,
                    "TenTepDinhKem": i.ten_tep,
                    "DuongDanTaiTepTin": i.duong_dan,
                    "DuocSoHoa": i.duoc_so_hoa,
                    "DuocTaiSuDung": i.duoc_tai_su_dung,
                    "DuocLayTuKhoDMQG": i.duoc_lay_tu_kho_dmqg,
                }
                for i in items
            ]
        ),
        items,
        _TAI_LIEU,
    )


def _results_json(items: tuple[ResultDocument, ...]) -> str:
    if not items:
        return "[]"
    return _checked_json(
        orjson.dumps(
            [
                {
                    "TenGiayTo": i.ten_giay_to,
                    "MaGiayToKetQua": i.ma_giay_to_ket_qua,
                    "DuongDanTepTinKetQua": i.duong_dan,
                }
                for i in items
            ]
        ),
        items,
        _KET_QUA,
    )
