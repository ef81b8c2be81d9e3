"""The landing key decides what a file is (contracts/inputs.md); anything else is an unknown key."""

from __future__ import annotations

import pytest

from sohoa.intake.landing import classify


@pytest.mark.parametrize(
    ("key", "kind", "ma_ho_so"),
    [
        ("records/2026-01-01.jsonl", "records", None),
        ("records/sub/export.jsonl.gz", "records", None),
        ("records/export.csv", "records", None),
        ("catalogue/agencies.csv", "catalogue", None),
        ("catalogue/procedures.csv", "catalogue", None),
        ("scans/000.00.32.H19-210708-0032/trang1.pdf", "scan", "000.00.32.H19-210708-0032"),
        ("results/000.00.32.H19-210708-0032/giay-phep.pdf", "result", "000.00.32.H19-210708-0032"),
        ("inbox/scan-0001.tif", "inbox", None),
    ],
)
def test_contract_keys(key: str, kind: str, ma_ho_so: str | None) -> None:
    lk = classify(key)
    assert lk.kind == kind
    assert lk.ma_ho_so == ma_ho_so


@pytest.mark.parametrize(
    "key",
    ["records/export.txt", "records/export.json", "catalogue/other.csv", "scans/onlyfile.pdf", "readme.md",
     "scans/", "x" * 2000, "Records/a.jsonl"],
)
def test_other_keys_are_unknown_with_a_reason(key: str) -> None:
    lk = classify(key)
    assert lk.kind == "unknown"
    assert lk.reason


def test_file_name_of_a_nested_scan_is_its_base_name() -> None:
    assert classify("scans/X-1/folder/page 1.jpg").file_name == "page 1.jpg"
