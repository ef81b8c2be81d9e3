"""Dossier, agency and procedure codes, citizen identity numbers and tax codes (../domain/codes.md)."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from sohoa.records.codes import (
    CCCD_PROVINCES,
    TAX_CODE_WEIGHTS,
    cccd_problem,
    dossier_code_date,
    is_legacy_identity_number,
    is_valid_agency_code,
    is_valid_dossier_code,
    is_valid_procedure_code,
    national_procedure_code,
    tax_check_digit,
    tax_code_problem,
)

TODAY = date(2026, 1, 15)


# --- dossier code ------------------------------------------------------------------------------------


def test_dossier_code_example_from_the_contract() -> None:
    assert is_valid_dossier_code("000.00.32.H19-210708-0032")
    assert dossier_code_date("000.00.32.H19-210708-0032") == date(2021, 7, 8)


@pytest.mark.parametrize(
    "code",
    [
        "000.00.32.H19-210231-0032",  # 31 February
        "000.00.32.H19-210229-0001",  # 2021 is not a leap year
        "000.00.32.H19-211308-0032",  # month 13
        "000.00.32.h19-210708-0032",  # lower-case letter
        "000.00.32.H19-210708-032",
        "000.00.32.H19-21070-80032",
        "000.00.32.H19_210708_0032",
        "H19.2021.00032",
        " 000.00.32.H19-210708-0032",
        "000.00.32.H19-210708-0032\n",
    ],
)
def test_bad_dossier_codes(code: str) -> None:
    assert not is_valid_dossier_code(code)


def test_leap_day_is_a_real_date() -> None:
    assert dossier_code_date("000.00.32.H19-200229-0001") == date(2020, 2, 29)


# --- agency and procedure codes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "valid"),
    [
        ("000.00.32.H19", True),
        ("000.00.00.H57", True),
        ("000.00.00.G15", True),
        ("000.00.32.H1", False),
        ("00.00.32.H19", False),
        ("000.00.32.19H", False),
        ("000-00-32-H19", False),
    ],
)
def test_agency_codes(code: str, valid: bool) -> None:
    assert is_valid_agency_code(code) is valid


@pytest.mark.parametrize(
    ("code", "valid"),
    [
        ("2.000815", True),
        ("1.001612", True),
        ("2.000815.000.00.00.H19", True),
        ("2.000815.000.00.00.H19.01", True),
        ("2.00081", False),
        ("2000815", False),
        ("2.000815.H19", False),
        ("TTHC-01", False),
    ],
)
def test_procedure_codes(code: str, valid: bool) -> None:
    assert is_valid_procedure_code(code) is valid


def test_procedure_national_part_is_the_first_eight_characters() -> None:
    assert national_procedure_code("2.000815.000.00.00.H19") == "2.000815"
    assert national_procedure_code("1.001612") == "1.001612"


# --- tax codes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["0100109106", "0100112437", "0100109106-001", "0100112437-999", "0100109106001"])
def test_tax_code_worked_examples_pass(code: str) -> None:
    assert tax_code_problem(code) is None


def test_check_digit_of_the_worked_examples() -> None:
    # 0*31 + 1*29 + 0*23 + 0*19 + 1*17 + 0*13 + 9*7 + 1*5 + 0*3 = 114; 114 mod 11 = 4; 10 - 4 = 6
    assert tax_check_digit("010010910") == 6
    assert tax_check_digit("010011243") == 7
    assert TAX_CODE_WEIGHTS == (31, 29, 23, 19, 17, 13, 7, 5, 3)


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("0100109107", "check digit"),
        ("0100109105", "check digit"),
        ("0100112436", "check digit"),
        ("0100109106-000", "001 to 999"),
        ("0100109106-01", "10 digits"),
        ("010010910", "10 digits"),
        ("01001091066", "10 digits"),
        ("01001O9106", "10 digits"),
        ("0100109106 ", "10 digits"),
    ],
)
def test_bad_tax_codes(code: str, reason: str) -> None:
    problem = tax_code_problem(code)
    assert problem is not None
    assert reason in problem


def test_a_remainder_of_zero_admits_no_check_digit() -> None:
    first_nine = next(
        nine
        for nine in ("1" + "".join(d) for d in itertools.product("0123456789", repeat=8))
        if sum(int(x) * w for x, w in zip(nine, TAX_CODE_WEIGHTS, strict=True)) % 11 == 0
    )
    assert tax_check_digit(first_nine) is None
    for last in "0123456789":  # not even "0", which 10 - 0 = 10 would wrap to
        assert tax_code_problem(first_nine + last) is not None


# --- citizen identity numbers ------------------------------------------------------------------------


@pytest.mark.parametrize("province", sorted(CCCD_PROVINCES))
def test_every_listed_province_is_valid(province: str) -> None:
    assert cccd_problem(f"{province}090123456", TODAY) is None


def test_the_province_list_is_the_63_legacy_codes() -> None:
    assert len(CCCD_PROVINCES) == 63
    assert {"020", "046", "075"} <= CCCD_PROVINCES


@pytest.mark.parametrize("province", ["000", "003", "005", "009", "016", "099", "100", "975"])
def test_unlisted_provinces_are_invalid(province: str) -> None:
    problem = cccd_problem(f"{province}090123456", TODAY)
    assert problem is not None
    assert "province" in problem


@pytest.mark.parametrize(
    ("digits_4_to_6", "valid"),
    [
        ("090", True),  # male, 1990
        ("190", True),  # female, 1990
        ("000", True),  # male, 1900
        ("225", True),  # male, 2025
        ("326", True),  # female, 2026: born this year
        ("227", False),  # 2027: after the current year
        ("399", False),  # 2099
        ("400", False),  # 2100s
        ("501", False),
        ("900", False),  # 2300s
    ],
)
def test_century_sex_digit_and_birth_year(digits_4_to_6: str, valid: bool) -> None:
    problem = cccd_problem(f"075{digits_4_to_6}123456", TODAY)
    assert (problem is None) is valid
    if not valid:
        assert problem is not None
        assert "birth year" in problem


def test_birth_year_rule_follows_today() -> None:
    assert cccd_problem("075227123456", date(2027, 1, 1)) is None
    assert cccd_problem("075227123456", date(2026, 12, 31)) is not None


@pytest.mark.parametrize(
    "number", ["07509012345", "0750901234567", "07509012345A", "075 090 123 456", "０７５０９０１２３４５６"]
)
def test_not_twelve_ascii_digits(number: str) -> None:
    problem = cccd_problem(number, TODAY)
    assert problem is not None
    assert "12 digits" in problem


def test_legacy_identity_number() -> None:
    assert is_legacy_identity_number("271234567")
    assert not is_legacy_identity_number("27123456")
    assert not is_legacy_identity_number("075090123456")
    assert not is_legacy_identity_number("27123456X")


def test_problems_never_quote_the_number() -> None:
    for number in ("003090123456", "075990123456", "07509012345A"):
        problem = cccd_problem(number, TODAY)
        assert problem is not None
        assert number not in problem
        assert "0901" not in problem
    problem = tax_code_problem("0100109107")
    assert problem is not None
    assert "0100109107" not in problem
