"""Where a records load spends its time: wall time, the loader's CPU and the PostgreSQL backend's CPU per phase.

    uv run python bench/records_load_phases.py [--lines 40000] [--batch bench/out/records-200000.jsonl]

Loads the first ``--lines`` lines of a batch written by bench/records_load_bench.py into a fresh database with
``load_records_bytes`` and prints, for the parts (parse, validate and serialise in a thread; COPY and the upsert of
each part's latest states, with the KPI input triggers, on the connection), of which the upserts, then the
findings and the rest: wall seconds, CPU seconds of this process (all its threads, not worker processes) and CPU
seconds of its PostgreSQL backend (from /proc, so the server must be local).
"""

from __future__ import annotations

import argparse
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg2
from bench_services import bench_database
from pydantic import SecretStr

from sohoa.config import Settings
from sohoa.intake import records_loader
from sohoa.storage.s3 import LandingObject


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=40_000)
    parser.add_argument("--batch", default=str(Path(__file__).parent / "out" / "records-200000.jsonl"))
    parser.add_argument(
        "--database-url",
        default=os.environ.get("SOHOA_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    args = parser.parse_args()
    data = b"".join(Path(args.batch).read_bytes().splitlines(keepends=True)[: args.lines])
    with bench_database(args.database_url, "sohoa_phases") as url:
        _measure(url, data)


def _measure(url: str, data: bytes) -> None:
    conn = psycopg2.connect(url)
    stat = Path(f"/proc/{conn.get_backend_pid()}/stat")
    tick = os.sysconf("SC_CLK_TCK")
    marks: list[tuple[str, float, float, float]] = []

    def backend_cpu() -> float:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick

    def mark(label: str) -> None:
        marks.append((label, time.perf_counter(), time.process_time(), backend_cpu()))

    upserts = {"parts": 0, "wall": 0.0, "backend": 0.0}

    def upsert(*a: Any, **k: Any) -> Any:
        wall, backend = time.perf_counter(), backend_cpu()
        result = real_upsert(*a, **k)
        upserts["parts"] += 1
        upserts["wall"] += time.perf_counter() - wall
        upserts["backend"] += backend_cpu() - backend
        return result

    def timed(before: str | None, after: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*a: Any, **k: Any) -> Any:
            if before:
                mark(before)
            result = fn(*a, **k)
            mark(after)
            return result

        return wrapper

    records_loader.record_issues = timed("parts", "findings", records_loader.record_issues)  # type: ignore[attr-defined]
    real_upsert = records_loader.upsert_dossiers
    records_loader.upsert_dossiers = upsert
    settings = Settings(database_url=SecretStr(url), pseudonym_key=SecretStr("bench-key"))
    obj = LandingObject("records/phases.jsonl", uuid.uuid4().hex, len(data), None)
    mark("start")
    with conn:
        outcome = records_loader.load_records_bytes(conn, settings, obj, data)
        mark("rest")
    mark("commit")
    conn.close()
    for (_, wall0, cpu0, backend0), (label, wall, cpu, backend) in zip(marks, marks[1:], strict=False):
        times = f"wall {wall - wall0:7.2f} s   loader cpu {cpu - cpu0:7.2f} s"
        print(f"{label:10s} {times}   backend cpu {backend - backend0:7.2f} s")
        if label == "parts":
            print(
                f"  of which {upserts['parts']} upserts: wall {upserts['wall']:.2f} s, "
                f"backend cpu {upserts['backend']:.2f} s"
            )
    total = marks[-1][1] - marks[0][1]
    print(f"total      wall {total:7.2f} s   {outcome.lines} lines, {outcome.lines / total:.0f} records/s")


if __name__ == "__main__":
    main()
