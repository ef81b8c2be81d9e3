"""Great Expectations suites of schemas/gx/ run over what sohoa stored (real PostgreSQL, S3 server, GX):
a planted defect fails its suite loudly after everything is stored; clean data passes. GX is slow to import:
keep GX tests in this module."""

from __future__ import annotations

import json

import pytest
from db_rows import rows as _rows

from sohoa.config import Settings
from sohoa.intake import pipeline
from sohoa.quality.gx_stage import QualityGateFailed, validate_documents, validate_record_batches
from sohoa.storage import s3

pytestmark = [pytest.mark.integration, pytest.mark.slow]

AGENCY = "000.00.32.H19"


def _line(i: int, *, online: bool, code: str | None = None) -> str:
    return json.dumps(
        {
            "MaHoSo": code or f"{AGENCY}-260105-{i:04d}",
            "MaTTHC": "2.000815",
            "MaCoQuan": AGENCY,
            "TrangThaiHoSo": 4,
            "KenhThucHien": 2 if online else 1,
            "LoaiDoiTuong": 1,
            "SoGiayToChuHoSo": "075190012345",
            "NgayTiepNhan": "2026-01-05T09:00:00+07:00",
            "NgayHenTra": "2026-01-12T17:00:00+07:00",
            "CapNhatLuc": "2026-01-05T10:00:00+07:00",
        }
    )


def _load(settings: Settings, key: str, lines: list[str]) -> None:
    s3.put_bytes(
        s3.make_client(settings), settings.bucket_landing, key, "\n".join(lines).encode(), "application/x-ndjson"
    )
    pipeline.run_all(settings)


def _open_gx(settings: Settings) -> list[tuple[str, str, str | None]]:
    return _rows(
        settings,
        "SELECT rule, severity, object_key FROM quality.issues WHERE rule LIKE 'gx.%%' "
        "AND resolved_at IS NULL ORDER BY rule, object_key",
    )


def test_record_suite_passes_clean_batches_and_fails_loudly_on_a_bad_feed(settings: Settings) -> None:
    _load(settings, "records/clean.jsonl", [_line(i, online=i % 3 == 0) for i in range(1, 61)])
    [clean] = validate_record_batches(settings)
    assert clean["success"] is True
    assert _open_gx(settings) == []
    # Data Docs are static HTML in the object store, linked from the stored validation.
    uri = _rows(settings, "SELECT data_docs_uri FROM sohoa.gx_validation WHERE id = %s", clean["validation_id"])[0][0]
    assert uri == clean["data_docs_uri"]
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    index = s3.get_bytes(s3.make_client(settings), bucket, key).decode()
    assert "<html" in index.lower()
    assert "sohoa_records" in index

    # A feed with 40% malformed dossier codes: every line is stored, the findings are recorded, then the task fails.
    bad = [_line(100 + i, online=i % 3 == 0, code=f"HS-{i:05d}" if i % 5 < 2 else None) for i in range(50)]
    _load(settings, "records/bad.jsonl", bad)
    with pytest.raises(QualityGateFailed, match="gx.records.dossier_code_format"):
        validate_record_batches(settings)
    assert _rows(
        settings,
        "SELECT count(*) FROM sohoa.record_version v JOIN sohoa.record_batch b "
        "ON b.id = v.batch_id WHERE b.object_key = 'records/bad.jsonl'",
    ) == [(50,)]
    assert ("gx.records.dossier_code_format", "error", "records/bad.jsonl") in _open_gx(settings)
    detail = _rows(settings, "SELECT detail FROM quality.issues WHERE rule = 'gx.records.dossier_code_format'")[0][0]
    assert "20 of 50" in detail
    stored = _rows(settings, "SELECT success, critical_failed FROM sohoa.gx_validation ORDER BY id")
    assert stored == [(True, False), (False, True)]
    # The failed batch is not validated again (a retry would otherwise hide the failure or repeat it).
    assert validate_record_batches(settings) == []

    # A sudden drop of the online share is a warning, not a failure.
    _load(settings, "records/offline.jsonl", [_line(300 + i, online=False) for i in range(40)])
    [drop] = validate_record_batches(settings)
    assert drop["critical_failed"] is False
    assert drop["failed_rules"] == ["gx.records.online_share_drop"]
    assert ("gx.records.online_share_drop", "warning", "records/offline.jsonl") in _open_gx(settings)


def _original(settings: Settings, sha: str, pages: list[tuple[int, float, bool]]) -> None:
    _rows(
        settings,
        "INSERT INTO sohoa.original (sha256, raw_uri, size_bytes, mime_type) VALUES (%s, %s, 1, %s)",
        sha,
        f"s3://raw/{sha}",
        "image/png",
    )
    _rows(settings, "INSERT INTO sohoa.ocr_result (sha256, status) VALUES (%s, 'done')", sha)
    for n, (dpi, confidence, blank) in enumerate(pages, start=1):
        _rows(
            settings,
            "INSERT INTO sohoa.ocr_page (sha256, page_no, source, dpi, confidence, blank) "
            "VALUES (%s, %s, 'ocr', %s, %s, %s)",
            sha,
            n,
            dpi,
            confidence,
            blank,
        )


