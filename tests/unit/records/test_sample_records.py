"""The sample batch generator: realistic, deterministic, and its planted defects are exactly what is found."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date

import pytest
from records_testkit import TODAY

from sohoa.records.catalogue import Catalogue, read_agencies_csv, read_procedures_csv
from sohoa.records.codes import cccd_problem, tax_code_problem
from sohoa.records.datetimes import parse_datetime
from sohoa.records.model import RecordLine
from sohoa.records.parse import read_batch
from sohoa.sample.catalogues import agencies_csv, procedures_csv
from sohoa.sample.records import DEFECT_RULES, GeneratedBatch, generate_records

START, END = date(2021, 1, 1), date(2021, 12, 31)
CATALOGUE = Catalogue.of(read_agencies_csv(agencies_csv())[0], read_procedures_csv(procedures_csv())[0])


@pytest.fixture(scope="module")
def batch() -> GeneratedBatch:
    return generate_records(1500, seed=11, start=START, end=END)


@pytest.fixture(scope="module")
def lines(batch: GeneratedBatch) -> list[RecordLine]:
    return list(read_batch("records/sample.jsonl", batch.jsonl_bytes(), catalogue=CATALOGUE, today=TODAY))


def found(lines: list[RecordLine]) -> dict[str, int]:
    return dict(sorted(Counter(f.rule for line in lines for f in line.findings).items()))


def test_deterministic_for_a_seed() -> None:
    one = generate_records(200, seed=3, start=START, end=END)
    two = generate_records(200, seed=3, start=START, end=END)
    other = generate_records(200, seed=4, start=START, end=END)
    assert one.jsonl_bytes() == two.jsonl_bytes()
    assert one.csv_bytes() == two.csv_bytes()
    assert one.jsonl_bytes() != other.jsonl_bytes()


def test_every_planted_defect_is_found_and_nothing_else(batch: GeneratedBatch, lines: list[RecordLine]) -> None:
    assert set(batch.expected_findings) == set(DEFECT_RULES)
    assert batch.expected_findings["record.bad_datetime"] == 2
    assert found(lines) == batch.expected_findings


def test_the_csv_form_has_the_same_findings(batch: GeneratedBatch) -> None:
    from_csv = list(read_batch("records/sample.csv", batch.csv_bytes(), catalogue=CATALOGUE, today=TODAY))
    assert found(from_csv) == batch.expected_findings


def test_without_a_catalogue_no_unknown_procedure(batch: GeneratedBatch) -> None:
    plain = list(read_batch("records/sample.jsonl", batch.jsonl_bytes(), today=TODAY))
    expected = {k: v for k, v in batch.expected_findings.items() if k != "record.unknown_procedure"}
    assert found(plain) == expected


def test_each_defect_sits_on_its_dossier(batch: GeneratedBatch, lines: list[RecordLine]) -> None:
    by_code: dict[str | None, list[RecordLine]] = {}
    for line in lines:
        by_code.setdefault(line.ma_ho_so, []).append(line)
    planted = [d for d in batch.dossiers if d.defects]
    assert len(planted) == len(DEFECT_RULES) + 1  # bad_datetime twice
    for dossier in planted:
        for defect in dossier.defects:
            assert defect.description
            if dossier.sent is None or "MaHoSo" not in dossier.sent:
                continue  # the line no longer names its dossier
            carrying = [line for line in by_code[dossier.ma_ho_so] if any(f.rule == defect.rule for f in line.findings)]
            assert carrying, (dossier.ma_ho_so, defect.rule)
            assert carrying[0].usable is dossier.expect_usable


def test_unusable_lines_are_the_planted_ones(batch: GeneratedBatch, lines: list[RecordLine]) -> None:
    expected = sum(1 for d in batch.dossiers if not d.expect_usable)
    assert expected == 4  # invalid JSON, missing MaHoSo, bad NgayTiepNhan, status 11
    assert sum(1 for line in lines if not line.usable) == expected


def test_the_latest_state_is_the_final_one(batch: GeneratedBatch, lines: list[RecordLine]) -> None:
    latest: dict[str, RecordLine] = {}
    for line in lines:
        if line.usable and line.ma_ho_so is not None:
            kept = latest.get(line.ma_ho_so)
            assert line.cap_nhat_luc is not None
            if kept is None or (kept.cap_nhat_luc is not None and line.cap_nhat_luc >= kept.cap_nhat_luc):
                latest[line.ma_ho_so] = line
    twice = [d for d in batch.dossiers if d.versions == 2 and not d.defects]
    assert len(twice) > 50  # some dossiers arrive in an earlier state too
    for dossier in twice:
        assert latest[dossier.ma_ho_so].trang_thai == dossier.record["TrangThaiHoSo"]
        earlier = [line for line in lines if line.ma_ho_so == dossier.ma_ho_so and line is not latest[dossier.ma_ho_so]]
        assert earlier
        assert earlier[0].trang_thai == 2 < dossier.record["TrangThaiHoSo"]


def test_realistic_mix(batch: GeneratedBatch) -> None:
    finals = [d.record for d in batch.dossiers]
    channels = Counter(r.get("KenhThucHien") or 1 for r in finals)
    assert 0.35 < channels[2] / len(finals) < 0.55
    assert 0.40 < channels[1] / len(finals) < 0.60
    assert 0.02 < channels[3] / len(finals) < 0.09
    for r in finals:
        received = r.get("NgayTiepNhan")
        day = parse_datetime(received if received is not None else r["NgayNopHoSo"]).date()
        assert START <= day <= END or (received is None and day <= END)
        if r.get("KenhThucHien") != 2 and received is not None:
            moment = parse_datetime(received)
            assert moment.weekday() < 6
            assert 7 <= moment.hour < 17
    assert any(r.get("DanhSachHoSoBoSung") for r in finals)
    assert any(s["NgayTiepNhanBoSung"] is None for r in finals for s in r.get("DanhSachHoSoBoSung") or [])
    assert any(r.get("DanhGiaHaiLong") for r in finals)
    assert {r.get("HinhThucThanhToan") for r in finals} >= {"TIEN_MAT", "QR", "TRUC_TUYEN"}
    assert any(r["LoaiDoiTuong"] == 2 for r in finals)


def test_identity_numbers_and_tax_codes_are_valid(batch: GeneratedBatch) -> None:
    for dossier in batch.dossiers:
        if dossier.defects:
            continue
        number = dossier.record["SoGiayToChuHoSo"]
        if dossier.record["LoaiDoiTuong"] == 1:
            assert cccd_problem(number, TODAY) is None
        else:
            assert tax_code_problem(number) is None


def test_statuses_follow_the_age_of_the_dossier() -> None:
    recent = generate_records(400, seed=5, start=date(2021, 6, 1), end=date(2021, 6, 21), defects=False)
    old = generate_records(400, seed=5, start=date(2020, 1, 1), end=date(2020, 3, 31), defects=False)
    recent_open = sum(d.record["TrangThaiHoSo"] in (1, 2, 4, 5, 6) for d in recent.dossiers) / 400
    old_done = sum(d.record["TrangThaiHoSo"] in (9, 10) for d in old.dossiers) / 400
    assert recent_open > 0.15  # most procedures take 1-3 working days: three weeks leave a few open
    assert old_done > 0.85


def test_no_defects_means_no_findings() -> None:
    clean = generate_records(300, seed=9, start=START, end=END, defects=False)
    parsed = list(read_batch("records/c.jsonl", clean.jsonl_bytes(), catalogue=CATALOGUE, today=TODAY))
    assert found(parsed) == {}
    assert clean.expected_findings == {}


def test_defects_need_enough_dossiers() -> None:
    with pytest.raises(ValueError, match="at least"):
        generate_records(10, seed=1, start=START, end=END)


def test_no_finding_detail_holds_a_name_or_an_identity_number(batch: GeneratedBatch, lines: list[RecordLine]) -> None:
    secrets: set[str] = set()
    for line in batch.lines:
        for value in (line.record.get("ChuHoSo"), line.record.get("SoGiayToChuHoSo")):
            if value:
                secrets.add(value)
                secrets.update(part for part in re.split(r"[\s-]+", value) if len(part) >= 6)
    from_csv = list(read_batch("records/sample.csv", batch.csv_bytes(), catalogue=CATALOGUE, today=TODAY))
    details = [f.detail for line in lines + from_csv for f in line.findings]
    assert len(details) >= sum(batch.expected_findings.values())
    for detail in details:
        assert not any(secret in detail for secret in secrets), detail
        assert not re.search(r"\d{9,}", detail), detail  # no identity number or tax code at all
        assert "{" not in detail  # no line text


def test_raw_text_round_trips(batch: GeneratedBatch, lines: list[RecordLine]) -> None:
    for line in lines:
        if line.raw is not None:
            assert json.loads(line.raw_text) == line.raw
