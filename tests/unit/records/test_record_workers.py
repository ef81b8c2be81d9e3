"""A large batch read by worker processes gives exactly what the single-process path gives.

The loader hands a large JSON Lines batch to worker processes in chunks (sohoa.intake.records_parallel);
the COPY text (every stored byte, in line order), the findings (rule, line, detail) and the counts must be
those of the one-process path, including on hostile lines, repeated lines, lines repeated across chunks and
a gzip stream that breaks. A worker that dies must fail the read, never end it early as if complete.
"""

from __future__ import annotations

import gzip
import multiprocessing
import multiprocessing.queues
import os
import subprocess
import sys
from datetime import date

import pytest
from test_record_fast_paths import TRICKY, line

from sohoa.config import Settings
from sohoa.intake import records_parallel
from sohoa.intake.record_rows import copy_bytes, issues_of
from sohoa.quality.issues import Issue
from sohoa.records.parse import jsonl_raw_lines, read_batch
from sohoa.records.validate import Checks

TODAY = date(2026, 1, 10)


def _batch() -> bytes:
    lines = [*TRICKY, b"", b"   ", line(ChuHoSo="x"), *TRICKY[:3], b"\xef\xbb\xbf" + line(ChuHoSo="x"), b"\r"]
    lines += [line(MaHoSo=f"000.00.32.H19-260105-{i:04d}", TrangThaiHoSo=i % 12) for i in range(40)]
    return b"\n".join(lines) + b"\n"


def _one_process(name: str, data: bytes) -> tuple[bytes, list[Issue], int, int]:
    text, issues, usable, count = [], [], 0, 0
    for read in read_batch(name, data, today=TODAY):
        count += 1
        usable += read.usable
        issues.extend(issues_of(name, "sha", read))
        text.append(copy_bytes(7, read, b"key"))
    return b"".join(text), issues, count, usable


def _workers(name: str, data: bytes) -> tuple[bytes, list[Issue], int, int]:
    job = records_parallel.Job(7, b"key", name, "sha", Checks(None, TODAY))
    chunks = list(records_parallel.read_in_workers(jsonl_raw_lines(name, data), job))
    return (
        b"".join(c.copy_text for c in chunks),
        [i for c in chunks for i in c.issues],
        sum(c.lines for c in chunks),
        sum(c.usable for c in chunks),
    )


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(records_parallel, "CHUNK_LINES", 4)  # many chunks, repeats across chunks and workers


def test_workers_store_and_report_what_one_process_does() -> None:
    data = _batch()
    expected = _one_process("records/t.jsonl", data)
    assert any(i.rule == "record.duplicate_line" for i in expected[1])
    assert _workers("records/t.jsonl", data) == expected


def test_a_broken_gzip_stream_ends_the_same_way() -> None:
    packed = gzip.compress(_batch())
    data = packed[: len(packed) * 2 // 3]
    expected = _one_process("records/t.jsonl.gz", data)
    assert expected[1][-1].rule == "record.batch_unreadable"
    assert _workers("records/t.jsonl.gz", data) == expected


def test_an_empty_batch_gives_no_chunk() -> None:
    assert _workers("records/t.jsonl", b"\n\n") == (b"", [], 0, 0)


@pytest.mark.parametrize(
    "code",
    [
        "import sys; sys.exit(3)",  # dies before it is even given the job
        "import sys; sys.stdin.buffer.read(8); sys.exit(3)",  # dies before answering its first chunk
        "import sys; sys.stdout.buffer.write(b'\\x10' + bytes(7) + b'cut short'); sys.exit(0)",  # half an answer
    ],
)
def test_a_worker_that_dies_fails_the_read(monkeypatch: pytest.MonkeyPatch, code: str) -> None:
    started: list[subprocess.Popen[bytes]] = []

    def dying() -> subprocess.Popen[bytes]:
        if started:  # the second worker
            proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        else:
            proc = real()
        started.append(proc)
        return proc

    real = records_parallel._start_worker
    monkeypatch.setattr(records_parallel, "_start_worker", dying)
    with pytest.raises(records_parallel.WorkerFailed):
        _workers("records/t.jsonl", _batch())
    assert all(proc.poll() is not None for proc in started)  # no worker is left running


def test_only_large_json_lines_batches_go_to_workers_when_asked() -> None:
    least = 16 << 20
    two_cpus = len(os.sched_getaffinity(0)) >= 2
    assert not records_parallel.worth_workers("records/a.jsonl", 1 << 30, Settings().records_workers_min_bytes)
    assert not records_parallel.worth_workers("records/a.jsonl", 300_000, least)  # a few hundred lines
    assert not records_parallel.worth_workers("records/a.csv", 1 << 30, least)
    assert records_parallel.worth_workers("records/a.jsonl", least, least) == two_cpus
    assert records_parallel.worth_workers("records/a.JSONL.GZ", least // 4, least) == two_cpus
    assert not records_parallel.worth_workers("records/a.jsonl.gz", least // 6, least)


def _read_in_a_daemon(data: bytes, answers: multiprocessing.queues.Queue[object]) -> None:
    try:
        answers.put(_workers("records/t.jsonl", data))
    except BaseException as exc:  # reported to the test, which fails with it
        answers.put(repr(exc))


def test_workers_start_from_a_forked_daemonic_process() -> None:
    """As in a Celery pool process or an Airflow task process forked from an executor's worker: a daemonic
    ``multiprocessing`` process may not start ``multiprocessing`` children, but may start these."""
    context = multiprocessing.get_context("fork")
    answers: multiprocessing.queues.Queue[object] = context.Queue()
    data = _batch()
    process = context.Process(target=_read_in_a_daemon, args=(data, answers), daemon=True)
    process.start()
    answer = answers.get(timeout=120)
    process.join(timeout=30)
    assert answer == _one_process("records/t.jsonl", data)
