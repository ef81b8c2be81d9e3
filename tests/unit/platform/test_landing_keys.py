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
    [
        "records/export.txt",
        "records/export.json",
        "catalogue/other.csv",
        "scans/onlyfile.pdf",
        "readme.md",
        "scans/",
        "x" * 2000,
        "Records/a.jsonl",
    ],
)
def test_other_keys_are_unknown_with_a_reason(key: str) -> None:
    lk = classify(key)
    assert lk.kind == "unknown"
    assert lk.reason


def test_file_name_of_a_nested_scan_is_its_base_name() -> None:
    assert classify("scans/X-1/folder/page 1.jpg").file_name == "page 1.jpg"


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("scans/000.00.32.H19-260105-0001/../../../etc/passwd.png", "'..' segment"),
        ("scans/../don.png", "'..' segment"),
        ("scans/000.00.32.H19-260105-0001/./don.png", "'..' segment"),
        ("scans/000.00.32.H19-260105-0001//don.png", "empty folder name"),
        ("scans/000.00.32.H19-260105-0001/don\n\x1b[31m.png", "control character (U+000A)"),
        ("inbox/a\tb.png", "control character (U+0009)"),
        ("scans/000.00.32.H19-260105-0001/don\u202egnp.exe", "bidirectional-text control (U+202E)"),
        ("inbox/x\u2066y.pdf", "bidirectional-text control (U+2066)"),
    ],
)
def test_keys_that_lie_about_their_name_are_unknown(key: str, reason: str) -> None:
    """Hostile key names (sohoa/sample/hostile.py): refused with the reason, the key shown escaped."""
    from sohoa.intake.landing import printable

    lk = classify(key)
    assert lk.kind == "unknown"
    assert lk.reason is not None
    assert reason in lk.reason
    assert printable(key) in lk.reason
    assert not any(ch in lk.reason for ch in "\n\t\x1b\u202e\u2066")


@pytest.mark.parametrize(
    "name",
    [
        "Đơn đề nghị (bản scan) 01.png",
        "\u0110o\u031bn-\u0111e\u0302\u0300-ngh\u1ecb.png",
        "d" * 200 + ".pdf",
        "thu-muc/" * 100 + "don.png",
    ],
)
def test_odd_but_honest_names_are_documents(name: str) -> None:
    lk = classify(f"scans/000.00.32.H19-260105-0001/{name}")
    assert lk.kind == "scan"
    assert lk.file_name == name.rsplit("/", 1)[-1]
