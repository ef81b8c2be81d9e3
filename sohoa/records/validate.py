"""From one decoded JSON object to a :class:`RecordLine`: typed fields, the rules of
../domain/codes.md, and whether the line takes part in the KPIs.

Rules beyond the contract's list, all with the same meaning for every batch format:

- ``record.bad_value`` (warning; error for a required field): a field of the wrong JSON type or outside
  its list of values (``KenhThucHien``, ``LoaiDoiTuong``, ``DuocThanhToanTrucTuyen``, ``DanhGiaHaiLong``,
  ``HinhThucThanhToan``, list entries); the value reads as null (an unknown ``HinhThucThanhToan`` text is
  kept as received);
- ``record.bad_agency_code`` / ``record.bad_procedure_code`` (warning): ``MaCoQuan`` / ``MaTTHC`` break their
  patterns; the line still counts under its own code;
- ``record.legacy_id`` (info): a citizen's legacy 9-digit identity number;
- ``record.return_before_receipt`` (error, kept and counted): ``NgayTra`` < ``NgayTiepNhan``;
- ``record.missing_stop_time`` (warning): status 7 or 8 with neither ``NgayKetThucXuLy`` nor ``NgayTra`` (the
  KPIs then take ``CapNhatLuc`` as the finish time);
- ``record.supplement_answer_before_request`` (warning): ``NgayTiepNhanBoSung`` < ``NgayBoSung``;
- ``record.duplicate_line`` (info, added by :mod:`sohoa.records.parse`): the same text as an earlier line.

Integer fields accept a JSON integer, an integral JSON number (``4.0``) or a text of digits (``"4"``):
a CSV cell is always text, and the two batch formats must read alike. ``true``/``false`` are not integers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sohoa.records.catalogue import Catalogue
from sohoa.records.codes import (
    NATIONAL_PROCEDURE_CODE,
    PERSONAL_TAX_CODE_IS_CCCD_FROM,
    cccd_problem,
    dossier_code_date,
    is_legacy_identity_number,
    is_valid_agency_code,
    is_valid_procedure_code,
    national_procedure_code,
    tax_code_problem,
)
from sohoa.records.datetimes import DatetimeError, parse_datetime
from sohoa.records.model import (
    FeeLine,
    Finding,
    RecordLine,
    ResultDocument,
    Severity,
    SubmittedDocument,
    SupplementRequest,
)

LIST_FIELDS = frozenset({"DanhSachHoSoBoSung", "DanhSachLePhi", "TaiLieuNop", "DanhSachGiayToKetQua"})
PAYMENT_METHODS = frozenset({"TIEN_MAT", "QR", "POS", "CHUYEN_KHOAN", "TRUC_TUYEN"})
STATUSES = frozenset(range(1, 11))
NOT_RECEIVED_STATUSES = frozenset({1, 3})  # new, not accepted: NgayTiepNhan is not required
_CHANNELS = frozenset({1, 2, 3})
_APPLICANT_TYPES = frozenset({1, 2})
_ONLINE_PAYMENT = frozenset({0, 1, 2})
_RATINGS = frozenset({1, 2, 3})
_FLAGS = frozenset({0, 1})
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]{1,18}")
_SMALL_INTEGERS = {str(i): i for i in range(11)}
_DECIMAL_TEXT = re.compile(r"[+-]?[0-9]{1,30}(?:\.[0-9]{1,30})?")

CITIZEN = 1
ORGANISATION = 2


@dataclass(frozen=True)
class Checks:
    """What a line is checked against besides itself.

    Attributes:
        catalogue: the procedures and agencies known; None (or an empty mapping) disables the
            ``record.unknown_*`` rules.
        today: the current date in Vietnam, for the identity-number birth-year rule.
    """

    catalogue: Catalogue | None
    today: date


def unreadable_line(line_no: int, raw_text: str, detail: str, rule: str = "record.invalid_json") -> RecordLine:
    """A line that is not a JSON object: stored with its reason, takes no part in the KPIs."""
    return RecordLine(
        line_no,
        raw_text,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        (),
        (),
        (),
        (),
        (Finding(rule, "error", detail),),
        False,
    )


def _kind(value: Any) -> str:
    """The JSON type of a value, for details that must not quote the value."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "null"


