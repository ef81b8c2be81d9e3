"""Stream a ``publish.*`` view into a Parquet file in bounded memory.

PostgreSQL's ``COPY ... TO STDOUT (FORMAT csv)`` produces the rows (its fastest way out), a thread pumps
them into a pipe, and pyarrow's streaming CSV reader parses fixed-size blocks straight into Arrow
columns with the contract's types, so no Python object is built per value and memory is bounded by a
few blocks plus one row group, whatever the table's size.

Why CSV in between: it is the only bulk format both PostgreSQL and Arrow speak natively. NULL and empty
strings stay apart (PostgreSQL quotes an empty string, an unquoted empty field is NULL); timestamps are
rendered in UTC as ISO 8601 with ``Z``; booleans as ``t``/``f``; JSON as its text.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path
from typing import IO

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from psycopg2 import sql

from sohoa.db.connection import Connection
from sohoa.publish import contract

# A total order per table, so that the same data always gives the same bytes (an unchanged dataset is
# detected by its hashes) and readers can prune row groups on ma_ho_so.
ORDER_BY = {
    "ho_so": "ma_ho_so",
    "giay_to": "ma_ho_so NULLS LAST, sha256, loai, so_hoa_luc",
}


def _select_list(table: str) -> sql.Composed:
    parts = []
    for col in contract.columns(table):
        ident = sql.Identifier(col.name)
        expr: sql.Composable
        if col.arrow_type.startswith("timestamp"):
            expr = sql.SQL("to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')").format(ident)
        elif col.arrow_type == "float64":
            expr = sql.SQL("{}::float8").format(ident)
        else:
            expr = sql.SQL("{}::text").format(ident) if col.arrow_type == "string" else ident
        parts.append(sql.SQL("{} AS {}").format(expr, ident))
    return sql.SQL(", ").join(parts)


def copy_query(table: str) -> sql.Composed:
    """The ``COPY`` statement that streams ``publish.<table>`` in contract column order."""
    return sql.SQL("COPY (SELECT {} FROM publish.{} ORDER BY {}) TO STDOUT WITH (FORMAT csv)").format(
        _select_list(table), sql.Identifier(table), sql.SQL(ORDER_BY[table])
    )


def _csv_options(table: str, block_bytes: int) -> tuple[pacsv.ReadOptions, pacsv.ParseOptions, pacsv.ConvertOptions]:
    schema = contract.arrow_schema(table)
    read = pacsv.ReadOptions(column_names=schema.names, block_size=block_bytes, use_threads=False)
    parse = pacsv.ParseOptions(newlines_in_values=True)
    convert = pacsv.ConvertOptions(
        column_types={f.name: f.type for f in schema},
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
        true_values=["t"],
        false_values=["f"],
    )
    return read, parse, convert


class _CopyPump(threading.Thread):
    """Runs ``COPY ... TO STDOUT`` on ``conn`` into the write end of a pipe; keeps its error for the caller."""

    def __init__(self, conn: Connection, query: str, sink: IO[bytes]) -> None:
        super().__init__(name="sohoa-publish-copy", daemon=True)
        self.conn, self.query, self.sink = conn, query, sink
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with self.conn.cursor() as cur:
                cur.copy_expert(self.query, self.sink, size=1024 * 1024)
        except BaseException as exc:  # noqa: BLE001 - handed to the reading thread, which raises it
            self.error = exc
        finally:
            with contextlib.suppress(OSError):
                self.sink.close()


def export_view(
    conn: Connection, table: str, path: Path, *, block_bytes: int = 4 * 1024 * 1024, row_group_rows: int = 128_000
) -> int:
    """Write ``publish.<table>`` to the Parquet file ``path`` (zstd); return the number of rows.

    Runs on the caller's transaction, so two tables exported in one REPEATABLE READ transaction are
    consistent with each other. Raises what PostgreSQL or the parser raised; the file is then partial and
    the caller discards it.
    """
    query = copy_query(table).as_string(conn)
    read_fd, write_fd = os.pipe()
    source = os.fdopen(read_fd, "rb", buffering=block_bytes)
    pump = _CopyPump(conn, query, os.fdopen(write_fd, "wb", buffering=1024 * 1024))
    pump.start()
    try:
        rows = _write_parquet(source, table, path, block_bytes, row_group_rows)
    except pa.ArrowInvalid:
        # A stream cut short (PostgreSQL failed mid-way) surfaces as a parse error: report the cause.
        source.close()
        pump.join()
        if pump.error is not None:
            raise pump.error from None
        raise
    finally:
        source.close()  # unblocks the pump if we stopped reading early
        pump.join()
    if pump.error is not None:
        raise pump.error
    return rows


def _write_parquet(source: IO[bytes], table: str, path: Path, block_bytes: int, row_group_rows: int) -> int:
    schema = contract.arrow_schema(table)
    read, parse, convert = _csv_options(table, block_bytes)
    rows = 0
    with pq.ParquetWriter(path, schema, compression="zstd", write_statistics=True) as writer:
        if not source.peek(1):  # type: ignore[attr-defined]  # no rows: pyarrow refuses an empty CSV
            writer.write_table(schema.empty_table())
            return 0
        reader = pacsv.open_csv(source, read_options=read, parse_options=parse, convert_options=convert)
        pending: list[pa.RecordBatch] = []
        pending_rows = 0
        for batch in reader:
            pending.append(batch)
            pending_rows += batch.num_rows
            if pending_rows >= row_group_rows:
                writer.write_table(_conform(pending, schema, table), row_group_size=row_group_rows)
                rows += pending_rows
                pending, pending_rows = [], 0
        if pending:
            writer.write_table(_conform(pending, schema, table), row_group_size=row_group_rows)
            rows += pending_rows
    return rows


class ContractViolation(ValueError):
    """The view produced a value the data contract forbids (a null in a non-null column)."""


def _conform(batches: list[pa.RecordBatch], schema: pa.Schema, table: str) -> pa.Table:
    """The batches as one table with the contract's schema (nullability included), or a clear error.

    Cast batch by batch, so no second copy of the whole row group is ever held."""
    try:
        return pa.Table.from_batches([b.cast(schema) for b in batches], schema=schema)
    except ValueError as exc:  # pyarrow: "Casting field 'x' with null values to non-nullable"
        raise ContractViolation(f"publish.{table}: {exc}; the data contract says this column is non-null") from exc
