"""Dossier search and the dossier page's data: record, timeline, documents, findings.

Authorisation lives here, next to the queries, so no page can forget it: an officer (``can_bo``) sees the
dossiers whose current record names their agency (``ma_co_quan``) and, while no record has arrived yet, the
dossiers whose national code starts with their agency code; reviewers and administrators see all.

The search walks ``sohoa.record_version`` in receipt order through its index and keeps the winning versions
(``sohoa.dossier``), so a page of 50 rows stays fast with 100,000 dossiers and more. Dates are Vietnam dates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sohoa.db.connection import Connection
from sohoa.portal.users import User

STATUS_VI = {
    1: "Mới",
    2: "Đã tiếp nhận",
    3: "Không tiếp nhận",
    4: "Đang xử lý",
    5: "Yêu cầu bổ sung",
    6: "Yêu cầu thực hiện nghĩa vụ tài chính",
    7: "Công dân rút hồ sơ",
    8: "Dừng xử lý",
    9: "Đã xử lý xong",
    10: "Đã trả kết quả",
}
STATUS_EN = {
    1: "New",
    2: "Received",
    3: "Not accepted",
    4: "Processing",
    5: "More documents requested",
    6: "Payment requested",
    7: "Withdrawn",
    8: "Processing stopped",
    9: "Processed",
    10: "Result returned",
}
CHANNEL_VI = {1: "Trực tiếp", 2: "Trực tuyến", 3: "Bưu chính công ích"}
TZ = "Asia/Ho_Chi_Minh"
_FULL_CODE = re.compile(r"^[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}-[0-9]{6}-[0-9]{4}$")


@dataclass(frozen=True)
class SearchFilters:
    code: str = ""
    procedure: str = ""
    status: int | None = None
    received_from: date | None = None
    received_to: date | None = None  # inclusive
    agency: str = ""


@dataclass(frozen=True)
class DossierRow:
    ma_ho_so: str
    ma_tthc: str | None
    ten_tthc: str | None
    ma_co_quan: str | None
    trang_thai: int | None
    ngay_tiep_nhan: datetime | None
    ngay_hen_tra: datetime | None
    documents: int
    open_issues: int


def search(
    conn: Connection, user: User, filters: SearchFilters, *, page: int, page_size: int
) -> tuple[list[DossierRow], bool]:
    """One page of dossiers matching the filters that the user may see; (rows, more pages follow)."""
    where: list[str] = []
    params: list[Any] = []
    if not user.is_reviewer:
        where.append("v.ma_co_quan = %s")
        params.append(user.ma_co_quan)
    elif filters.agency:
        where.append("v.ma_co_quan = %s")
        params.append(filters.agency.strip())
    code = filters.code.strip()
    if code:
        if _FULL_CODE.match(code):
            where.append("x.ma_ho_so = %s")
            params.append(code)
        else:
            # The beginning (agency, date) or the end (date and number) of a code: both walk an index
            # (text_pattern_ops on the code and on its reverse), where a substring match would read them all.
            variants = sorted({code, code.upper()})
            where.append(
                "x.ma_ho_so IN (SELECT m.ma_ho_so FROM sohoa.dossier m WHERE "
                + " OR ".join(["m.ma_ho_so LIKE %s OR reverse(m.ma_ho_so) LIKE %s"] * len(variants))
                + ")"
            )
            for v in variants:
                params += [_like_prefix(v), _like_prefix(v[::-1])]
    if filters.procedure.strip():
        where.append("v.ma_tthc_quoc_gia = %s")
        params.append(filters.procedure.strip()[:8])
    if filters.status is not None:
        where.append("v.trang_thai = %s")
        params.append(filters.status)
    if filters.received_from is not None:
        where.append("v.ngay_tiep_nhan >= (%s::date)::timestamp AT TIME ZONE %s")
        params += [filters.received_from, TZ]
    if filters.received_to is not None:
        where.append("v.ngay_tiep_nhan < ((%s::date + 1)::timestamp AT TIME ZONE %s)")
        params += [filters.received_to, TZ]
    sql = f"""
        SELECT x.ma_ho_so, v.ma_tthc, COALESCE(p.ten_tthc, v.ten_tthc), v.ma_co_quan, v.trang_thai,
               v.ngay_tiep_nhan, v.ngay_hen_tra,
               (SELECT count(*) FROM sohoa.document d WHERE d.ma_ho_so = x.ma_ho_so),
               (SELECT count(*) FROM sohoa.issue i WHERE i.ma_ho_so = x.ma_ho_so AND i.resolved_at IS NULL)
          FROM sohoa.record_version v
          JOIN sohoa.dossier x ON x.batch_id = v.batch_id AND x.line_no = v.line_no
          LEFT JOIN sohoa.procedure p ON p.ma_tthc = v.ma_tthc_quoc_gia
         {"WHERE " + " AND ".join(where) if where else ""}
         ORDER BY v.ngay_tiep_nhan DESC NULLS LAST, x.ma_ho_so
         LIMIT %s OFFSET %s"""
    params += [page_size + 1, max(0, page - 1) * page_size]
    with conn.cursor() as cur:
        cur.execute(sql, params)
        rows = [DossierRow(*r) for r in cur.fetchall()]
    return rows[:page_size], len(rows) > page_size


def _like_prefix(text: str) -> str:
    """A LIKE pattern matching values that start with ``text`` taken literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def record_agency(conn: Connection, ma_ho_so: str) -> str | None:
    """The agency of the dossier's current record, or None when no record has arrived."""
    with conn.cursor() as cur:
        cur.execute(
            """SELECT v.ma_co_quan FROM sohoa.dossier x
                         JOIN sohoa.record_version v ON v.batch_id = x.batch_id AND v.line_no = x.line_no
                        WHERE x.ma_ho_so = %s""",
            (ma_ho_so,),
        )
        row = cur.fetchone()
    return row[0] if row else None