def as_int(value: Any) -> int | None:
    """An integer from a JSON integer, an integral number or a text of digits; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() else None
    if isinstance(value, str):
        small = _SMALL_INTEGERS.get(value)  # the usual CSV cell
        if small is not None:
            return small
        text = value.strip()
        return int(text) if _INTEGER_TEXT.fullmatch(text) else None
    return None


def _as_decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else None
    if isinstance(value, str):
        text = value.strip()
        return Decimal(text) if _DECIMAL_TEXT.fullmatch(text) else None
    return None


class _Where:
    """``Name[i].``, the place of a list entry in a finding's detail; formatted only when a finding needs it."""

    __slots__ = ("index", "name")

    def __init__(self, name: str, index: int) -> None:
        self.name, self.index = name, index

    def __str__(self) -> str:
        return f"{self.name}[{self.index}]."


class _Reader:
    """Reads typed values out of one object, collecting findings; ``where`` prefixes the field name in
    details (a list entry's place)."""

    __slots__ = ("findings",)

    def __init__(self) -> None:
        self.findings: list[Finding] = []

    def add(self, rule: str, severity: Severity, detail: str) -> None:
        self.findings.append(Finding(rule, severity, detail))

    def text(self, obj: dict[str, Any], name: str, *, required: bool = False, where: _Where | str = "") -> str | None:
        value = obj.get(name)
        if type(value) is str:  # the common case first: this runs ~20 times a line
            value = value.strip()
            if value:
                return value
            if required:
                self.add("record.missing_field", "error", f"{name} is empty")
            return None
        if value is None:
            if required:
                self.add("record.missing_field", "error", f"{name} is missing")
            return None
        self.add(
            "record.bad_value",
            "error" if required else "warning",
            f"{where}{name} is {_kind(value)}, not a text; read as null",
        )
        return None

    def choice(
        self, obj: dict[str, Any], name: str, allowed: frozenset[int], *, where: _Where | str = ""
    ) -> int | None:
        value = obj.get(name)
        if value is None:
            return None
        if type(value) is int and value in allowed:
            return value  # type() rather than isinstance(): True and False are not integers here
        number = as_int(value)
        if number in allowed:
            return number
        values = ", ".join(str(v) for v in sorted(allowed))
        self.add("record.bad_value", "warning", f"{where}{name} is not one of {values}; read as null")
        return None

    def moment(
        self,
        obj: dict[str, Any],
        name: str,
        *,
        required: bool,
        where: _Where | str = "",
        otherwise: str = "read as null",
    ) -> datetime | None:
        value = obj.get(name)
        if value is None:
            if required:
                self.add("record.missing_field", "error", f"{where}{name} is missing")
            return None
        if type(value) is str:
            try:
                return parse_datetime(value)
            except DatetimeError as exc:
                problem = str(exc)
        else:
            problem = f"{_kind(value)}, not a datetime text"
        severity: Severity = "error" if required else "warning"
        suffix = "" if required else f"; {otherwise}"
        self.add("record.bad_datetime", severity, f"{where}{name}: {problem}{suffix}")
        return None

    def entries(self, obj: dict[str, Any], name: str) -> list[Any]:
        value = obj.get(name)
        if value is None:
            return []
        if isinstance(value, list):
            return value
        self.add("record.bad_value", "warning", f"{name} is {_kind(value)}, not a JSON list; read as empty")
        return []

    def objects(self, obj: dict[str, Any], name: str) -> list[tuple[int, dict[str, Any]]]:
        """The object entries of a list field with their index (``_Where(name, i)`` names the place, made only
        when a finding needs it); other entries are reported."""
        out = []
        for i, entry in enumerate(self.entries(obj, name)):
            if type(entry) is dict:
                out.append((i, entry))
            else:
                self.add("record.bad_value", "warning", f"{name}[{i}] is {_kind(entry)}, not an object; skipped")
        return out


