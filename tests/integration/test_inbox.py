"""Inbox scans find their dossier: by the QR code on the receipt, else by the code printed in the OCR text.

Runs the ingestion stages against the real PostgreSQL, the real S3 server and the real Tesseract.
"""

from __future__ import annotations

import io
import json
from dataclasses import replace

import psycopg2
import pytest
from PIL import Image

from sohoa.config import Settings
from sohoa.intake import pipeline
from sohoa.sample.barcodes import with_qr
from sohoa.sample.documents import DocFields, render_blank_page, render_document
from sohoa.storage import s3

pytestmark = pytest.mark.integration

KNOWN = "000.00.32.H19-260105-0001"
OTHER = "000.00.32.H19-260105-0002"


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.convert("RGB").save(buf, "PNG", dpi=(200, 200))
    return buf.getvalue()


def _put(settings: Settings, key: str, data: bytes) -> None:
    s3.put_bytes(s3.make_client(settings), settings.bucket_landing, key, data, "application/octet-stream")


def _record(code: str) -> str:
    return json.dumps(
        {
            "MaHoSo": code,
            "MaTTHC": "2.000815",
            "MaCoQuan": "000.00.32.H19",
            "TrangThaiHoSo": 2,
            "NgayTiepNhan": "2026-01-05T09:00:00+07:00",
            "CapNhatLuc": "2026-01-05T09:00:00+07:00",
        }
    )


def _documents(settings: Settings) -> dict[str, tuple[str | None, str | None]]:
    conn = psycopg2.connect(settings.dsn())
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT landing_key, ma_ho_so, linked_by FROM sohoa.document")
            return {k: (m, b) for k, m, b in cur.fetchall()}
    finally:
        conn.close()


def _open_issues(settings: Settings) -> set[tuple[str, str]]:
    conn = psycopg2.connect(settings.dsn())
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT object_key, rule FROM quality.issues WHERE resolved_at IS NULL")
            return {(k, r) for k, r in cur.fetchall()}
    finally:
        conn.close()


def test_inbox_scans_are_linked_by_barcode_or_printed_code(settings: Settings) -> None:
    fields = replace(DocFields.fake(3), ma_ho_so=KNOWN)
    receipt, _ = render_document("bien_nhan", fields, seed=3)
    blank = render_blank_page(seed=4)
    _put(settings, "records/day.jsonl", (_record(KNOWN) + "\n" + _record(OTHER) + "\n").encode())
    _put(settings, "inbox/qr.png", _png(with_qr(blank, OTHER, dpi=200)))  # only the QR names it
    _put(settings, "inbox/receipt.png", _png(receipt[0]))  # only its text names it
    _put(settings, "inbox/nothing.png", _png(render_blank_page(seed=5)))  # nothing names it
    _put(settings, f"scans/{KNOWN}/wrong.png", _png(with_qr(blank, OTHER, dpi=200).rotate(0)))

    pipeline.run_all(settings)

    docs = _documents(settings)
    assert docs["inbox/qr.png"] == (OTHER, "barcode")
    assert docs["inbox/receipt.png"] == (KNOWN, "ocr_text")
    assert docs["inbox/nothing.png"] == (None, None)
    assert docs[f"scans/{KNOWN}/wrong.png"] == (KNOWN, "folder")  # the folder decides; the mismatch is flagged
    issues = _open_issues(settings)
    assert ("inbox/nothing.png", "document.unassigned") in issues
    assert ("inbox/receipt.png", "document.unassigned") not in issues  # resolved once linked
    assert ("inbox/qr.png", "document.unassigned") not in issues
    assert (f"scans/{KNOWN}/wrong.png", "document.dossier_code_mismatch") in issues

    pipeline.run_all(settings)  # a rerun changes nothing
    assert _documents(settings) == docs


def test_an_inbox_receipt_scanned_before_its_record_is_linked_when_the_record_arrives(settings: Settings) -> None:
    later = "000.00.32.H19-260105-0077"
    fields = replace(DocFields.fake(7), ma_ho_so=later)
    receipt, _ = render_document("bien_nhan", fields, seed=7)
    _put(settings, "records/day-1.jsonl", (_record(KNOWN) + "\n").encode())
    _put(settings, "inbox/early-receipt.png", _png(receipt[0]))
    pipeline.run_all(settings)
    # Its printed code names no dossier on record: a misread digit must not file it, so it waits.
    assert _documents(settings)["inbox/early-receipt.png"] == (None, None)
    assert ("inbox/early-receipt.png", "document.unassigned") in _open_issues(settings)

    _put(settings, "records/day-2.jsonl", (_record(later) + "\n").encode())
    pipeline.run_all(settings)
    assert _documents(settings)["inbox/early-receipt.png"] == (later, "ocr_text")
    issues = _open_issues(settings)
    assert ("inbox/early-receipt.png", "document.unassigned") not in issues
    assert not any(key == "inbox/early-receipt.png" for key, _ in issues)