def may_view(conn: Connection, user: User, ma_ho_so: str) -> bool:
    if user.is_reviewer:
        return True
    agency = record_agency(conn, ma_ho_so)
    if agency is None:
        agency = ma_ho_so.split("-", 1)[0]
    return agency == user.ma_co_quan


@dataclass
class DocumentView:
    id: int
    loai: str
    ten_giay_to: str
    original_name: str | None
    sha256: str
    mime_type: str
    size_bytes: int
    received_at: datetime
    ocr_status: str | None
    mean_confidence: float | None
    min_dpi: int | None
    extracted: dict[str, Any]
    pages: list[dict[str, Any]] = field(default_factory=list)
    ma_ho_so: str | None = None


@dataclass
class DossierView:
    ma_ho_so: str
    record: dict[str, Any] | None
    versions: int
    timeline: list[tuple[datetime, str, str]]  # (when, event key, detail)
    documents: list[DocumentView]
    issues: list[dict[str, Any]]


_RECORD_FIELDS = (
    "ma_tthc",
    "ten_tthc",
    "ma_linh_vuc_hieu_luc",
    "ma_co_quan",
    "kenh_thuc_hien",
    "loai_doi_tuong",
    "chu_ho_so",
    "so_giay_to",
    "ngay_nop",
    "ngay_tiep_nhan",
    "ngay_hen_tra",
    "ngay_ket_thuc_xu_ly",
    "ngay_tra",
    "trang_thai",
    "hinh_thuc_thanh_toan",
    "danh_gia_hai_long",
    "cap_nhat_luc",
    "ho_so_bo_sung",
    "le_phi",
    "tai_lieu_nop",
    "giay_to_ket_qua",
)


def dossier_view(conn: Connection, ma_ho_so: str) -> DossierView | None:
    """Everything the dossier page shows; None when sohoa knows nothing of the code."""
    with conn.cursor() as cur:
        cur.execute(
            f"""SELECT {", ".join("c." + f for f in _RECORD_FIELDS)}, p.ten_tthc
                          FROM sohoa.dossier_current c LEFT JOIN sohoa.procedure p ON p.ma_tthc = c.ma_tthc_quoc_gia
                         WHERE c.ma_ho_so = %s""",
            (ma_ho_so,),
        )
        row = cur.fetchone()
        record = None
        if row is not None:
            record = dict(zip(_RECORD_FIELDS, row[:-1], strict=True))
            record["ten_tthc"] = row[-1] or record["ten_tthc"]
            record["so_giay_to"] = mask_id(record["so_giay_to"])
        cur.execute(
            """SELECT cap_nhat_luc, trang_thai, usable FROM sohoa.record_version
                        WHERE ma_ho_so = %s ORDER BY cap_nhat_luc NULLS LAST, batch_id, line_no""",
            (ma_ho_so,),
        )
        versions = cur.fetchall()
        cur.execute(
            """SELECT rule, severity, detail, detected_at, resolved_at, line_no FROM sohoa.issue
                        WHERE ma_ho_so = %s ORDER BY resolved_at IS NOT NULL, detected_at, id""",
            (ma_ho_so,),
        )
        issues = [
            dict(zip(("rule", "severity", "detail", "detected_at", "resolved_at", "line_no"), r, strict=True))
            for r in cur.fetchall()
        ]
    documents = documents_of(conn, ma_ho_so=ma_ho_so)
    if record is None and not versions and not documents and not issues:
        return None
    return DossierView(ma_ho_so, record, len(versions), _timeline(record, versions, documents), documents, issues)


