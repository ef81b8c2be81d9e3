"""The PostgreSQL views publish.ho_so and publish.giay_to match the data contract column for column."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from jsonschema import Draft202012Validator
from publish_testkit import load_dataset, query

from sohoa.config import Settings
from sohoa.publish import contract, snapshot
from sohoa.storage import s3

pytestmark = pytest.mark.integration

# PostgreSQL type of each Arrow type of the contract.
PG_TYPES = {
    "string": {"text", "character varying"},
    "int16": {"smallint"},
    "int32": {"integer"},
    "int64": {"bigint"},
    "float64": {"numeric", "double precision"},
    "bool": {"boolean"},
    "timestamp[us, UTC]": {"timestamp with time zone"},
}


@pytest.mark.parametrize("table", contract.TABLES)
def test_view_columns_are_the_contract_columns(settings: Settings, table: str) -> None:
    rows = query(
        settings,
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'publish' AND table_name = %s ORDER BY ordinal_position",
        table,
    )
    expected = contract.columns(table)
    assert [r[0] for r in rows] == [c.name for c in expected]
    for (name, pg_type), column in zip(rows, expected, strict=True):
        if column.name == "truong_trich_xuat":
            assert pg_type == "jsonb"  # published as its JSON text
            continue
        assert pg_type in PG_TYPES[column.arrow_type], f"{table}.{name} is {pg_type}"


def test_published_rows_validate_against_the_json_schema(settings: Settings, tmp_path: Path) -> None:
    load_dataset(settings)
    summary = snapshot.publish(settings)
    client = s3.make_client(settings)
    schema = contract.current_schema()
    for table in contract.TABLES:
        path = tmp_path / f"{table}.parquet"
        s3.download(client, settings.bucket_published, snapshot.snapshot_prefix(summary.snapshot) + path.name, path)
        validator = Draft202012Validator(
            {**schema, "$ref": f"#/$defs/{table}"}, format_checker=Draft202012Validator.FORMAT_CHECKER
        )
        rows = pq.read_table(path).to_pylist()
        assert rows
        for row in rows:
            as_json = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}
            errors = [e.message for e in validator.iter_errors(as_json)]
            assert errors == [], f"{table}: {errors}"
            if table == "giay_to" and row["truong_trich_xuat"] is not None:
                json.loads(row["truong_trich_xuat"])


def test_the_applicant_appears_only_as_the_keyed_hmac_of_the_identity_number(settings: Settings) -> None:
    import hashlib
    import hmac

    from publish_testkit import D1, D3, IDENTITY_NUMBERS

    load_dataset(settings)
    published = dict(query(settings, "SELECT ma_ho_so, chu_ho_so_ma_hoa FROM publish.ho_so"))
    key = settings.secret_pseudonym_key()
    assert published[D1] == hmac.new(key, IDENTITY_NUMBERS[0].encode(), hashlib.sha256).hexdigest()
    assert published[D3] == hmac.new(key, IDENTITY_NUMBERS[2].encode(), hashlib.sha256).hexdigest()
    # Without the key the number cannot be confirmed: a plain hash of it is not the pseudonym.
    assert published[D1] != hashlib.sha256(IDENTITY_NUMBERS[0].encode()).hexdigest()
    assert len(set(published.values())) == len(published)
