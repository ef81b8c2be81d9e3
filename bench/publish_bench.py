"""Benchmark: publishing the "1 có" dataset (Parquet snapshot) against a plain ``COPY ... TO`` CSV export.

Generates N dossiers with 3 documents each (set-based, in SQL) in a fresh database on the PostgreSQL
server given by ``--server`` (an admin URL; default ``SOHOA_TEST_DATABASE_URL`` or the local service),
starts a nanio S3 server on a free port, then measures in the same run, each in its own process so that
its peak memory is its own:

- reference: ``COPY (SELECT * FROM publish.ho_so) TO STDOUT (FORMAT csv, HEADER)`` and the same for
  ``publish.giay_to``, written to local files (what ``psql \\copy`` does);
- sohoa: :func:`sohoa.publish.snapshot.publish` (ordered Parquet for both views, the national-portal
  projection, hashes, upload to S3, manifest, LATEST).

Prints wall time, peak RSS of the client process and output size for each, and the ratios. Usage:

    uv run --frozen python bench/publish_bench.py                 # 1,000,000 dossiers / 3,000,000 documents
    uv run --frozen python bench/publish_bench.py --dossiers 100000

The database is dropped at the end (``--keep`` keeps it, ``--database`` reuses a generated one).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg2

GENERATE = """
INSERT INTO sohoa.procedure (ma_tthc, ten_tthc, ma_linh_vuc, thoi_han_giai_quyet, co_ket_qua_giay)
SELECT format('2.%s', lpad(p::text, 6, '0')), 'Thủ tục ' || p, 'G13-XD01', 15, p % 2 = 0
FROM generate_series(1, 20) p;

INSERT INTO sohoa.record_batch (id, object_key, sha256, format, line_count, usable_count)
VALUES (1, 'records/bench.jsonl', repeat('0', 64), 'jsonl', %(n)s, %(n)s);

INSERT INTO sohoa.record_version (batch_id, line_no, usable, ma_ho_so, ma_tthc, ma_tthc_quoc_gia, ten_tthc,
    ma_linh_vuc, ma_co_quan, kenh_thuc_hien, loai_doi_tuong, chu_ho_so_ma_hoa, ngay_tiep_nhan, ngay_hen_tra,
    ngay_ket_thuc_xu_ly, ngay_tra, trang_thai, cap_nhat_luc, tai_lieu_nop, giay_to_ket_qua, raw_text)
SELECT 1, i, true, c.ma_ho_so, c.ma_tthc, c.ma_tthc, 'Thủ tục', 'G13-XD01', c.ma_co_quan,
       CASE WHEN i % 3 = 0 THEN NULL ELSE 1 + i % 3 END, 1, encode(sha256(convert_to('id' || i, 'UTF8')), 'hex'),
       c.ngay, c.ngay + interval '15 days',
       CASE WHEN i % 4 = 0 THEN c.ngay + interval '10 days' END,
       CASE WHEN i % 4 = 0 THEN c.ngay + interval '11 days' END,
       CASE WHEN i % 4 = 0 THEN 10 ELSE 4 END, c.ngay + interval '12 days',
       CASE WHEN i % 5 = 0 THEN '[{"MaThanhPhanHoSo": "TP1", "DuocSoHoa": 1, "DuongDanTaiTepTin": "https://x/1"}]'::jsonb
            ELSE '[]'::jsonb END,
       '[]'::jsonb, '{}'
FROM generate_series(1, %(n)s) i,
LATERAL (SELECT format('000.00.%%s.H19', lpad((10 + i %% 50)::text, 2, '0')) AS ma_co_quan,
                date '2025-01-01' + ((i / 50) %% 365) AS day,
                format('2.%%s', lpad((1 + i %% 20)::text, 6, '0')) AS ma_tthc) a,
LATERAL (SELECT format('%%s-%%s-%%s', a.ma_co_quan, to_char(a.day, 'YYMMDD'),
                       lpad((1 + i / (50 * 365))::text, 4, '0')) AS ma_ho_so,
                a.ma_co_quan, a.ma_tthc, (a.day + time '08:00') AT TIME ZONE 'Asia/Ho_Chi_Minh' AS ngay) c;

INSERT INTO sohoa.dossier (ma_ho_so, batch_id, line_no, cap_nhat_luc)
SELECT ma_ho_so, batch_id, line_no, cap_nhat_luc FROM sohoa.record_version;

INSERT INTO sohoa.original (sha256, raw_uri, size_bytes, mime_type, page_count)
SELECT s.sha, 's3://raw/sha256/' || left(s.sha, 2) || '/' || substr(s.sha, 3, 2) || '/' || s.sha,
       200000 + j % 50000, 'application/pdf', 1 + j % 4
FROM generate_series(1, %(docs)s) j, LATERAL (SELECT encode(sha256(convert_to('doc' || j, 'UTF8')), 'hex') AS sha) s;

INSERT INTO sohoa.document (ma_ho_so, loai, ten_giay_to, landing_key, sha256)
SELECT v.ma_ho_so, CASE WHEN j %% 3 = 0 THEN 'ket_qua' ELSE 'thanh_phan' END, 'scan_' || j || '.pdf',
       'scans/' || v.ma_ho_so || '/scan_' || j || '.pdf', encode(sha256(convert_to('doc' || j, 'UTF8')), 'hex')
FROM generate_series(1, %(docs)s) j
JOIN sohoa.record_version v ON v.batch_id = 1 AND v.line_no = 1 + (j - 1) / %(per)s;

INSERT INTO sohoa.ocr_result (sha256, status, text_uri, searchable_uri, pages_uri, page_count, min_dpi,
                              mean_confidence, extracted, engine, seconds)