def mask_id(value: str | None) -> str | None:
    """An identity number shown with its last 3 digits only: enough to confirm at the counter."""
    if not value:
        return value
    return "•" * max(0, len(value) - 3) + value[-3:]


def _timeline(
    record: dict[str, Any] | None, versions: list[tuple[Any, ...]], documents: list[DocumentView]
) -> list[tuple[datetime, str, str]]:
    events: list[tuple[datetime, str, str]] = []
    if record is not None:
        for key in ("ngay_nop", "ngay_tiep_nhan", "ngay_hen_tra", "ngay_ket_thuc_xu_ly", "ngay_tra"):
            if record.get(key) is not None:
                events.append((record[key], key, ""))
        for entry in record.get("ho_so_bo_sung") or []:
            asked = _parse(entry.get("NgayBoSung"))
            if asked is not None:
                events.append((asked, "bo_sung", ""))
            back = _parse(entry.get("NgayTiepNhanBoSung"))
            if back is not None:
                events.append((back, "nhan_bo_sung", ""))
    for cap_nhat_luc, trang_thai, usable in versions:
        if cap_nhat_luc is not None:
            events.append((cap_nhat_luc, "version" if usable else "version_unusable", str(trang_thai or "")))
    for doc in documents:
        events.append((doc.received_at, "document", doc.original_name or doc.ten_giay_to))
    events.sort(key=lambda e: e[0])
    return events


def _parse(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    from sohoa.records.datetimes import parse_datetime

    try:
        return parse_datetime(value)
    except Exception:  # noqa: BLE001 - a bad optional date is simply left out of the timeline
        return None


def documents_of(
    conn: Connection, *, ma_ho_so: str | None = None, document_id: int | None = None
) -> list[DocumentView]:
    """The documents of a dossier (or one document), with OCR figures and per-page data."""
    where, param = ("d.ma_ho_so = %s", ma_ho_so) if document_id is None else ("d.id = %s", document_id)
    with conn.cursor() as cur:
        cur.execute(
            f"""SELECT d.id, d.loai, d.ten_giay_to, f.original_name, d.sha256, o.mime_type, o.size_bytes,
                       d.received_at, r.status, r.mean_confidence, r.min_dpi, COALESCE(r.extracted, '{{}}'::jsonb),
                       d.ma_ho_so
                  FROM sohoa.document d
                  JOIN sohoa.original o ON o.sha256 = d.sha256
                  LEFT JOIN sohoa.ocr_result r ON r.sha256 = d.sha256
                  LEFT JOIN portal.upload_file f ON f.object_key = d.landing_key
                 WHERE {where} ORDER BY d.loai DESC, d.received_at, d.id""",
            (param,),
        )
        docs = [
            DocumentView(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                r[6],
                r[7],
                r[8],
                float(r[9]) if r[9] is not None else None,
                r[10],
                r[11],
                ma_ho_so=r[12],
            )
            for r in cur.fetchall()
        ]
        if docs:
            cur.execute(
                """SELECT sha256, page_no, source, rotation, dpi, confidence, blank FROM sohoa.ocr_page
                            WHERE sha256 = ANY(%s) ORDER BY sha256, page_no""",
                (list({d.sha256 for d in docs}),),
            )
            pages: dict[str, list[dict[str, Any]]] = {}
            for sha, no, source, rotation, dpi, conf, blank in cur.fetchall():
                pages.setdefault(sha, []).append(
                    {
                        "no": no,
                        "source": source,
                        "rotation": rotation,
                        "dpi": dpi,
                        "confidence": float(conf) if conf is not None else None,
                        "blank": blank,
                    }
                )
            for doc in docs:
                doc.pages = pages.get(doc.sha256, [])
    return docs


def may_view_document(conn: Connection, user: User, doc: DocumentView) -> bool:
    """A dossier's document follows the dossier (:func:`may_view`); an inbox scan is seen by reviewers and by the
    agency that uploaded it through the portal. The rule is the SQL function ``sohoa.document_agency``
    (migration 0008), which the review queue uses too, so the two cannot drift apart."""
    if user.is_reviewer:
        return True
    with conn.cursor() as cur:
        cur.execute("SELECT sohoa.document_agency(%s)", (doc.id,))
        row = cur.fetchone()
    return row is not None and row[0] is not None and row[0] == user.ma_co_quan


def text_uri_of(conn: Connection, sha256: str) -> tuple[str | None, str | None]:
    """(text_uri, searchable_uri) of a done OCR result."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT text_uri, searchable_uri FROM sohoa.ocr_result WHERE sha256 = %s AND status = 'done'", (sha256,)
        )
        row = cur.fetchone()
    return (row[0], row[1]) if row else (None, None)
