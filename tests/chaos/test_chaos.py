"""Fault injection (``make chaos``): during one batch through a real Airflow, kill the S3 server, restart
PostgreSQL, kill an OCR worker and fill the S3 store's disk; after each, recover as an operator would and prove
that every landed file and record is accounted for exactly once, with a clean reconciliation.

Each fault gets the same batch on a freshly emptied store (records, multi-page scans in two mapped OCR tasks, a
duplicate and a zero-byte file). Recovery time (fault to clean reconciliation) is measured and printed in a table,
and written to ``test-artifacts/chaos-report.json``; it is not asserted (the machine is shared). See
docs/reliability.md.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from chaos_airflow import CONSUMERS, Operator, pause
from chaos_batch import Batch, build_batch
from chaos_env import ChaosEnv
from chaos_faults import FAULTS, Fault
from chaos_ledger import account, reconcile_now
from chaos_report import Recovery, table, write

# Only the chaos marker: `pytest -m integration` or `-m e2e` (which replace the default `-m 'not chaos'`) must not
# start a half-hour suite by surprise.
pytestmark = [pytest.mark.chaos, pytest.mark.timeout(1500)]

MAX_CLEARS = 3
STARTED = time.monotonic()


@pytest.fixture(scope="module")
def batch() -> Batch:
    return build_batch()


@pytest.fixture(scope="module")
def env() -> Iterator[ChaosEnv]:
    environment = ChaosEnv.start()
    try:
        yield environment
    finally:
        environment.close()


@pytest.fixture(scope="module")
def operator(env: ChaosEnv) -> Operator:
    op = Operator(env.settings)
    for dag_id in CONSUMERS:
        pause(op, dag_id)
    return op


@pytest.fixture(scope="module")
def recoveries(batch: Batch) -> Iterator[list[Recovery]]:
    rows: list[Recovery] = []
    yield rows
    if rows:
        path = write(
            rows,
            batch={
                "files": len(batch.files),
                "record_lines": batch.record_lines,
                "documents": batch.documents,
                "pages": batch.pages,
            },
            suite_s=time.monotonic() - STARTED,
        )
        print(f"\nchaos: recovery per fault (fault -> clean reconciliation)\n{table(rows)}\nwritten to {path}")


def _inject_during_batch(env: ChaosEnv, op: Operator, batch: Batch, fault: Fault, row: Recovery) -> set[str]:
    """Land the batch, trigger the ingestion, wait for the fault's moment and inject it; returns the run ids that
    existed before (the runs to watch are the others)."""
    op.wait_quiet(set())
    env.reset()
    env.land(batch)
    before = {r["dag_run_id"] for r in op.runs()}
    triggered = time.monotonic()
    op.trigger()
    deadline = triggered + 600
    while not fault.armed(env, op, before):
        runs = op.new_runs(before)
        active = [r for r in runs if r["state"] in ("queued", "running")]
        assert active, f"the batch ended before the fault: {[(r['dag_run_id'], r['state']) for r in runs]}"
        assert time.monotonic() < deadline, "the fault's moment never came"
        time.sleep(0.2)
    row.injected_after_s = round(time.monotonic() - triggered, 1)
    return before


def _recover(env: ChaosEnv, op: Operator, batch: Batch, fault: Fault, row: Recovery, before: set[str]) -> None:
    """The operator's part: undo the fault, let Airflow retry, clear failed runs, run again if work is left."""
    fault.recover(env, op, before)
    states = op.wait_quiet(before)
    while any(s == "failed" for s in states.values()) and row.cleared_runs < MAX_CLEARS:
        for run_id, state in states.items():
            if state == "failed":
                op.clear_failed(run_id)
                row.cleared_runs += 1
        states = op.wait_quiet(before)
    if account(env.settings, batch):  # something is still pending: the next scheduled run would take it
        op.trigger()
        row.extra_runs += 1
        states = op.wait_quiet(before)
    row.run_states = states
    row.airflow_retries = sum(op.retries(run_id) for run_id in states)


@pytest.mark.parametrize("name", list(FAULTS))
def test_fault_leaves_every_file_and_record_accounted_for_once(
    name: str, env: ChaosEnv, operator: Operator, batch: Batch, recoveries: list[Recovery]
) -> None:
    fault = FAULTS[name]
    if name == "disk_full" and not env.mounted:
        pytest.skip(f"no small filesystem for the S3 store ({env.mount_error}); the full-disk fault needs one")
    row = Recovery(fault.name, fault.what)
    recoveries.append(row)
    before = _inject_during_batch(env, operator, batch, fault, row)
    t_fault = time.monotonic()
    fault.inject(env, operator, before)
    _recover(env, operator, batch, fault, row, before)
    row.problems = account(env.settings, batch)
    report = reconcile_now(env.settings, batch)
    row.recovery_s = round(time.monotonic() - t_fault, 1)
    row.reconciliation = report.as_dict()
    row.clean = not row.problems and not report.problems and report.fixity_failed == 0
    print(
        f"\nchaos {name}: recovered in {row.recovery_s:.1f} s; runs {row.run_states}; "
        f"retries {row.airflow_retries}, cleared {row.cleared_runs}, extra runs {row.extra_runs}"
    )
    assert not row.problems, row.problems
    assert report.problems == {}, report.as_dict()
    assert report.fixity_checked == batch.originals, report.as_dict()
    assert report.fixity_failed == 0, report.as_dict()
