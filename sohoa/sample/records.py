"""Generated dossier-record batches: realistic one-stop exports of the sample province, with planted defects.

A dossier is submitted (online at any hour, in person or by post in office hours, mostly on working days),
received, maybe asked for more documents, processed within or past its procedure's working days, and
handed back; the batch holds each dossier's state at the export instant (the morning after ``end``), so
old dossiers are mostly finished (9, 10) and recent ones open (2, 4, 5). Some dossiers also appear in an
earlier state, and with ``defects`` a few lines break one rule each (:data:`DEFECT_RULES`).

Everything is drawn from one ``random.Random(seed)``: the same arguments give the same bytes.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sohoa.records.codes import CCCD_PROVINCES, tax_check_digit
from sohoa.records.datetimes import VIETNAM, parse_datetime
from sohoa.sample.catalogues import PROCEDURES, SampleProcedure

CONTRACT_FIELDS = (
    "MaHoSo",
    "MaTTHC",
    "TenTTHC",
    "MaLinhVuc",
    "MaCoQuan",
    "KenhThucHien",
    "ChuHoSo",
    "LoaiDoiTuong",
    "SoGiayToChuHoSo",
    "NgayNopHoSo",
    "NgayTiepNhan",
    "NgayHenTra",
    "NgayKetThucXuLy",
    "NgayTra",
    "TrangThaiHoSo",
    "DanhSachHoSoBoSung",
    "DanhSachLePhi",
    "DuocThanhToanTrucTuyen",
    "HinhThucThanhToan",
    "TaiLieuNop",
    "DanhSachGiayToKetQua",
    "DanhGiaHaiLong",
    "CapNhatLuc",
)
"""The record fields of the input contract, in its order (the CSV header)."""

DEFECT_RULES = (
    "record.invalid_json",
    "record.missing_field",
    "record.bad_datetime",
    "record.bad_cccd",
    "record.bad_tax_code",
    "record.bad_status",
    "record.deadline_before_receipt",
    "record.dossier_code_date_mismatch",
    "record.unknown_procedure",
    "record.legacy_id",
    "record.missing_finish_time",
    "record.finish_before_receipt",
    "record.duplicate_line",
)
"""Rules a batch generated with ``defects=True`` breaks (``record.bad_datetime`` twice: once in a required
field, once in an optional one)."""

MIN_DOSSIERS_WITH_DEFECTS = 30

# Public holidays on which offices close (the KPI seed calendar for 2021-2022; fixed-date ones otherwise).
_HOLIDAYS_BY_YEAR = {
    2021: ("01-01", "02-10", "02-11", "02-12", "02-15", "02-16", "04-21", "04-30", "05-03", "09-02", "09-03"),
    2022: ("01-03", "01-31", "02-01", "02-02", "02-03", "02-04", "04-11", "05-02", "05-03", "09-01", "09-02"),
}
_FIXED_HOLIDAYS = ("01-01", "04-30", "05-01", "09-02")

_FAMILY = (
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
    "Trương",
    "Đinh",
)
_FAMILY_WEIGHTS = (38, 11, 9, 7, 5, 4, 4, 4, 4, 2, 2, 2, 2, 1, 1, 1, 1, 1)
_MIDDLE_MALE = ("Văn", "Hữu", "Minh", "Đức", "Quốc", "Thanh", "Công", "Gia", "Hoàng", "Ngọc")
_MIDDLE_FEMALE = ("Thị", "Ngọc", "Thu", "Kim", "Thanh", "Minh", "Mỹ", "Bảo", "Phương", "Khánh")
_GIVEN_MALE = (
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Đạt",
    "Hải",
    "Hiếu",
    "Hùng",
    "Huy",
    "Khang",
    "Khoa",
    "Long",
    "Minh",
    "Nam",
    "Phúc",
    "Quân",
    "Sơn",
    "Tài",
    "Thắng",
    "Trung",
    "Tuấn",
    "Việt",
)
_GIVEN_FEMALE = (
    "Anh",
    "Châu",
    "Diệp",
    "Giang",
    "Hà",
    "Hạnh",
    "Hằng",
    "Hoa",
    "Hương",
    "Lan",
    "Linh",
    "Mai",
    "Ngân",
    "Nhung",
    "Oanh",
    "Phương",
    "Quyên",
    "Tâm",
    "Thảo",
    "Trang",
    "Uyên",
    "Vy",
    "Yến",
)
_COMPANY_KIND = ("Công ty TNHH", "Công ty Cổ phần", "Công ty TNHH MTV", "Doanh nghiệp tư nhân")
_COMPANY_TRADE = (
    "Thương mại Dịch vụ",
    "Xây dựng",
    "Sản xuất",
    "Đầu tư Phát triển",
    "Vận tải",
    "Cơ khí",
    "Nông sản",
    "Bất động sản",
    "Xuất nhập khẩu",
    "Gỗ",
)
_COMPANY_NAME = (
    "Phát Đạt",
    "Hưng Thịnh",
    "Đồng Tiến",
    "Tân Phú",
    "Minh Long",
    "Sao Việt",
    "Phú Mỹ",
    "An Bình",
    "Biên Hòa Xanh",
    "Long Thành",
    "Thành Công",
    "Đại Nam",
    "Hoàng Gia",
    "Nhơn Trạch",
)

# Online submissions by hour of the day: evenings too, few at night.
_ONLINE_HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 4, 7, 9, 10, 10, 9, 6, 7, 9, 10, 10, 9, 8, 8, 7, 6, 4, 2)

_DOSSIER_DEFECT_KINDS = (
    "invalid_json",
    "missing_code",
    "bad_receipt_time",
    "bad_submit_time",
    "bad_cccd",
    "bad_tax_code",
    "status_11",
    "deadline_before_receipt",
    "code_date_mismatch",
    "unknown_procedure",
    "legacy_id",
    "missing_finish_time",
    "finish_before_receipt",
)


@dataclass(frozen=True)
class PlantedDefect:
    """A rule a generated line was made to break."""

    rule: str
    description: str


@dataclass
class GeneratedDossier:
    """One generated dossier.

    Attributes:
        ma_ho_so: the dossier code as sent (a planted code-date mismatch changes it).
        record: the final state as intended, before any defect, as a contract record (field -> JSON value).
        sent: the final line as sent, or None when it was sent as broken text (invalid JSON).
        defects: the defects planted in the sent line.
        versions: how many lines of the batch carry this dossier (an earlier state, a duplicate).
        expect_usable: whether the final line takes part in the KPIs (../domain/kpi.md).
    """

    ma_ho_so: str
    record: dict[str, Any]
    sent: dict[str, Any] | None
    defects: tuple[PlantedDefect, ...] = ()
    versions: int = 1
    expect_usable: bool = True


@dataclass
class BatchLine:
    """One line of the batch: a record, or text that is not valid JSON (``broken``)."""

    record: dict[str, Any]
    broken: str | None = None


@dataclass
class GeneratedBatch:
    """A generated batch of dossier records.

    Attributes:
        lines: the lines in batch order.
        dossiers: one entry per dossier, in generation order.
        expected_findings: rule -> number of findings the planted defects cause when the batch is read with
            the sample catalogue (without it, ``record.unknown_procedure`` does not fire).
    """

    lines: list[BatchLine]
    dossiers: list[GeneratedDossier]
    expected_findings: dict[str, int] = field(default_factory=dict)

    def jsonl_bytes(self) -> bytes:
        """The batch as JSON Lines (UTF-8, one object per line)."""
        out = []
        for line in self.lines:
            out.append(line.broken if line.broken is not None else json.dumps(line.record, ensure_ascii=False))
        return ("\n".join(out) + "\n").encode("utf-8")

    def csv_bytes(self) -> bytes:
        """The batch as CSV: header of the contract's fields, list fields as JSON text, null as an empty cell.

        A line sent as broken JSON becomes a row whose applicant name is in a legacy 8-bit encoding (not
        UTF-8), the CSV form of an unreadable line.
        """
        marker = "\x00not-utf8\x00"
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(CONTRACT_FIELDS)
        for line in self.lines:
            record = dict(line.record)
            if line.broken is not None:
                record["ChuHoSo"] = marker
            writer.writerow([_cell(record.get(name)) for name in CONTRACT_FIELDS])
        # "Nguyễn" in a Windows-1258-style byte string: not valid UTF-8.
        return buffer.getvalue().encode("utf-8").replace(marker.encode(), b"Nguy\xd2\xea n V\xe3n A")


def _slug(name: str) -> str:
    """An attachment file name from a document name: ``Tờ khai đăng ký`` -> ``to_khai_dang_ky``."""
    plain = unicodedata.normalize("NFD", name.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(c for c in plain if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "_", plain).strip("_")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _holidays(start: date, end: date) -> frozenset[date]:
    days = set()
    for year in range(start.year, end.year + 2):
        for month_day in _HOLIDAYS_BY_YEAR.get(year, _FIXED_HOLIDAYS):
            month, day = month_day.split("-")
            days.add(date(year, int(month), int(day)))
    return frozenset(days)


@dataclass
class _Plan:
    """A dossier's life, before it is cut at the export instant."""

    procedure: SampleProcedure
    agency: str
    channel: int
    submitted: datetime
    received: datetime | None
    rejected_at: datetime | None
    deadline: datetime | None = None
    supplements: list[tuple[datetime, datetime | None]] = field(default_factory=list)
    finished: datetime | None = None
    final_status: int = 10  # 7, 8 or 9/10 (10 when returned)
    returned: datetime | None = None


