"""Helpers of the portal tests: the real app over the session's PostgreSQL and nanio, users of each role,
and helpers that sign in the way a browser does (sign-in page, its CSRF token, the form post).

The ingest DAG trigger is replaced by a recorder (``portal.triggered``) or, where a test needs files processed,
by the in-process pipeline ``sohoa.intake.pipeline.run_all`` (the code the DAG tasks run).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import psycopg2
from db_rows import rows
from fastapi.testclient import TestClient

from sohoa.config import Settings
from sohoa.portal import create_app, users
from sohoa.portal.settings import PortalSettings
from sohoa.storage import s3

AGENCY_A = "000.00.32.H19"
AGENCY_B = "000.00.40.H19"
PASSWORD = "mat-khau-2026"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Portal:
    settings: Settings
    portal_settings: PortalSettings
    triggered: list[str] = field(default_factory=list)
    trigger_error: Exception | None = None

    def trigger(self) -> None:
        self.triggered.append("ingest")
        if self.trigger_error is not None:
            raise self.trigger_error

    def client(self) -> TestClient:
        app = create_app(self.settings, self.portal_settings, trigger=self.trigger)
        return TestClient(app, follow_redirects=False)

    def query(self, sql: str, *args: object) -> list[tuple[Any, ...]]:
        return rows(self.settings, sql, *args)

    def add_user(self, username: str, role: str, agency: str | None = None) -> int:
        conn = psycopg2.connect(self.settings.dsn())
        try:
            with conn:
                return users.create_user(conn, username, PASSWORD, role, ma_co_quan=agency).id
        finally:
            conn.close()

    def put_landing(self, key: str, data: bytes) -> None:
        s3.put_bytes(s3.make_client(self.settings), self.settings.bucket_landing, key, data, "application/octet-stream")

    def load_records(self, *records: dict[str, Any]) -> None:
        """Records through the real path: a JSONL batch in the landing bucket, then the pipeline."""
        from sohoa.intake.pipeline import run_all

        lines = "\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n"
        self.put_landing(
            f"records/test-{len(self.query('SELECT 1 FROM sohoa.record_batch')) + 1}.jsonl", lines.encode()
        )
        run_all(self.settings)

    def landing_keys(self) -> list[str]:
        return sorted(o.key for o in s3.list_objects(s3.make_client(self.settings), self.settings.bucket_landing))


def record(code: str, agency: str, status: int = 4, **extra: Any) -> dict[str, Any]:
    return {
        "MaHoSo": code,
        "MaTTHC": "2.000815",
        "MaCoQuan": agency,
        "TrangThaiHoSo": status,
        "NgayTiepNhan": "2026-01-05T09:00:00+07:00",
        "NgayHenTra": "2026-01-20T17:00:00+07:00",
        "CapNhatLuc": "2026-01-06T10:00:00+07:00",
        "ChuHoSo": "Nguyễn Văn An",
        "LoaiDoiTuong": 1,
        "SoGiayToChuHoSo": "075090001234",
        **extra,
    }


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> Any:
    page = client.get("/login")
    assert page.status_code == 200
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": csrf_of(page.text), "next": "/"}
    )


def scan_png(
    lines: tuple[str, ...] = (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "ĐƠN ĐỀ NGHỊ CẤP GIẤY PHÉP XÂY DỰNG",
    ),
    *,
    seed: int = 0,
) -> bytes:
    """A small clean 300 dpi scan of a few printed lines (Tesseract reads it in about a second)."""
    import io

    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 42)
    image = Image.new("RGB", (1500, 120 + 80 * len(lines)), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((60, 60 + 80 * i), line, font=font, fill=(0, 0, 0))
    draw.point((seed % 1500, 5), fill=(200, 200, 200))  # different seeds, different bytes
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(300, 300))
    return out.getvalue()


def zip_of(members: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def start_upload(client: TestClient, token: str, target: str = "dossier", ma_ho_so: str = "") -> str:
    response = client.post("/uploads", data={"target": target, "ma_ho_so": ma_ho_so, "csrf_token": token})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def put_file(client: TestClient, token: str, upload_id: str, name: str, data: bytes) -> Any:
    return client.put(
        f"/uploads/{upload_id}/files", content=data, headers={"X-CSRF-Token": token, "X-File-Name": quote(name)}
    )


@contextmanager
def served(app: Any, port: int) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on a real port in a thread; yields its base URL."""
    import threading
    import time

    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def flagged_document(
    portal: Portal,
    ma_ho_so: str | None,
    *,
    text: str = "Trang một",
    seed: int = 0,
    rule: str = "document.low_confidence",
    fields: dict[str, str] | None = None,
    uploaded_by_agency: str | None = None,
) -> int:
    """A stored, OCR'd document waiting for review, written the way the OCR and extraction stages write it
    (no Tesseract: fast). ``ma_ho_so`` None is an inbox scan; ``uploaded_by_agency`` makes it a portal upload
    of that agency. Returns the document id."""
    import hashlib

    from sohoa.db.connection import connect
    from sohoa.review.actions import sync_review_states

    sha = hashlib.sha256(f"flagged-{seed}".encode()).hexdigest()
    client = s3.make_client(portal.settings)
    text_key = f"{s3.derived_prefix(sha)}text.txt"
    s3.put_bytes(client, portal.settings.bucket_derived, text_key, text.encode(), "text/plain; charset=utf-8")
    key = f"scans/{ma_ho_so}/scan-{seed}.png" if ma_ho_so else f"inbox/scan-{seed}.png"
    rows = portal.query(
        """WITH o AS (INSERT INTO sohoa.original (sha256, raw_uri, size_bytes, mime_type, page_count)
                      VALUES (%s, %s, 10, 'image/png', 1) RETURNING sha256),
                r AS (INSERT INTO sohoa.ocr_result (sha256, status, text_uri, searchable_uri, page_count,
                                                    mean_confidence)
                      SELECT sha256, 'done', %s, %s, 1, 41.5 FROM o RETURNING sha256)
           INSERT INTO sohoa.document (ma_ho_so, loai, ten_giay_to, landing_key, sha256)
           SELECT %s, 'thanh_phan', 'Đơn đề nghị', %s, sha256 FROM r RETURNING id""",
        sha,
        f"s3://raw/{sha}",
        s3.uri(portal.settings.bucket_derived, text_key),
        s3.uri(portal.settings.bucket_derived, f"{s3.derived_prefix(sha)}searchable.pdf"),
        ma_ho_so,
        key,
    )
    document_id = int(rows[0][0])
    portal.query(
        "INSERT INTO sohoa.ocr_page (sha256, page_no, source, dpi, confidence) VALUES (%s, 1, 'ocr', 300, 41.5)", sha
    )
    for i, (name, value) in enumerate((fields or {}).items()):
        portal.query(
            """INSERT INTO sohoa.extracted_field (sha256, name, ordinal, value, page_no, line_no, char_start,
                                                           char_end, confidence, personal, extractor)
                        VALUES (%s, %s, 0, %s, 1, %s, 0, %s, 0.9, false, 'test')""",
            sha,
            name,
            value,
            i + 1,
            len(value),
        )
    if uploaded_by_agency is not None:
        user = portal.query("SELECT id FROM portal.user_account ORDER BY id LIMIT 1")
        upload = portal.query(
            """INSERT INTO portal.upload (public_id, user_id, ma_co_quan, target) VALUES (%s, %s, %s, 'inbox')
               RETURNING id""",
            f"u-{seed}",
            user[0][0] if user else None,
            uploaded_by_agency,
        )
        portal.query(
            """INSERT INTO portal.upload_file (upload_id, object_key, original_name, status)
                        VALUES (%s, %s, %s, 'stored')""",
            upload[0][0],
            key,
            f"phieu-{seed}.png",
        )
    detail = "not filed under a dossier" if ma_ho_so is None else "mean OCR word confidence 41 under 60"
    portal.query(
        """INSERT INTO sohoa.issue (source, ma_ho_so, object_key, rule, severity, detail, fingerprint)
                    VALUES ('document', %s, %s, %s, 'warning', %s, %s)""",
        ma_ho_so,
        key,
        "document.unassigned" if ma_ho_so is None else rule,
        detail,
        f"fp-{seed}",
    )
    with connect(portal.settings) as conn:
        sync_review_states(conn)
    return document_id
