"""Fields read from the OCR text of a component or result document.

Pure functions on text: no database, no storage. Each field comes with its page, its line on that page,
its character offsets in the page's text and a confidence in 0..1.

What is read (field names are those stored in ``truong_trich_xuat``):

- ``ma_ho_so``: the national dossier-code pattern (spaces around its dots and dashes tolerated), best
  after a label ``Mã hồ sơ`` / ``Số hồ sơ``;
- ``so_cccd``: 12 digits after a label (``CCCD``, ``Căn cước``, ``định danh``) or anywhere, checked against
  the CCCD rules;
- ``ma_so_thue``: 10 digits (``-NNN`` branch) or 12 digits after ``Mã số thuế`` / ``MST`` /
  ``mã số doanh nghiệp``, check digit verified;
- ``chu_ho_so``: a capitalised Vietnamese name of 2-6 words after ``Họ và tên:``, ``ông (bà)``,
  ``hồ sơ của:``;
- ``so_ky_hieu``: the document number and symbol after ``Số:`` (``123/QĐ-UBND``);
- ``ngay_van_ban``: the date of the place-and-date line (``Đồng Nai, ngày 08 tháng 7 năm 2021``);
- ``ngay_sinh``, ``ngay_tiep_nhan``, ``ngay_hen_tra``, ``ngay_hieu_luc``: a date right after its label
  (``sinh``, ``tiếp nhận``, ``nhận kết quả`` / ``hẹn trả``, ``hiệu lực``), as ISO ``YYYY-MM-DD``;
- ``ma_giay_to_ket_qua``: the result type code ``KQ.G15.000031``.

Confidence = (the page's mean OCR word confidence / 100, or 1 for a text layer) x a factor for how the value
was found: 1.0 when it is after its label and passes its checks, 0.85 when it passes its checks without a
label, 0.5 when it is after its label but fails its checks (a misread digit, usually). A value that is neither
labelled nor valid is not a field. The best candidate of a field is the most confident one, the first in
reading order among equals.

Decisions: dates are read day first, always (Vietnamese usage); a 9-digit legacy identity number is not read
(too easily confused with other numbers without its label); the applicant's name is read only after a label,
never guessed from capitalisation alone.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sohoa.extract.dates import find_dates
from sohoa.records.codes import cccd_problem, is_valid_dossier_code, tax_code_problem

EXTRACTOR_VERSION = "sohoa-extract/1"

PERSONAL_FIELDS = frozenset({"so_cccd", "chu_ho_so", "ngay_sinh", "ma_so_thue"})
"""Fields whose values are personal data (a tax code may be an individual's: treated as personal)."""

LABELLED_VALID = 1.0
UNLABELLED_VALID = 0.85
LABELLED_INVALID = 0.5

_SEP = r"\s?"
DOSSIER_CODE_TEXT = re.compile(
    rf"(?<![0-9.])([0-9]{{3}}){_SEP}\.{_SEP}([0-9]{{2}}){_SEP}\.{_SEP}([0-9]{{2}}){_SEP}\.{_SEP}([A-Z]){_SEP}"
    rf"([0-9]{{2}}){_SEP}-{_SEP}([0-9]{{6}}){_SEP}-{_SEP}([0-9]{{4}})(?![0-9])"
)
DOSSIER_LABEL = re.compile(r"(?:mã|số)\s+hồ\s+sơ\s*:?\s*$", re.IGNORECASE)
TWELVE_DIGITS = re.compile(r"(?<![0-9])([0-9]{12})(?![0-9])")
CCCD_LABEL = re.compile(
    r"(?:cccd|căn\s+cước(?:\s+công\s+dân)?|định\s+danh(?:\s+cá\s+nhân)?)\s*(?:số)?\s*:?\s*$", re.IGNORECASE
)
TAX_CODE_TEXT = re.compile(
    r"(?:mã\s+số\s+thuế|mst|mã\s+số\s+doanh\s+nghiệp)\s*:?\s*"
    r"([0-9]{10}(?:\s?-\s?[0-9]{3})?|[0-9]{12})(?![0-9])",
    re.IGNORECASE,
)
RESULT_TYPE_CODE = re.compile(r"(?<![A-Z0-9])KQ\.[A-Z][0-9]{2}\.[0-9]{6}(?![0-9])")
# "Số: 123/QĐ-UBND", "Số: 32/BN-SXD"; the symbol is capital letters (with Đ) and digits joined by dashes.
DOCUMENT_NUMBER = re.compile(r"(?<![\wÀ-ỹ])Số\s*:\s*([0-9]{1,6})\s*/\s*([A-ZĐÐ0-9]+(?:\s?[-–]\s?[A-ZĐÐ0-9]+)*)")
NAME_LABEL = re.compile(r"(?:họ\s+và\s+tên|họ\s+tên|ông\s*\(bà\)|hồ\s+sơ\s+của)\s*:?\s*", re.IGNORECASE)
_NAME_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
PLACE_DATE_LINE = re.compile(
    r"^[^\W\d_][^,\n\d]{1,40},\s*ng[àaảạ]y\s+[0-9]{1,2}\s+th[áa]ng\s", re.IGNORECASE | re.MULTILINE
)
_DATE_LABELS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("ngay_sinh", re.compile(r"sinh\s*:?\s*(?:ngày\s*)?$", re.IGNORECASE)),
    ("ngay_tiep_nhan", re.compile(r"tiếp\s+nhận\s*(?:ngày\s*)?:?\s*$", re.IGNORECASE)),
    (
        "ngay_hen_tra",
        re.compile(r"(?:nhận\s+kết\s+quả|hẹn\s+trả(?:\s+kết\s+quả)?)\s*:?\s*(?:ngày\s*)?$", re.IGNORECASE),
    ),
    ("ngay_hieu_luc", re.compile(r"hiệu\s+lực\s+(?:kể\s+)?từ\s+(?:ngày\s*)?$", re.IGNORECASE)),
)
_LABEL_WINDOW = 40  # characters before a value searched for its label


