"""CPU seconds by kind of process over a timed part of a benchmark: which of the platform's processes used the
machine's cores (the Airflow services, the tasks' supervisors and runners, PostgreSQL, nanio).

A thread samples every process's own CPU time (user + system, children excluded) once a ``period``; each
process's last sample minus its first (or minus nothing, for a process started after the meter) is its CPU in
the part. A process that lives shorter than a period is missed: Tesseract's are timed by the e2e bench's
wrapper instead, and the rest is what the machine's busy time leaves over (printed as "not sampled").
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import psutil

# Ordered: the first pattern found in a process's command line names its kind.
KINDS: tuple[tuple[str, str], ...] = (
    ("tesseract", "tesseract"),
    ("airflow worker -- localexecutor", "task supervisor (LocalExecutor worker)"),
    ("airflow worker --", "task runner"),
    ("forkserver", "executor fork server"),
    ("scheduler", "airflow scheduler"),
    ("api-server", "airflow API server"),
    ("api_server", "airflow API server"),
    ("uvicorn", "airflow API server"),
    ("triggerer", "airflow triggerer"),
    ("dag-processor", "airflow DAG processor"),
    ("dag_processor", "airflow DAG processor"),
    ("serve-logs", "airflow log server"),
    ("serve_logs", "airflow log server"),
    ("postgres", "PostgreSQL"),
    ("nanio", "nanio (S3)"),
    ("airflow", "airflow, other"),
)


# Kinds whose processes may still take another title (a fork retitles itself; a LocalExecutor worker forks a
# task runner, which starts with its parent's title).
RETITLED = ("other", "airflow, other", "executor fork server", "task supervisor (LocalExecutor worker)")


def busy_seconds(before: Any, after: Any) -> float:
    """Core-seconds the machine spent busy between two ``psutil.cpu_times()`` readings (steal and idle left out)."""
    return float(sum(getattr(after, f) - getattr(before, f) for f in ("user", "nice", "system", "irq", "softirq")))


def kind_of(cmdline: str) -> str:
    low = cmdline.lower()
    for pattern, kind in KINDS:
        if pattern in low:
            return kind
    return "other"


@dataclass
class _Seen:
    kind: str
    first: float
    last: float
    cmdline: str = ""


@dataclass
class ProcessMeter:
    """Start, do the part, stop: ``by_kind()`` gives the CPU seconds of each kind of process in between."""

    period: float = 0.5
    exclude_pids: set[int] = field(default_factory=set)
    _seen: dict[tuple[int, float], _Seen] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _cpu_at_start: Any = None
    machine_busy_s: float = 0.0  # the machine's busy core-seconds from start to stop

    def _sample(self, initial: bool) -> None:
        for proc in psutil.process_iter(["pid", "create_time", "cmdline", "name"]):
            if proc.info["pid"] in self.exclude_pids:
                continue
            try:
                times = proc.cpu_times()
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
            cpu = times.user + times.system
            key = (proc.info["pid"], proc.info["create_time"])
            seen = self._seen.get(key)
            if seen is None:
                try:
                    cmdline = " ".join(proc.info["cmdline"] or []).strip() or proc.info["name"] or ""
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    cmdline = ""
                self._seen[key] = _Seen(kind_of(cmdline), cpu if initial else 0.0, cpu, cmdline[:100])
            else:
                if seen.kind in RETITLED:
                    # A fork takes its title after the fork: look again until it has one.
                    try:
                        seen.cmdline = " ".join(proc.cmdline()).strip()[:100]
                        seen.kind = kind_of(seen.cmdline)
                    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                        pass
                seen.last = cpu

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            self._sample(initial=False)

    def start(self) -> ProcessMeter:
        self._cpu_at_start = psutil.cpu_times()
        self._sample(initial=True)
        self._thread = threading.Thread(target=self._run, name="process-meter", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample(initial=False)
        self.machine_busy_s = busy_seconds(self._cpu_at_start, psutil.cpu_times())

    def by_kind(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for seen in self._seen.values():
            totals[seen.kind] = totals.get(seen.kind, 0.0) + max(seen.last - seen.first, 0.0)
        return dict(sorted(totals.items(), key=lambda item: -item[1]))

    def processes_of(self, kind: str) -> int:
        return sum(1 for seen in self._seen.values() if seen.kind == kind and seen.last > seen.first)

    def top(self, kind: str, n: int = 5) -> list[tuple[str, float]]:
        """The ``n`` processes of a kind that used the most CPU: their command lines (cut) and seconds."""
        rows = [(seen.cmdline, seen.last - seen.first) for seen in self._seen.values() if seen.kind == kind]
        return sorted(rows, key=lambda row: -row[1])[:n]
