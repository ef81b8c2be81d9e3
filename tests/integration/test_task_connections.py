"""A task that stores documents or OCRs originals works on one database connection, one transaction per item.

A connection per item cost the server a process start and its catalogue cache each time, beside the OCR of
the other pool slot (issue 4's benchmark). One transaction per item still holds: what a task committed before
an item failed stays committed, so its retry redoes only the rest.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import psycopg2
import pytest
from db_rows import rows

from sohoa.config import Settings
from sohoa.db import connection
from sohoa.intake import pipeline
from sohoa.sample.documents import DocFields, render_document
from sohoa.storage import s3

pytestmark = pytest.mark.integration

CODE = "000.00.32.H19-260105-0001"


def _land(settings: Settings, count: int) -> None:
    client = s3.make_client(settings)
    for i in range(count):
        page = render_document("don_de_nghi", replace(DocFields.fake(i), ma_ho_so=CODE), dpi=150, seed=i)[0][0]
        buf = io.BytesIO()
        page.crop((0, 0, page.width, page.height // 4)).convert("RGB").save(buf, "PNG", dpi=(150, 150))
        s3.put_bytes(client, settings.bucket_landing, f"scans/{CODE}/trang-{i}.png", buf.getvalue(), "image/png")


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    opened: list[int] = []
    real: Callable[..., Any] = psycopg2.connect

    def connect(*args: Any, **kwargs: Any) -> Any:
        opened.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(connection.psycopg2, "connect", connect)
    return opened


def _count(settings: Settings, sql: str) -> int:
    return int(rows(settings, sql)[0][0])


def test_storing_and_ocr_use_one_connection_per_task(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    _land(settings, 4)
    documents = pipeline.plan(settings).documents
    assert len(documents) == 4
    opened = _counting(monkeypatch)

    stored = pipeline.ingest_documents(settings, documents)
    assert [o["status"] for o in stored] == ["stored"] * 4
    assert len(opened) == 1

    shas = pipeline.ocr_pending(settings)
    opened.clear()
    outcomes = pipeline.ocr_originals(settings, shas)
    assert [o["status"] for o in outcomes] == ["done"] * 4
    assert len(opened) == 1
    assert _count(settings, "SELECT count(*) FROM sohoa.ocr_result WHERE status = 'done'") == 4


def test_items_before_a_failure_stay_committed(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    _land(settings, 3)
    documents = pipeline.plan(settings).documents
    from sohoa.intake import documents as stage

    real = stage.ingest_document
    calls: list[int] = []

    def third_fails(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 3:
            raise ConnectionError("S3 went away")  # a transient fault: the task fails for Airflow to retry
        return real(*args, **kwargs)

    monkeypatch.setattr(stage, "ingest_document", third_fails)
    with pytest.raises(ConnectionError):
        pipeline.ingest_documents(settings, documents)
    assert _count(settings, "SELECT count(*) FROM sohoa.document") == 2
    assert _count(settings, "SELECT count(*) FROM sohoa.landing_object WHERE status = 'done'") == 2

    monkeypatch.setattr(stage, "ingest_document", real)
    retry = pipeline.ingest_documents(settings, documents)  # the retry redoes the third only
    assert sorted(o["status"] for o in retry) == ["already_done", "already_done", "stored"]
    assert _count(settings, "SELECT count(*) FROM sohoa.document") == 3
