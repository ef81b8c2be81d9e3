"""A hand-computed KPI fixture: April 2021 at two agencies, every edge case of kpi.md.

Agency A (``000.00.32.H19``), procedure P1 (``1.000001``: 3 working days, paper result, fully online) unless
said otherwise; P2 (``2.000002``) is not in the catalogue. Times are Vietnam time unless written with ``Z``.

- D1: received Apr 5 23:50 online, deadline Apr 9 17:00, finished Apr 8 10:00 (status 10) with an
  e-result, paid online, digitised, reused: 23:50 counts on Apr 5; early.
- D2: received 2021-04-05T17:10Z = Apr 6 00:10 (UTC says Apr 5), deadline Apr 8 17:00, finished Apr 8
  16:00, a fee line of 0 VND, rated 3: counts on Apr 6; on time.
- D3: received Apr 7 09:00 online, deadline Apr 12 17:00, requests Apr 8 10:00 -> Apr 9 10:00 and Apr 12
  09:00 -> Apr 13 09:00, status 9 on Apr 14 without the e-result its paper result needs: two requests make
  it late, and overdue from the end of Apr 12.
- D4: received Apr 12 08:00 online, deadline Apr 14 17:00, request Apr 13 08:00 never answered, still open
  (status 5), fee paid in cash, a component from the national store: never overdue.
- D5: received Fri Apr 16 10:00, no NgayHenTra: 3 working days -> Apr 22 (Apr 21, Hùng Kings, is a
  holiday); finished Apr 22 16:00: on time.
- D5b: received Apr 26 09:00 by post, procedure P2 (not catalogued): unknown deadline; finished Apr 28: on time.
- D5c: received Mon Apr 26 09:00 online, no NgayHenTra: deadline Apr 29 23:59:59.999999; still open:
  overdue from the end of Apr 29.
- D6: received Apr 19 09:00, withdrawn (status 7) Apr 20 10:00, rated 3: out of the base set.
- D7: received Mar 25 09:00, deadline Apr 2 17:00, finished Apr 6 10:00, rated 3: carried over; late.
- D7b: received Mar 30 09:00 by post, deadline Apr 5 17:00, still open: carried over; overdue from Apr 5.
- D8: status 3 (not accepted): counts nowhere.

Agency B2 (``000.00.33.H19``): 32 dossiers received Apr 15 09:00 with deadline Apr 16 17:00; one finished
(status 8) the same day with a digitised component, 31 still open: 1/32 = 3.125% rounds half up to 3.13.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

AGENCY_A = "000.00.32.H19"
AGENCY_B2 = "000.00.33.H19"
P1 = "1.000001"
P2 = "2.000002"
BUILD_DATE = date(2021, 5, 1)

AGENCIES_CSV = (
    "MaCoQuan,TenCoQuan,Cap,MaCoQuanCha\n"
    f"{AGENCY_A},UBND huyện A,HUYEN,000.00.00.H19\n"
    f"{AGENCY_B2},UBND huyện B,HUYEN,000.00.00.H19\n"
    "000.00.00.H19,UBND tỉnh Đồng Nai,TINH,\n"
).encode()

PROCEDURES_CSV = (
    "MaTTHC,TenTTHC,MaLinhVuc,TenLinhVuc,ThoiHanGiaiQuyet,CoPhiLePhi,CoKetQuaGiay,ToanTrinh\n"
    f"{P1},Cấp giấy phép xây dựng,G09-XD01,Xây dựng,3,1,1,1\n"
).encode()


def _vn(text: str) -> str:
    """``2021-04-05 23:50`` -> ISO 8601 with the Vietnam offset."""
    return text.replace(" ", "T") + ":00+07:00"


def record(
    code: str,
    received: str | None,
    *,
    status: int,
    agency: str = AGENCY_A,
    procedure: str = P1,
    updated: str = "2021-04-30 12:00",
    **fields: Any,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "MaHoSo": code,
        "MaTTHC": procedure,
        "MaCoQuan": agency,
        "TrangThaiHoSo": status,
        "CapNhatLuc": _vn(updated),
    }
    if received is not None:
        out["NgayTiepNhan"] = received if received.endswith("Z") else _vn(received)
    for key, value in fields.items():
        out[key] = _vn(value) if key.startswith("Ngay") and isinstance(value, str) else value
    return out


def _requests(*pairs: tuple[str, str | None]) -> list[dict[str, Any]]:
    return [{"NgayBoSung": _vn(a), "NgayTiepNhanBoSung": _vn(b) if b else None} for a, b in pairs]


DIGITISED = [
    {
        "MaThanhPhanHoSo": "TP1",
        "TenTepDinhKem": "don.pdf",
        "DuongDanTaiTepTin": "/files/don.pdf",
        "DuocSoHoa": 1,
        "DuocTaiSuDung": 0,
        "DuocLayTuKhoDMQG": 0,
    }
]
REUSED = [{**DIGITISED[0], "DuocTaiSuDung": 1}]
FROM_STORE = [{**DIGITISED[0], "DuocLayTuKhoDMQG": 1}]
E_RESULT = [{"TenGiayTo": "Giấy phép", "MaGiayToKetQua": "KQ.G09.000001", "DuongDanTepTinKetQua": "/kq/1.pdf"}]


def code(agency: str, day: str, n: int) -> str:
    return f"{agency}-{day}-{n:04d}"


D1 = code(AGENCY_A, "210405", 1)
D2 = code(AGENCY_A, "210406", 2)
D3 = code(AGENCY_A, "210407", 3)
D4 = code(AGENCY_A, "210412", 4)
D5 = code(AGENCY_A, "210416", 5)
D5B = code(AGENCY_A, "210426", 6)
D5C = code(AGENCY_A, "210426", 7)
D6 = code(AGENCY_A, "210419", 8)
D7 = code(AGENCY_A, "210325", 9)
D7B = code(AGENCY_A, "210330", 10)
D8 = code(AGENCY_A, "210415", 11)


def april_records() -> list[dict[str, Any]]:
    rows = [
        record(
            D1,
            "2021-04-05 23:50",
            status=10,
            KenhThucHien=2,
            NgayHenTra="2021-04-09 17:00",
            NgayKetThucXuLy="2021-04-08 10:00",
            DanhSachLePhi=[{"TenPhiLePhi": "Lệ phí", "Gia": 50000}],
            DuocThanhToanTrucTuyen=1,
            TaiLieuNop=REUSED,
            DanhSachGiayToKetQua=E_RESULT,
            DanhGiaHaiLong=1,
        ),
        record(
            D2,
            "2021-04-05T17:10:00Z",
            status=10,
            NgayHenTra="2021-04-08 17:00",
            NgayKetThucXuLy="2021-04-08 16:00",
            DanhSachLePhi=[{"TenPhiLePhi": "Miễn phí", "Gia": 0}],
            DanhGiaHaiLong=3,
        ),
        record(
            D3,
            "2021-04-07 09:00",
            status=9,
            KenhThucHien=2,
            NgayHenTra="2021-04-12 17:00",
            NgayKetThucXuLy="2021-04-14 10:00",
            TaiLieuNop=DIGITISED,
            DanhSachHoSoBoSung=_requests(
                ("2021-04-08 10:00", "2021-04-09 10:00"), ("2021-04-12 09:00", "2021-04-13 09:00")
            ),
            DanhSachLePhi=[{"TenPhiLePhi": "Lệ phí", "Gia": 20000}],
            DuocThanhToanTrucTuyen=0,
            HinhThucThanhToan="QR",
        ),
        record(
            D4,
            "2021-04-12 08:00",
            status=5,
            KenhThucHien=2,
            NgayHenTra="2021-04-14 17:00",
            DanhSachHoSoBoSung=_requests(("2021-04-13 08:00", None)),
            TaiLieuNop=FROM_STORE,
            DanhSachLePhi=[{"TenPhiLePhi": "Lệ phí", "Gia": 10000}],
            HinhThucThanhToan="TIEN_MAT",
        ),
        record(D5, "2021-04-16 10:00", status=10, NgayKetThucXuLy="2021-04-22 16:00"),
        record(D5B, "2021-04-26 09:00", status=10, procedure=P2, KenhThucHien=3, NgayKetThucXuLy="2021-04-28 10:00"),
        record(D5C, "2021-04-26 09:00", status=4, KenhThucHien=2),
        record(
            D6,
            "2021-04-19 09:00",
            status=7,
            NgayHenTra="2021-04-23 17:00",
            NgayKetThucXuLy="2021-04-20 10:00",
            DanhGiaHaiLong=3,
        ),
        record(
            D7,
            "2021-03-25 09:00",
            status=10,
            NgayHenTra="2021-04-02 17:00",
            NgayKetThucXuLy="2021-04-06 10:00",
            DanhGiaHaiLong=3,
        ),
        record(D7B, "2021-03-30 09:00", status=4, KenhThucHien=3, NgayHenTra="2021-04-05 17:00"),
        record(D8, None, status=3),
    ]
    for n in range(1, 33):
        finished = n == 1
        rows.append(
            record(
                code(AGENCY_B2, "210415", n),
                "2021-04-15 09:00",
                agency=AGENCY_B2,
                status=8 if finished else 4,
                NgayHenTra="2021-04-16 17:00",
                **({"NgayKetThucXuLy": "2021-04-15 15:00", "TaiLieuNop": DIGITISED} if finished else {}),
            )
        )
    return rows


def jsonl(rows: list[dict[str, Any]]) -> bytes:
    return ("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n").encode()


# kpi.indicator for April 2021 (ky 'thang'), hand-computed: chi_so -> (tu_so, mau_so, ty_le, diem).
# Agency A: base set B = 8 received + 2 open at Apr 1 (D7, D7b) - 1 withdrawn (D6) = 9.
EXPECTED_APRIL_A: dict[str, tuple[int, int, str | None, str | None]] = {
    # D1 early, D2 D5 D5b on time, D4 open within deadline at May 1: 5/9
    "TIEN_DO": (5, 9, "55.56", "11.11"),
    # P1 received: D1 D2 D3 D4 D5 D5c D6 = 7; online D1 D3 D4 D5c, minus D3 (status 9, paper, no e-result)
    "TRUC_TUYEN": (3, 7, "42.86", "10.29"),
    # with a fee: D1 (online), D3 (QR), D4 (cash); D2's line is 0 VND
    "THANH_TOAN_TRUC_TUYEN": (1, 3, "33.33", "2.00"),
    # resolved status 9/10 needing paper: D1 D2 D3 D5 D7; e-result: D1
    "KET_QUA_DIEN_TU": (1, 5, "20.00", "1.20"),
    # digitised: D1 (component and e-result), D4 (open); D3 lacks the e-result its paper result needs
    "SO_HOA": (2, 8, "25.00", "1.25"),
    "TAI_SU_DUNG": (1, 8, "12.50", "0.31"),
    "KHO_DMQG": (1, 8, "12.50", "0.50"),
    # B minus late (D3, D7), overdue at May 1 (D5c, D7b), rated 3 (D2, D7): 9 - 5 = 4
    "HAI_LONG": (4, 9, "44.44", "2.96"),
    "TY_LE_DUNG_HAN": (4, 6, "66.67", None),
    "TY_LE_TRUC_TUYEN": (4, 8, "50.00", None),
    "TY_LE_KHONG_TIEN_MAT": (2, 3, "66.67", None),
}

EXPECTED_APRIL_B2 = {
    "TIEN_DO": (1, 32, "3.13", "0.63"),  # 3.125 and 0.625: half up
    "SO_HOA": (1, 32, "3.13", "0.16"),  # 4 * min(1, r / 0.8) = 0.15625
    "TY_LE_DUNG_HAN": (1, 1, "100.00", None),
    "KET_QUA_DIEN_TU": (0, 0, None, None),  # no denominator: no ratio, no points
}

# End-of-day stocks of agency A: day -> (open, within deadline, overdue).
EXPECTED_STOCK_A = {
    date(2021, 3, 31): (2, 2, 0),  # D7 (deadline Apr 2), D7b (Apr 5)
    date(2021, 4, 5): (3, 1, 2),  # D1 open within; D7 and D7b overdue
    date(2021, 4, 11): (2, 1, 1),  # D3 within (first request answered), D7b overdue
    date(2021, 4, 12): (3, 1, 2),  # D3 overdue after its second request, D4 within, D7b
    date(2021, 4, 19): (4, 3, 1),  # D4, D5, D6 within; D7b
    date(2021, 4, 28): (3, 2, 1),  # D4, D5c within; D7b
    date(2021, 4, 29): (3, 1, 2),  # D5c overdue at the end of its deadline day
    date(2021, 4, 30): (3, 1, 2),
}

# Flows of agency A: day -> (received, resolved, early, on time, late, withdrawn).
EXPECTED_FLOWS_A = {
    date(2021, 4, 5): (1, 0, 0, 0, 0, 0),  # D1 at 23:50
    date(2021, 4, 6): (1, 1, 0, 0, 1, 0),  # D2 at 00:10; D7 late
    date(2021, 4, 8): (0, 2, 1, 1, 0, 0),  # D1 early, D2 on time
    date(2021, 4, 14): (0, 1, 0, 0, 1, 0),  # D3 late (two requests)
    date(2021, 4, 15): (0, 0, 0, 0, 0, 0),  # D8 not accepted: counts nowhere
    date(2021, 4, 20): (0, 0, 0, 0, 0, 1),  # D6 withdrawn
    date(2021, 4, 22): (0, 1, 0, 1, 0, 0),  # D5 on time thanks to the Apr 21 holiday
    date(2021, 4, 28): (0, 1, 0, 1, 0, 0),  # D5b: unknown deadline, on time
}
