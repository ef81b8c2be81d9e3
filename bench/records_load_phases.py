"""Where a records load spends its time: wall time, the loader's CPU and the PostgreSQL backend's CPU per phase.

    uv run python bench/records_load_phases.py [--lines 40000] [--batch bench/out/records-200000.jsonl]

Loads the first ``--lines`` lines of a batch written by bench/records_load_bench.py into a fresh database with
``load_records_bytes`` and prints, for the COPY (parse, validate, serialise and COPY, streamed), the findings, the
upsert of the latest states (with the KPI input triggers) and the rest: wall seconds, CPU seconds of this process
(not of worker processes) and CPU seconds of its PostgreSQL backend (from /proc, so the server must be local).
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

    def mark(label: str) -> None:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        backend = (int(fields[11]) + int(fields[12])) / tick
        marks.append((label, time.perf_counter(), time.process_time(), backend))

    def timed(before: str | None, after: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*a: Any, **k: Any) -> Any:
            if before:
                mark(before)
            result = fn(*a, **k)
            mark(after)
            return result

        return wrapper

    records_loader.record_issues = timed("copy", "findings", records_loader.record_issues)  # type: ignore[attr-defined]
    records_loader.upsert_dossiers = timed(None, "upsert", records_loader.upsert_dossiers)
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
    total = marks[-1][1] - marks[0][1]
    print(f"total      wall {total:7.2f} s   {outcome.lines} lines, {outcome.lines / total:.0f} records/s")


if __name__ == "__main__":
    main()
