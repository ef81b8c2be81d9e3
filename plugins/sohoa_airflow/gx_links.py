"""The "GX Data Docs" button on the quality tasks in Airflow's UI.

:class:`GxValidationOperator` runs one of sohoa's validation steps and remembers the Data Docs page of the
run that matters most (the first critical failure, else the last suite run); :class:`GxDataDocsLink` turns it
into a link to the portal that Airflow's API server mounts under ``/sohoa`` (the Data Docs live in the private
derived bucket, and the portal checks the reader's role before it streams them). Airflow 3 computes an
operator's links in the worker when the task ends, failed or not, and keeps them as XComs, so the link is
there exactly when the gate failed and the operators need it.

The plugin :class:`SohoaLinksPlugin` registers the link so the API server can show it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from airflow.plugins_manager import AirflowPlugin
from airflow.sdk import BaseOperator, BaseOperatorLink

PORTAL_PREFIX = "/sohoa"  # where plugins/sohoa_portal_plugin.py mounts the portal
DATA_DOCS_PREFIX = "quality/gx/"


def portal_data_docs_url(data_docs_uri: str | None, portal_prefix: str = PORTAL_PREFIX) -> str:
    """``s3://<derived>/quality/gx/<suite>/<id>/index.html`` as the portal's page for it ("" when none)."""
    if not data_docs_uri:
        return ""
    _, _, key = data_docs_uri.removeprefix("s3://").partition("/")
    if not key.startswith(DATA_DOCS_PREFIX):
        return ""
    return f"{portal_prefix}/reports/data-docs/{key.removeprefix(DATA_DOCS_PREFIX)}"


def most_relevant(outcomes: list[dict[str, Any]]) -> str | None:
    """The Data Docs URI an operator should open: the first critical failure, else the last run."""
    for outcome in outcomes:
        if outcome.get("critical_failed"):
            return outcome.get("data_docs_uri")
    return outcomes[-1].get("data_docs_uri") if outcomes else None


class GxDataDocsLink(BaseOperatorLink):
    """Link to the Data Docs of the validation a quality task ran."""

    name = "GX Data Docs"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        return str(getattr(operator, "data_docs_link", "") or "")


class GxValidationOperator(BaseOperator):
    """Run a sohoa validation step (a function of the settings returning outcome dicts) with a Data Docs link.

    A critical failure (``QualityGateFailed``) fails the task without retry, after everything was stored.
    """

    operator_extra_links = (GxDataDocsLink(),)

    def __init__(self, *, step: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.step = step  # "records" or "documents"
        self.data_docs_link = ""

    def _function(self) -> Callable[..., list[dict[str, Any]]]:
        from sohoa.quality import gx_stage

        return {"records": gx_stage.validate_record_batches, "documents": gx_stage.validate_documents}[self.step]

    def execute(self, context: Any) -> list[dict[str, Any]]:
        from airflow.sdk.exceptions import AirflowFailException

        from sohoa.quality.gx_stage import QualityGateFailed
        from sohoa_airflow.errors import task_errors
        from sohoa_airflow.hooks import sohoa_settings

        with task_errors():
            try:
                outcomes = self._function()(sohoa_settings())
            except QualityGateFailed as exc:
                self.data_docs_link = portal_data_docs_url(most_relevant(exc.outcomes))
                raise AirflowFailException(str(exc)) from exc
        self.data_docs_link = portal_data_docs_url(most_relevant(outcomes))
        if self.data_docs_link:
            self.log.info("GX Data Docs: %s (button 'GX Data Docs' on this task)", self.data_docs_link)
        return outcomes


class SohoaLinksPlugin(AirflowPlugin):
    name = "sohoa_links"
    operator_extra_links = [GxDataDocsLink()]
