"""The five list-based KPI inputs of a record line, computed from the parsed line while it is loaded.

``kpi.dau_vao_tinh`` (migration 0014) is the single definition of a dossier's KPI inputs. Five of them are
``jsonb_path_exists`` over the JSON lists the loader stores in ``sohoa.record_version``; evaluated in the KPI
input trigger for every winning line, they were half of that trigger's cost (each call decompresses its list
again). The loader already holds those lists as typed values, so it computes the same five booleans here, in
the order of :data:`BITS`, and hands them to the trigger with the batch (``kpi.dau_vao_co``, migration 0016).
The trigger uses them only for the lines they were computed for and evaluates the view's jsonpath for any
other writer of ``sohoa.dossier``; ``tests/integration/test_kpi_inputs_kept.py`` checks, on the test feeds, that
the rows kept this way equal the view's.

Each predicate mirrors its jsonpath over the JSON :mod:`sohoa.intake.record_rows` writes from the same
values (flags are 0, 1 or null; paths are stripped non-empty texts or null, a NUL becoming U+FFFD; a fee is
a ``Decimal`` written as its text, or null).
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass, field
from decimal import Decimal

from sohoa.records.model import RecordLine

BITS = ("tp_so_ban_ghi", "kq_dien_tu_ban_ghi", "co_phi", "tai_su_dung", "kho_dmqg")
"""The columns of ``kpi.dau_vao`` the flags carry, bit 0 first (``kpi.dau_vao_moi`` reads them so)."""


@dataclass
class LineFlags:
    """The flags of some usable lines of a batch, in columns (compact, cheap to pickle and to format).

    Attributes:
        line_nos: the lines' numbers.
        codes: their :func:`kpi_flags`, in the same order.
    """

    line_nos: array[int] = field(default_factory=lambda: array("i"))
    codes: array[int] = field(default_factory=lambda: array("B"))

    def add(self, line: RecordLine) -> None:
        self.line_nos.append(line.line_no)
        self.codes.append(kpi_flags(line))

    def extend(self, other: LineFlags) -> None:
        self.line_nos.extend(other.line_nos)
        self.codes.extend(other.codes)

    def __len__(self) -> int:
        return len(self.line_nos)

    def as_arrays(self) -> tuple[str, str]:
        """The two columns as PostgreSQL array literals (for ``unnest``): one C-level join each, rather than a
        formatted COPY line for each of a batch's lines."""
        return "{" + ",".join(map(str, self.line_nos)) + "}", "{" + ",".join(map(str, self.codes)) + "}"


def kpi_flags(line: RecordLine) -> int:
    """The five booleans of :data:`BITS` as the bits of an integer (0 to 31).

    One pass over each list: this runs for every usable line of every batch.
    """
    flags = 0
    for d in line.tai_lieu_nop:
        # (@.DuocSoHoa == 1 || @.DuocSoHoa == "1") && @.DuongDanTaiTepTin != null && @.DuongDanTaiTepTin != ""
        if d.duoc_so_hoa == 1 and d.duong_dan:
            flags |= 1
        if d.duoc_tai_su_dung == 1:  # @.DuocTaiSuDung == 1 || @.DuocTaiSuDung == "1"
            flags |= 8
        if d.duoc_lay_tu_kho_dmqg == 1:  # @.DuocLayTuKhoDMQG == 1 || @.DuocLayTuKhoDMQG == "1"
            flags |= 16
    for r in line.giay_to_ket_qua:
        if r.duong_dan:  # @.DuongDanTepTinKetQua != null && @.DuongDanTepTinKetQua != ""
            flags |= 2
            break
    for f in line.le_phi:
        if f.gia is not None and _double_positive(f.gia):  # @.Gia.double() > 0
            flags |= 4
            break
    return flags


def _double_positive(gia: Decimal) -> bool:
    """``"<gia>".double() > 0`` as PostgreSQL's jsonpath evaluates it on the text the loader stores.

    ``.double()`` reads the text as a float8 (correctly rounded, as ``float`` reads a ``Decimal``) and fails,
    which in a filter means false, on NaN, on infinities and on values out of float8's range: an overflow, or
    an underflow to zero (a subnormal result is kept). ``float`` gives infinity for the first and 0.0 for
    the second, both of which fail the test below as they should.
    """
    if not gia.is_finite() or gia <= 0:
        return False
    value = float(gia)
    return math.isfinite(value) and value > 0
