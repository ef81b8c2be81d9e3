"""``sohoa status MaHoSo``: one dossier's record, versions, documents, OCR and quality findings.

Shows no personal data: the applicant appears as the keyed pseudonym only.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from sohoa.config import Settings
from sohoa.db.connection import connect

STATUS_NAMES = {
    1: "mới",
    2: "đã tiếp nhận",
    3: "không tiếp nhận",
    4: "đang xử lý",
    5: "yêu cầu bổ sung",
    6: "yêu cầu thực hiện nghĩa vụ tài chính",
    7: "công dân rút hồ sơ",
    8: "dừng xử lý",
    9: "đã xử lý xong",
    10: "đã trả kết quả",
}


def print_dossier(console: Console, settings: Settings, ma_ho_so: str) -> bool:
    """Print what sohoa knows; False when it knows nothing at all."""
    with connect(settings) as conn, conn.cursor() as cur:
        cur.execute(
            """SELECT ma_tthc, ma_co_quan, trang_thai, kenh_thuc_hien, ngay_tiep_nhan, ngay_hen_tra,
                              ngay_ket_thuc_xu_ly, ngay_tra, cap_nhat_luc, so_thanh_phan_so_hoa,
                              co_ket_qua_dien_tu, da_so_hoa
                         FROM publish.ho_so WHERE ma_ho_so = %s""",
            (ma_ho_so,),
        )
        record = cur.fetchone()
        cur.execute("SELECT count(*) FROM sohoa.record_version WHERE ma_ho_so = %s", (ma_ho_so,))
        versions = cur.fetchone()[0]  # type: ignore[index]
        cur.execute(
            """SELECT loai, ten_giay_to, sha256, mime_type, so_trang, dpi_toi_thieu, do_tin_cay_ocr,
                              searchable_pdf_uri FROM publish.giay_to WHERE ma_ho_so = %s ORDER BY so_hoa_luc""",
            (ma_ho_so,),
        )
        documents = cur.fetchall()
        cur.execute(
            """SELECT severity, rule, line_no, detail, resolved_at IS NOT NULL FROM quality.issues
                        WHERE ma_ho_so = %s ORDER BY detected_at""",
            (ma_ho_so,),
        )
        issues = cur.fetchall()
    if record is None and not versions and not documents and not issues:
        return False
    console.print(f"[bold]{ma_ho_so}[/bold]")
    if record is not None:
        (tthc, co_quan, status, kenh, tiep_nhan, hen_tra, ket_thuc, tra, cap_nhat, n_tp, kq, so_hoa) = record
        console.print(f"  procedure {tthc}, agency {co_quan}, channel {kenh}")
        console.print(f"  status {status} ({STATUS_NAMES.get(status, '?')}), updated {cap_nhat}")
        console.print(f"  received {tiep_nhan}, due {hen_tra}, finished {ket_thuc}, returned {tra}")
        console.print(f"  digitised components {n_tp}, e-result {kq}, digitised dossier (4.2) {so_hoa}")
    else:
        console.print("  no usable record line yet")
    console.print(f"  record versions received: {versions}")
    if documents:
        table = Table(title="documents", title_justify="left")
        for column in ("type", "name", "sha256", "mime", "pages", "min dpi", "OCR conf."):
            table.add_column(column)
        for loai, ten, sha, mime, pages, dpi, conf, _ in documents:
            table.add_row(
                loai,
                ten,
                sha[:12],
                mime,
                str(pages or ""),
                str(dpi or ""),
                f"{conf:.1f}" if conf is not None else "pending",
            )
        console.print(table)
    if issues:
        table = Table(title="quality findings", title_justify="left")
        for column in ("severity", "rule", "line", "detail", "resolved"):
            table.add_column(column)
        for severity, rule, line_no, detail, resolved in issues:
            table.add_row(severity, rule, str(line_no or ""), detail, "yes" if resolved else "")
        console.print(table)
    return True
