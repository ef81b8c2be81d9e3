"""One record line as the loader stores it: its row of ``sohoa.record_version`` as a line of COPY's text
format, and its findings as ``quality.issues`` rows.

Kept apart from :mod:`sohoa.intake.records_loader` (which needs the database, S3 and the inbox) so that the
loader's worker processes (:mod:`sohoa.intake.records_parallel`) import only what reading a line takes.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson

from sohoa.privacy import pseudonym
from sohoa.quality.issues import Issue
from sohoa.records.codes import is_valid_dossier_code
from sohoa.records.model import FeeLine, RecordLine, ResultDocument, SubmittedDocument, SupplementRequest

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


def issues_of(object_key: str, batch_sha: str, line: RecordLine) -> list[Issue]:
    """The ``quality.issues`` rows of a line's findings (none for most lines: nothing else is done for them)."""
    if not line.findings:
        return []
    code = line.ma_ho_so if line.ma_ho_so and is_valid_dossier_code(line.ma_ho_so) else None
    if code is None and line.ma_ho_so and len(line.ma_ho_so) <= 64:
        code = line.ma_ho_so  # a sector system's own numbering is still the dossier's name
    return [
        Issue(
            source="record",
            rule=finding.rule,
            severity=finding.severity,
            detail=finding.detail,
            ma_ho_so=code,
            object_key=object_key,
            line_no=line.line_no,
            scope=batch_sha,
        )
        for finding in line.findings
    ]


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


def copy_line(values: list[object]) -> str:
    """One line of COPY's text format: tab-separated, NULL as \\N, backslash and control characters escaped."""
    return "\t".join(map(_copy_field, values)) + "\n"


def copy_row(batch_id: int, line: RecordLine, key: bytes) -> list[object]:
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

    The same bytes as ``copy_line(copy_row(...))``, built without a call per field: this runs for every line
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
