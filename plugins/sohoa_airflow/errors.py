"""Translate sohoa's classified errors into Airflow task states.

- bad input never reaches here: the core quarantines it and the task succeeds;
- a missing dependency (Tesseract, a language pack) or a configuration error cannot be fixed by a
  retry: the task fails at once (AirflowFailException) with the fix in the message;
- anything else (S3 or PostgreSQL unreachable, a timeout) propagates, so Airflow retries the task.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def task_errors() -> Iterator[None]:
    from airflow.sdk.exceptions import AirflowFailException
    from pydantic import ValidationError

    from ocr.errors import MissingDependency

    try:
        yield
    except MissingDependency as exc:
        raise AirflowFailException(str(exc)) from exc
    except ValidationError as exc:
        raise AirflowFailException(f"sohoa configuration is invalid: {exc.error_count()} error(s)") from exc
