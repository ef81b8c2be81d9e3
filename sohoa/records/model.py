"""What a parsed dossier-record line is: typed fields, findings and whether it takes part in the KPIs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule a line breaks.

    Attributes:
        rule: the rule code, e.g. ``record.bad_cccd`` (../contracts/outputs.md).
        severity: ``error``, ``warning`` or ``info``.
        detail: human-readable; names fields and code formats, never personal data or the line's text.
    """

    rule: str
    severity: Severity
    detail: str


@dataclass(frozen=True, slots=True)
class SupplementRequest:
    """An entry of ``DanhSachHoSoBoSung``: more documents asked for, and when they came back."""

    ngay_bo_sung: datetime
    ngay_tiep_nhan_bo_sung: datetime | None


@dataclass(frozen=True, slots=True)
class FeeLine:
    """An entry of ``DanhSachLePhi`` (Gia in VND)."""

    ten: str | None
    gia: Decimal | None


@dataclass(frozen=True, slots=True)
class SubmittedDocument:
    """An entry of ``TaiLieuNop``; the flags are 0/1 as in the contract, None when absent or invalid."""

    ma_thanh_phan: str | None
    ten_tep: str | None
    duong_dan: str | None
    duoc_so_hoa: int | None
    duoc_tai_su_dung: int | None
    duoc_lay_tu_kho_dmqg: int | None


@dataclass(frozen=True, slots=True)
class ResultDocument:
    """An entry of ``DanhSachGiayToKetQua``."""

    ten_giay_to: str | None
    ma_giay_to_ket_qua: str | None
    duong_dan: str | None


@dataclass(frozen=True, slots=True)
class RecordLine:
    """One line (JSONL) or row (CSV) of a dossier-record batch, as read.

    Typed fields are None when absent, null, or unreadable (then a finding says so). ``raw_text`` is
    stored for audit and must never be logged: it holds personal data.

    Attributes:
        line_no: 1-based physical line where the line or row starts (a CSV header is line 1).
        raw_text: the line as received (JSONL), or the row re-serialised as JSON (CSV).
        raw: the JSON object, or None when the line is not one.
        ma_tthc: as received; ``ma_tthc_quoc_gia`` is its national part (first 8 characters).
        kenh_thuc_hien: 1, 2 or 3; an absent or null channel reads as 1, an invalid one as None.
        findings: the rules the line breaks, in the order they were checked.
        usable: whether the line takes part in the KPIs (../domain/kpi.md, "Which records count").
    """

    line_no: int
    raw_text: str
    raw: dict[str, Any] | None
    ma_ho_so: str | None
    ma_tthc: str | None
    ma_tthc_quoc_gia: str | None
    ten_tthc: str | None
    ma_linh_vuc: str | None
    ma_co_quan: str | None
    kenh_thuc_hien: int | None
    chu_ho_so: str | None
    loai_doi_tuong: int | None
    so_giay_to: str | None
    ngay_nop: datetime | None
    ngay_tiep_nhan: datetime | None
    ngay_hen_tra: datetime | None
    ngay_ket_thuc_xu_ly: datetime | None
    ngay_tra: datetime | None
    trang_thai: int | None
    duoc_thanh_toan_truc_tuyen: int | None
    hinh_thuc_thanh_toan: str | None
    danh_gia_hai_long: int | None
    cap_nhat_luc: datetime | None
    ho_so_bo_sung: tuple[SupplementRequest, ...]
    le_phi: tuple[FeeLine, ...]
    tai_lieu_nop: tuple[SubmittedDocument, ...]
    giay_to_ket_qua: tuple[ResultDocument, ...]
    findings: tuple[Finding, ...]
    usable: bool

    def __repr__(self) -> str:
        # The default repr would print names and ID numbers into any log or traceback that shows a line.
        rules = ", ".join(f.rule for f in self.findings)
        return (
            f"RecordLine(line_no={self.line_no}, ma_ho_so={self.ma_ho_so!r}, usable={self.usable}, findings=[{rules}])"
        )
