"""Shared helpers for the record tests: a clean record and one-line parsing."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sohoa.records.catalogue import Catalogue
from sohoa.records.model import RecordLine
from sohoa.records.parse import read_batch

TODAY = date(2026, 1, 15)
ABSENT = object()  # a change that removes the field

# A finished dossier with nothing wrong in it; tests change one thing at a time.
CLEAN: dict[str, Any] = {
    "MaHoSo": "000.00.32.H19-210708-0032",
    "MaTTHC": "2.000815.000.00.00.H19",
    "TenTTHC": "Chứng thực bản sao từ bản chính",
    "MaLinhVuc": "G09-CT01",
    "MaCoQuan": "000.00.32.H19",
    "KenhThucHien": 1,
    "ChuHoSo": "Trần Thị Bích",
    "LoaiDoiTuong": 1,
    "SoGiayToChuHoSo": "075190012345",
    "NgayNopHoSo": "2021-07-08T09:10:00+07:00",
    "NgayTiepNhan": "2021-07-08T09:15:00+07:00",
    "NgayHenTra": "2021-07-09T09:15:00+07:00",
    "NgayKetThucXuLy": "2021-07-09T08:00:00+07:00",
    "NgayTra": "2021-07-09T10:00:00+07:00",
    "TrangThaiHoSo": 10,
    "DanhSachHoSoBoSung": [],
    "DanhSachLePhi": [{"TenPhiLePhi": "Lệ phí chứng thực", "Gia": 2000}],
    "DuocThanhToanTrucTuyen": 0,
    "HinhThucThanhToan": "TIEN_MAT",
    "TaiLieuNop": [
        {
            "MaThanhPhanHoSo": "TP01",
            "TenTepDinhKem": "ban_sao.pdf",
            "DuongDanTaiTepTin": "https://x/1.pdf",
            "DuocSoHoa": 1,
            "DuocTaiSuDung": 0,
            "DuocLayTuKhoDMQG": 0,
        }
    ],
    "DanhSachGiayToKetQua": [{"TenGiayTo": "Bản sao", "MaGiayToKetQua": "KQ.G09.000031", "DuongDanTepTinKetQua": None}],
    "DanhGiaHaiLong": 1,
    "CapNhatLuc": "20210709100500",
}


def record(**changes: Any) -> dict[str, Any]:
    """The clean record with some fields changed (``ABSENT`` removes one)."""
    out = dict(CLEAN)
    for name, value in changes.items():
        if value is ABSENT:
            out.pop(name, None)
        else:
            out[name] = value
    return out


def jsonl(*records: dict[str, Any] | str) -> bytes:
    return "".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in records).encode()


def parse(data: bytes, name: str = "records/t.jsonl", catalogue: Catalogue | None = None) -> list[RecordLine]:
    return list(read_batch(name, data, catalogue=catalogue, today=TODAY))


def parse_one(catalogue: Catalogue | None = None, **changes: Any) -> RecordLine:
    lines = parse(jsonl(record(**changes)), catalogue=catalogue)
    assert len(lines) == 1
    return lines[0]


def rules(line: RecordLine) -> list[tuple[str, str]]:
    """(rule, severity) of every finding."""
    return [(f.rule, f.severity) for f in line.findings]