class _Generator:
    def __init__(self, seed: int, start: date, end: date) -> None:
        if end < start:
            raise ValueError("end is before start")
        self.rng = random.Random(seed)
        self.start, self.end = start, end
        self.export_at = datetime.combine(end + timedelta(days=1), time(1, 0), VIETNAM)
        self.holidays = _holidays(start, end)
        self.days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
        self.office_day_weights = [self._day_weight(d, online=False) for d in self.days]
        if not any(self.office_day_weights):
            self.office_day_weights = [1.0] * len(self.days)
        self.online_day_weights = [self._day_weight(d, online=True) for d in self.days]
        self.serials: Counter[tuple[str, date]] = Counter()
        self.procedure_weights = [p.weight for p in PROCEDURES]

    # --- calendar -------------------------------------------------------------------------------------

    def working(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def _day_weight(self, day: date, *, online: bool) -> float:
        if self.working(day):
            return 1.0
        if online:
            return 0.45
        return 0.12 if day.weekday() == 5 and day not in self.holidays else 0.0

    def add_working_days(self, day: date, count: int) -> date:
        while count > 0:
            day += timedelta(days=1)
            if self.working(day):
                count -= 1
        return day

    def next_working_day(self, day: date) -> date:
        while not self.working(day):
            day += timedelta(days=1)
        return day

    def office_time(self, day: date) -> datetime:
        """A moment in office hours (07:30-11:30, 13:30-17:00), mornings busier."""
        if self.rng.random() < 0.6:
            minute = 7 * 60 + 30 + self.rng.randrange(240)
        else:
            minute = 13 * 60 + 30 + self.rng.randrange(210)
        return datetime.combine(day, time(minute // 60, minute % 60, self.rng.randrange(60)), VIETNAM)

    def next_office_slot(self, moment: datetime) -> datetime:
        """When an officer picks up something that arrived at ``moment``."""
        day, clock = moment.date(), moment.time()
        if self.working(day) and time(7, 30) <= clock < time(16, 30):
            later = moment + timedelta(minutes=self.rng.randint(10, 120), seconds=self.rng.randrange(60))
            if later.time() < time(17, 0) and not time(11, 30) <= later.time() < time(13, 30):
                return later
        day = self.next_working_day(day + timedelta(days=1))
        minute = 7 * 60 + 30 + self.rng.randrange(180)
        return datetime.combine(day, time(minute // 60, minute % 60, self.rng.randrange(60)), VIETNAM)

    # --- people ---------------------------------------------------------------------------------------

    def citizen(self) -> tuple[str, str]:
        rng = self.rng
        female = rng.random() < 0.5
        family = rng.choices(_FAMILY, _FAMILY_WEIGHTS)[0]
        middle = rng.choice(_MIDDLE_FEMALE if female else _MIDDLE_MALE)
        given = rng.choice(_GIVEN_FEMALE if female else _GIVEN_MALE)
        province = "075" if rng.random() < 0.6 else rng.choice(sorted(CCCD_PROVINCES))
        year = rng.randint(1950, 2005)
        century = (0 if year < 2000 else 2) + int(female)
        number = f"{province}{century}{year % 100:02d}{rng.randrange(1_000_000):06d}"
        return f"{family} {middle} {given}", number

    def company(self) -> tuple[str, str]:
        rng = self.rng
        name = f"{rng.choice(_COMPANY_KIND)} {rng.choice(_COMPANY_TRADE)} {rng.choice(_COMPANY_NAME)}"
        return name, self.tax_code(branch=rng.random() < 0.1)

    def tax_code(self, *, branch: bool = False) -> str:
        while True:
            first_nine = f"36{self.rng.randrange(10_000_000):07d}"  # 36: the Đồng Nai tax department
            check = tax_check_digit(first_nine)
            if check is not None:
                code = f"{first_nine}{check}"
                return f"{code}-{self.rng.randint(1, 5):03d}" if branch else code

    def path(self, host: str, day: date) -> str:
        return f"https://{host}/files/{day:%Y/%m/%d}/{self.rng.getrandbits(64):016x}.pdf"

    # --- one dossier ----------------------------------------------------------------------------------

    def plan(self) -> _Plan:
        rng = self.rng
        procedure = rng.choices(PROCEDURES, self.procedure_weights)[0]
        agency = rng.choice(procedure.agencies)
        online_share = 0.55 if procedure.toan_trinh else 0.30
        draw = rng.random()
        channel = 2 if draw < online_share else (3 if draw > 0.95 else 1)
        if channel == 2:
            day = rng.choices(self.days, self.online_day_weights)[0]
            hour = rng.choices(range(24), _ONLINE_HOUR_WEIGHTS)[0]
            submitted = datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60)), VIETNAM)
            picked = self.next_office_slot(submitted)
            if rng.random() < 0.03:
                return _Plan(procedure, agency, channel, submitted, None, rejected_at=picked)
            received = picked
        else:
            day = rng.choices(self.days, self.office_day_weights)[0]
            received = self.office_time(day)
            if channel == 3:
                submitted = received - timedelta(days=rng.randint(1, 3), hours=rng.randint(0, 5))
            else:
                submitted = received - timedelta(minutes=rng.randint(0, 20), seconds=rng.randrange(60))
        plan = _Plan(procedure, agency, channel, submitted, received, rejected_at=None)
        days = procedure.thoi_han_giai_quyet
        plan.deadline = datetime.combine(self.add_working_days(received.date(), days), received.timetz())
        wait_days = 0
        if rng.random() < 0.08:
            asked = self.office_time(self.add_working_days(received.date(), rng.randint(1, max(1, days // 2))))
            wait_days = rng.randint(1, 6)
            answered = self.office_time(self.add_working_days(asked.date(), wait_days))
            plan.supplements.append((asked, answered if rng.random() < 0.9 else None))
        fate = rng.random()
        if fate < 0.015:
            plan.final_status = 7
            plan.finished = self.office_time(self.add_working_days(received.date(), rng.randint(1, days + 1)))
        elif fate < 0.025:
            plan.final_status = 8
            plan.finished = self.office_time(self.add_working_days(received.date(), rng.randint(1, days + 1)))
        elif plan.supplements and plan.supplements[0][1] is None:
            plan.final_status = 8  # never answered: processing stops later
            plan.finished = self.office_time(self.add_working_days(plan.supplements[0][0].date(), 30))
        else:
            late = rng.random() < 0.08
            offset = days + rng.randint(1, 4) if late else rng.randint(0 if days == 1 else 1, days)
            finish_day = self.add_working_days(received.date(), offset + wait_days)
            finished = self.office_time(finish_day)
            if finish_day == received.date() and finished <= received:
                finished = received + timedelta(minutes=rng.randint(20, 150))
            if not late and offset == days and finished.time() > received.time():
                finished = datetime.combine(finish_day, received.time(), VIETNAM) - timedelta(minutes=5)
            finished = max(finished, received + timedelta(minutes=15))
            if plan.supplements:
                finished = max(finished, plan.supplements[0][1] or finished) + timedelta(hours=1)
            plan.finished = finished
            plan.final_status = 9
            if rng.random() < 0.85:
                plan.returned = (
                    finished
                    if channel == 2 and rng.random() < 0.5
                    else self.office_time(self.add_working_days(finished.date(), rng.randint(0, 3)))
                )
                plan.returned = max(plan.returned, finished)
                plan.final_status = 10
        return plan

    def dossier_code(self, agency: str, day: date) -> str:
        self.serials[(agency, day)] += 1
        return f"{agency}-{day:%y%m%d}-{self.serials[(agency, day)]:04d}"

    def state(self, plan: _Plan, at: datetime, fmt: Callable[[datetime], str], base: dict[str, Any]) -> dict[str, Any]:
        """The record of a planned dossier as the one-stop system sees it at ``at``."""
        rng = self.rng
        record = dict(base)
        events = [plan.submitted]
        if plan.received is None:
            assert plan.rejected_at is not None
            status = 3 if plan.rejected_at <= at else 1
            if status == 3:
                events.append(plan.rejected_at)
        elif plan.received > at:
            status = 1
        else:
            record["NgayTiepNhan"] = fmt(plan.received)
            assert plan.deadline is not None
            record["NgayHenTra"] = fmt(plan.deadline)
            events.append(plan.received)
            supplements = []
            for asked, answered in plan.supplements:
                if asked <= at:
                    back = answered if answered is not None and answered <= at else None
                    supplements.append({"NgayBoSung": fmt(asked), "NgayTiepNhanBoSung": fmt(back) if back else None})
                    events.extend(e for e in (asked, back) if e is not None)
            record["DanhSachHoSoBoSung"] = supplements
            if plan.finished is not None and plan.finished <= at:
                record["NgayKetThucXuLy"] = fmt(plan.finished)
                events.append(plan.finished)
                status = plan.final_status
                if plan.returned is not None:
                    if plan.returned <= at:
                        record["NgayTra"] = fmt(plan.returned)
                        events.append(plan.returned)
                    else:
                        status = 9
                if status in (9, 10):
                    record["DanhSachGiayToKetQua"] = [
                        {
                            "TenGiayTo": plan.procedure.result,
                            "MaGiayToKetQua": plan.procedure.result_code if rng.random() < 0.8 else None,
                            "DuongDanTepTinKetQua": self.path("ketqua.dongnai.gov.vn", plan.finished.date())
                            if rng.random() < 0.65
                            else None,
                        }
                    ]
                if status == 10 and rng.random() < 0.3:
                    record["DanhGiaHaiLong"] = rng.choices((1, 2, 3), (60, 35, 5))[0]
            elif supplements and supplements[-1]["NgayTiepNhanBoSung"] is None:
                status = 5
            elif plan.received.date() >= at.date() - timedelta(days=1):
                status = 2
            else:
                status = 6 if record.get("DanhSachLePhi") and rng.random() < 0.03 else 4
                events.append(min(at, plan.received + timedelta(hours=rng.randint(2, 30))))  # processing began
        record["TrangThaiHoSo"] = status
        last = max(events)
        record["CapNhatLuc"] = fmt(min(at, last + timedelta(minutes=rng.randint(1, 90), seconds=rng.randrange(60))))
        return {name: record.get(name) for name in CONTRACT_FIELDS if name in record}

    def base(self, plan: _Plan, code: str) -> dict[str, Any]:
        """The fields that do not change over a dossier's life."""
        rng = self.rng
        procedure = plan.procedure
        organisation = rng.random() < procedure.organisation_share
        name, number = self.company() if organisation else self.citizen()
        suffix = f".{plan.agency}" if rng.random() < 0.2 else ""
        channel: int | None = plan.channel
        if channel == 1 and rng.random() < 0.1:
            channel = None  # the contract reads null as in person
        day = plan.submitted.date()
        fees: list[dict[str, Any]] = [
            {"TenPhiLePhi": fee_name, "Gia": rng.choice(amounts)} for fee_name, amounts in procedure.fees
        ]
        paid = any(fee["Gia"] > 0 for fee in fees)
        online_paid, method = 0, None
        if paid and plan.channel == 2 and rng.random() < 0.7:
            online_paid, method = rng.choice((1, 2)), "TRUC_TUYEN"
        elif paid and plan.channel == 2:
            method = rng.choice(("QR", "CHUYEN_KHOAN"))
        elif paid:
            method = rng.choices(("TIEN_MAT", "QR", "POS", "CHUYEN_KHOAN"), (45, 25, 15, 15))[0]
        documents = []
        for i, component in enumerate(procedure.components, start=1):
            scanned = plan.channel == 2 or rng.random() < 0.7
            host = "dichvucong.dongnai.gov.vn" if plan.channel == 2 else "motcua.dongnai.gov.vn"
            documents.append(
                {
                    "MaThanhPhanHoSo": f"TP{i:02d}",
                    "TenTepDinhKem": f"{_slug(component)}.pdf",
                    "DuongDanTaiTepTin": self.path(host, day) if scanned else None,
                    "DuocSoHoa": int(scanned),
                    "DuocTaiSuDung": int(rng.random() < 0.15),
                    "DuocLayTuKhoDMQG": int(rng.random() < 0.08),
                }
            )
        return {
            "MaHoSo": code,
            "MaTTHC": procedure.ma_tthc + suffix,
            "TenTTHC": procedure.ten_tthc,
            "MaLinhVuc": procedure.ma_linh_vuc,
            "MaCoQuan": plan.agency,
            "KenhThucHien": channel,
            "ChuHoSo": name,
            "LoaiDoiTuong": 2 if organisation else 1,
            "SoGiayToChuHoSo": number,
            "NgayNopHoSo": None,
            "DanhSachLePhi": fees,
            "DuocThanhToanTrucTuyen": online_paid,
            "HinhThucThanhToan": method,
            "TaiLieuNop": documents,
        }

    def formatter(self) -> Callable[[datetime], str]:
        """One source system's datetime style: ISO +07:00 mostly, some compact, some UTC with milliseconds."""
        draw = self.rng.random()
        if draw < 0.7:
            return lambda moment: moment.isoformat(timespec="seconds")
        if draw < 0.9:
            return lambda moment: moment.strftime("%Y%m%d%H%M%S")
        return lambda moment: moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def generate_records(n: int, *, seed: int, start: date, end: date, defects: bool = True) -> GeneratedBatch:
    """Generate ``n`` dossiers received (or submitted) between ``start`` and ``end`` inclusive.

    The batch is their state at 01:00 Vietnam time the day after ``end``; about 10% of the dossiers
    also appear in an earlier state (status 2, earlier ``CapNhatLuc``). Lines are in ``CapNhatLuc`` order.

    Args:
        n: number of dossiers.
        seed: the random seed; the same arguments give the same batch.
        start: first day of receipt.
        end: last day of receipt.
        defects: plant one line per rule of :data:`DEFECT_RULES` (needs ``n`` >= 30); a defect that needs a
            kind of dossier the batch lacks (e.g. a finished one) is left out of ``expected_findings``.

    Returns:
        The batch, its dossiers and the findings the defects cause.
    """
    if defects and n < MIN_DOSSIERS_WITH_DEFECTS:
        raise ValueError(f"planting defects needs at least {MIN_DOSSIERS_WITH_DEFECTS} dossiers")
    gen = _Generator(seed, start, end)
    rng = gen.rng
    dossiers: list[GeneratedDossier] = []
    timed: list[tuple[datetime, int, BatchLine]] = []
    earlier_of: set[int] = set()
    for index in range(n):
        plan = gen.plan()
        fmt = gen.formatter()
        received = plan.received if plan.received is not None and plan.received <= gen.export_at else None
        code = gen.dossier_code(plan.agency, (received or plan.submitted).date())
        base = gen.base(plan, code)
        base["NgayNopHoSo"] = fmt(plan.submitted)
        final = gen.state(plan, gen.export_at, fmt, base)
        dossiers.append(GeneratedDossier(code, final, dict(final)))
        if received is not None and final["TrangThaiHoSo"] not in (1, 2, 3) and rng.random() < 0.1:
            at = received + timedelta(minutes=rng.randint(5, 15))
            first_event = min([plan.finished or gen.export_at] + [asked for asked, _ in plan.supplements])
            if at < first_event and at < _instant(final["CapNhatLuc"]):
                earlier = gen.state(plan, at, fmt, base)
                timed.append((_instant(earlier["CapNhatLuc"]), len(timed), BatchLine(earlier)))
                dossiers[-1].versions += 1
                earlier_of.add(index)
    expected: Counter[str] = Counter()
    duplicate_of: int | None = None
    if defects:
        duplicate_of = _plant(gen, dossiers, earlier_of, expected)
    for dossier in dossiers:
        sent = dossier.sent
        line = BatchLine(sent) if sent is not None else BatchLine(dossier.record, _broken(dossier.record))
        timed.append((_instant(dossier.record["CapNhatLuc"]), len(timed), line))
    timed.sort(key=lambda item: (item[0], item[1]))
    lines = [line for _, _, line in timed]
    if duplicate_of is not None:
        repeated = dossiers[duplicate_of]
        assert repeated.sent is not None
        lines.append(BatchLine(dict(repeated.sent)))  # the same line again, at the end of the export
        repeated.versions += 1
    return GeneratedBatch(lines, dossiers, dict(sorted(expected.items())))


def _instant(text: str) -> datetime:
    return parse_datetime(text)


def _broken(record: dict[str, Any]) -> str:
    text = json.dumps(record, ensure_ascii=False)
    return text[: len(text) // 2]  # an export cut short mid-line


def _plant(
    gen: _Generator, dossiers: list[GeneratedDossier], earlier_of: set[int], expected: Counter[str]
) -> int | None:
    """Plant one defect per kind on distinct single-line dossiers; return the dossier whose line is repeated."""
    rng = gen.rng
    free = [i for i in range(len(dossiers)) if i not in earlier_of]
    rng.shuffle(free)
    used: set[int] = set()

    def pick(accept: Callable[[dict[str, Any]], bool]) -> GeneratedDossier | None:
        for i in free:
            if i not in used and accept(dossiers[i].record):
                used.add(i)
                return dossiers[i]
        return None

    def plant(dossier: GeneratedDossier, rule: str, description: str, *, usable: bool = True) -> None:
        dossier.defects += (PlantedDefect(rule, description),)
        dossier.expect_usable = usable
        expected[rule] += 1

    def received(record: dict[str, Any]) -> bool:
        return record.get("NgayTiepNhan") is not None

    def finished(record: dict[str, Any]) -> bool:
        return record["TrangThaiHoSo"] in (9, 10) and record.get("NgayKetThucXuLy") is not None

    def citizen(record: dict[str, Any]) -> bool:
        return record["LoaiDoiTuong"] == 1 and received(record)

    for kind in _DOSSIER_DEFECT_KINDS:
        if kind in ("bad_cccd", "legacy_id"):
            dossier = pick(citizen)
        elif kind in ("missing_finish_time", "finish_before_receipt"):
            dossier = pick(finished)
        else:
            dossier = pick(received)
        if dossier is None:
            continue
        sent = dossier.sent
        assert sent is not None
        receipt = _instant(sent["NgayTiepNhan"])
        if kind == "invalid_json":
            dossier.sent = None
            plant(dossier, "record.invalid_json", "the line is cut short mid-object", usable=False)
        elif kind == "missing_code":
            del sent["MaHoSo"]
            plant(dossier, "record.missing_field", "MaHoSo left out", usable=False)
        elif kind == "bad_receipt_time":
            sent["NgayTiepNhan"] = receipt.strftime("%d/%m/%Y %H:%M")
            plant(dossier, "record.bad_datetime", "NgayTiepNhan as dd/MM/yyyy HH:mm (required field)", usable=False)
        elif kind == "bad_submit_time":
            sent["NgayNopHoSo"] = _instant(sent["NgayNopHoSo"]).date().isoformat()
            plant(dossier, "record.bad_datetime", "NgayNopHoSo as a date without a time (optional field)")
        elif kind == "bad_cccd":
            sent["SoGiayToChuHoSo"] = "003" + sent["SoGiayToChuHoSo"][3:]
            plant(dossier, "record.bad_cccd", "identity number with province code 003, which does not exist")
        elif kind == "bad_tax_code":
            name, code = gen.company()
            wrong = str((int(code[9]) + 1 + rng.randrange(9)) % 10)
            sent.update(LoaiDoiTuong=2, ChuHoSo=name, SoGiayToChuHoSo=code[:9] + wrong + code[10:])
            plant(dossier, "record.bad_tax_code", "organisation tax code with a wrong check digit")
        elif kind == "status_11":
            sent["TrangThaiHoSo"] = 11
            plant(dossier, "record.bad_status", "TrangThaiHoSo 11, outside the national list", usable=False)
        elif kind == "deadline_before_receipt":
            sent["NgayHenTra"] = (receipt - timedelta(days=1)).isoformat(timespec="seconds")
            plant(dossier, "record.deadline_before_receipt", "NgayHenTra one day before NgayTiepNhan")
        elif kind == "code_date_mismatch":
            agency, _, serial = sent["MaHoSo"].split("-")
            code = f"{agency}-{receipt.date() - timedelta(days=1):%y%m%d}-{9000 + int(serial) % 1000:04d}"
            sent["MaHoSo"] = dossier.ma_ho_so = code
            plant(dossier, "record.dossier_code_date_mismatch", "MaHoSo carries the day before the receipt date")
        elif kind == "unknown_procedure":
            sent.update(MaTTHC="1.012345", TenTTHC="Thủ tục chưa có trong danh mục của tỉnh")
            plant(dossier, "record.unknown_procedure", "MaTTHC 1.012345 is not in the sample catalogue")
        elif kind == "legacy_id":
            sent["SoGiayToChuHoSo"] = f"{rng.randrange(10**8, 4 * 10**8):09d}"
            plant(dossier, "record.legacy_id", "legacy 9-digit identity number (CMND)")
        elif kind == "missing_finish_time":
            sent.pop("NgayKetThucXuLy", None)
            sent.pop("NgayTra", None)
            plant(dossier, "record.missing_finish_time", "finished dossier without NgayKetThucXuLy or NgayTra")
        elif kind == "finish_before_receipt":
            sent["NgayKetThucXuLy"] = (receipt - timedelta(hours=2)).isoformat(timespec="seconds")
            plant(dossier, "record.finish_before_receipt", "NgayKetThucXuLy two hours before NgayTiepNhan")
    for i in free:
        if i not in used:
            expected["record.duplicate_line"] += 1
            dossiers[i].defects += (PlantedDefect("record.duplicate_line", "the final line is sent twice"),)
            return i
    return None
