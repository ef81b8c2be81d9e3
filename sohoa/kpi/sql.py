"""The KPI SQL of ``schemas/kpi/``: read once, with table names filled in.

The files are plain SQL with ``{name}`` placeholders for the relations a statement reads or writes (a full
build writes tables beside the live ones, an incremental build the live ones). Placeholders are filled
with identifiers from this package only, never with data; values travel as query parameters.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parents[2] / "schemas" / "kpi"

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


@cache
def _source(name: str) -> str:
    """The file's statement without its comment lines (they mention placeholders in prose)."""
    text = (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("--")]
    return "\n".join(lines).strip().rstrip(";")


def render(name: str, **names: str) -> str:
    """The statement of ``schemas/kpi/<name>.sql`` with every ``{placeholder}`` replaced.

    Raises:
        KeyError: a placeholder of the file was not given (a programming error, caught by the tests).
    """

    def fill(match: re.Match[str]) -> str:
        return names[match.group(1)]

    return _PLACEHOLDER.sub(fill, _source(name))
