"""The recovery report: one row per fault, printed as a table and written to ``test-artifacts/chaos-report.json``."""

from __future__ import annotations

import json
import platform
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ARTIFACT = Path(__file__).resolve().parents[2] / "test-artifacts" / "chaos-report.json"


@dataclass
class Recovery:
    """What one fault cost: seconds from injection to a clean reconciliation, and the operator's work."""

    fault: str
    what: str
    injected_after_s: float = 0.0  # from the trigger of the run to the fault
    recovery_s: float = 0.0  # from the fault to a clean reconciliation
    airflow_retries: int = 0  # task tries Airflow made by itself beyond the first
    cleared_runs: int = 0  # runs an operator had to clear
    extra_runs: int = 0  # ingest runs triggered after the faulted one
    run_states: dict[str, str] = field(default_factory=dict)
    clean: bool = False
    problems: list[str] = field(default_factory=list)
    reconciliation: dict[str, object] = field(default_factory=dict)


def table(rows: list[Recovery]) -> str:
    lines = [
        f"{'fault':<12} {'injected at':>11} {'recovery':>9} {'retries':>7} {'cleared':>7} {'reruns':>6}  clean",
        "-" * 64,
    ]
    for r in rows:
        lines.append(
            f"{r.fault:<12} {r.injected_after_s:>10.1f}s {r.recovery_s:>8.1f}s {r.airflow_retries:>7} "
            f"{r.cleared_runs:>7} {r.extra_runs:>6}  {'yes' if r.clean else 'NO'}"
        )
    return "\n".join(lines)


def write(rows: list[Recovery], *, batch: dict[str, int], suite_s: float, path: Path = ARTIFACT) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": platform.node(),
        "suite_seconds": round(suite_s, 1),
        "batch": batch,
        "faults": [asdict(r) for r in rows],
    }
    path.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