def validate_record(
    line_no: int, raw_text: str, obj: dict[str, Any], checks: Checks, extra: Sequence[Finding] = ()
) -> RecordLine:
    """Read and check one dossier record.

    Args:
        line_no: where the line starts in its batch.
        raw_text: the text stored for audit.
        obj: the decoded JSON object (for CSV, the cells by field name).
        checks: catalogue and current date.
        extra: findings the caller already made (e.g. a duplicate line), appended last.

    Returns:
        The typed line with its findings; never raises on bad data.
    """
    r = _Reader()
    # Each field is read by the _Reader method of its kind; the usual value (a non-empty text, an integer of
    # the field's values, null) is taken inline first, with what that method would return for it and in the
    # same order, so that findings keep their order. This runs for every line of every batch.
    get = obj.get
    v = get("MaHoSo")
    ma_ho_so = (v.strip() if type(v) is str else None) or r.text(obj, "MaHoSo", required=True)
    v = get("MaTTHC")
    ma_tthc = (v.strip() if type(v) is str else None) or r.text(obj, "MaTTHC", required=True)
    v = get("TenTTHC")
    ten_tthc = (v.strip() or None) if type(v) is str else r.text(obj, "TenTTHC")
    v = get("MaLinhVuc")
    ma_linh_vuc = (v.strip() or None) if type(v) is str else r.text(obj, "MaLinhVuc")
    v = get("MaCoQuan")
    ma_co_quan = (v.strip() if type(v) is str else None) or r.text(obj, "MaCoQuan", required=True)
    v = get("KenhThucHien")
    if v is None:
        kenh_thuc_hien: int | None = 1
    else:
        kenh_thuc_hien = v if type(v) is int and v in _CHANNELS else r.choice(obj, "KenhThucHien", _CHANNELS)
    v = get("ChuHoSo")
    chu_ho_so = (v.strip() or None) if type(v) is str else r.text(obj, "ChuHoSo")
    v = get("LoaiDoiTuong")
    loai_doi_tuong = v if type(v) is int and v in _APPLICANT_TYPES else r.choice(obj, "LoaiDoiTuong", _APPLICANT_TYPES)
    v = get("SoGiayToChuHoSo")
    so_giay_to = (v.strip() or None) if type(v) is str else r.text(obj, "SoGiayToChuHoSo")
    v = get("TrangThaiHoSo")
    trang_thai = v if type(v) is int and v in STATUSES else _status(r, obj)
    receipt_required = trang_thai not in NOT_RECEIVED_STATUSES
    ngay_nop = None if get("NgayNopHoSo") is None else r.moment(obj, "NgayNopHoSo", required=False)
    if receipt_required and trang_thai is None and get("NgayTiepNhan") is None:
        ngay_tiep_nhan = None  # the status finding already says why the line cannot count
    else:
        ngay_tiep_nhan = r.moment(obj, "NgayTiepNhan", required=receipt_required)
    ngay_hen_tra = None if get("NgayHenTra") is None else r.moment(obj, "NgayHenTra", required=False)
    ngay_ket_thuc = None if get("NgayKetThucXuLy") is None else r.moment(obj, "NgayKetThucXuLy", required=False)
    ngay_tra = None if get("NgayTra") is None else r.moment(obj, "NgayTra", required=False)
    v = get("DuocThanhToanTrucTuyen")
    thanh_toan_truc_tuyen = (
        v if type(v) is int and v in _ONLINE_PAYMENT else r.choice(obj, "DuocThanhToanTrucTuyen", _ONLINE_PAYMENT)
    )
    v = get("HinhThucThanhToan")
    hinh_thuc = (v.strip() or None) if type(v) is str else r.text(obj, "HinhThucThanhToan")
    if hinh_thuc is not None and hinh_thuc not in PAYMENT_METHODS:
        r.add(
            "record.bad_value",
            "warning",
            "HinhThucThanhToan is not one of TIEN_MAT, QR, POS, CHUYEN_KHOAN, TRUC_TUYEN; kept as received",
        )
    danh_gia = r.choice(obj, "DanhGiaHaiLong", _RATINGS)
    cap_nhat_luc = r.moment(obj, "CapNhatLuc", required=True)
    bo_sung = _supplements(r, obj)
    le_phi = _fees(r, obj)
    tai_lieu = _documents(r, obj)
    ket_qua = _results(r, obj)

    if ma_ho_so is not None:
        _check_dossier_code(r, ma_ho_so, ngay_tiep_nhan)
    ma_tthc_quoc_gia = None
    if ma_tthc is not None:
        ma_tthc_quoc_gia = national_procedure_code(ma_tthc)
        if not is_valid_procedure_code(ma_tthc):
            r.add(
                "record.bad_procedure_code",
                "warning",
                "MaTTHC is not d.dddddd (optionally followed by the agency code); counted under its first 8 characters",
            )
    if ma_co_quan is not None and not is_valid_agency_code(ma_co_quan):
        r.add("record.bad_agency_code", "warning", "MaCoQuan is not a 13-character code ddd.dd.dd.Ldd")
    if so_giay_to is not None:
        reference = ngay_tiep_nhan or ngay_nop or cap_nhat_luc
        _check_identity(r, so_giay_to, loai_doi_tuong, reference.date() if reference else None, checks.today)
    if ngay_tiep_nhan is not None:
        if ngay_hen_tra is not None and ngay_hen_tra < ngay_tiep_nhan:
            r.add("record.deadline_before_receipt", "error", "NgayHenTra is before NgayTiepNhan")
        if ngay_ket_thuc is not None and ngay_ket_thuc < ngay_tiep_nhan:
            r.add("record.finish_before_receipt", "error", "NgayKetThucXuLy is before NgayTiepNhan")
        if ngay_tra is not None and ngay_tra < ngay_tiep_nhan:
            r.add("record.return_before_receipt", "error", "NgayTra is before NgayTiepNhan")
    if ngay_ket_thuc is None and ngay_tra is None:
        if trang_thai in (9, 10):
            r.add(
                "record.missing_finish_time", "warning", f"status {trang_thai} with neither NgayKetThucXuLy nor NgayTra"
            )
        elif trang_thai in (7, 8):
            r.add(
                "record.missing_stop_time",
                "warning",
                f"status {trang_thai} with neither NgayKetThucXuLy nor NgayTra; the KPIs use CapNhatLuc",
            )
    catalogue = checks.catalogue
    if catalogue is not None:
        # A code is named in the detail only when it has the code's shape: a malformed one could be anything.
        if ma_tthc_quoc_gia is not None and catalogue.procedures and ma_tthc_quoc_gia not in catalogue.procedures:
            shown = ma_tthc_quoc_gia if NATIONAL_PROCEDURE_CODE.fullmatch(ma_tthc_quoc_gia) else "(malformed)"
            r.add("record.unknown_procedure", "warning", f"procedure {shown} is not in the catalogue")
        if ma_co_quan is not None and catalogue.agencies and ma_co_quan not in catalogue.agencies:
            shown = ma_co_quan if is_valid_agency_code(ma_co_quan) else "(malformed)"
            r.add("record.unknown_agency", "warning", f"agency {shown} is not in the catalogue")
    r.findings.extend(extra)

    usable = (
        ma_ho_so is not None
        and ma_tthc is not None
        and ma_co_quan is not None
        and trang_thai is not None
        and cap_nhat_luc is not None
        and (ngay_tiep_nhan is not None or trang_thai in NOT_RECEIVED_STATUSES)
    )
    # Positional, in the order of RecordLine's fields (a keyword call of 29 fields costs more, on every line).
    return RecordLine(
        line_no,
        raw_text,
        obj,
        ma_ho_so,
        ma_tthc,
        ma_tthc_quoc_gia,
        ten_tthc,
        ma_linh_vuc,
        ma_co_quan,
        kenh_thuc_hien,
        chu_ho_so,
        loai_doi_tuong,
        so_giay_to,
        ngay_nop,
        ngay_tiep_nhan,
        ngay_hen_tra,
        ngay_ket_thuc,
        ngay_tra,
        trang_thai,
        thanh_toan_truc_tuyen,
        hinh_thuc,
        danh_gia,
        cap_nhat_luc,
        bo_sung,
        le_phi,
        tai_lieu,
        ket_qua,
        tuple(r.findings),
        usable,
    )


