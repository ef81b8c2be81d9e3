"""Documents are cut into chunks for the mapped ingest tasks: bounded, in order, and filling the cores."""

from __future__ import annotations

from sohoa.intake.pipeline import chunks


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
