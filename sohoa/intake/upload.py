"""``sohoa landing put``: upload files and folders into the landing bucket.

A folder keeps its layout: ``sohoa landing put batch/`` with ``batch/records/a.jsonl`` and
``batch/scans/<MaHoSo>/p1.pdf`` lands as ``records/a.jsonl`` and ``scans/<MaHoSo>/p1.pdf`` (under the
prefix, if one is given). A single file lands as ``<prefix><file name>``.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from sohoa.config import Settings
from sohoa.storage import s3


def plan_upload(paths: list[Path], prefix: str = "") -> list[tuple[Path, str]]:
    """(local file, landing key) pairs, in a stable order; hidden files are left out."""
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    plan: list[tuple[Path, str]] = []
    for path in paths:
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                relative = file.relative_to(path)
                if any(part.startswith(".") for part in relative.parts):
                    continue
                plan.append((file, prefix + relative.as_posix()))
        elif path.is_file():
            plan.append((path, prefix + path.name))
    return plan


def upload(settings: Settings, path: Path, key: str) -> None:
    client = s3.make_client(settings)
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    s3.put_file(client, settings.bucket_landing, key, path, content_type)
