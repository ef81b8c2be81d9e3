"""The national codes of ../domain/codes.md: dossier, agency and procedure codes, citizen identity
numbers and tax codes.

The ``*_problem`` functions return ``None`` for a valid value and otherwise a short reason that names
the rule broken, never the value (identity numbers and tax codes of individuals are personal data).
"""

from __future__ import annotations

import functools
import re
from datetime import date

DOSSIER_CODE = re.compile(r"[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}-[0-9]{6}-[0-9]{4}")
AGENCY_CODE = re.compile(r"[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}")
NATIONAL_PROCEDURE_CODE = re.compile(r"[0-9]\.[0-9]{6}")
# The national part, then optionally the province's agency code and an online-service ".dd".
PROCEDURE_CODE = re.compile(r"[0-9]\.[0-9]{6}(?:\.[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}(?:\.[0-9]{2})?)?")

CCCD_PROVINCES = frozenset(
    {
        "001",
        "002",
        "004",
        "006",
        "008",
        "010",
        "011",
        "012",
        "014",
        "015",
        "017",
        "019",
        "020",
        "022",
        "024",
        "025",
        "026",
        "027",
        "030",
        "031",
        "033",
        "034",
        "035",
        "036",
        "037",
        "038",
        "040",
        "042",
        "044",
        "045",
        "046",
        "048",
        "049",
        "051",
        "052",
        "054",
        "056",
        "058",
        "060",
        "062",
        "064",
        "066",
        "067",
        "068",
        "070",
        "072",
        "074",
        "075",
        "077",
        "079",
        "080",
        "082",
        "083",
        "084",
        "086",
        "087",
        "089",
        "091",
        "092",
        "093",
        "094",
        "095",
        "096",
    }
)
# Fourth digit of a CCCD: century of birth (the digit's pair also encodes sex).
_CENTURY = {0: 1900, 1: 1900, 2: 2000, 3: 2000, 4: 2100, 5: 2100, 6: 2200, 7: 2200, 8: 2300, 9: 2300}

TAX_CODE_WEIGHTS = (31, 29, 23, 19, 17, 13, 7, 5, 3)
_TAX_CODE = re.compile(r"([0-9]{10})(?:-?([0-9]{3}))?")

# Since this date an individual's tax code is their 12-digit identity number.
PERSONAL_TAX_CODE_IS_CCCD_FROM = date(2025, 7, 1)


def is_valid_dossier_code(code: str) -> bool:
    """``<agency code>-<YYMMDD>-<NNNN>`` with a YYMMDD that is a real date."""
    return DOSSIER_CODE.fullmatch(code) is not None and dossier_code_date(code) is not None


def dossier_code_date(code: str) -> date | None:
    """The receipt date a well-formed dossier code carries (YY read as 20YY), or None."""
    if DOSSIER_CODE.fullmatch(code) is None:
        return None
    return _yymmdd_date(code[14:20])


@functools.lru_cache(maxsize=4096)
def _yymmdd_date(yymmdd: str) -> date | None:
    """The date of six ASCII digits ``YYMMDD`` (20YY), or None; cached, as a batch's codes share a few hundred
    dates (and a date is immutable)."""
    try:
        return date(2000 + int(yymmdd[0:2]), int(yymmdd[2:4]), int(yymmdd[4:6]))
    except ValueError:
        return None


def is_valid_agency_code(code: str) -> bool:
    """13 characters ``ddd.dd.dd.Ldd``."""
    return AGENCY_CODE.fullmatch(code) is not None


def national_procedure_code(code: str) -> str:
    """The national part of a procedure code: its first 8 characters (``2.000815``)."""
    return code[:8]


def is_valid_procedure_code(code: str) -> bool:
    """``d.dddddd``, optionally followed by a province's agency code and a ``.dd`` service suffix."""
    return PROCEDURE_CODE.fullmatch(code) is not None


def tax_check_digit(first_nine: str) -> int | None:
    """The check digit of a tax code's first nine digits, or None when the sum leaves no valid digit."""
    remainder = sum(int(d) * w for d, w in zip(first_nine, TAX_CODE_WEIGHTS, strict=True)) % 11
    if remainder == 0:
        return None
    return 10 - remainder


def tax_code_problem(code: str) -> str | None:
    """Why a tax code (``N1..N10`` with an optional ``-NNN`` branch suffix) is invalid, or None."""
    match = _TAX_CODE.fullmatch(code)
    if match is None:
        return "a tax code is 10 digits, optionally followed by -NNN for a branch"
    digits, branch = match.group(1), match.group(2)
    check = tax_check_digit(digits[:9])
    if check is None:
        return "the first nine digits of the tax code admit no check digit"
    if int(digits[9]) != check:
        return "the tax code's check digit (10th digit) is wrong"
    if branch == "000":
        return "a branch suffix runs from 001 to 999"
    return None


def cccd_problem(number: str, today: date) -> str | None:
    """Why a 12-digit citizen identity number breaks the rules, or None.

    Args:
        number: the identity number; anything but 12 digits is reported as such.
        today: the current date; a birth year after its year is invalid.
    """
    if len(number) != 12 or not number.isascii() or not number.isdigit():
        return "a citizen identity number is 12 digits"
    if number[:3] not in CCCD_PROVINCES:
        return "the first three digits are not a province code of the identity-number list"
    birth_year = _CENTURY[int(number[3])] + int(number[4:6])
    if birth_year > today.year:
        return "the birth year encoded in digits 4-6 is after the current year"
    return None


def is_legacy_identity_number(number: str) -> bool:
    """A legacy 9-digit identity number (CMND): valid, but flagged as legacy."""
    return len(number) == 9 and number.isascii() and number.isdigit()