def _status(r: _Reader, obj: dict[str, Any]) -> int | None:
    value = obj.get("TrangThaiHoSo")
    if value is None:
        r.add("record.missing_field", "error", "TrangThaiHoSo is missing")
        return None
    status = as_int(value)
    if status is None:
        r.add("record.bad_status", "error", f"TrangThaiHoSo is {_kind(value)}, not an integer 1..10")
        return None
    if status not in STATUSES:
        shown = str(status) if -1000 < status < 1000 else "a large number"
        r.add("record.bad_status", "error", f"TrangThaiHoSo {shown} is outside 1..10")
        return None
    return status


def _check_dossier_code(r: _Reader, ma_ho_so: str, ngay_tiep_nhan: datetime | None) -> None:
    code_date = dossier_code_date(ma_ho_so)
    if code_date is None:
        r.add(
            "record.bad_dossier_code",
            "error",
            "MaHoSo is not <agency code ddd.dd.dd.Ldd>-<YYMMDD>-<NNNN> with a real date",
        )
        return
    if ngay_tiep_nhan is not None:
        received = ngay_tiep_nhan.date()  # parse_datetime returns Vietnam time
        if received != code_date:
            r.add(
                "record.dossier_code_date_mismatch",
                "warning",
                f"MaHoSo carries the date {code_date.isoformat()}, NgayTiepNhan is {received.isoformat()} "
                "(Vietnam time)",
            )