SELECT sha256, 'done', 's3://derived/ocr/' || left(sha256, 2) || '/' || sha256 || '/text.txt',
       's3://derived/ocr/' || left(sha256, 2) || '/' || sha256 || '/searchable.pdf',
       's3://derived/ocr/' || left(sha256, 2) || '/' || sha256 || '/pages.json', page_count, 300,
       80 + (page_count * 3) %% 20,
       jsonb_build_object('so_van_ban', page_count || '/QĐ-UBND', 'ngay_ky', '2025-03-0' || page_count),
       'tesseract 5.3', 1.3
FROM sohoa.original;
ANALYZE;
"""


def _with_db(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


def generate(server: str, name: str, dossiers: int, per: int) -> float:
    from sohoa.db.migrate import migrate

    admin = psycopg2.connect(server)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    url = _with_db(server, name)
    migrate(url)
    started = time.perf_counter()
    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:
        cur.execute("SET maintenance_work_mem = '256MB'")
        sql = (
            GENERATE.replace("%(n)s", str(dossiers))
            .replace("%(docs)s", str(dossiers * per))
            .replace("%(per)s", str(per))
            .replace("%%", "%")
        )
        cur.execute(sql)
    conn.close()
    return time.perf_counter() - started


def child_copy(url: str, out: Path) -> dict[str, float]:
    """The reference: plain COPY of both views to CSV files."""
    started = time.perf_counter()
    size = 0
    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:
        for table in ("ho_so", "giay_to"):
            path = out / f"{table}.csv"
            with path.open("wb") as handle:
                cur.copy_expert(f"COPY (SELECT * FROM publish.{table}) TO STDOUT WITH (FORMAT csv, HEADER)", handle)
            size += path.stat().st_size
    conn.close()
    return {"seconds": time.perf_counter() - started, "bytes": size}


def child_publish(url: str, s3_endpoint: str, home: Path) -> dict[str, float]:
    from pydantic import SecretStr

    from sohoa.config import Settings
    from sohoa.publish.snapshot import publish

    settings = Settings(
        home=home,
        database_url=SecretStr(url),
        s3_endpoint=s3_endpoint,
        s3_access_key="bench-access",
        s3_secret_key=SecretStr("bench-secret-key-123"),
        pseudonym_key=SecretStr("bench"),
    )
    started = time.perf_counter()
    summary = publish(settings, force=True)
    return {
        "seconds": time.perf_counter() - started,
        "bytes": sum(f.bytes for f in summary.files),
        "rows_ho_so": summary.rows("ho_so.parquet"),
        "rows_giay_to": summary.rows("giay_to.parquet"),
    }


def _run_child(*args: str) -> dict[str, float]:
    done = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"child {args[0]} failed:\n{done.stderr[-3000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dossiers", type=int, default=1_000_000)
    parser.add_argument("--documents-per-dossier", type=int, default=3)
    parser.add_argument(
        "--server", default=os.environ.get("SOHOA_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    parser.add_argument("--database", help="reuse this already generated database")
    parser.add_argument("--keep", action="store_true", help="keep the generated database")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        kind, *rest = args.child
        if kind == "copy":
            result = child_copy(rest[0], Path(rest[1]))
        else:
            result = child_publish(rest[0], rest[1], Path(rest[2]))
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return

    from sohoa.services import processes
    from sohoa.services.processes import free_port
    from sohoa.services.s3 import spawn_nanio

    server = _with_db(args.server, "postgres")
    name = args.database or f"sohoa_bench_{uuid.uuid4().hex[:8]}"
    work = Path(tempfile.mkdtemp(prefix="sohoa-bench-"))
    port = free_port()
    (work / "s3").mkdir()
    spawn_nanio(
        work / "s3",
        port=port,
        data_dir=work / "s3" / "data",
        access_key="bench-access",
        secret_key="bench-secret-key-123",
    )
    try:
        docs = args.dossiers * args.documents_per_dossier
        if args.database:
            print(f"reusing database {name}")
        else:
            print(f"generating {args.dossiers:,} dossiers and {docs:,} documents in SQL ...", flush=True)
            print(
                f"  generated in {generate(server, name, args.dossiers, args.documents_per_dossier):.1f} s", flush=True
            )
        url = _with_db(server, name)
        (work / "csv").mkdir()
        reference = _run_child("copy", url, str(work / "csv"))
        shutil.rmtree(work / "csv")
        ours = _run_child("publish", url, f"http://127.0.0.1:{port}", str(work / "home"))
        print(f"publish bench: {ours['rows_ho_so']:,.0f} dossiers, {ours['rows_giay_to']:,.0f} documents")
        print(f"  {'':<38}{'seconds':>10}{'peak RSS MB':>14}{'output MB':>12}")
        for label, r in (("COPY ... TO csv (reference)", reference), ("sohoa publish (Parquet + S3)", ours)):
            print(f"  {label:<38}{r['seconds']:>10.1f}{r['peak_rss_mb']:>14.0f}{r['bytes'] / 1e6:>12.0f}")
        print(
            f"  ratio publish / COPY: time {ours['seconds'] / reference['seconds']:.2f}x, "
            f"peak memory {ours['peak_rss_mb'] / reference['peak_rss_mb']:.2f}x, "
            f"size {ours['bytes'] / reference['bytes']:.2f}x"
        )
    finally:
        processes.stop(work / "s3", "s3", grace_s=5)
        shutil.rmtree(work, ignore_errors=True)
        if not args.keep and not args.database:
            admin = psycopg2.connect(server)
            admin.autocommit = True
            with admin.cursor() as cur:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()
        elif args.keep:
            print(f"kept database {name}")


if __name__ == "__main__":
    main()