def _failed_original(settings: Settings, sha: str) -> None:
    _rows(
        settings,
        "INSERT INTO sohoa.original (sha256, raw_uri, size_bytes, mime_type) VALUES (%s, %s, 1, %s)",
        sha,
        f"s3://raw/{sha}",
        "image/png",
    )
    _rows(settings, "INSERT INTO sohoa.ocr_result (sha256, status) VALUES (%s, 'failed')", sha)


def test_ocr_suite_validates_each_original_once_and_clears_when_new_scans_are_good(settings: Settings) -> None:
    _original(settings, "a" * 64, [(300, 92.0, False), (300, 90.0, False)])
    _original(settings, "b" * 64, [(150, 85.0, False), (150, 88.0, False)])
    outcomes = {o["suite"]: o for o in validate_documents(settings)}
    assert outcomes["sohoa_ocr"]["failed_rules"] == ["gx.ocr.resolution"]
    assert outcomes["sohoa_ocr"]["target"] == "new"
    assert outcomes["sohoa_documents"]["critical_failed"] is False
    assert ("gx.ocr.resolution", "warning", None) in _open_gx(settings)
    # Nothing new: no run at all (the low-dpi pages are not validated, and reported, again and again).
    assert validate_documents(settings) == []

    # The counter rescans at 300 dpi: the new originals pass, and the finding about the feed closes.
    _original(settings, "c" * 64, [(300, 91.0, False), (300, 93.0, False)])
    _original(settings, "d" * 64, [(300, 89.0, False)])
    outcomes = {o["suite"]: o for o in validate_documents(settings)}
    assert outcomes["sohoa_ocr"]["success"] is True
    assert outcomes["sohoa_ocr"]["validation_id"] > 0
    assert _rows(
        settings, "SELECT rows_checked FROM sohoa.gx_validation WHERE id = %s", outcomes["sohoa_ocr"]["validation_id"]
    ) == [(3,)]
    assert [r for r in _open_gx(settings) if r[0].startswith("gx.ocr")] == []

    # An operator's full run (sohoa quality validate --all) looks at every page again: 2 of 7 are low.
    outcomes = {o["suite"]: o for o in validate_documents(settings, everything=True)}
    assert (outcomes["sohoa_ocr"]["target"], outcomes["sohoa_ocr"]["failed_rules"]) == ("all", ["gx.ocr.resolution"])


def test_a_failed_critical_expectation_fails_the_gate_only_over_enough_rows(settings: Settings) -> None:
    # Three unreadable originals out of four: 75% failed, but four rows say nothing about a feed.
    _original(settings, "e" * 64, [(300, 92.0, False)])
    for n in range(3):
        _failed_original(settings, f"{n:064d}")
    outcomes = {o["suite"]: o for o in validate_documents(settings)}
    assert outcomes["sohoa_ocr"]["failed_rules"] == ["gx.ocr.failures"]
    assert outcomes["sohoa_ocr"]["critical_failed"] is False
    assert ("gx.ocr.failures", "error", None) in _open_gx(settings)

    # The same share over 24 originals is a feed failure: stored, then the task fails loudly.
    for n in range(3, 21):
        _failed_original(settings, f"{n:064d}")
    for n in range(21, 27):
        _original(settings, f"f{n:063d}", [(300, 90.0, False)])
    with pytest.raises(QualityGateFailed, match="gx.ocr.failures"):
        validate_documents(settings)
    assert validate_documents(settings) == []  # stored and marked: a retry does not repeat it


def test_the_sample_batch_with_line_level_defects_is_not_a_feed_failure(settings: Settings) -> None:
    """The demo's generated batch plants a few bad lines: findings per line, but no critical GX failure."""
    import datetime as dt

    from sohoa.sample.catalogues import agencies_csv, procedures_csv
    from sohoa.sample.records import generate_records

    client = s3.make_client(settings)
    s3.put_bytes(client, settings.bucket_landing, "catalogue/agencies.csv", agencies_csv(), "text/csv")
    s3.put_bytes(client, settings.bucket_landing, "catalogue/procedures.csv", procedures_csv(), "text/csv")
    batch = generate_records(300, seed=3, start=dt.date(2026, 1, 5), end=dt.date(2026, 4, 30))
    s3.put_bytes(client, settings.bucket_landing, "records/sample.jsonl", batch.jsonl_bytes(), "application/x-ndjson")
    pipeline.run_all(settings)
    [outcome] = validate_record_batches(settings)
    assert outcome["critical_failed"] is False, outcome["failed_rules"]
