"""Smoke test of the embedded default, run by CI: ``python -m sohoa.smoke``.

Starts the embedded services from nothing (embedded PostgreSQL, nanio, Airflow), lands a tiny batch
(three records and one scan), runs the ingestion DAG through Airflow's REST API, checks the views,
stops the services and checks that no process they started is left. Exit status 0 when all holds.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import psutil

from sohoa.config import get_settings
from sohoa.db.connection import connect
from sohoa.orchestration.airflow_client import run_chain
from sohoa.services import manager, processes

CODE = "000.00.32.H19-260105-0001"


def _records() -> bytes:
    base = {
        "MaTTHC": "2.000815",
        "MaCoQuan": "000.00.32.H19",
        "KenhThucHien": 2,
        "NgayTiepNhan": "2026-01-05T09:00:00+07:00",
        "NgayHenTra": "20260112170000",
    }
    lines = [
        {**base, "MaHoSo": CODE, "TrangThaiHoSo": 2, "CapNhatLuc": "2026-01-05T09:00:00+07:00"},
        {**base, "MaHoSo": CODE, "TrangThaiHoSo": 4, "CapNhatLuc": "2026-01-06T09:00:00+07:00"},
        {**base, "MaHoSo": "000.00.32.H19-260105-0002", "TrangThaiHoSo": 2, "CapNhatLuc": "20260105100000"},
    ]
    return ("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n{not json\n").encode()


def _scan(path: Path) -> None:
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (1654, 600), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf", 40)
    draw.text((100, 150), "ĐƠN ĐỀ NGHỊ CẤP GIẤY PHÉP", fill="black", font=font)
    draw.text((100, 300), f"Mã hồ sơ: {CODE}", fill="black", font=font)
    image.save(path, dpi=(200, 200))


def _service_processes(home: Path) -> list[psutil.Process]:
    found: list[psutil.Process] = []
    for record_file in (home / "run").glob("*.json"):
        record = processes.read_record(home, record_file.stem)
        proc = record.process() if record else None
        if proc is not None:
            found.append(proc)
            found.extend(proc.children(recursive=True))
    pidfile = home / "pg" / "data" / "postmaster.pid"
    if pidfile.exists():
        proc = psutil.Process(int(pidfile.read_text().split()[0]))
        found.append(proc)
        found.extend(proc.children(recursive=True))
    return found


def main() -> int:
    from sohoa.storage import s3

    settings = get_settings()
    manager.up(settings, report=lambda m: print(f"smoke: {m}", flush=True))
    client = s3.make_client(settings)
    with tempfile.TemporaryDirectory() as tmp:
        scan = Path(tmp) / "scan.png"
        _scan(scan)
        s3.put_bytes(client, settings.bucket_landing, "records/smoke.jsonl", _records(), "application/x-ndjson")
        s3.put_file(client, settings.bucket_landing, f"scans/{CODE}/don.png", scan, "image/png")
    outcomes = run_chain(settings, timeout_s=900, report=lambda m: print(f"smoke: {m}", flush=True))
    problems = [f"{o.dag_id} run {o.state}: {o.failed}" for o in outcomes if not o.succeeded]
    with connect(settings) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*), max(trang_thai) FILTER (WHERE ma_ho_so = %s) FROM publish.ho_so", (CODE,))
        dossiers, status = cur.fetchone()  # type: ignore[misc]
        cur.execute("SELECT count(*), count(text_uri) FROM publish.giay_to")
        documents, ocred = cur.fetchone()  # type: ignore[misc]
        cur.execute("SELECT count(*) FROM quality.issues WHERE rule = 'record.invalid_json'")
        invalid = cur.fetchone()[0]  # type: ignore[index]
    if (dossiers, status) != (2, 4):
        problems.append(f"publish.ho_so: {dossiers} dossiers, latest status {status}; expected 2 and 4")
    if (documents, ocred) != (1, 1):
        problems.append(f"publish.giay_to: {documents} documents, {ocred} OCR'd; expected 1 and 1")
    if invalid != 1:
        problems.append(f"quality.issues has {invalid} record.invalid_json; expected 1")
    before = _service_processes(settings.home)
    manager.down(settings, report=lambda m: print(f"smoke: {m}", flush=True))
    left = [p for p in before if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    if left:
        problems.append("left running after down: " + ", ".join(f"{p.pid} {p.name()}" for p in left))
    for problem in problems:
        print(f"smoke: FAILED: {problem}", file=sys.stderr)
    if not problems:
        print(f"smoke: ok ({len(before)} service processes started and stopped)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
