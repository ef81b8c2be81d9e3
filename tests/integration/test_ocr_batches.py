"""OCR work is cut into batches bounded by pages, so that mapped tasks take predictable time."""

from __future__ import annotations

import psycopg2
import pytest

from sohoa.config import Settings
from sohoa.intake.pipeline import ocr_batches

pytestmark = pytest.mark.integration


def test_batches_are_bounded_by_pages_and_files_and_keep_arrival_order(settings: Settings) -> None:
    pages = [1, 1, 30, 5, 5, 5, 5, 5, 1, 1, 1, 1, 1, 1, 1, 1, 1]
    conn = psycopg2.connect(settings.dsn())
    with conn, conn.cursor() as cur:
        for i, count in enumerate(pages):
            cur.execute(
                "INSERT INTO sohoa.original (sha256, raw_uri, size_bytes, mime_type, page_count, stored_at) "
                "VALUES (%s, 's3://raw/x', 1, 'application/pdf', %s, now() + %s * interval '1 second')",
                (f"{i:064x}", count, i),
            )
        cur.execute("INSERT INTO sohoa.ocr_result (sha256, status) VALUES (%s, 'done')", (f"{16:064x}",))
    conn.close()

    batches = ocr_batches(settings, max_pages=12, max_files=4)

    flat = [sha for batch in batches for sha in batch]
    assert flat == [f"{i:064x}" for i in range(16)]  # every pending original once, in order; done ones left out
    weight = dict(zip(flat, pages, strict=False))
    for batch in batches:
        assert len(batch) <= 4
        assert len(batch) == 1 or sum(weight[s] for s in batch) <= 12
    assert [f"{2:064x}"] in batches  # a 30-page file is a batch of its own