@dataclass(frozen=True)
class FieldValue:
    """One value read from the text, with where it was read and how sure the reader is."""

    name: str
    value: str
    page: int  # 1-based
    line: int  # 1-based line on the page
    start: int  # offsets in the page's text
    end: int
    confidence: float

    @property
    def personal(self) -> bool:
        return self.name in PERSONAL_FIELDS


@dataclass(frozen=True)
class Extraction:
    """Every candidate of every field, in reading order, and the best per field."""

    candidates: tuple[FieldValue, ...]

    def best(self) -> dict[str, FieldValue]:
        """The most confident candidate of each field (the first in reading order among equals)."""
        out: dict[str, FieldValue] = {}
        for c in self.candidates:
            kept = out.get(c.name)
            if kept is None or c.confidence > kept.confidence:
                out[c.name] = c
        return out

    def values(self, name: str) -> list[str]:
        """Distinct values read for a field, in reading order."""
        seen: list[str] = []
        for c in self.candidates:
            if c.name == name and c.value not in seen:
                seen.append(c.value)
        return seen


def extract_fields(
    text: str, page_confidences: Sequence[float | None] = (), *, today: date | None = None
) -> Extraction:
    """Read the fields of a document from its OCR text.

    Args:
        text: the document's text as ``sohoa ocr`` writes it (NFC, pages separated by form feeds).
        page_confidences: each page's mean word confidence (0-100; None for a page without words); missing
            pages count as 100 (a text layer).
        today: the current date, for the CCCD birth-year rule (default: the local date).

    Returns:
        The candidates in reading order (page, then offset).
    """
    today = today or date.today()
    found: list[FieldValue] = []
    for index, page_text in enumerate(unicodedata.normalize("NFC", text).split("\f")):
        conf = page_confidences[index] if index < len(page_confidences) else 100.0
        scale = 1.0 if conf is None else max(0.0, min(1.0, conf / 100.0))
        found.extend(_page_fields(page_text, index + 1, scale, today))
    found.sort(key=lambda f: (f.page, f.start, f.name))
    return Extraction(tuple(found))


