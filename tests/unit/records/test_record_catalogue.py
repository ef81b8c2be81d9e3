"""Reading the agency and procedure catalogues: good rows load, bad rows are reported by line."""

from __future__ import annotations

from sohoa.records.catalogue import (
    AgencyInfo,
    Catalogue,
    CatalogueProblem,
    ProcedureInfo,
    read_agencies_csv,
    read_procedures_csv,
)
from sohoa.sample.catalogues import AGENCIES, PROCEDURES, agencies_csv, procedures_csv


def problems_of(problems: list[CatalogueProblem]) -> list[tuple[int, str, str]]:
    return [(p.line_no, p.rule, p.severity) for p in problems]


def test_sample_catalogues_read_cleanly() -> None:
    agencies, agency_problems = read_agencies_csv(agencies_csv())
    procedures, procedure_problems = read_procedures_csv(procedures_csv())
    assert agency_problems == []
    assert procedure_problems == []
    assert len(agencies) == len(AGENCIES)
    assert len(procedures) == len(PROCEDURES)
    assert agencies[0] == AgencyInfo("000.00.00.H19", "Ủy ban nhân dân tỉnh Đồng Nai", "TINH", None)
    assert {a.cap for a in agencies} == {"TINH", "HUYEN", "XA"}
    catalogue = Catalogue.of(agencies, procedures)
    assert catalogue.procedures["2.000815"].thoi_han_giai_quyet == 1
    assert 10 <= len(procedures) <= 15
    assert all(1 <= p.thoi_han_giai_quyet <= 20 for p in procedures if p.thoi_han_giai_quyet is not None)


def test_agencies_with_bad_rows() -> None:
    data = (
        "\ufeffMaCoQuan,TenCoQuan,Cap,MaCoQuanCha\n"
        "000.00.00.H19,UBND tỉnh,TINH,\n"  # 2
        '000.00.32.H19,"UBND thành phố\nBiên Hòa",huyen,000.00.00.H19\n'  # 3-4, lower-case tier is fine
        "00.32.H19,Sai mã,HUYEN,000.00.00.H19\n"  # 5: bad code, skipped
        "000.00.32.H19,Trùng,HUYEN,000.00.00.H19\n"  # 6: duplicate, skipped
        "000.25.32.H19,Phường Tân Phong,PHUONG,000.00.32.H19\n"  # 7: bad tier, kept as null
        "000.26.32.H19,Phường Trảng Dài,XA,000.00.99.H19\n"  # 8: unknown parent
        "000.27.32.H19,Phường X,XA,cha\n"  # 9: bad parent, read as null
        "\n"
        ",Không mã,XA,\n"  # 11: no code
    ).encode()
    agencies, problems = read_agencies_csv(data)
    assert [a.ma_co_quan for a in agencies] == [
        "000.00.00.H19",
        "000.00.32.H19",
        "000.25.32.H19",
        "000.26.32.H19",
        "000.27.32.H19",
    ]
    assert agencies[1] == AgencyInfo("000.00.32.H19", "UBND thành phố\nBiên Hòa", "HUYEN", "000.00.00.H19")
    assert agencies[2].cap is None
    assert agencies[4].ma_co_quan_cha is None
    assert sorted(problems_of(problems)) == [
        (5, "catalogue.bad_row", "error"),
        (6, "catalogue.duplicate", "warning"),
        (7, "catalogue.bad_value", "warning"),
        (8, "catalogue.unknown_parent", "warning"),
        (9, "catalogue.bad_value", "warning"),
        (11, "catalogue.bad_row", "error"),
    ]
    duplicate = next(p for p in problems if p.rule == "catalogue.duplicate")
    assert "line 3" in duplicate.detail


def test_agencies_without_the_code_column() -> None:
    agencies, problems = read_agencies_csv(b"Ma,TenCoQuan\n000.00.00.H19,UBND\n")
    assert agencies == []
    assert problems_of(problems) == [(1, "catalogue.missing_column", "error")]


def test_missing_optional_column_is_a_warning() -> None:
    agencies, problems = read_agencies_csv(b"MaCoQuan,TenCoQuan\n000.00.00.H19,UBND\n")
    assert agencies == [AgencyInfo("000.00.00.H19", "UBND", None, None)]
    assert problems_of(problems) == [(1, "catalogue.missing_column", "warning")]
    assert "Cap" in problems[0].detail


def test_empty_file() -> None:
    procedures, problems = read_procedures_csv(b"")
    assert procedures == []
    assert problems_of(problems) == [(1, "catalogue.missing_column", "error")]


def test_procedures_with_bad_rows() -> None:
    header = "MaTTHC,TenTTHC,MaLinhVuc,TenLinhVuc,ThoiHanGiaiQuyet,CoPhiLePhi,CoKetQuaGiay,ToanTrinh\n"
    data = (
        (
            header
            + "2.000815,Chứng thực,G09-CT01,Chứng thực,1,1,1,0\n"  # 2
            + "1.001612.000.00.00.H19,Hộ kinh doanh,G05-KD01,HKD,3,1,1,1\n"  # 3: keyed on 1.001612
            + "1.001612,Trùng,G05-KD01,HKD,3,1,1,1\n"  # 4: duplicate
            + "1.009794,GPXD,G11-XD02,Xây dựng,15 ngày,1,2,\n"  # 5: bad days, bad flag
            + "TTHC-1,Sai,G01,X,1,0,0,0\n"  # 6: bad code
            + "\xff\n"
        )
        .encode()
        .replace("\xff".encode(), b"\xff")
    )  # 7: not UTF-8
    procedures, problems = read_procedures_csv(data)
    assert procedures == [
        ProcedureInfo("2.000815", "Chứng thực", "G09-CT01", "Chứng thực", 1, True, True, False),
        ProcedureInfo("1.001612", "Hộ kinh doanh", "G05-KD01", "HKD", 3, True, True, True),
        ProcedureInfo("1.009794", "GPXD", "G11-XD02", "Xây dựng", None, True, False, False),
    ]
    assert problems_of(problems) == [
        (4, "catalogue.duplicate", "warning"),
        (5, "catalogue.bad_value", "warning"),
        (5, "catalogue.bad_value", "warning"),
        (6, "catalogue.bad_row", "error"),
        (7, "catalogue.bad_row", "error"),
    ]
