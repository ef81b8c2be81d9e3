"""The agency and procedure catalogues (``catalogue/agencies.csv``, ``catalogue/procedures.csv``).

A row that cannot be used is reported as a :class:`CatalogueProblem` with its line number and the rest
of the file is read. Rules:

- ``catalogue.missing_column``: the code column is absent from the header (error: nothing is read), or
  another column of the contract is (warning: its values read as null or 0);
- ``catalogue.bad_row`` (error): the row is skipped (no usable code, or unreadable text);
- ``catalogue.duplicate`` (warning): a code seen on an earlier line; the earlier row is kept;
- ``catalogue.bad_value`` (warning): an optional value is invalid and read as null (or 0 for a flag);
- ``catalogue.unknown_parent`` (warning): ``MaCoQuanCha`` names no agency of the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from sohoa.records.codes import is_valid_agency_code, is_valid_procedure_code, national_procedure_code
from sohoa.records.csv_rows import CsvRow, read_csv_rows
from sohoa.records.model import Severity

AGENCY_TIERS = frozenset({"TINH", "HUYEN", "XA"})
AGENCY_COLUMNS = ("MaCoQuan", "TenCoQuan", "Cap", "MaCoQuanCha")
PROCEDURE_COLUMNS = (
    "MaTTHC",
    "TenTTHC",
    "MaLinhVuc",
    "TenLinhVuc",
    "ThoiHanGiaiQuyet",
    "CoPhiLePhi",
    "CoKetQuaGiay",
    "ToanTrinh",
)


@dataclass(frozen=True, slots=True)
class AgencyInfo:
    """One agency; ``cap`` is ``TINH``, ``HUYEN`` or ``XA`` (None if the file had another value)."""

    ma_co_quan: str
    ten_co_quan: str | None
    cap: str | None
    ma_co_quan_cha: str | None


@dataclass(frozen=True, slots=True)
class ProcedureInfo:
    """One procedure, keyed by its national code; ``thoi_han_giai_quyet`` is in working days."""

    ma_tthc: str
    ten_tthc: str | None
    ma_linh_vuc: str | None
    ten_linh_vuc: str | None
    thoi_han_giai_quyet: int | None
    co_phi_le_phi: bool
    co_ket_qua_giay: bool
    toan_trinh: bool


@dataclass(frozen=True, slots=True)
class CatalogueProblem:
    """A catalogue row that could not be read as it is."""

    line_no: int
    rule: str
    severity: Severity
    detail: str


@dataclass(frozen=True)
class Catalogue:
    """The catalogues a batch is checked against.

    An empty mapping means that catalogue is not known: its ``record.unknown_*`` rule is not checked.
    """

    procedures: Mapping[str, ProcedureInfo] = field(default_factory=dict)
    agencies: Mapping[str, AgencyInfo] = field(default_factory=dict)

    @classmethod
    def of(cls, agencies: Iterable[AgencyInfo] = (), procedures: Iterable[ProcedureInfo] = ()) -> Catalogue:
        """A catalogue from lists as :func:`read_agencies_csv` and :func:`read_procedures_csv` return them."""
        return cls(
            procedures={p.ma_tthc: p for p in procedures},
            agencies={a.ma_co_quan: a for a in agencies},
        )


class _Rows:
    """Header lookup and problem collection for one catalogue file."""

    def __init__(self, data: bytes, key: str, expected: tuple[str, ...]) -> None:
        self.problems: list[CatalogueProblem] = []
        self._rows = read_csv_rows(data)
        self.columns: dict[str, int] = {}
        self.expected = expected
        header = next(self._rows, None)
        if header is None:
            self.problems.append(CatalogueProblem(1, "catalogue.missing_column", "error", "the file is empty"))
            return
        self.columns = {name.strip(): i for i, name in reversed(list(enumerate(header.cells)))}
        if key not in self.columns:
            self.problem(
                header.line_no,
                "catalogue.missing_column",
                "error",
                f"column {key} is missing from the header; nothing was read",
            )
            self.columns = {}
            return
        missing = [name for name in expected if name not in self.columns]
        if missing:
            self.problem(
                header.line_no,
                "catalogue.missing_column",
                "warning",
                f"column(s) missing from the header, read as empty: {', '.join(missing)}",
            )

    def __iter__(self) -> Iterator[tuple[int, dict[str, str | None]]]:
        if not self.columns:
            return
        for row in self._rows:
            if not self._readable(row):
                continue
            values: dict[str, str | None] = dict.fromkeys(self.expected)
            for name, index in self.columns.items():
                cell = row.cells[index].strip() if index < len(row.cells) else ""
                values[name] = cell or None
            yield row.line_no, values

    def _readable(self, row: CsvRow) -> bool:
        if row.error is not None:
            self.problem(row.line_no, "catalogue.bad_row", "error", row.error)
            return False
        if not row.valid_utf8:
            self.problem(row.line_no, "catalogue.bad_row", "error", "the row is not valid UTF-8")
            return False
        return True

    def problem(self, line_no: int, rule: str, severity: Severity, detail: str) -> None:
        self.problems.append(CatalogueProblem(line_no, rule, severity, detail))


def read_agencies_csv(data: bytes) -> tuple[list[AgencyInfo], list[CatalogueProblem]]:
    """Read ``catalogue/agencies.csv`` (columns MaCoQuan, TenCoQuan, Cap, MaCoQuanCha).

    Args:
        data: the file's bytes (UTF-8, optional BOM, header row).

    Returns:
        The agencies in file order, and the problems found.
    """
    rows = _Rows(data, "MaCoQuan", AGENCY_COLUMNS)
    agencies: list[AgencyInfo] = []
    first_line: dict[str, int] = {}
    parents: list[tuple[int, str]] = []
    for line_no, values in rows:
        code = values["MaCoQuan"]
        if code is None or not is_valid_agency_code(code):
            rows.problem(
                line_no,
                "catalogue.bad_row",
                "error",
                "MaCoQuan is missing or not a 13-character code ddd.dd.dd.Ldd; row skipped",
            )
            continue
        if code in first_line:
            rows.problem(
                line_no,
                "catalogue.duplicate",
                "warning",
                f"agency {code} already on line {first_line[code]}; this row is skipped",
            )
            continue
        first_line[code] = line_no
        cap = values["Cap"]
        if cap is not None:
            cap = cap.upper()
        if cap is not None and cap not in AGENCY_TIERS:
            rows.problem(
                line_no,
                "catalogue.bad_value",
                "warning",
                f"Cap of agency {code} is not TINH, HUYEN or XA; read as null",
            )
            cap = None
        parent = values["MaCoQuanCha"]
        if parent is not None and not is_valid_agency_code(parent):
            rows.problem(
                line_no,
                "catalogue.bad_value",
                "warning",
                f"MaCoQuanCha of agency {code} is not an agency code; read as null",
            )
            parent = None
        if parent is not None:
            parents.append((line_no, parent))
        agencies.append(AgencyInfo(code, values["TenCoQuan"], cap, parent))
    for line_no, parent in parents:
        if parent not in first_line:
            rows.problem(
                line_no, "catalogue.unknown_parent", "warning", f"MaCoQuanCha {parent} is not an agency of this file"
            )
    return agencies, rows.problems


def read_procedures_csv(data: bytes) -> tuple[list[ProcedureInfo], list[CatalogueProblem]]:
    """Read ``catalogue/procedures.csv``.

    ``MaTTHC`` may carry a province suffix; the procedure is keyed by its national part (first 8
    characters). Flags read ``1`` as true and ``0`` or an empty cell as false.

    Args:
        data: the file's bytes (UTF-8, optional BOM, header row).

    Returns:
        The procedures in file order, and the problems found.
    """
    rows = _Rows(data, "MaTTHC", PROCEDURE_COLUMNS)
    procedures: list[ProcedureInfo] = []
    first_line: dict[str, int] = {}
    for line_no, values in rows:
        raw_code = values["MaTTHC"]
        if raw_code is None or not is_valid_procedure_code(raw_code):
            rows.problem(
                line_no, "catalogue.bad_row", "error", "MaTTHC is missing or not a procedure code d.dddddd; row skipped"
            )
            continue
        code = national_procedure_code(raw_code)
        if code in first_line:
            rows.problem(
                line_no,
                "catalogue.duplicate",
                "warning",
                f"procedure {code} already on line {first_line[code]}; this row is skipped",
            )
            continue
        first_line[code] = line_no
        days_text = values["ThoiHanGiaiQuyet"]
        days: int | None = None
        if days_text is not None:
            if days_text.isascii() and days_text.isdigit():
                days = int(days_text)
            else:
                rows.problem(
                    line_no,
                    "catalogue.bad_value",
                    "warning",
                    f"ThoiHanGiaiQuyet of procedure {code} is not a whole number of working days; read as null",
                )
        flags = [
            _flag(rows, line_no, code, column, values[column]) for column in ("CoPhiLePhi", "CoKetQuaGiay", "ToanTrinh")
        ]
        procedures.append(
            ProcedureInfo(
                code,
                values["TenTTHC"],
                values["MaLinhVuc"],
                values["TenLinhVuc"],
                days,
                *flags,
            )
        )
    return procedures, rows.problems


def _flag(rows: _Rows, line_no: int, code: str, column: str, value: str | None) -> bool:
    if value is None or value == "0":
        return False
    if value == "1":
        return True
    rows.problem(line_no, "catalogue.bad_value", "warning", f"{column} of procedure {code} is not 0 or 1; read as 0")
    return False
