"""No identity number or name of a generated applicant in any log, object key, message or published file.

What runs: the pipeline stages driven directly, in the order the DAGs run them (ingest: catalogues, records,
documents, OCR and extraction; the quality DAG's Great Expectations suites with their Data Docs; the nightly
KPI build with its HTML reports; publish: the Parquet snapshot and the national-portal export; the nightly
reconciliation), over the demo's generated batch (records with planted defects, scans in every format, inbox
receipts, bad files) uploaded as ``sohoa landing put`` does. Not through a real Airflow: booting one takes minutes
on these 2 shared cores, and the DAG tasks call these same functions (tests/e2e covers the wiring). So the logs
scanned are everything sohoa logged during the run (a DEBUG handler on the root logger, written under the test's
SOHOA_HOME like a task log) plus every service log file under the test's homes (the S3 server's).

Scanned for the CCCD / legacy ID numbers and the names of the generated citizen applicants (organisations'
names and tax codes are not personal data), as written and without diacritics: every log line, every object key
of every bucket, every published object (Parquet decoded column by column, gzip JSON Lines, manifest, LATEST),
every Data Docs page and KPI report, and every finding's message (``quality.issues.detail``) and landing detail.
Document contents (the original scans, their OCR text) are the digitised copy itself and are not scanned.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import io
import json
import logging
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from sohoa.config import Settings
from sohoa.storage import s3

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(3600)]

SEED = 20
DOSSIERS = 40
SCANNED = 2
_FIELD = re.compile(r'"(ChuHoSo|SoGiayToChuHoSo|LoaiDoiTuong)"\s*:\s*("(?:[^"\\]|\\.)*"|\d+|null)')


def _fold(text: str) -> str:
    """Lower case, without diacritics (đ -> d): how a name may also appear."""
    decomposed = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _applicants(batch_file: Path) -> tuple[set[str], set[str]]:
    """(names, identity numbers) of the citizen applicants in a generated batch, broken lines included."""
    names, numbers = set(), set()
    for line in batch_file.read_text(encoding="utf-8").splitlines():
        fields = {m.group(1): json.loads(m.group(2)) for m in _FIELD.finditer(line)}
        if fields.get("LoaiDoiTuong") == 2:
            continue
        if isinstance(fields.get("ChuHoSo"), str) and len(fields["ChuHoSo"].split()) >= 2:
            names.add(fields["ChuHoSo"])
        number = fields.get("SoGiayToChuHoSo")
        if isinstance(number, str) and number.isdigit() and len(number) in (9, 12):
            numbers.add(number)
    return names, numbers


def _document_people() -> tuple[set[str], set[str]]:
    """The applicants printed on the demo's generated scans and receipts (sohoa/demo.py's seeds)."""
    from sohoa.sample.documents import DocFields

    fields = [DocFields.fake(SEED + i) for i in range(SCANNED)] + [DocFields.fake(SEED + 500 + i) for i in range(2)]
    return {f.applicant for f in fields}, {f.cccd for f in fields}


def _published_texts(settings: Settings) -> Iterator[tuple[str, str]]:
    """(object key, text) of every published object, Parquet decoded column by column."""
    import pyarrow.parquet as pq

    client = s3.make_client(settings)
    for obj in s3.list_objects(client, settings.bucket_published):
        data = s3.get_bytes(client, settings.bucket_published, obj.key)
        if obj.key.endswith(".parquet"):
            table = pq.read_table(io.BytesIO(data))
            for name in table.column_names:
                yield f"{obj.key}:{name}", "\n".join(str(v) for v in table.column(name).to_pylist())
        elif obj.key.endswith(".gz"):
            yield obj.key, gzip.decompress(data).decode("utf-8", errors="replace")
        else:
            yield obj.key, data.decode("utf-8", errors="replace")


def _derived_reports(settings: Settings) -> Iterator[tuple[str, str]]:
    """Data Docs pages and KPI reports (HTML that people read), not the OCR artefacts of documents."""
    client = s3.make_client(settings)
    for obj in s3.list_objects(client, settings.bucket_derived):
        if obj.key.startswith("ocr/"):
            continue
        yield obj.key, s3.get_bytes(client, settings.bucket_derived, obj.key).decode("utf-8", errors="replace")


def _service_logs(*homes: Path) -> Iterator[tuple[str, str]]:
    for home in homes:
        for path in home.rglob("*"):
            if path.is_file() and (path.suffix in (".log", ".out", ".err") or path.parent.name == "logs"):
                yield str(path), path.read_text(encoding="utf-8", errors="replace")


def _run_everything(settings: Settings, root: Path) -> None:
    from sohoa.intake import pipeline, reconcile
    from sohoa.intake.upload import plan_upload, upload
    from sohoa.kpi.build import build
    from sohoa.publish.snapshot import publish
    from sohoa.quality import gx_stage

    for path, key in plan_upload([root]):
        if path.name != "truth.json":
            upload(settings, path, key)
    pipeline.run_all(settings)
    for stage in (gx_stage.validate_record_batches, gx_stage.validate_documents):
        # The planted defects fail the gate, loudly: that is the gate doing its job.
        with contextlib.suppress(gx_stage.QualityGateFailed):
            stage(settings)
    build(settings, full=True)
    publish(settings)
    reconcile.reconcile(settings, grace=dt.timedelta(0))


def test_no_applicant_identity_in_logs_keys_messages_or_published_files(
    settings: Settings, tmp_path: Path, services_home: Path
) -> None:
    from sohoa.demo import build_batch

    root = tmp_path / "batch"
    build_batch(root, dossiers=DOSSIERS, scanned_dossiers=SCANNED, seed=SEED, today=dt.date(2026, 1, 20))
    names, numbers = _applicants(next((root / "records").glob("*.jsonl")))
    doc_names, doc_numbers = _document_people()
    names |= doc_names
    numbers |= doc_numbers
    assert len(names) >= 20
    assert len(numbers) >= 20

    log_file = settings.home / "logs" / "sohoa-run.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root_logger = logging.getLogger()
    level = root_logger.level
    root_logger.addHandler(handler)
    root_logger.setLevel(logging.DEBUG)
    try:
        _run_everything(settings, root)
    finally:
        root_logger.removeHandler(handler)
        root_logger.setLevel(level)
        handler.close()

    client = s3.make_client(settings)
    haystacks: list[tuple[str, str]] = []
    for bucket in (
        settings.bucket_landing,
        settings.bucket_raw,
        settings.bucket_derived,
        settings.bucket_quarantine,
        settings.bucket_published,
    ):
        haystacks += [(f"key in {bucket}", o.key) for o in s3.list_objects(client, bucket)]
    haystacks += list(_published_texts(settings))
    haystacks += list(_derived_reports(settings))
    haystacks += list(_service_logs(settings.home, services_home))
    conn = psycopg2.connect(settings.dsn())
    with conn.cursor() as cur:
        cur.execute("SELECT rule, detail FROM quality.issues")
        haystacks += [(f"quality.issues {rule}", detail or "") for rule, detail in cur.fetchall()]
        cur.execute("SELECT object_key, detail FROM sohoa.landing_object")
        haystacks += [(f"landing_object {key}", detail or "") for key, detail in cur.fetchall()]
        # Positive control: where personal data belongs (the stored record lines), the matcher finds it.
        cur.execute("SELECT string_agg(chu_ho_so || ' ' || coalesce(so_giay_to, ''), E'\\n') FROM sohoa.record_version")
        stored = str(cur.fetchone()[0])
    conn.close()
    found_names = sum(_fold(n) in _fold(stored) for n in names - doc_names)
    assert found_names >= 0.9 * len(names - doc_names)
    assert sum(n in stored for n in numbers - doc_numbers) >= 0.9 * len(numbers - doc_numbers)
    logged = log_file.read_text(encoding="utf-8")
    assert "quarantined" in logged  # the handler did capture the run
    assert any(key.endswith(".parquet:ma_ho_so") for key, _ in haystacks)  # a snapshot was published

    folded_names = {_fold(n): n for n in names}
    leaks = []
    for where, text in haystacks:
        folded = _fold(text)
        leaks += [f"{where}: identity number {n}" for n in numbers if n in text]
        leaks += [f"{where}: name {n}" for f, n in folded_names.items() if f in folded]
    assert not leaks, leaks[:20]
