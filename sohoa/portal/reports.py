"""The index of KPI report pages: which months have figures, for one agency or for all.

Decision (issue 7's report index): the portal builds the list from the database, not from an index object in
the store. ``kpi.indicator`` is the truth of which month and agency have figures, and reading it through the
index of the table under that view (``ky_co_quan_co_quan``: agency, period, first day) costs one small query;
listing the store would walk 200 agencies x 60 months of objects, and an index object written by the build
would go stale whenever a build rewrote only some months. The build stores the reports of the latest two months
it rewrote (``kpi/bao-cao/<YYYY-MM>/<MaCoQuan>.html``, ``tat-ca`` for all agencies); an older month is rendered
on demand from the same tables by :func:`sohoa.kpi.report.render_report` (``routes_reports.report_file``), so every
listed month opens.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sohoa.db.connection import Connection
from sohoa.kpi.report import ALL_AGENCIES

MONTHS_SHOWN = 36
# kpi/bao-cao/<YYYY-MM>/<MaCoQuan or tat-ca>.html, relative to the report prefix.
_MONTH_PAGE = re.compile(r"^(?P<y>[0-9]{4})-(?P<m>0[1-9]|1[0-2])/(?P<agency>[0-9A-Za-z.\-]{1,40})\.html$")


@dataclass(frozen=True)
class MonthReport:
    month: date  # its first day
    path: str  # relative to the report prefix, e.g. "2026-01/tat-ca.html"


def agency_file_name(ma_co_quan: str) -> str:
    return "tat-ca" if ma_co_quan == ALL_AGENCIES else ma_co_quan


def months_with_figures(conn: Connection, ma_co_quan: str, *, limit: int = MONTHS_SHOWN) -> list[MonthReport]:
    """The months with KPI figures for an agency (``*``: all agencies), newest first."""
    with conn.cursor() as cur:
        cur.execute(
            """SELECT DISTINCT tu_ngay FROM kpi.indicator WHERE ma_co_quan = %s AND ky = 'thang'
                        ORDER BY tu_ngay DESC LIMIT %s""",
            (ma_co_quan, limit),
        )
        months = [r[0] for r in cur.fetchall()]
    name = agency_file_name(ma_co_quan)
    return [MonthReport(m, f"{m:%Y-%m}/{name}.html") for m in months]


def agencies(conn: Connection) -> list[tuple[str, str | None]]:
    """The agency catalogue (code, name), for the agency picker."""
    with conn.cursor() as cur:
        cur.execute("SELECT ma_co_quan, ten_co_quan FROM sohoa.agency ORDER BY ma_co_quan LIMIT 5000")
        return [(r[0], r[1]) for r in cur.fetchall()]


def month_page(path: str) -> tuple[date, str] | None:
    """(month, agency code) of a month report's path, or None for any other path."""
    match = _MONTH_PAGE.match(path)
    if match is None:
        return None
    agency = match["agency"]
    return date(int(match["y"]), int(match["m"]), 1), ALL_AGENCIES if agency == "tat-ca" else agency
