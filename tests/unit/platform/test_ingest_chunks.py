"""Documents are cut into chunks for the mapped ingest tasks: bounded, in order, and filling the cores."""

from __future__ import annotations

from sohoa.intake.pipeline import Plan, chunks


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
