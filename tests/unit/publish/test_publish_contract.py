"""The data contract of the "1 có" dataset: a valid JSON Schema, versioned, and a breaking change caught."""

from __future__ import annotations

import copy
import re

import pytest
from jsonschema import Draft202012Validator

from sohoa.publish import contract

CHANGELOG = contract.SCHEMAS / "CHANGELOG.md"


def test_the_schema_is_valid_json_schema_and_describes_both_tables() -> None:
    schema = contract.current_schema()
    Draft202012Validator.check_schema(schema)
    assert set(schema["$defs"]) == set(contract.TABLES)
    for table in contract.TABLES:
        definition = schema["$defs"][table]
        assert definition["x-column-order"] == list(definition["properties"])
        assert all(p.get("description") for p in definition["properties"].values())
        assert contract.arrow_schema(table).names == definition["x-column-order"]


def test_the_current_schema_breaks_no_release_of_its_major_version() -> None:
    """The test that stops a breaking change: edit 1co.schema.json incompatibly and this fails until the
    major version is raised (and the change log says why)."""
    current = contract.current_schema()
    version = contract.schema_version(current)
    releases = contract.released_versions()
    assert releases, "no frozen release in schemas/dataset/releases"

    def key(v: str) -> tuple[int, ...]:
        return tuple(int(p) for p in v.split("."))

    assert key(version) >= key(releases[-1]), "the current version is older than a frozen release"
    for released in releases:
        if contract.major(released) != contract.major(version):
            continue
        problems = contract.breaking_changes(contract.release(released), current)
        assert problems == [], f"breaking changes against release {released}: {problems}; raise the major version"


def test_a_released_version_is_frozen() -> None:
    """A release may not be edited after the fact: the frozen file of the current version equals the schema."""
    version = contract.schema_version()
    if version in contract.released_versions():
        assert contract.release(version) == contract.current_schema(), (
            f"schemas/dataset/1co.schema.json differs from the frozen release {version}: "
            "bump x-schema-version and freeze the new version"
        )


def test_every_version_has_a_change_log_entry() -> None:
    text = CHANGELOG.read_text(encoding="utf-8")
    documented = set(re.findall(r"^## (\d+\.\d+\.\d+)", text, flags=re.M))
    assert set(contract.released_versions()) | {contract.schema_version()} <= documented


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda s: s["$defs"]["ho_so"]["properties"].pop("da_so_hoa"), "ho_so.da_so_hoa removed"),
        (
            lambda s: s["$defs"]["giay_to"]["properties"]["so_trang"].update(
                {"x-arrow-type": "string", "type": ["string", "null"]}
            ),
            "giay_to.so_trang changed type",
        ),
        (
            lambda s: s["$defs"]["ho_so"]["properties"]["ma_co_quan"].update({"type": ["string", "null"]}),
            "ho_so.ma_co_quan became nullable",
        ),
        (
            lambda s: s["$defs"]["giay_to"]["properties"]["loai"].update({"enum": ["thanh_phan", "ket_qua", "khac"]}),
            "giay_to.loai accepts new values",
        ),
        (lambda s: s["$defs"].pop("giay_to"), "table giay_to removed"),
    ],
)
def test_breaking_edits_are_caught(edit, expected: str) -> None:  # type: ignore[no-untyped-def]
    old = contract.current_schema()
    new = copy.deepcopy(old)
    edit(new)
    for definition in new["$defs"].values():
        definition["x-column-order"] = [c for c in definition["x-column-order"] if c in definition["properties"]]
    problems = contract.breaking_changes(old, new)
    assert any(p.startswith(expected) for p in problems), problems


def test_compatible_edits_pass() -> None:
    old = contract.current_schema()
    new = copy.deepcopy(old)
    props = new["$defs"]["ho_so"]["properties"]
    props["ten_co_quan"] = {"type": ["string", "null"], "description": "agency name", "x-arrow-type": "string"}
    new["$defs"]["ho_so"]["x-column-order"].append("ten_co_quan")
    props["ma_linh_vuc"]["description"] += " More words."
    assert contract.breaking_changes(old, new) == []
