"""The data contract of the "1 có" dataset, read from its JSON Schema in ``schemas/dataset/``.

The JSON Schema is the single source of truth: the Arrow/Parquet schema of each snapshot file is derived
from it (``x-arrow-type``, ``x-column-order``), the tests check the PostgreSQL views against it, and
``breaking_changes`` compares it with the frozen copy of every released version so that a change that
would break a downstream reader (a column removed, renamed, retyped, or made nullable) cannot slip in
without a new major version.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyarrow as pa

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas" / "dataset"
SCHEMA_PATH = SCHEMAS / "1co.schema.json"
RELEASES = SCHEMAS / "releases"
TABLES = ("ho_so", "giay_to")

_ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int16": pa.int16(),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "float64": pa.float64(),
    "bool": pa.bool_(),
    "timestamp[us, UTC]": pa.timestamp("us", tz="UTC"),
}


@dataclass(frozen=True)
class Column:
    """One column of a published table, as the contract states it."""

    name: str
    arrow_type: str
    nullable: bool
    json_type: str


def load_schema(path: Path = SCHEMA_PATH) -> dict[str, Any]:
    """The JSON Schema document (a dict)."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@lru_cache(maxsize=1)
def current_schema() -> dict[str, Any]:
    return load_schema()


def schema_version(schema: dict[str, Any] | None = None) -> str:
    """The contract's semantic version, e.g. ``1.0.0`` (written into every manifest)."""
    version: str = (schema or current_schema())["x-schema-version"]
    return version


def columns(table: str, schema: dict[str, Any] | None = None) -> list[Column]:
    """The columns of ``table`` in contract order."""
    definition = (schema or current_schema())["$defs"][table]
    out = []
    for name in definition["x-column-order"]:
        prop = definition["properties"][name]
        types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
        json_type = next(t for t in types if t != "null")
        out.append(Column(name, prop["x-arrow-type"], "null" in types, json_type))
    return out


def arrow_schema(table: str, schema: dict[str, Any] | None = None) -> pa.Schema:
    """The Arrow schema of ``table``'s Parquet file, with the contract version in its metadata."""
    fields = [pa.field(c.name, _ARROW_TYPES[c.arrow_type], nullable=c.nullable) for c in columns(table, schema)]
    return pa.schema(
        fields, metadata={"sohoa.dataset": "1co", "sohoa.table": table, "sohoa.schema_version": schema_version(schema)}
    )


def released_versions() -> list[str]:
    """The versions frozen under ``schemas/dataset/releases`` (oldest first)."""
    found = []
    for path in RELEASES.glob("1co-*.schema.json"):
        match = re.fullmatch(r"1co-(\d+\.\d+\.\d+)\.schema\.json", path.name)
        if match:
            found.append(match.group(1))
    return sorted(found, key=lambda v: tuple(int(p) for p in v.split(".")))


def release(version: str) -> dict[str, Any]:
    return load_schema(RELEASES / f"1co-{version}.schema.json")


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What in ``new`` would break a reader written for ``old`` (empty when compatible).

    Breaking: a table or column removed, a column's Arrow or JSON type changed, a non-null column made
    nullable, a new enum value where readers switch on values. Not breaking: a new table, a new nullable
    column (readers select columns by name), a nullable column made non-null, a longer description.
    """
    problems = []
    for table, old_def in old["$defs"].items():
        new_def = new["$defs"].get(table)
        if new_def is None:
            problems.append(f"table {table} removed")
            continue
        old_cols = {c.name: c for c in columns(table, old)}
        new_cols = {c.name: c for c in columns(table, new)}
        for name, col in old_cols.items():
            now = new_cols.get(name)
            if now is None:
                problems.append(f"{table}.{name} removed")
                continue
            if (now.arrow_type, now.json_type) != (col.arrow_type, col.json_type):
                problems.append(f"{table}.{name} changed type {col.arrow_type} -> {now.arrow_type}")
            if now.nullable and not col.nullable:
                problems.append(f"{table}.{name} became nullable")
            old_enum = old_def["properties"][name].get("enum")
            new_enum = new["$defs"][table]["properties"][name].get("enum")
            if old_enum is not None and (new_enum is None or set(new_enum) - set(old_enum)):
                problems.append(f"{table}.{name} accepts new values {sorted(set(new_enum or []) - set(old_enum))}")
        for name, col in new_cols.items():
            if name not in old_cols and not col.nullable:
                problems.append(f"{table}.{name} added as non-null (old writers cannot fill it)")
    return problems


def major(version: str) -> int:
    return int(version.split(".")[0])
