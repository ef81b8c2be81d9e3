"""Run a Great Expectations suite kept as a file in ``schemas/gx/`` over a pandas frame, and build its Data Docs.

GX takes 7-30 s to import: it is imported inside :func:`run_suite` only, never at module level (DAG files and
the CLI import this module's callers freely). Each run uses a throwaway file-backed GX context in a temporary
folder (the suite file is the source of truth, nothing is kept in a GX project), validates through a
Checkpoint whose action builds the Data Docs, and returns the result without unexpected *values*: frames
carry no personal data by construction, but the stored result keeps counts only, to stay safe.

Suite files: ``{"name", "meta", "expectations": [{"type", "kwargs", "meta": {"rule", "description",
"critical"}}]}``. ``meta.rule`` names the finding in ``quality.issues``; ``meta.critical`` marks a batch-level
failure that operators must see (the task fails after everything is stored).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SUITES = Path(__file__).resolve().parents[2] / "schemas" / "gx"


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation's verdict: counts only, never the unexpected values."""

    rule: str
    expectation: str
    column: str | None
    description: str
    critical: bool
    success: bool
    element_count: int | None = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    observed_value: float | None = None

    def summary(self) -> str:
        """One line for ``quality.issues``: what was expected and how far off the data is."""
        if self.unexpected_count is not None and self.element_count:
            share = f"{self.unexpected_count} of {self.element_count} value(s) ({self.unexpected_percent or 0:.1f}%)"
            return f"{self.description}: {share} fail"
        if self.observed_value is not None:
            return f"{self.description}: observed {self.observed_value:.3f}"
        return f"{self.description}: failed"


@dataclass(frozen=True)
class SuiteRun:
    suite: str
    success: bool
    rows: int
    outcomes: tuple[ExpectationOutcome, ...]
    docs_dir: Path | None  # the Data Docs site (static HTML), until the caller uploads it
    statistics: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]

    @property
    def critical_failed(self) -> bool:
        return any(o.critical for o in self.failed)


def load_suite(name: str) -> dict[str, Any]:
    """The suite file ``schemas/gx/<name>.json``."""
    spec: dict[str, Any] = json.loads((SUITES / f"{name}.json").read_text(encoding="utf-8"))
    return spec


def _number(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def run_suite(
    name: str,
    frame: Any,
    *,
    parameters: dict[str, Any] | None = None,
    work_dir: Path | None = None,
    target: str = "batch",
) -> SuiteRun:
    """Validate a pandas DataFrame with the suite ``schemas/gx/<name>.json`` and build its Data Docs.

    Args:
        name: the suite file's stem (``records``, ``documents``, ``ocr``).
        frame: a pandas DataFrame with the columns the suite names.
        parameters: values of the suite's ``{"$PARAMETER": ...}`` placeholders.
        work_dir: where the GX context and Data Docs go (a new temporary folder by default; the caller removes it).
        target: names the validated data in the Data Docs.
    """
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.checkpoint.actions import UpdateDataDocsAction
    from great_expectations.data_context.types.base import ProgressBarsConfig

    spec = load_suite(name)
    root = work_dir or Path(tempfile.mkdtemp(prefix="sohoa-gx-"))
    context = gx.get_context(mode="file", project_root_dir=str(root))
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("sohoa").add_dataframe_asset(target.replace(":", "_"))
    batch = asset.add_batch_definition_whole_dataframe("whole")
    suite = context.suites.add(
        gx.ExpectationSuite(name=spec["name"], expectations=spec["expectations"], meta=spec.get("meta", {}))
    )
    validation = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"{name}-{target}", data=batch, suite=suite)
    )
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name=f"sohoa-{name}",
            validation_definitions=[validation],
            actions=[UpdateDataDocsAction(name="data_docs")],
            result_format={"result_format": "SUMMARY", "partial_unexpected_count": 0},
        )
    )
    result = checkpoint.run(batch_parameters={"dataframe": frame}, expectation_parameters=parameters or {})
    outcomes: list[ExpectationOutcome] = []
    statistics: dict[str, Any] = {}
    for run in result.run_results.values():
        statistics = dict(run.statistics)
        for r in run.results:
            config = r.expectation_config
            if config is None:
                continue
            meta = config.meta or {}
            res = r.result or {}
            outcomes.append(
                ExpectationOutcome(
                    rule=str(meta.get("rule", f"gx.{name}.{config.type}")),
                    expectation=config.type,
                    column=config.kwargs.get("column"),
                    description=str(meta.get("description", config.type)),
                    critical=bool(meta.get("critical", False)),
                    success=bool(r.success),
                    element_count=res.get("element_count"),
                    unexpected_count=res.get("unexpected_count"),
                    unexpected_percent=_number(res.get("unexpected_percent")),
                    observed_value=_number(res.get("observed_value")),
                )
            )
    docs = root / "gx" / "uncommitted" / "data_docs" / "local_site"
    return SuiteRun(
        spec["name"], bool(result.success), len(frame), tuple(outcomes), docs if docs.is_dir() else None, statistics
    )
