"""The monthly KPI report a provincial leader opens: one HTML page per month and agency, in Vietnamese.

It shows the Decision 766 points of the month, the figures provinces publish ("tiếp nhận 28.300 hồ sơ,
trực tuyến 2.799", "15.204/15.334 hồ sơ đúng hạn, đạt 99,15%"), twelve months of on-time, online and
digitisation rates, and the channel shares, as inline SVG charts: one self-contained file, no script, no
network access, so the portal can serve it as it is and a leader can forward it by e-mail.

Where it is stored: the ``published`` bucket, key ``kpi/bao-cao/<YYYY-MM>/<MaCoQuan>.html`` (``tat-ca``
for all agencies), written by :func:`publish_reports` after each build for the months the build rewrote
(the latest two). The portal calls :func:`render_report` (fresh from the tables) or reads that object.
Only aggregate counts appear: no dossier code, no name.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from minio import Minio

from sohoa.config import Settings
from sohoa.db.connection import Connection, connect

ALL_AGENCIES = "*"

# chi_so -> (Vietnamese name, Decision 766 reference)
INDICATOR_NAMES: dict[str, tuple[str, str]] = {
    "TIEN_DO": ("Tiến độ giải quyết hồ sơ", "2.1"),
    "TRUC_TUYEN": ("Cung cấp dịch vụ trực tuyến", "3"),
    "THANH_TOAN_TRUC_TUYEN": ("Thanh toán trực tuyến", "3.6"),
    "KET_QUA_DIEN_TU": ("Cấp kết quả giải quyết điện tử", "4.1"),
    "SO_HOA": ("Số hóa hồ sơ", "4.2"),
    "TAI_SU_DUNG": ("Tái sử dụng thông tin, dữ liệu số hóa", "4.3"),
    "KHO_DMQG": ("Khai thác dữ liệu từ Kho quản lý dữ liệu điện tử", "4.4"),
    "HAI_LONG": ("Mức độ hài lòng", "5.4"),
    "TY_LE_DUNG_HAN": ("Tỷ lệ hồ sơ giải quyết đúng hạn", ""),
    "TY_LE_TRUC_TUYEN": ("Tỷ lệ hồ sơ tiếp nhận trực tuyến", ""),
    "TY_LE_KHONG_TIEN_MAT": ("Tỷ lệ thanh toán không dùng tiền mặt", ""),
}
TREND = ("TY_LE_DUNG_HAN", "TY_LE_TRUC_TUYEN", "SO_HOA")

_env = Environment(
    loader=PackageLoader("sohoa.kpi", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def so_vn(value: Any, decimals: int = 0) -> str:
    """A number the Vietnamese way: ``28.300``, ``99,15``."""
    if value is None:
        return "–"
    text = f"{Decimal(value):,.{decimals}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


_env.filters["so_vn"] = so_vn


@dataclass(frozen=True)
class IndicatorRow:
    chi_so: str
    ten: str
    ma_766: str
    tu_so: int
    mau_so: int
    ty_le: Decimal | None
    diem: Decimal | None
    diem_toi_da: Decimal | None


def report_key(thang: date, ma_co_quan: str) -> str:
    """Object key of the report of a month (its first day) and an agency (``*``: all agencies)."""
    name = "tat-ca" if ma_co_quan == ALL_AGENCIES else ma_co_quan
    return f"kpi/bao-cao/{thang:%Y-%m}/{name}.html"


def _month_start(d: date, back: int = 0) -> date:
    index = d.year * 12 + d.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def render_report(conn: Connection, thang: date, ma_co_quan: str) -> str | None:
    """The HTML report of one month and agency from the KPI tables, or None when the tables hold nothing
    for them."""
    thang = _month_start(thang)
    with conn.cursor() as cur:
        cur.execute(
            """SELECT chi_so, tu_so, mau_so, ty_le, diem, diem_toi_da, den_ngay, phien_ban FROM kpi.indicator
               WHERE ky = 'thang' AND tu_ngay = %s AND ma_co_quan = %s""",
            (thang, ma_co_quan),
        )
        rows = cur.fetchall()
        if not rows:
            return None
        den_ngay: date = rows[0][6]
        phien_ban: str = rows[0][7]
        by_code = {r[0]: r for r in rows}
        indicators = [
            IndicatorRow(
                code,
                name,
                ref,
                int(by_code[code][1]),
                int(by_code[code][2]),
                by_code[code][3],
                by_code[code][4],
                by_code[code][5],
            )
            for code, (name, ref) in INDICATOR_NAMES.items()
            if code in by_code
        ]
        cur.execute(
            """SELECT tu_ngay, chi_so, ty_le FROM kpi.indicator
               WHERE ky = 'thang' AND ma_co_quan = %s AND chi_so = ANY(%s) AND tu_ngay BETWEEN %s AND %s""",
            (ma_co_quan, list(TREND), _month_start(thang, 11), thang),
        )
        trend_rows = cur.fetchall()
        cur.execute(
            """SELECT coalesce(sum(tiep_nhan), 0), coalesce(sum(tiep_nhan_truc_tiep), 0),
                      coalesce(sum(tiep_nhan_truc_tuyen), 0), coalesce(sum(tiep_nhan_buu_chinh), 0),
                      coalesce(sum(giai_quyet), 0), coalesce(sum(giai_quyet_truoc_han + giai_quyet_dung_han), 0),
                      coalesce(sum(da_so_hoa), 0)
               FROM kpi.co_quan_ngay WHERE ma_co_quan = %s AND ngay >= %s AND ngay < %s""",
            (ma_co_quan, thang, den_ngay),
        )
        flows = cur.fetchone() or (0,) * 7
        ten = "Tất cả cơ quan" if ma_co_quan == ALL_AGENCIES else ma_co_quan
        if ma_co_quan != ALL_AGENCIES:
            cur.execute("SELECT ten_co_quan FROM sohoa.agency WHERE ma_co_quan = %s", (ma_co_quan,))
            found = cur.fetchone()
            if found and found[0]:
                ten = f"{found[0]} ({ma_co_quan})"
    months = [_month_start(thang, back) for back in range(11, -1, -1)]
    trend: dict[str, dict[date, float | None]] = {code: dict.fromkeys(months) for code in TREND}
    for tu_ngay, code, ty_le in trend_rows:
        trend[code][tu_ngay] = None if ty_le is None else float(ty_le)
    tiep_nhan, truc_tiep, truc_tuyen, buu_chinh, giai_quyet, dung_han, da_so_hoa = (int(v) for v in flows)
    channels = [("Trực tiếp", truc_tiep), ("Trực tuyến", truc_tuyen), ("Bưu chính công ích", buu_chinh)]
    return _env.get_template("bao_cao_thang.html").render(
        thang=thang,
        ten=ten,
        den_ngay=den_ngay,
        den_het=den_ngay - timedelta(days=1),
        ket_thuc=den_ngay == _month_start(thang, -1),
        phien_ban=phien_ban,
        indicators=indicators,
        scored=[i for i in indicators if i.diem_toi_da is not None],
        months=months,
        trend=trend,
        trend_names={code: INDICATOR_NAMES[code][0] for code in TREND},
        channels=channels,
        tiep_nhan=tiep_nhan,
        truc_tuyen=truc_tuyen,
        giai_quyet=giai_quyet,
        dung_han=dung_han,
        da_so_hoa=da_so_hoa,
        ty_le_dung_han=(Decimal(100 * dung_han) / giai_quyet).quantize(Decimal("0.01")) if giai_quyet else None,
    )


def publish_reports(conn: Connection, client: Minio, bucket: str, months: list[date]) -> list[str]:
    """Render and store the reports of ``months`` for every agency with figures and for all agencies;
    returns the object keys written (an existing report of the same month is replaced)."""
    keys = []
    for thang in months:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT DISTINCT ma_co_quan FROM kpi.indicator WHERE ky = 'thang' AND tu_ngay = %s ORDER BY ma_co_quan",
                (thang,),
            )
            agencies = [r[0] for r in cur.fetchall()]
        for agency in agencies:
            html = render_report(conn, thang, agency)
            if html is None:
                continue
            data = html.encode("utf-8")
            key = report_key(thang, agency)
            client.put_object(bucket, key, io.BytesIO(data), len(data), content_type="text/html; charset=utf-8")
            keys.append(key)
    return keys


def write_reports(settings: Settings, months: list[date]) -> list[str]:
    """Render and store the reports of ``months`` (what a build does after it commits, and the DAG's
    report task); returns the object keys written."""
    from sohoa.storage.s3 import ensure_buckets, make_client

    client = make_client(settings)
    ensure_buckets(client, settings)
    with connect(settings) as conn:
        return publish_reports(conn, client, settings.bucket_published, months)