def _page_fields(text: str, page: int, scale: float, today: date) -> list[FieldValue]:
    out: list[FieldValue] = []

    def add(name: str, value: str, start: int, end: int, factor: float) -> None:
        line = text.count("\n", 0, start) + 1
        out.append(FieldValue(name, value, page, line, start, end, round(scale * factor, 3)))

    def labelled(start: int, label: re.Pattern[str]) -> bool:
        return label.search(text[max(0, start - _LABEL_WINDOW) : start]) is not None

    for m in DOSSIER_CODE_TEXT.finditer(text):
        code = f"{m[1]}.{m[2]}.{m[3]}.{m[4]}{m[5]}-{m[6]}-{m[7]}"
        has_label, valid = labelled(m.start(), DOSSIER_LABEL), is_valid_dossier_code(code)
        factor = _factor(has_label, valid)
        if factor:
            add("ma_ho_so", code, m.start(), m.end(), factor)
    for m in TWELVE_DIGITS.finditer(text):
        has_label = labelled(m.start(), CCCD_LABEL)
        valid = cccd_problem(m[1], today) is None
        if _inside_tax_code(text, m.start()):
            continue
        factor = _factor(has_label, valid)
        if factor:
            add("so_cccd", m[1], m.start(1), m.end(1), factor)
    for m in TAX_CODE_TEXT.finditer(text):
        code = re.sub(r"\s", "", m[1])
        valid = tax_code_problem(code) is None or (len(code) == 12 and cccd_problem(code, today) is None)
        add("ma_so_thue", code, m.start(1), m.end(1), _factor(True, valid))
    for m in RESULT_TYPE_CODE.finditer(text):
        add("ma_giay_to_ket_qua", m[0], m.start(), m.end(), UNLABELLED_VALID)
    for m in DOCUMENT_NUMBER.finditer(text):
        symbol = _symbol(m[2])
        add("so_ky_hieu", f"{m[1]}/{symbol}", m.start(1), m.end(2), LABELLED_VALID)
    for m in NAME_LABEL.finditer(text):
        name = _name_after(text, m.end())
        if name is not None:
            start, end, value = name
            add("chu_ho_so", value, start, end, LABELLED_VALID)
    place_date_lines = [m.start() for m in PLACE_DATE_LINE.finditer(text)]
    for d in find_dates(text):
        role = _date_role(text, d.start, place_date_lines)
        if role is not None:
            add(role, d.value.isoformat(), d.start, d.end, LABELLED_VALID)
    return out


def _symbol(text: str) -> str:
    """A document symbol as printed: Tesseract ``vie`` reads the capital Đ as the Icelandic eth Ð, sometimes
    as both (``QĐÐ``); an eth never occurs in Vietnamese, so it is read back as Đ."""
    text = re.sub(r"\s", "", text).replace("–", "-")
    return text.replace("ĐÐ", "Đ").replace("ÐĐ", "Đ").replace("Ð", "Đ")


def _factor(has_label: bool, valid: bool) -> float:
    if valid:
        return LABELLED_VALID if has_label else UNLABELLED_VALID
    return LABELLED_INVALID if has_label else 0.0


def _inside_tax_code(text: str, start: int) -> bool:
    """A 12-digit number right after a tax-code label is a tax code (an individual's), not a CCCD field."""
    before = text[max(0, start - _LABEL_WINDOW) : start]
    return re.search(r"(?:mã\s+số\s+thuế|mst)\s*:?\s*$", before, re.IGNORECASE) is not None


# Words that start the next labelled line of a form, never part of a name.
_NOT_NAME = frozenset(
    {
        "Ngày",
        "Số",
        "Địa",
        "Nơi",
        "Mã",
        "Căn",
        "Giấy",
        "Điện",
        "Quê",
        "Giới",
        "Nghề",
        "Chỗ",
        "Thường",
        "Tạm",
        "Nội",
        "Thời",
        "Được",
        "Tôi",
        "Kính",
        "Email",
        "Sinh",
    }
)


def _name_after(text: str, pos: int) -> tuple[int, int, str] | None:
    """A person's name starting at ``pos``: 2-6 title-case words; it may wrap onto the next line, but a
    word that opens a labelled line (``Ngày sinh:``, ``Số CCCD``) ends it."""
    words: list[re.Match[str]] = []
    cursor = pos
    while len(words) < 6:
        gap = re.match(r"[ \t]*\n?[ \t]*", text[cursor:])
        assert gap is not None
        m = _NAME_WORD.match(text, cursor + gap.end())
        if m is None or (words and gap.end() == 0) or not _title_case(m[0]) or m[0] in _NOT_NAME:
            break
        if "\n" in gap[0] and ":" in text[m.start() : m.start() + 25].split("\n", 1)[0]:
            break  # the next line is a labelled line ("Quốc tịch: ...")
        words.append(m)
        cursor = m.end()
    if len(words) < 2:
        return None
    value = " ".join(w[0] for w in words)
    return words[0].start(), words[-1].end(), value


def _title_case(word: str) -> bool:
    return word[0].isupper() and (len(word) == 1 or word[1:].islower())


def _date_role(text: str, start: int, place_date_lines: Sequence[int]) -> str | None:
    line_start = text.rfind("\n", 0, start) + 1
    if line_start in place_date_lines and start - line_start <= 45:
        return "ngay_van_ban"
    before = text[max(0, start - _LABEL_WINDOW) : start]
    for name, label in _DATE_LABELS:
        if label.search(before):
            return name
    return None
