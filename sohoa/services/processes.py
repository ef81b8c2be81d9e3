"""Start, find and stop the background processes of the embedded default.

Each service started by sohoa leaves ``<home>/run/<name>.json`` with its pid and the process's start
time, so that ``down`` stops exactly the processes ``up`` started (never a process that merely reused
the pid) and ``up`` is idempotent.

Airflow's component processes fork children that ignore SIGTERM; a clean stop sends SIGINT to every
descendant first, then to the parent, and escalates to SIGTERM and SIGKILL only after a grace period.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

log = logging.getLogger(__name__)


class ServiceError(RuntimeError):
    """A local service could not be started or did not answer; the message says where to look."""


@dataclass(frozen=True)
class ProcessRecord:
    name: str
    pid: int
    create_time: float
    log_path: str

    def process(self) -> psutil.Process | None:
        """The live process, or None if it exited or the pid now belongs to someone else."""
        try:
            proc = psutil.Process(self.pid)
            if abs(proc.create_time() - self.create_time) > 1.0:
                return None
            if proc.status() == psutil.STATUS_ZOMBIE:
                return None
            return proc
        except psutil.Error:
            return None


def run_dir(home: Path) -> Path:
    path = home / "run"
    path.mkdir(parents=True, exist_ok=True)
    return path


def read_record(home: Path, name: str) -> ProcessRecord | None:
    path = run_dir(home) / f"{name}.json"
    if not path.exists():
        return None
    try:
        return ProcessRecord(**json.loads(path.read_text()))
    except (ValueError, TypeError):
        return None


def is_running(home: Path, name: str) -> bool:
    record = read_record(home, name)
    return record is not None and record.process() is not None


def spawn(
    home: Path,
    name: str,
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> ProcessRecord:
    """Start ``argv`` detached in its own session, logging to ``<home>/logs/<name>.log``."""
    logs = home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{name}.log"
    with log_path.open("ab") as out:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
        )
    record = ProcessRecord(name, proc.pid, psutil.Process(proc.pid).create_time(), str(log_path))
    (run_dir(home) / f"{name}.json").write_text(json.dumps(record.__dict__))
    log.info("started %s (pid %d), log %s", name, proc.pid, log_path)
    return record


def stop(home: Path, name: str, *, grace_s: float = 20.0) -> bool:
    """Stop the process tree of service ``name``; True if something was running."""
    record = read_record(home, name)
    path = run_dir(home) / f"{name}.json"
    if record is None:
        return False
    parent = record.process()
    if parent is None:
        path.unlink(missing_ok=True)
        return False
    stop_tree(parent, grace_s=grace_s)
    path.unlink(missing_ok=True)
    log.info("stopped %s", name)
    return True


def stop_tree(parent: psutil.Process, *, grace_s: float) -> None:
    """SIGINT the descendants, then the parent; escalate to SIGTERM then SIGKILL for stragglers."""
    try:
        children = parent.children(recursive=True)
    except psutil.Error:
        children = []
    tree = [*children, parent]
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        alive = [p for p in tree if _alive(p)]
        if not alive:
            return
        for proc in alive:
            with contextlib.suppress(psutil.Error):
                proc.send_signal(sig)
        _, still = psutil.wait_procs(alive, timeout=grace_s if sig != signal.SIGKILL else 5)
        tree = list(still)
        # Children forked while we waited belong to the tree too.
        for proc in list(tree):
            with contextlib.suppress(psutil.Error):
                tree.extend(c for c in proc.children(recursive=True) if c not in tree)


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


# Ports handed out for throwaway services: below the kernel's ephemeral range (32768-60999 on Linux), from
# which the kernel takes client sockets' local ports (a server restarted on such a port, as the chaos suite
# restarts PostgreSQL, can find it held by a client connection made in between on a busy machine), and clear
# of the fixed ports of the embedded default (15432, 18080, 18090, 18091, 19000) and of the CI smoke test
# (25432, 28180, 29100).
_SCRATCH_PORTS = range(20000, 25000)


def _ephemeral_range() -> range:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return range(int(low), int(high) + 1)
    except (OSError, ValueError):
        return range(32768, 61000)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now and outside the kernel's ephemeral range, so that no client
    socket takes it between a service's stop and its restart. Ports are tried from a random start, so that
    concurrent test runs rarely race for the same one."""
    ephemeral = _ephemeral_range()
    start = random.randrange(len(_SCRATCH_PORTS))
    for i in range(len(_SCRATCH_PORTS)):
        port = _SCRATCH_PORTS[(start + i) % len(_SCRATCH_PORTS)]
        if port in ephemeral:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as sock:  # every scratch port taken: let the kernel pick one
        sock.bind(("127.0.0.1", 0))
        fallback: int = sock.getsockname()[1]
        return fallback


def port_open(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def wait_until(check: Callable[[], bool], *, what: str, timeout_s: float, record: ProcessRecord | None = None) -> None:
    """Poll ``check`` until it holds; fail with the log's location if the process died or time ran out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # noqa: BLE001 - a service still starting raises all sorts of errors
            pass
        if record is not None and record.process() is None:
            raise ServiceError(f"{what} exited during start-up; see {record.log_path}")
        time.sleep(0.5)
    where = f"; see {record.log_path}" if record is not None else ""
    raise ServiceError(f"{what} did not answer within {timeout_s:.0f} s{where}")


def child_env(extra: Mapping[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    return env
