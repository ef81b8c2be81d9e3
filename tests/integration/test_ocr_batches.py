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


def _insert(settings: Settings, pages: list[int]) -> list[str]:
    shas = [f"{i:064x}" for i in range(len(pages))]
    conn = psycopg2.connect(settings.dsn())
    with conn, conn.cursor() as cur:
        for i, (sha, count) in enumerate(zip(shas, pages, strict=True)):
            cur.execute(
                "INSERT INTO sohoa.original (sha256, raw_uri, size_bytes, mime_type, page_count, stored_at) "
                "VALUES (%s, 's3://raw/x', 1, 'application/pdf', %s, now() + %s * interval '1 second')",
                (sha, count, i),
            )
    conn.close()
    return shas


def test_with_two_pool_slots_the_batches_come_in_pairs_of_about_equal_pages(settings: Settings) -> None:
    shas = _insert(settings, [5] * 100)  # 500 pages: 25 batches of 20 would leave one core idle at the end

    batches = ocr_batches(settings, max_pages=24, max_files=8, slots=2, last_round=1.0)

    assert [sha for batch in batches for sha in batch] == shas  # every original once, in arrival order
    assert len(batches) % 2 == 0
    sizes = [5 * len(batch) for batch in batches]
    assert max(sizes) <= 24
    assert max(sizes) - min(sizes) <= 5  # at most one file apart


def test_the_last_round_of_batches_is_half_the_size_of_the_others(settings: Settings) -> None:
    """Pages do not take equal time, so equal batches still end apart; the last round (the last batch of each
    slot, started last: Airflow starts mapped tasks in map index order) is smaller, so the slots end closer."""
    shas = _insert(settings, [5] * 100)

    batches = ocr_batches(settings, max_pages=40, max_files=8, slots=2)

    assert [sha for batch in batches for sha in batch] == shas
    sizes = [5 * len(batch) for batch in batches]
    assert len(sizes) == 14  # the tasks the benchmark's 500 pages made before: no task more
    assert sizes[-2:] == [20, 20]
    assert min(sizes[:-2]) >= 35
    assert max(sizes) <= 40


def test_batches_that_already_fill_every_slot_are_left_as_they_are(settings: Settings) -> None:
    _insert(settings, [5] * 16)  # 80 pages: 4 batches of 20 on 2 slots

    assert [len(b) for b in ocr_batches(settings, max_pages=24, max_files=8, slots=2)] == [4, 4, 4, 4]


def test_a_backlog_beyond_one_run_is_cut_oldest_first_and_the_rest_waits(settings: Settings) -> None:
    shas = _insert(settings, [5] * 40)

    batches = ocr_batches(settings, max_pages=10, max_files=8, slots=2, max_batches=4)

    assert len(batches) == 4  # Airflow would refuse to map more than its max_map_length
    taken = [sha for batch in batches for sha in batch]
    assert taken == shas[: len(taken)]
    assert all(5 * len(batch) <= 10 for batch in batches)
