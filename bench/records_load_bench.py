"""Records load rate against its limit: a plain COPY of the same rows into an unindexed table, same run.

    uv run python bench/records_load_bench.py [--records 200000] [--database-url URL]

Generates a JSON Lines batch of realistic dossier records (sohoa.sample.records), then measures on one fresh
database of the given server (default: the machine's PostgreSQL service, else SOHOA_BENCH_DATABASE_URL):

1. the limit: ``COPY`` of the rows sohoa stores (already parsed, as CSV in memory) into an unindexed copy of
   ``sohoa.record_version``;
2. sohoa's load of the batch (parse, validate, pseudonymise, COPY, findings, upsert of the latest state),
   as ``sohoa.intake.records_loader.load_records_bytes`` runs it inside the DAG, without the S3 download;
3. the re-load of the batch with a third of the dossiers in a later state (a new export of the same day).

Prints records per second of each and the ratio sohoa / limit (target: at least 0.5), and peak memory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import io
import json
import multiprocessing
import os
import time
import uuid
from pathlib import Path

import psycopg2
from bench_services import bench_database
from pydantic import SecretStr

from sohoa.config import Settings
from sohoa.intake import record_rows, records_loader
from sohoa.records.parse import read_batch
from sohoa.sample.records import generate_records
from sohoa.storage.s3 import LandingObject

OUT = Path(__file__).parent / "out"


def _batch(n: int) -> bytes:
    OUT.mkdir(exist_ok=True)
    cached = OUT / f"records-{n}.jsonl"
    if not cached.exists():
        started = time.perf_counter()
        data = generate_records(n, seed=11, start=dt.date(2025, 1, 2), end=dt.date(2025, 12, 30)).jsonl_bytes()
        cached.write_bytes(data)
        print(f"generated {n} records in {time.perf_counter() - started:.1f} s -> {cached}")
    return cached.read_bytes()


def _later_states(data: bytes) -> bytes:
    """Every third dossier again, a day later and one status further (a re-export with changed states)."""
    out = []
    for i, raw in enumerate(data.splitlines()):
        if i % 3:
            continue
        try:
            record = json.loads(raw)
        except ValueError:
            continue
        if not isinstance(record, dict) or not isinstance(record.get("CapNhatLuc"), str):
            continue
        record["CapNhatLuc"] = "2026-01-05T08:00:00+07:00"
        record["TrangThaiHoSo"] = 4
        out.append(json.dumps(record, ensure_ascii=False).encode())
    return b"\n".join(out) + b"\n"


def _sohoa_load(url: str, key: str, path: str) -> tuple[float, float]:
    """sohoa's load of one batch, in a process of its own so that its peak memory is its own."""
    payload = Path(path).read_bytes()
    settings = Settings(database_url=SecretStr(url), pseudonym_key=SecretStr("bench-key"))
    conn = psycopg2.connect(url)
    obj = LandingObject(key, uuid.uuid4().hex, len(payload), None)
    started = time.perf_counter()
    with conn:
        records_loader.load_records_bytes(conn, settings, obj, payload)
    seconds = time.perf_counter() - started
    conn.close()
    return seconds, _peak_mb()


def _peak_mb() -> float:
    """Peak resident memory of this process (VmHWM: unlike ru_maxrss, not inherited from the parent)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("SOHOA_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    args = parser.parse_args()

    data = _batch(args.records)
    with bench_database(args.database_url) as url:
        conn = psycopg2.connect(url)

        # The rows sohoa would COPY, prepared outside the timing: the limit is the COPY alone.
        lines = list(read_batch("records/bench.jsonl", data, catalogue=None))
        csv = io.StringIO()
        for line in lines:
            csv.write(record_rows.copy_line(record_rows.copy_row(1, line, b"bench-key")))
        rows = len(lines)
        del lines
        gc.collect()
        with conn, conn.cursor() as cur:
            cur.execute("CREATE TABLE public.bench_copy (LIKE sohoa.record_version)")
        csv.seek(0)
        started = time.perf_counter()
        with conn, conn.cursor() as cur:
            cur.copy_expert(
                f"COPY public.bench_copy ({', '.join(record_rows.COLUMNS)}) FROM STDIN WITH (FORMAT text)", csv
            )
        limit_s = time.perf_counter() - started
        del csv
        gc.collect()

        later = OUT / f"records-{args.records}-later.jsonl"
        later.write_bytes(_later_states(data))
        reload_rows = later.read_bytes().count(b"\n")
        first = OUT / f"records-{args.records}.jsonl"
        with multiprocessing.get_context("spawn").Pool(1, maxtasksperchild=1) as pool:
            sohoa_s, sohoa_peak = pool.apply(_sohoa_load, (url, "records/bench.jsonl", str(first)))
        with multiprocessing.get_context("spawn").Pool(1, maxtasksperchild=1) as pool:
            reload_s, reload_peak = pool.apply(_sohoa_load, (url, "records/bench-later.jsonl", str(later)))
        conn.close()

    print(f"rows                      {rows:>10}")
    print(f"plain COPY (the limit)    {rows / limit_s:>10.0f} records/s  ({limit_s:.2f} s)")
    print(f"sohoa load                {rows / sohoa_s:>10.0f} records/s  ({sohoa_s:.2f} s)")
    print(
        f"sohoa re-load, changed    {reload_rows / reload_s:>10.0f} records/s  ({reload_rows} rows, {reload_s:.2f} s)"
    )
    print(f"ratio sohoa / limit       {limit_s / sohoa_s:>10.2f}   (target >= 0.5)")
    print(f"peak memory, sohoa load   {sohoa_peak:>10.0f} MB  (the batch itself: {len(data) / 1e6:.0f} MB)")
    print(f"peak memory, re-load      {reload_peak:>10.0f} MB")


if __name__ == "__main__":
    main()
