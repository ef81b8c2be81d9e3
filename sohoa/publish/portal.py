"""The national-portal projection: per dossier, the DVCQG synchronisation fields of what sohoa digitised.

The national public-service portal (DVCQG) receives from each province, per dossier, the submitted
components (``TaiLieuNop`` with ``DuocSoHoa`` and ``DuongDanTaiTepTin``) and the results
(``DanhSachGiayToKetQua`` with ``MaGiayToKetQua`` and ``DuongDanTepTinKetQua``). This module writes
one JSON object per dossier that sohoa holds documents for (JSON Lines, gzip), so a province's sync job
can send what sohoa digitised. Decisions:

- only documents sohoa holds are listed (the one-stop system already knows its own attachments);
- the link is the read API's download endpoint (``/v1/ho-so/<MaHoSo>/giay-to/<sha256>/link?redirect=1``),
  which checks the caller's token, logs the access and redirects to a short-lived presigned URL: the
  scans are personal data and never get a public permanent URL;
- ``MaGiayToKetQua`` is a catalogued result *type*: sohoa takes it from the record's
  ``DanhSachGiayToKetQua`` when the record names exactly one type, and leaves it null otherwise rather
  than guess; ``MaThanhPhanHoSo`` is taken from the record's ``TaiLieuNop`` entry whose ``TenTepDinhKem``
  is the scan's file name (compared without case), when exactly one component code matches, and is null
  otherwise (a scan does not say which component it is; sohoa does not guess from its content);
- file names pass through the same masking as ``publish.giay_to`` (no identity number).
"""

from __future__ import annotations

import gzip
from pathlib import Path
from urllib.parse import quote

from psycopg2 import sql

from sohoa.db.connection import Connection

FILE_NAME = "dong_bo_dvcqg.jsonl.gz"

# One JSON line per dossier, built by PostgreSQL (the Python loop it replaces took minutes per million
# dossiers). The result type code is computed once per dossier from its winning record line.
_QUERY = """
WITH docs AS (
    SELECT g.ma_ho_so,
           json_agg(json_build_object(
                        'MaThanhPhanHoSo', tp.ma, 'TenTepDinhKem', g.ten_giay_to, 'DuocSoHoa', 1,
                        'DuongDanTaiTepTin', {base} || publish.url_path_segment(g.ma_ho_so) || '/giay-to/'
                                             || g.sha256 || '/link?redirect=1')
                    ORDER BY g.sha256) FILTER (WHERE g.loai = 'thanh_phan') AS thanh_phan,
           json_agg(json_build_object(
                        'TenGiayTo', g.ten_giay_to,
                        'DuongDanTepTinKetQua', {base} || publish.url_path_segment(g.ma_ho_so) || '/giay-to/'
                                                || g.sha256 || '/link?redirect=1')
                    ORDER BY g.sha256) FILTER (WHERE g.loai = 'ket_qua') AS ket_qua
    FROM publish.giay_to g
    LEFT JOIN sohoa.dossier gx ON gx.ma_ho_so = g.ma_ho_so AND g.loai = 'thanh_phan'
    LEFT JOIN sohoa.record_version gv ON gv.batch_id = gx.batch_id AND gv.line_no = gx.line_no
    LEFT JOIN LATERAL (SELECT CASE WHEN count(DISTINCT t ->> 'MaThanhPhanHoSo') = 1
                                   THEN min(t ->> 'MaThanhPhanHoSo') END AS ma
                         FROM jsonb_array_elements(gv.tai_lieu_nop) t
                        WHERE lower(t ->> 'TenTepDinhKem') = lower(g.ten_giay_to)
                          AND COALESCE(t ->> 'MaThanhPhanHoSo', '') <> '') tp ON true
    WHERE g.ma_ho_so IS NOT NULL
    GROUP BY g.ma_ho_so
)
SELECT json_build_object(
           'MaHoSo', d.ma_ho_so,
           'TaiLieuNop', COALESCE(d.thanh_phan, '[]'::json),
           'DanhSachGiayToKetQua', CASE WHEN d.ket_qua IS NULL THEN '[]'::json ELSE
               (SELECT json_agg(json_build_object('TenGiayTo', e ->> 'TenGiayTo', 'MaGiayToKetQua', k.ma,
                                                  'DuongDanTepTinKetQua', e ->> 'DuongDanTepTinKetQua')
                                ORDER BY n)
                  FROM json_array_elements(d.ket_qua) WITH ORDINALITY AS a(e, n),
                       LATERAL (SELECT CASE WHEN count(DISTINCT r ->> 'MaGiayToKetQua') = 1
                                            THEN min(r ->> 'MaGiayToKetQua') END AS ma
                                  FROM jsonb_array_elements(v.giay_to_ket_qua) r
                                 WHERE COALESCE(r ->> 'MaGiayToKetQua', '') <> '') k)
           END)
FROM docs d
JOIN sohoa.dossier x ON x.ma_ho_so = d.ma_ho_so
JOIN sohoa.record_version v ON v.batch_id = x.batch_id AND v.line_no = x.line_no
ORDER BY d.ma_ho_so
"""


def document_link(api_base_url: str, ma_ho_so: str, sha256: str) -> str:
    """The stable, authenticated link of a document in the read API (what the export writes)."""
    return f"{api_base_url.rstrip('/')}/v1/ho-so/{quote(ma_ho_so, safe='')}/giay-to/{sha256}/link?redirect=1"


class _JsonLines:
    """Receives COPY's text-format rows and writes them as JSON Lines.

    COPY's text format escapes backslash, newline, CR and tab; JSON made by PostgreSQL holds no raw
    control character, so doubling backslashes is the only escape present and halving them is exact.
    psycopg2 hands over whole rows (one per ``write``), so an escape is never split.
    """

    def __init__(self, out: gzip.GzipFile) -> None:
        self.out = out
        self.rows = 0

    def write(self, row: bytes | str) -> int:
        data = row.encode() if isinstance(row, str) else row
        self.out.write(data.replace(b"\\\\", b"\\"))
        self.rows += data.count(b"\n")
        return len(data)


def export_portal(conn: Connection, path: Path, api_base_url: str) -> int:
    """Write the projection to ``path`` (gzip JSON Lines, deterministic bytes); return the dossier count."""
    base = api_base_url.rstrip("/") + "/v1/ho-so/"
    query = sql.SQL("COPY ({}) TO STDOUT").format(sql.SQL(_QUERY.strip()).format(base=sql.Literal(base)))
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out, conn.cursor() as cur:
        sink = _JsonLines(out)
        cur.copy_expert(query.as_string(conn), sink, size=1024 * 1024)
    return sink.rows
