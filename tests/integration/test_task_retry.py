"""A retried ingest task replays the object references of its first try: what that try committed is left alone.

Regression: the chaos suite (tests/chaos) killed the S3 server after the first three scans of a mapped
``ingest_documents`` task had committed. Airflow's retry was given the same references, took those three in again,
found each one's own document and marked it ``duplicate`` (of itself, with a ``document.duplicate`` finding naming
itself); a retried ``load_records`` did the same to its batch and a retried ``load_catalogues`` recorded the
upload twice.
"""

from __future__ import annotations

import io
from datetime import date

import pytest
from PIL import Image, ImageDraw

from sohoa.config import Settings
from sohoa.db.connection import connect
from sohoa.intake import pipeline
from sohoa.sample.catalogues import agencies_csv
from sohoa.sample.records import generate_records
from sohoa.storage import s3

pytestmark = [pytest.mark.integration]


def _png(text: str) -> bytes:
    image = Image.new("RGB", (600, 200), "white")
    ImageDraw.Draw(image).text((20, 80), text, fill="black")
    buf = io.BytesIO()
    image.save(buf, "PNG", dpi=(200, 200))
    return buf.getvalue()


def _rows(settings: Settings, sql: str) -> list[tuple[object, ...]]:
    with connect(settings) as conn, conn.cursor() as cur:
        cur.execute(sql)
        return list(cur.fetchall())


def test_retried_tasks_leave_what_their_first_try_committed_alone(settings: Settings) -> None:
    client = s3.make_client(settings)
    feed = generate_records(4, seed=7, start=date(2026, 1, 5), end=date(2026, 1, 6), defects=False)
    s3.put_bytes(client, settings.bucket_landing, "catalogue/agencies.csv", agencies_csv(), "text/csv")
    s3.put_bytes(client, settings.bucket_landing, "records/feed.jsonl", feed.jsonl_bytes(), "application/x-ndjson")
    codes = [d.ma_ho_so for d in feed.dossiers]
    for i, code in enumerate(codes):
        s3.put_bytes(client, settings.bucket_landing, f"scans/{code}/don.png", _png(f"trang {i}"), "image/png")
    plan = pipeline.plan(settings)
    assert len(plan.documents) == len(codes)

    # First tries: everything before the cut commits (two of the scans), then the task fails.
    pipeline.load_catalogues(settings, plan.catalogues)
    pipeline.load_records(settings, plan.records)
    pipeline.ingest_documents(settings, plan.documents[:2])
    # Retries, with the same references (the XCom of the planning task).
    assert pipeline.load_catalogues(settings, plan.catalogues) == {}
    assert [o["status"] for o in pipeline.load_records(settings, plan.records)] == [pipeline.ALREADY_DONE]
    outcomes = pipeline.ingest_documents(settings, plan.documents)
    assert [o["status"] for o in outcomes] == [pipeline.ALREADY_DONE] * 2 + ["stored"] * (len(codes) - 2)

    fates = _rows(settings, "SELECT object_key, status, detail FROM sohoa.landing_object ORDER BY object_key")
    assert [(k, s) for k, s, _ in fates if s != "done"] == []
    assert _rows(settings, "SELECT count(*) FROM sohoa.issue WHERE rule = 'document.duplicate'") == [(0,)]
    assert _rows(settings, "SELECT count(*) FROM sohoa.catalogue_upload") == [(1,)]
    assert _rows(settings, "SELECT count(*) FROM sohoa.record_batch") == [(1,)]
    assert _rows(settings, "SELECT count(*) FROM sohoa.document") == [(len(codes),)]
