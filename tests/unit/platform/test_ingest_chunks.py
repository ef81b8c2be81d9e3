"""Work is cut into batches for mapped tasks (documents for the ingest tasks, originals for the OCR tasks) by one
weighted cutter, sohoa.intake.pipeline.cut: bounded, in order, and filling the slots."""

from __future__ import annotations

import random

from sohoa.intake.pipeline import Plan, chunks, cut


def test_chunks_are_bounded_and_keep_order() -> None:
    items = list(range(45))
    assert chunks(items, 20) == [items[:20], items[20:40], items[40:]]
    assert chunks([], 20) == []


def test_on_two_cores_a_lone_last_chunk_becomes_a_pair_of_even_ones() -> None:
    items = list(range(100))  # 5 chunks of 20: the fifth would run alone after the first four

    cut = chunks(items, 20, multiple_of=2)

    assert [x for chunk in cut for x in chunk] == items
    assert len(cut) == 6
    assert max(map(len, cut)) <= 20
    assert max(map(len, cut)) - min(map(len, cut)) <= 1


def test_chunks_already_filling_the_cores_and_tiny_batches_are_left_alone() -> None:
    items = list(range(80))
    assert chunks(items, 20, multiple_of=2) == chunks(items, 20)
    assert chunks([1], 20, multiple_of=2) == [[1]]


def _ref(key: str) -> dict[str, object]:
    return {"key": key, "etag": "e", "size": 1, "last_modified": None}


def test_the_plan_gives_the_tasks_documents_and_unknown_keys_already_in_ingest_batches() -> None:
    """The planning task cuts the ingest batches itself (no task of pure computation in between): every
    document, then every unknown key (quarantined by the same stage), once each, in arrival order, in a
    multiple of the cores; catalogues and record batches are passed as listed."""
    documents = [_ref(f"scans/d/{i}.pdf") for i in range(41)]
    unknown = [_ref("stray.bin")]
    landing = Plan(
        catalogues=[_ref("catalogue/agencies.csv")],
        records=[_ref("records/a.jsonl")],
        documents=documents,
        unknown=unknown,
    )

    parts = landing.for_tasks(20, multiple_of=2)

    assert parts["catalogues"] == landing.catalogues
    assert parts["records"] == landing.records
    batches = parts["document_batches"]
    assert [ref for batch in batches for ref in batch] == documents + unknown
    assert len(batches) % 2 == 0
    assert max(map(len, batches)) <= 20


def test_an_empty_landing_plans_no_ingest_batch() -> None:
    assert Plan().for_tasks(20, multiple_of=2)["document_batches"] == []


def _sizes(weights: list[int], ranges: list[tuple[int, int]]) -> list[int]:
    return [sum(weights[a:b]) for a, b in ranges]


def test_a_re_cut_keeps_the_bound() -> None:
    """Regression (review of the two cutters): cutting again into a multiple of the slots at the boundaries
    nearest equal shares dropped the bound: a 40-page file, then sixteen 1-page files, on 2 slots with at most 8
    files a batch, made a batch of 14 files."""
    weights = [40] + [1] * 16

    ranges = cut(weights, max_weight=40, max_items=8, multiple_of=2)

    assert ranges[0] == (0, 1)  # the big file alone
    assert len(ranges) % 2 == 0
    assert all(b - a <= 8 for a, b in ranges)
    assert max(_sizes(weights, ranges)) <= 40
    assert [b - a for a, b in ranges[1:]] == [5, 5, 6]  # the rest shared again after the forced cut


def test_the_last_round_is_smaller_and_the_rest_as_even_as_the_bound_lets_it() -> None:
    weights = [5] * 100  # the e2e benchmark's 500 pages in files of 5

    ranges = cut(weights, max_weight=40, max_items=8, multiple_of=2, last_round=0.5)

    sizes = _sizes(weights, ranges)
    assert len(sizes) == 14  # as many tasks as without the smaller last round (13 bounded batches, made 14)
    assert sizes[-2:] == [20, 20]
    assert min(sizes[:-2]) >= 35
    assert max(sizes) <= 40


def test_the_cutter_keeps_its_promises_on_random_work() -> None:
    rng = random.Random(2026)
    for _ in range(2000):
        weights = [rng.choice([1, 1, 2, 5, 5, 12, 30, 60]) for _ in range(rng.randrange(0, 60))]
        max_weight, max_items = rng.choice([8, 24, 40]), rng.choice([1, 3, 8])
        slots, last_round = rng.choice([1, 2, 3, 4]), rng.choice([1.0, 0.5])

        ranges = cut(weights, max_weight=max_weight, max_items=max_items, multiple_of=slots, last_round=last_round)

        assert [i for a, b in ranges for i in range(a, b)] == list(range(len(weights)))  # every item, in order
        assert all(b > a for a, b in ranges)  # no empty batch
        for a, b in ranges:
            assert b - a <= max_items
            assert b - a == 1 or sum(weights[a:b]) <= max_weight  # only a single heavy item goes over
        fewest = cut(weights, max_weight=max_weight, max_items=max_items)
        if slots > 1 and (len(fewest) % slots or last_round != 1.0):
            assert len(ranges) == min(len(weights), -(-len(fewest) // slots) * slots)
        else:
            assert ranges == fewest


def test_a_landing_larger_than_one_run_can_map_is_taken_oldest_first_and_the_rest_left() -> None:
    """Airflow fails a task that pushes more than [core] max_map_length items to map over; a backfill of
    tens of thousands of scans is taken in by successive runs instead, oldest first."""
    documents = [_ref(f"scans/d/{i}.pdf") for i in range(100)]

    batches = Plan(documents=documents).for_tasks(20, multiple_of=2, max_batches=3)["document_batches"]

    assert len(batches) == 3
    taken = [ref for batch in batches for ref in batch]
    assert taken == documents[: len(taken)]  # the oldest, in order; the rest waits unmarked in the bucket
    assert max(map(len, batches)) <= 20