def _check_identity(r: _Reader, number: str, applicant: int | None, on: date | None, today: date) -> None:
    """CCCD rules for a citizen, tax-code rules for an organisation; nothing when the type is unknown."""
    if applicant == CITIZEN:
        if is_legacy_identity_number(number):
            r.add("record.legacy_id", "info", "SoGiayToChuHoSo is a legacy 9-digit identity number (CMND)")
            return
        problem = cccd_problem(number, today)
        if problem is not None:
            r.add("record.bad_cccd", "error", f"SoGiayToChuHoSo of a citizen: {problem}")
    elif applicant == ORGANISATION:
        problem = tax_code_problem(number)
        if problem is not None and len(number) == 12 and number.isascii() and number.isdigit():
            # Since 2025-07-01 an individual's (e.g. a household business owner's) tax code is their CCCD.
            if on is not None and on >= PERSONAL_TAX_CODE_IS_CCCD_FROM:
                cccd = cccd_problem(number, today)
                problem = None if cccd is None else f"a 12-digit tax code must be a valid identity number: {cccd}"
            else:
                problem = "a 12-digit tax code (an identity number) is valid only from 2025-07-01"
        if problem is not None:
            r.add("record.bad_tax_code", "error", f"SoGiayToChuHoSo of an organisation: {problem}")


def _supplements(r: _Reader, obj: dict[str, Any]) -> tuple[SupplementRequest, ...]:
    out = []
    for i, entry in r.objects(obj, "DanhSachHoSoBoSung"):
        where = _Where("DanhSachHoSoBoSung", i)
        if entry.get("NgayBoSung") is None:
            r.add("record.bad_value", "warning", f"{where}NgayBoSung is missing; entry skipped")
            continue
        asked = r.moment(entry, "NgayBoSung", required=False, where=where, otherwise="entry skipped")
        if asked is None:
            continue
        back = r.moment(entry, "NgayTiepNhanBoSung", required=False, where=where)
        if back is not None and back < asked:
            r.add(
                "record.supplement_answer_before_request", "warning", f"{where}NgayTiepNhanBoSung is before NgayBoSung"
            )
        out.append(SupplementRequest(asked, back))
    return tuple(out)


