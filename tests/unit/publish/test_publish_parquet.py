"""Conforming streamed batches to the contract: a null where the contract says non-null is a clear error."""

from __future__ import annotations

import pyarrow as pa
import pytest

from sohoa.publish import contract
from sohoa.publish.parquet_export import ContractViolation, _conform, copy_query


def _batch(ma_ho_so: list[str | None]) -> pa.RecordBatch:
    schema = contract.arrow_schema("ho_so")
    n = len(ma_ho_so)
    columns = {f.name: pa.nulls(n, f.type) for f in schema}
    columns.update(
        {
            "ma_ho_so": pa.array(ma_ho_so, pa.string()),
            "ma_tthc": pa.array(["1.001612"] * n),
            "ma_co_quan": pa.array(["000.00.32.H19"] * n),
            "kenh_thuc_hien": pa.array([1] * n, pa.int16()),
            "trang_thai": pa.array([4] * n, pa.int16()),
            "so_thanh_phan_so_hoa": pa.array([0] * n, pa.int32()),
            "co_ket_qua_dien_tu": pa.array([False] * n),
            "da_so_hoa": pa.array([False] * n),
            "cap_nhat_luc": pa.array([0] * n, pa.timestamp("us", tz="UTC")),
        }
    )
    return pa.record_batch([columns[f.name] for f in schema], names=schema.names)


def test_batches_take_the_contract_schema_with_its_nullability() -> None:
    table = _conform([_batch(["a"]), _batch(["b", "c"])], contract.arrow_schema("ho_so"), "ho_so")
    assert table.num_rows == 3
    assert table.schema.field("ma_ho_so").nullable is False


def test_a_null_in_a_non_null_column_names_the_table_and_column() -> None:
    with pytest.raises(ContractViolation, match=r"publish\.ho_so: .*ma_ho_so"):
        _conform([_batch([None])], contract.arrow_schema("ho_so"), "ho_so")


def test_the_copy_query_selects_the_contract_columns_in_order() -> None:
    text = repr(copy_query("giay_to"))
    positions = [text.index(f"Identifier('{c.name}')") for c in contract.columns("giay_to")]
    assert positions == sorted(positions)
    assert "SQL('ma_ho_so NULLS LAST, sha256" in text  # a total order: deterministic bytes
