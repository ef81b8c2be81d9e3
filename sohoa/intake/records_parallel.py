"""Reading a large JSON Lines batch in worker processes while the loader's process feeds the COPY.

Parsing, validating and serialising a record line costs more CPU than PostgreSQL's COPY of it, so with one
process the COPY waits for Python. For a large batch the lines are read by :data:`WORKERS` worker processes:

- the loader's process cuts the batch into lines and settles what depends on their order (line number, the
  earlier identical line, where a gzip stream breaks: :func:`sohoa.records.parse.jsonl_raw_lines`), in a
  feeding thread, and hands chunks of lines to the workers in turn;
- a worker reads each line of a chunk exactly as the single-process path does
  (:func:`sohoa.records.parse.read_raw_line`, then :mod:`sohoa.intake.record_rows`) and returns
  the chunk's COPY text, findings and counts;
- the results are taken back in the order the chunks were handed out, and at most :data:`WINDOW` chunks are
  out at any time, so memory stays bounded by a few chunks whatever the batch size, and the COPY receives the
  same bytes in the same order as from the single-process path.

Workers are plain ``python -m sohoa.intake.records_worker`` child processes talking over their standard
input and output (length-prefixed pickles), not ``multiprocessing`` ones: nothing of the parent (its
``__main__``, threads, connections) is re-imported or inherited, and a daemonic parent (a Celery pool process)
may start them. Starting them costs about a second, so small batches stay in one process (see
:func:`worth_workers`); by default every batch does: the workers pay off only where the loader has free cores.
A worker that dies or fails makes :func:`read_in_workers` raise :class:`WorkerFailed`; the load then fails, so
the caller's transaction rolls back and the landing object is not marked done.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import IO, Any

from sohoa.intake.kpi_flags import LineFlags
from sohoa.intake.record_rows import copy_bytes, issues_of
from sohoa.quality.issues import Issue
from sohoa.records.parse import RawLine, batch_format, read_raw_line
from sohoa.records.validate import Checks

WORKERS = 2
CHUNK_LINES = 500  # about 0.75 MB of batch and 1 MB of COPY text
WINDOW = 3 * WORKERS  # chunks handed out and not yet taken back
GZIP_RATIO = {"jsonl": 1, "jsonl.gz": 5}  # the formats read by workers; how much a byte of each holds
_LENGTH = 8


class WorkerFailed(RuntimeError):
    """A worker process stopped before returning every chunk handed to it (its message holds no batch data)."""


@dataclass(frozen=True)
class ChunkResult:
    """What a worker returns for a chunk: its lines' COPY text (in order), findings and counts, and the KPI
    flags of its usable lines (see :mod:`sohoa.intake.kpi_flags`)."""

    copy_text: bytes
    issues: list[Issue]
    lines: int
    usable: int
    flags: LineFlags


@dataclass(frozen=True)
class Job:
    """What every line of the batch is read with, sent once to each worker."""

    batch_id: int
    pseudonym_key: bytes
    object_key: str
    batch_sha: str
    checks: Checks


def worth_workers(object_key: str, size: int, min_bytes: int | None) -> bool:
    """Whether a batch is read by worker processes: a JSON Lines batch of ``min_bytes`` or more (gzip: a
    fifth of it, about the same number of lines), on a machine with 2 CPUs or more; never when ``min_bytes``
    is None (the setting's default, see ``Settings.records_workers_min_bytes``)."""
    fmt = batch_format(object_key)
    if min_bytes is None or fmt not in GZIP_RATIO:
        return False
    return size * GZIP_RATIO[fmt] >= min_bytes and len(os.sched_getaffinity(0)) >= 2


def read_in_workers(lines: Iterable[RawLine], job: Job) -> Iterator[ChunkResult]:
    """The chunks of ``lines``, each read by a worker, in order.

    Raises:
        WorkerFailed: when a worker stops early; the workers are stopped whenever the iteration ends.
    """
    procs = [_start_worker() for _ in range(WORKERS)]
    feeder = _Feeder(lines, job, procs)
    try:
        feeder.start()
        index = 0
        while True:
            proc = procs[index % WORKERS]
            assert proc.stdout is not None
            result = _receive(proc.stdout)
            if result is None:
                if feeder.error is not None:
                    raise WorkerFailed("the batch could not be handed to the workers") from feeder.error
                if feeder.chunks_sent == index:  # set before the workers were told there is no more
                    return
                raise WorkerFailed(f"a records worker stopped early (exit code {proc.wait()})")
            feeder.slots.release()
            index += 1
            yield result
    finally:
        feeder.stop()
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            for pipe in (proc.stdin, proc.stdout):
                if pipe is not None:
                    with contextlib.suppress(OSError):  # the worker is gone: what was left unsent no longer matters
                        pipe.close()
        feeder.join()


class _Feeder(threading.Thread):
    """Cuts the lines into chunks and writes them to the workers in turn, at most :data:`WINDOW` ahead."""

    def __init__(self, lines: Iterable[RawLine], job: Job, procs: list[subprocess.Popen[bytes]]) -> None:
        super().__init__(name="records-feeder", daemon=True)
        self._lines, self._job, self._procs = lines, job, procs
        self._stopping = threading.Event()
        self.slots = threading.Semaphore(WINDOW)
        self.chunks_sent: int | None = None  # set once every chunk is out
        self.error: BaseException | None = None

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        try:
            for proc in self._procs:
                _send(_stdin(proc), self._job)
            lines = iter(self._lines)
            sent = 0
            while chunk := list(islice(lines, CHUNK_LINES)):
                while not self.slots.acquire(timeout=0.2):
                    if self._stopping.is_set():
                        return
                if self._stopping.is_set():
                    return
                _send(_stdin(self._procs[sent % WORKERS]), chunk)
                sent += 1
            self.chunks_sent = sent
        except BaseException as exc:  # a dead worker's pipe, above all: reported by the reading side
            if not self._stopping.is_set():
                self.error = exc
        finally:
            for proc in self._procs:  # a worker ends once it has answered every chunk it was given
                with contextlib.suppress(OSError):
                    _stdin(proc).close()


def _stdin(proc: subprocess.Popen[bytes]) -> IO[bytes]:
    assert proc.stdin is not None
    return proc.stdin


def _start_worker() -> subprocess.Popen[bytes]:
    # The directory sohoa is imported from goes first on the worker's path, whatever the parent's sys.path.
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    return subprocess.Popen(
        [sys.executable, "-m", "sohoa.intake.records_worker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
    )


def _send(pipe: IO[bytes], value: Any) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    pipe.write(len(data).to_bytes(_LENGTH, "little"))
    pipe.write(data)
    pipe.flush()


def _receive(pipe: IO[bytes]) -> Any:
    """The next value on a pipe, None at its end (a value cut short counts as the end)."""
    head = pipe.read(_LENGTH)
    if len(head) < _LENGTH:
        return None
    size = int.from_bytes(head, "little")
    data = pipe.read(size)
    if len(data) < size:
        return None
    return pickle.loads(data)  # noqa: S301 - from a worker process this process started


def read_chunk(job: Job, chunk: list[RawLine]) -> ChunkResult:
    """A chunk of lines as the single-process path reads them (what a worker does with each chunk)."""
    text: list[bytes] = []
    issues: list[Issue] = []
    flags = LineFlags()
    usable = 0
    for raw in chunk:
        line = read_raw_line(raw, job.checks)
        if line.usable:
            usable += 1
            flags.add(line)
        issues.extend(issues_of(job.object_key, job.batch_sha, line))
        text.append(copy_bytes(job.batch_id, line, job.pseudonym_key))
    return ChunkResult(b"".join(text), issues, len(chunk), usable, flags)


def worker_main() -> None:
    """A worker: the job, then chunks until the end of its input, each answered in order."""
    source = sys.stdin.buffer
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything printed by accident goes to the log, not into the answers
    try:
        job = _receive(source)
        while (chunk := _receive(source)) is not None:
            _send(answers, read_chunk(job, chunk))
        answers.close()
    except BrokenPipeError:
        sys.exit(1)  # the loader stopped (it failed or was cancelled): nothing is waiting for the answers
    except Exception as exc:  # the type only: a message could quote a line
        print(f"records worker failed: {type(exc).__name__}", file=sys.stderr)
        sys.exit(1)
