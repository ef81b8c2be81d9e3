"""Every record rule, one change to a clean record at a time, and the KPI "takes part" rule."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from records_testkit import ABSENT, CLEAN, jsonl, parse, parse_one, record, rules

from sohoa.records.catalogue import AgencyInfo, Catalogue, ProcedureInfo
from sohoa.records.datetimes import VIETNAM
from sohoa.records.model import SupplementRequest


def test_the_clean_record_has_no_findings_and_counts() -> None:
    line = parse_one()
    assert line.findings == ()
    assert line.usable
    assert line.line_no == 1
    assert line.ma_ho_so == CLEAN["MaHoSo"]
    assert line.ma_tthc == "2.000815.000.00.00.H19"
    assert line.ma_tthc_quoc_gia == "2.000815"
    assert line.ngay_tiep_nhan == datetime(2021, 7, 8, 9, 15, tzinfo=VIETNAM)
    assert line.cap_nhat_luc == datetime(2021, 7, 9, 10, 5, tzinfo=VIETNAM)
    assert line.le_phi[0].gia == Decimal(2000)
    assert line.tai_lieu_nop[0].duoc_so_hoa == 1
    assert line.giay_to_ket_qua[0].ma_giay_to_ket_qua == "KQ.G09.000031"
    assert line.raw == CLEAN


# --- lines that are not records ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("not json", "not valid JSON"),
        ('{"MaHoSo": "000.00.32.H19-210708-0032", "MaTTHC": ', "not valid JSON"),
        ('{"TrangThaiHoSo": NaN}', "NaN"),
        ('{"TrangThaiHoSo": Infinity}', "Infinity"),
        ("[1, 2]", "a list, not an object"),
        ('"text"', "a text, not an object"),
        ("42", "a number, not an object"),
        ("null", "null, not an object"),
        ('{"ChuHoSo": "\\ud800"}', "surrogate"),
        ("[" * 100_000 + "]" * 100_000, "not valid JSON"),
    ],
)
def test_not_an_object_is_invalid_json(text: str, detail: str) -> None:
    lines = parse(jsonl(text, record()))
    assert [line.line_no for line in lines] == [1, 2]
    bad = lines[0]
    assert rules(bad) == [("record.invalid_json", "error")]
    assert detail in bad.findings[0].detail
    assert not bad.usable
    assert bad.raw is None
    assert bad.ma_ho_so is None
    assert bad.raw_text == text
    assert lines[1].usable  # the rest of the batch loads


def test_a_paired_surrogate_escape_is_fine() -> None:
    assert parse_one(ChuHoSo="\U0001f600 An").chu_ho_so == "\U0001f600 An"
    lines = parse(b'{"ChuHoSo": "\\ud83d\\ude00"}\n')
    assert ("record.invalid_json", "error") not in rules(lines[0])


# --- required fields ---------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["MaHoSo", "MaTTHC", "MaCoQuan", "TrangThaiHoSo", "CapNhatLuc", "NgayTiepNhan"])
@pytest.mark.parametrize("value", [ABSENT, None])
def test_missing_required_field(field: str, value: object) -> None:
    line = parse_one(**{field: value})
    assert ("record.missing_field", "error") in rules(line)
    assert any(field in f.detail for f in line.findings if f.rule == "record.missing_field")
    assert not line.usable


@pytest.mark.parametrize("field", ["MaHoSo", "MaTTHC", "MaCoQuan"])
def test_blank_required_text_is_missing(field: str) -> None:
    line = parse_one(**{field: "   "})
    assert rules(line) == [("record.missing_field", "error")]
    assert not line.usable


@pytest.mark.parametrize("field", ["MaHoSo", "MaTTHC", "MaCoQuan"])
def test_required_text_of_the_wrong_type(field: str) -> None:
    line = parse_one(**{field: 123})
    assert ("record.bad_value", "error") in rules(line)
    assert getattr(line, {"MaHoSo": "ma_ho_so", "MaTTHC": "ma_tthc", "MaCoQuan": "ma_co_quan"}[field]) is None
    assert not line.usable


@pytest.mark.parametrize("status", [1, 3])
def test_receipt_not_required_for_new_or_not_accepted(status: int) -> None:
    line = parse_one(
        TrangThaiHoSo=status, NgayTiepNhan=ABSENT, NgayHenTra=ABSENT, NgayKetThucXuLy=ABSENT, NgayTra=ABSENT
    )
    assert line.findings == ()
    assert line.usable


def test_surrounding_whitespace_is_dropped() -> None:
    line = parse_one(MaHoSo=" 000.00.32.H19-210708-0032 ")
    assert line.ma_ho_so == "000.00.32.H19-210708-0032"
    assert line.findings == ()


# --- datetimes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["2021-07-09", "2021-07-09T10:05:00", "09/07/2021 10:05", 20210709100500])
def test_bad_required_datetime_is_an_error(value: object) -> None:
    line = parse_one(CapNhatLuc=value)
    assert rules(line) == [("record.bad_datetime", "error")]
    assert line.cap_nhat_luc is None
    assert not line.usable


def test_bad_receipt_datetime_is_an_error_when_receipt_is_required() -> None:
    line = parse_one(NgayTiepNhan="2021-07-08")
    assert rules(line) == [("record.bad_datetime", "error")]
    assert "NgayTiepNhan" in line.findings[0].detail
    assert not line.usable


def test_bad_receipt_datetime_is_a_warning_for_a_new_dossier() -> None:
    line = parse_one(
        TrangThaiHoSo=1, NgayTiepNhan="2021-07-08", NgayHenTra=ABSENT, NgayKetThucXuLy=ABSENT, NgayTra=ABSENT
    )
    assert rules(line) == [("record.bad_datetime", "warning")]
    assert line.usable


@pytest.mark.parametrize("field", ["NgayNopHoSo", "NgayHenTra", "NgayKetThucXuLy", "NgayTra"])
def test_bad_optional_datetime_is_a_warning_and_read_as_null(field: str) -> None:
    line = parse_one(**{field: "2021-07-08"})
    assert ("record.bad_datetime", "warning") in rules(line)
    assert "read as null" in line.findings[0].detail
    attribute = {
        "NgayNopHoSo": "ngay_nop",
        "NgayHenTra": "ngay_hen_tra",
        "NgayKetThucXuLy": "ngay_ket_thuc_xu_ly",
        "NgayTra": "ngay_tra",
    }[field]
    assert getattr(line, attribute) is None
    assert line.usable


def test_compact_and_iso_forms_mix_in_one_record() -> None:
    line = parse_one(NgayTiepNhan="2021-07-08T02:15:00Z", NgayHenTra="20210709091500")
    assert line.ngay_tiep_nhan == datetime(2021, 7, 8, 9, 15, tzinfo=VIETNAM)
    assert line.ngay_hen_tra == datetime(2021, 7, 9, 9, 15, tzinfo=VIETNAM)
    assert line.findings == ()


# --- status ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [0, 11, -1, 99, "abc", 2.5, True, [4], {"a": 1}, ""])
def test_bad_status(status: object) -> None:
    line = parse_one(TrangThaiHoSo=status)
    assert ("record.bad_status", "error") in rules(line) or ("record.missing_field", "error") in rules(line)
    assert line.trang_thai is None
    assert not line.usable


def test_status_outside_the_list_is_named() -> None:
    line = parse_one(TrangThaiHoSo=11)
    assert rules(line) == [("record.bad_status", "error")]
    assert "11" in line.findings[0].detail


@pytest.mark.parametrize(("value", "expected"), [("4", 4), (" 4 ", 4), (4.0, 4), (10, 10)])
def test_integral_status_in_other_forms(value: object, expected: int) -> None:
    line = parse_one(TrangThaiHoSo=value)
    assert line.trang_thai == expected
    assert line.usable


# --- dossier code ------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["HS-2021-0001", "000.00.32.H19-210231-0032", "000.00.32.H19-210708-32"])
def test_bad_dossier_code_is_an_error_but_counts(code: str) -> None:
    line = parse_one(MaHoSo=code)
    assert rules(line) == [("record.bad_dossier_code", "error")]
    assert code not in line.findings[0].detail
    assert line.usable


def test_dossier_code_date_mismatch() -> None:
    line = parse_one(MaHoSo="000.00.32.H19-210707-0032")
    assert rules(line) == [("record.dossier_code_date_mismatch", "warning")]
    assert "2021-07-07" in line.findings[0].detail
    assert "2021-07-08" in line.findings[0].detail
    assert line.usable


def test_dossier_code_date_is_compared_with_the_local_date() -> None:
    # 17:30 UTC on the 7th is 00:30 on the 8th in Vietnam: the code's 210708 is right.
    assert parse_one(NgayTiepNhan="2021-07-07T17:30:00Z", NgayNopHoSo=ABSENT).findings == ()
    # 18:00 UTC on the 8th is already the 9th in Vietnam.
    late = parse_one(
        NgayTiepNhan="2021-07-08T18:00:00Z",
        NgayHenTra="2021-07-12T09:00:00+07:00",
        NgayKetThucXuLy=ABSENT,
        NgayTra=ABSENT,
        TrangThaiHoSo=4,
    )
    assert rules(late) == [("record.dossier_code_date_mismatch", "warning")]


# --- identity numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    ["003190012345", "075990012345", "075227012345", "07519001234", "0751900123456", "07519001234X", "B1234567"],
)
def test_bad_cccd_of_a_citizen(number: str) -> None:
    line = parse_one(SoGiayToChuHoSo=number)
    assert rules(line) == [("record.bad_cccd", "error")]
    assert number not in line.findings[0].detail
    assert line.usable


def test_legacy_identity_number_is_info() -> None:
    line = parse_one(SoGiayToChuHoSo="271234567")
    assert rules(line) == [("record.legacy_id", "info")]
    assert line.usable


@pytest.mark.parametrize("applicant", [ABSENT, None])
def test_no_identity_rule_without_an_applicant_type(applicant: object) -> None:
    assert parse_one(LoaiDoiTuong=applicant, SoGiayToChuHoSo="003190012345").findings == ()


@pytest.mark.parametrize("code", ["0100109106", "0100112437", "0100109106-001", "3600252847"])
def test_valid_tax_code_of_an_organisation(code: str) -> None:
    assert parse_one(LoaiDoiTuong=2, SoGiayToChuHoSo=code).findings == ()


@pytest.mark.parametrize("code", ["0100109107", "0100109106-000", "010010910", "075190012345"])
def test_bad_tax_code_of_an_organisation(code: str) -> None:
    line = parse_one(LoaiDoiTuong=2, SoGiayToChuHoSo=code)
    assert rules(line) == [("record.bad_tax_code", "error")]
    assert code not in line.findings[0].detail
    assert line.usable


def test_identity_number_is_a_tax_code_from_july_2025() -> None:
    after = dict(
        MaHoSo="000.00.32.H19-250701-0001",
        NgayNopHoSo=ABSENT,
        NgayTiepNhan="2025-07-01T08:00:00+07:00",
        NgayHenTra="2025-07-02T08:00:00+07:00",
        NgayKetThucXuLy=ABSENT,
        NgayTra=ABSENT,
        TrangThaiHoSo=4,
        CapNhatLuc="2025-07-01T09:00:00+07:00",
        LoaiDoiTuong=2,
    )
    assert parse_one(SoGiayToChuHoSo="075190012345", **after).findings == ()
    bad = parse_one(SoGiayToChuHoSo="003190012345", **after)
    assert rules(bad) == [("record.bad_tax_code", "error")]


# --- dates in order ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "rule"),
    [
        ("NgayHenTra", "record.deadline_before_receipt"),
        ("NgayKetThucXuLy", "record.finish_before_receipt"),
        ("NgayTra", "record.return_before_receipt"),
    ],
)
def test_dates_before_receipt(field: str, rule: str) -> None:
    line = parse_one(**{field: "2021-07-08T09:14:59+07:00"})
    assert rules(line) == [(rule, "error")]
    assert line.usable


def test_same_instant_as_receipt_is_not_before() -> None:
    assert parse_one(NgayHenTra="2021-07-08T02:15:00Z").findings == ()


@pytest.mark.parametrize("status", [9, 10])
def test_missing_finish_time(status: int) -> None:
    line = parse_one(TrangThaiHoSo=status, NgayKetThucXuLy=ABSENT, NgayTra=None)
    assert rules(line) == [("record.missing_finish_time", "warning")]
    assert line.usable


def test_a_return_time_is_enough_for_a_finished_dossier() -> None:
    assert parse_one(NgayKetThucXuLy=ABSENT).findings == ()
    assert parse_one(TrangThaiHoSo=9, NgayTra=ABSENT).findings == ()


@pytest.mark.parametrize("status", [7, 8])
def test_missing_stop_time(status: int) -> None:
    line = parse_one(TrangThaiHoSo=status, NgayKetThucXuLy=ABSENT, NgayTra=ABSENT, DanhSachGiayToKetQua=[])
    assert rules(line) == [("record.missing_stop_time", "warning")]


@pytest.mark.parametrize("status", [2, 4, 5, 6])
def test_open_dossier_needs_no_finish_time(status: int) -> None:
    assert parse_one(TrangThaiHoSo=status, NgayKetThucXuLy=ABSENT, NgayTra=ABSENT).findings == ()


# --- catalogue ---------------------------------------------------------------------------------------

CATALOGUE = Catalogue.of(
    agencies=[AgencyInfo("000.00.32.H19", "UBND thành phố Biên Hòa", "HUYEN", "000.00.00.H19")],
    procedures=[ProcedureInfo("2.000815", "Chứng thực", "G09-CT01", "Chứng thực", 1, True, True, False)],
)


def test_known_procedure_is_matched_on_its_national_part() -> None:
    assert parse_one(catalogue=CATALOGUE).findings == ()
    assert parse_one(catalogue=CATALOGUE, MaTTHC="2.000815").findings == ()


def test_unknown_procedure_and_agency() -> None:
    line = parse_one(
        catalogue=CATALOGUE,
        MaTTHC="1.001612.000.00.00.H19",
        MaCoQuan="000.00.33.H19",
        MaHoSo="000.00.33.H19-210708-0001",
    )
    assert rules(line) == [("record.unknown_procedure", "warning"), ("record.unknown_agency", "warning")]
    assert "1.001612" in line.findings[0].detail
    assert "000.00.33.H19" in line.findings[1].detail
    assert line.usable


def test_unknown_codes_are_not_checked_without_a_catalogue() -> None:
    assert parse_one(MaTTHC="1.001612").findings == ()
    only_agencies = Catalogue(agencies=CATALOGUE.agencies)
    assert parse_one(catalogue=only_agencies, MaTTHC="1.001612").findings == ()


def test_malformed_unknown_codes_are_not_quoted() -> None:
    line = parse_one(catalogue=CATALOGUE, MaTTHC="Trần Thị", MaCoQuan="075190012345")
    details = " ".join(f.detail for f in line.findings)
    assert "Trần" not in details
    assert "075190012345" not in details
    assert ("record.bad_procedure_code", "warning") in rules(line)
    assert ("record.bad_agency_code", "warning") in rules(line)
    assert ("record.unknown_procedure", "warning") in rules(line)
    assert line.usable


# --- other values ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [(ABSENT, 1), (None, 1), (1, 1), (2, 2), (3, 3), ("2", 2)])
def test_channel(value: object, expected: int) -> None:
    line = parse_one(KenhThucHien=value)
    assert line.kenh_thuc_hien == expected
    assert line.findings == ()


@pytest.mark.parametrize(
    ("field", "value", "attribute"),
    [
        ("KenhThucHien", 4, "kenh_thuc_hien"),
        ("KenhThucHien", "online", "kenh_thuc_hien"),
        ("LoaiDoiTuong", 3, "loai_doi_tuong"),
        ("DuocThanhToanTrucTuyen", 5, "duoc_thanh_toan_truc_tuyen"),
        ("DanhGiaHaiLong", 0, "danh_gia_hai_long"),
        ("DanhGiaHaiLong", True, "danh_gia_hai_long"),
        ("ChuHoSo", ["a"], "chu_ho_so"),
        ("TenTTHC", 5, "ten_tthc"),
    ],
)
def test_bad_optional_value_is_a_warning_read_as_null(field: str, value: object, attribute: str) -> None:
    line = parse_one(**{field: value})
    assert rules(line) == [("record.bad_value", "warning")]
    assert field in line.findings[0].detail
    assert getattr(line, attribute) is None
    assert line.usable


def test_unknown_payment_method_is_kept_with_a_warning() -> None:
    line = parse_one(HinhThucThanhToan="VI_DIEN_TU")
    assert rules(line) == [("record.bad_value", "warning")]
    assert line.hinh_thuc_thanh_toan == "VI_DIEN_TU"


@pytest.mark.parametrize("field", ["DanhSachHoSoBoSung", "DanhSachLePhi", "TaiLieuNop", "DanhSachGiayToKetQua"])
@pytest.mark.parametrize("value", ["[]", {"a": 1}, 3])
def test_list_field_of_the_wrong_type_reads_as_empty(field: str, value: object) -> None:
    line = parse_one(**{field: value})
    assert rules(line) == [("record.bad_value", "warning")]
    attribute = {
        "DanhSachHoSoBoSung": "ho_so_bo_sung",
        "DanhSachLePhi": "le_phi",
        "TaiLieuNop": "tai_lieu_nop",
        "DanhSachGiayToKetQua": "giay_to_ket_qua",
    }[field]
    assert getattr(line, attribute) == ()
    assert line.usable


def test_list_entries_that_are_not_objects_are_skipped() -> None:
    line = parse_one(TaiLieuNop=[1, CLEAN["TaiLieuNop"][0]])
    assert rules(line) == [("record.bad_value", "warning")]
    assert "TaiLieuNop[0]" in line.findings[0].detail
    assert len(line.tai_lieu_nop) == 1


@pytest.mark.parametrize(("gia", "expected"), [(0, Decimal(0)), (2000.5, Decimal("2000.5")), ("15000", Decimal(15000))])
def test_fee_amounts(gia: object, expected: Decimal) -> None:
    line = parse_one(DanhSachLePhi=[{"TenPhiLePhi": "Lệ phí", "Gia": gia}])
    assert line.le_phi[0].gia == expected
    assert line.findings == ()


@pytest.mark.parametrize("gia", [-5, "abc", True, [1]])
def test_bad_fee_amount(gia: object) -> None:
    line = parse_one(DanhSachLePhi=[{"TenPhiLePhi": "Lệ phí", "Gia": gia}])
    assert rules(line) == [("record.bad_value", "warning")]
    assert "DanhSachLePhi[0].Gia" in line.findings[0].detail
    assert line.le_phi[0].gia is None


def test_submitted_document_flags() -> None:
    entry = dict(CLEAN["TaiLieuNop"][0], DuocSoHoa="1", DuocTaiSuDung=2, DuongDanTaiTepTin="  ")
    line = parse_one(TaiLieuNop=[entry])
    assert rules(line) == [("record.bad_value", "warning")]
    document = line.tai_lieu_nop[0]
    assert (document.duoc_so_hoa, document.duoc_tai_su_dung, document.duong_dan) == (1, None, None)


def test_supplement_requests() -> None:
    line = parse_one(
        TrangThaiHoSo=5,
        NgayKetThucXuLy=ABSENT,
        NgayTra=ABSENT,
        DanhSachHoSoBoSung=[
            {"NgayBoSung": "2021-07-08T10:00:00+07:00", "NgayTiepNhanBoSung": "20210709080000"},
            {"NgayBoSung": "2021-07-09T10:00:00+07:00", "NgayTiepNhanBoSung": None},
        ],
    )
    assert line.findings == ()
    assert line.ho_so_bo_sung == (
        SupplementRequest(datetime(2021, 7, 8, 10, tzinfo=VIETNAM), datetime(2021, 7, 9, 8, tzinfo=VIETNAM)),
        SupplementRequest(datetime(2021, 7, 9, 10, tzinfo=VIETNAM), None),
    )


def test_bad_supplement_entries() -> None:
    line = parse_one(
        DanhSachHoSoBoSung=[
            {"NgayTiepNhanBoSung": "20210709080000"},
            {"NgayBoSung": "2021-07-08"},
            {"NgayBoSung": "2021-07-09T10:00:00+07:00", "NgayTiepNhanBoSung": "2021-07-09T09:00:00+07:00"},
            {"NgayBoSung": "2021-07-09T10:00:00+07:00", "NgayTiepNhanBoSung": "soon"},
        ]
    )
    assert rules(line) == [
        ("record.bad_value", "warning"),
        ("record.bad_datetime", "warning"),
        ("record.supplement_answer_before_request", "warning"),
        ("record.bad_datetime", "warning"),
    ]
    assert "entry skipped" in line.findings[1].detail
    assert [s.ngay_tiep_nhan_bo_sung is None for s in line.ho_so_bo_sung] == [False, True]


def test_unknown_fields_are_kept_in_raw_and_ignored() -> None:
    line = parse_one(MaDongBo="abc-123")
    assert line.findings == ()
    assert line.raw is not None
    assert line.raw["MaDongBo"] == "abc-123"


# --- duplicates and "takes part" ---------------------------------------------------------------------


def test_exact_duplicate_line_is_info() -> None:
    first, other, again = parse(jsonl(record(), record(TrangThaiHoSo=9), record()))
    assert first.findings == ()
    assert other.findings == ()
    assert rules(again) == [("record.duplicate_line", "info")]
    assert again.findings[0].detail == "same text as line 1"
    assert again.usable


@pytest.mark.parametrize(
    ("changes", "usable"),
    [
        ({}, True),
        ({"MaHoSo": ""}, False),
        ({"MaTTHC": None}, False),
        ({"MaCoQuan": ABSENT}, False),
        ({"TrangThaiHoSo": "x"}, False),
        ({"TrangThaiHoSo": 11}, False),
        ({"CapNhatLuc": "2021-07-09"}, False),
        ({"NgayTiepNhan": ABSENT}, False),
        ({"NgayTiepNhan": ABSENT, "TrangThaiHoSo": 1}, True),
        ({"NgayTiepNhan": "bad", "TrangThaiHoSo": 3}, True),
        ({"NgayTiepNhan": ABSENT, "TrangThaiHoSo": 7}, False),
        # lines with findings that still count
        ({"MaHoSo": "HS-01"}, True),
        ({"SoGiayToChuHoSo": "003190012345"}, True),
        ({"NgayHenTra": "x"}, True),
        ({"KenhThucHien": 9}, True),
        ({"MaTTHC": "x"}, True),
    ],
)
def test_takes_part_in_the_kpis(changes: dict[str, object], usable: bool) -> None:
    assert parse_one(**changes).usable is usable


def test_repr_never_shows_personal_data() -> None:
    text = repr(parse_one())
    assert CLEAN["ChuHoSo"] not in text
    assert CLEAN["SoGiayToChuHoSo"] not in text
    assert CLEAN["MaHoSo"] in text
