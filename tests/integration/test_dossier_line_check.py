"""A dossier's link to its record line (migration 0017): checked once per statement, and record lines are
append-only, so that the check the foreign key made row by row still holds after it was dropped.

What a data engineer relies on: no dossier points at a line that does not exist, whoever writes
``sohoa.dossier`` (the loader, a repair script), and no line a dossier points at can be deleted later.
"""

from __future__ import annotations

import datetime as dt

import psycopg2
import psycopg2.errors
import pytest
from db_rows import rows as _run

from sohoa.config import Settings
from sohoa.intake import pipeline
from sohoa.sample.records import generate_records
from sohoa.storage import s3

pytestmark = pytest.mark.integration


@pytest.fixture
def loaded(settings: Settings) -> Settings:
    """A small batch of records loaded the ordinary way."""
    batch = generate_records(20, seed=17, start=dt.date(2026, 1, 5), end=dt.date(2026, 1, 30), defects=False)
    client = s3.make_client(settings)
    s3.put_bytes(client, settings.bucket_landing, "records/export.jsonl", batch.jsonl_bytes(), "application/x-ndjson")
    pipeline.run_all(settings)
    return settings


def test_every_loaded_dossier_points_at_a_kept_line(loaded: Settings) -> None:
    rows = _run(
        loaded,
        """SELECT count(*), count(r.line_no) FROM sohoa.dossier d
           LEFT JOIN sohoa.record_version r USING (batch_id, line_no)""",
    )
    dossiers, with_line = rows[0]
    assert dossiers == 20
    assert with_line == dossiers


def test_a_dossier_inserted_with_a_missing_line_is_refused(loaded: Settings) -> None:
    with pytest.raises(psycopg2.errors.ForeignKeyViolation, match=r"1 row\(s\) point at no line .*line 999999"):
        _run(
            loaded,
            """INSERT INTO sohoa.dossier (ma_ho_so, batch_id, line_no, cap_nhat_luc)
               SELECT 'X' || ma_ho_so, batch_id, line_no, cap_nhat_luc FROM sohoa.dossier
               UNION ALL
               SELECT 'Y', id, 999999, now() FROM sohoa.record_batch""",
        )
    assert _run(loaded, "SELECT count(*) FROM sohoa.dossier")[0][0] == 20  # the whole statement rolled back


def test_a_dossier_moved_to_a_missing_line_is_refused(loaded: Settings) -> None:
    with pytest.raises(psycopg2.errors.ForeignKeyViolation, match="point at no line"):
        _run(loaded, "UPDATE sohoa.dossier SET line_no = line_no + 100000")
    # Moving every dossier to another line that exists is an ordinary update.
    _run(loaded, "UPDATE sohoa.dossier SET changed_at = now()")


def test_record_lines_cannot_be_deleted_or_renumbered(loaded: Settings) -> None:
    lines = _run(loaded, "SELECT count(*) FROM sohoa.record_version")[0][0]
    with pytest.raises(psycopg2.errors.RestrictViolation, match="append-only: delete"):
        _run(loaded, "DELETE FROM sohoa.record_version WHERE line_no = 1")
    with pytest.raises(psycopg2.errors.RestrictViolation, match="append-only: update"):
        _run(loaded, "UPDATE sohoa.record_version SET line_no = line_no + 1000 WHERE line_no = 1")
    # Other columns may still be corrected (a later erasure of personal data, say).
    _run(loaded, "UPDATE sohoa.record_version SET chu_ho_so = NULL WHERE line_no = 1")
    assert _run(loaded, "SELECT count(*) FROM sohoa.record_version")[0][0] == lines
