"""A small, fully known dataset for the publishing tests, loaded through the real records path.

Records go through the landing bucket and the real loader (so pseudonyms are computed by the production
code). Documents are registered as the intake would leave them (original in the raw bucket, rows in
``sohoa.original`` / ``sohoa.document`` / ``sohoa.ocr_result``) without running Tesseract: OCR has its own
tests, and these are about what publishing does with stored documents.

Every applicant carries a valid CCCD and a name, and the identity numbers are also planted in a file name
and in extracted fields, so that a test can prove none of them reaches a published file or the API.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import psycopg2
from db_rows import rows

from sohoa.config import Settings
from sohoa.intake import pipeline
from sohoa.storage import s3

AGENCY_A = "000.00.32.H19"
AGENCY_B = "000.00.10.H57"
PAPER_RESULT = "2.000815"  # CoKetQuaGiay = 1
NO_PAPER = "1.001612"

AGENCIES_CSV = (
    "MaCoQuan,TenCoQuan,Cap,MaCoQuanCha\n"
    f"{AGENCY_A},UBND huyện Thống Nhất,HUYEN,000.00.00.H19\n"
    f"{AGENCY_B},UBND xã Phú Lộc,XA,000.00.00.H57\n"
)
PROCEDURES_CSV = (
    "MaTTHC,TenTTHC,MaLinhVuc,TenLinhVuc,ThoiHanGiaiQuyet,CoPhiLePhi,CoKetQuaGiay,ToanTrinh\n"
    f"{PAPER_RESULT},Cấp giấy phép xây dựng,G13-XD01,Xây dựng,15,1,1,0\n"
    f"{NO_PAPER},Chứng thực bản sao,G09-CT01,Chứng thực,1,1,0,1\n"
)

# Valid 12-digit CCCDs (province 079/046, 2000s/1900s, birth years in the past) and 9-digit legacy ids.
IDENTITY_NUMBERS = ["079203001234", "046185007777", "075300123456", "001099000111", "020188765432", "123456789"]
NAMES = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Hoàng Cường", "Phạm Thu Dung", "Hoàng Minh Em", "Vũ Văn Phúc"]


def code(agency: str, n: int) -> str:
    return f"{agency}-260105-{n:04d}"


@dataclass(frozen=True)
class Expected:
    """What the views must say about a planted dossier."""

    ma_co_quan: str
    so_thanh_phan_so_hoa: int
    co_ket_qua_dien_tu: bool
    da_so_hoa: bool


D1, D2, D3 = code(AGENCY_A, 1), code(AGENCY_A, 2), code(AGENCY_A, 3)
D4, D5, D6 = code(AGENCY_B, 4), code(AGENCY_B, 5), code(AGENCY_B, 6)

EXPECTED = {
    D1: Expected(AGENCY_A, 1, False, True),  # a scanned component, no paper result needed
    D2: Expected(AGENCY_A, 1, False, False),  # result returned on paper and no e-result
    D3: Expected(AGENCY_A, 2, True, True),  # same, with a result scan
    D4: Expected(AGENCY_B, 0, False, True),  # the record says DuocSoHoa = 1 with a link
    D5: Expected(AGENCY_B, 0, False, False),  # nothing digitised
    D6: Expected(AGENCY_B, 0, True, False),  # DuocSoHoa = 1 without a link does not count; e-result link
}


def record(ma_ho_so: str, i: int, *, agency: str, procedure: str, status: int, **extra: Any) -> dict[str, Any]:
    return {
        "MaHoSo": ma_ho_so,
        "MaTTHC": procedure,
        "MaCoQuan": agency,
        "TrangThaiHoSo": status,
        "ChuHoSo": NAMES[i],
        "LoaiDoiTuong": 1,
        "SoGiayToChuHoSo": IDENTITY_NUMBERS[i],
        "NgayTiepNhan": "2026-01-05T09:00:00+07:00",
        "NgayHenTra": "2026-01-26T17:00:00+07:00",
        "CapNhatLuc": "2026-01-20T10:00:00+07:00",
        "KenhThucHien": 2 if i % 2 else None,
        **extra,
    }


def records() -> list[dict[str, Any]]:
    finished = {"NgayKetThucXuLy": "2026-01-15T10:00:00+07:00", "NgayTra": "2026-01-16T10:00:00+07:00"}
    return [
        record(D1, 0, agency=AGENCY_A, procedure=NO_PAPER, status=4),
        record(D2, 1, agency=AGENCY_A, procedure=PAPER_RESULT, status=10, **finished),
        record(
            D3,
            2,
            agency=AGENCY_A,
            procedure=PAPER_RESULT,
            status=10,
            **finished,
            DanhSachGiayToKetQua=[
                {"TenGiayTo": "Giấy phép xây dựng", "MaGiayToKetQua": "KQ.G13.000031", "DuongDanTepTinKetQua": None}
            ],
        ),
        record(
            D4,
            3,
            agency=AGENCY_B,
            procedure=NO_PAPER,
            status=2,
            TaiLieuNop=[
                {
                    "MaThanhPhanHoSo": "TP1",
                    "TenTepDinhKem": "don.pdf",
                    "DuocSoHoa": 1,
                    "DuongDanTaiTepTin": "https://dvc.example/f/1",
                    "DuocTaiSuDung": 0,
                    "DuocLayTuKhoDMQG": 0,
                }
            ],
        ),
        record(D5, 4, agency=AGENCY_B, procedure=NO_PAPER, status=4),
        record(
            D6,
            5,
            agency=AGENCY_B,
            procedure=PAPER_RESULT,
            status=4,
            TaiLieuNop=[
                {
                    "MaThanhPhanHoSo": "TP1",
                    "TenTepDinhKem": "don.pdf",
                    "DuocSoHoa": 1,
                    "DuongDanTaiTepTin": "",
                    "DuocTaiSuDung": 0,
                    "DuocLayTuKhoDMQG": 0,
                }
            ],
            DanhSachGiayToKetQua=[
                {"TenGiayTo": "Giấy phép", "MaGiayToKetQua": None, "DuongDanTepTinKetQua": "https://dvc.example/kq/6"}
            ],
        ),
    ]


def load_records(settings: Settings, lines: list[dict[str, Any]] | None = None) -> None:
    client = s3.make_client(settings)
    body = "\n".join(json.dumps(r, ensure_ascii=False) for r in (lines or records())).encode()
    s3.put_bytes(client, settings.bucket_landing, "catalogue/agencies.csv", AGENCIES_CSV.encode(), "text/csv")
    s3.put_bytes(client, settings.bucket_landing, "catalogue/procedures.csv", PROCEDURES_CSV.encode(), "text/csv")
    s3.put_bytes(
        client,
        settings.bucket_landing,
        f"records/batch-{hashlib.sha256(body).hexdigest()[:8]}.jsonl",
        body,
        "application/x-ndjson",
    )
    pipeline.run_all(settings)


def add_document(
    settings: Settings,
    ma_ho_so: str | None,
    loai: str,
    name: str,
    content: bytes,
    extracted: dict[str, Any] | None = None,
) -> str:
    """Register a stored document as the intake leaves it; returns its SHA-256."""
    sha = hashlib.sha256(content).hexdigest()
    client = s3.make_client(settings)
    key = s3.content_key(sha)
    s3.put_bytes(client, settings.bucket_raw, key, content, "application/pdf")
    conn = psycopg2.connect(settings.dsn())
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                "INSERT INTO sohoa.original (sha256, raw_uri, size_bytes, mime_type, page_count) "
                "VALUES (%s, %s, %s, 'application/pdf', 1) ON CONFLICT DO NOTHING",
                (sha, s3.uri(settings.bucket_raw, key), len(content)),
            )
            cur.execute(
                "INSERT INTO sohoa.document (ma_ho_so, loai, ten_giay_to, landing_key, sha256) "
                "VALUES (%s, %s, %s, %s, %s)",
                (ma_ho_so, loai, name, f"{'results' if loai == 'ket_qua' else 'scans'}/{ma_ho_so}/{name}", sha),
            )
            cur.execute(
                "INSERT INTO sohoa.ocr_result (sha256, status, text_uri, searchable_uri, page_count, "
                "min_dpi, mean_confidence, extracted) VALUES (%s, 'done', %s, %s, 1, 300, 91.5, %s) "
                "ON CONFLICT DO NOTHING",
                (
                    sha,
                    s3.uri(settings.bucket_derived, s3.derived_prefix(sha) + "text.txt"),
                    s3.uri(settings.bucket_derived, s3.derived_prefix(sha) + "searchable.pdf"),
                    json.dumps(extracted or {}, ensure_ascii=False),
                ),
            )
    finally:
        conn.close()
    return sha


def load_dataset(settings: Settings) -> dict[str, str]:
    """The six planted dossiers and their documents; returns document name -> SHA-256."""
    load_records(settings)
    shas = {
        "d1": add_document(
            settings,
            D1,
            "thanh_phan",
            "don_de_nghi.pdf",
            b"%PDF-1.4 d1 component",
            {"so_cccd": IDENTITY_NUMBERS[0], "ho_ten": "***", "so_tien": 1500000},
        ),
        # A file name carrying the applicant's CCCD: it must be masked wherever it is published.
        "d2": add_document(settings, D2, "thanh_phan", f"cccd_{IDENTITY_NUMBERS[1]}.pdf", b"%PDF-1.4 d2 component"),
        "d3a": add_document(settings, D3, "thanh_phan", "ban_ve.pdf", b"%PDF-1.4 d3 component a"),
        "d3b": add_document(
            settings,
            D3,
            "thanh_phan",
            "so_do.pdf",
            b"%PDF-1.4 d3 component b",
            {"nguoi_nop": {"cccd": int(IDENTITY_NUMBERS[2])}},
        ),
        "d3r": add_document(settings, D3, "ket_qua", "giay_phep.pdf", b"%PDF-1.4 d3 result"),
    }
    return shas


def query(settings: Settings, sql: str, *args: object) -> list[tuple[Any, ...]]:
    return rows(settings, sql, *args)