def _fees(r: _Reader, obj: dict[str, Any]) -> tuple[FeeLine, ...]:
    out = []
    for i, entry in r.objects(obj, "DanhSachLePhi"):
        name, value = entry.get("TenPhiLePhi"), entry.get("Gia")
        if (name is None or type(name) is str) and type(value) is int and value >= 0:
            # The usual entry, read without detours. ``(x.strip() or None) if x else None``, for None or a text, is
            # what ``_Reader.text`` returns for it: the text without surrounding whitespace, None when none is left.
            out.append(FeeLine((name.strip() or None) if name else None, Decimal(value)))
            continue
        where = _Where("DanhSachLePhi", i)
        gia = None
        if value is not None:
            gia = _as_decimal(value)
            if gia is None or gia < 0:
                r.add("record.bad_value", "warning", f"{where}Gia is not a number of VND >= 0; read as null")
                gia = None
        out.append(FeeLine(r.text(entry, "TenPhiLePhi", where=where), gia))
    return tuple(out)


def _documents(r: _Reader, obj: dict[str, Any]) -> tuple[SubmittedDocument, ...]:
    out = []
    for i, entry in r.objects(obj, "TaiLieuNop"):
        # The hottest loop of a batch (several entries a line): entries that are already clean skip the
        # general readers, which give the same values.
        get = entry.get
        code, name, path = get("MaThanhPhanHoSo"), get("TenTepDinhKem"), get("DuongDanTaiTepTin")
        scanned, reused, from_store = get("DuocSoHoa"), get("DuocTaiSuDung"), get("DuocLayTuKhoDMQG")
        if (
            (code is None or type(code) is str)
            and (name is None or type(name) is str)
            and (path is None or type(path) is str)
            and type(scanned) is int
            and type(reused) is int
            and type(from_store) is int
            and scanned in _FLAGS
            and reused in _FLAGS
            and from_store in _FLAGS
        ):
            out.append(
                SubmittedDocument(
                    (code.strip() or None) if code else None,  # as in _fees
                    (name.strip() or None) if name else None,
                    (path.strip() or None) if path else None,
                    scanned,
                    reused,
                    from_store,
                )
            )
            continue
        where = _Where("TaiLieuNop", i)
        out.append(
            SubmittedDocument(
                r.text(entry, "MaThanhPhanHoSo", where=where),
                r.text(entry, "TenTepDinhKem", where=where),
                r.text(entry, "DuongDanTaiTepTin", where=where),
                r.choice(entry, "DuocSoHoa", _FLAGS, where=where),
                r.choice(entry, "DuocTaiSuDung", _FLAGS, where=where),
                r.choice(entry, "DuocLayTuKhoDMQG", _FLAGS, where=where),
            )
        )
    return tuple(out)


def _results(r: _Reader, obj: dict[str, Any]) -> tuple[ResultDocument, ...]:
    out = []
    for i, entry in r.objects(obj, "DanhSachGiayToKetQua"):
        get = entry.get
        name, code, path = get("TenGiayTo"), get("MaGiayToKetQua"), get("DuongDanTepTinKetQua")
        if (
            (name is None or type(name) is str)
            and (code is None or type(code) is str)
            and (path is None or type(path) is str)
        ):
            out.append(
                ResultDocument(
                    (name.strip() or None) if name else None,  # as in _fees
                    (code.strip() or None) if code else None,
                    (path.strip() or None) if path else None,
                )
            )
            continue
        where = _Where("DanhSachGiayToKetQua", i)
        out.append(
            ResultDocument(
                r.text(entry, "TenGiayTo", where=where),
                r.text(entry, "MaGiayToKetQua", where=where),
                r.text(entry, "DuongDanTepTinKetQua", where=where),
            )
        )
    return tuple(out)
