"""What a landing key is, by the table of contracts/inputs.md, and which landing objects are new.

The key decides what a file is; a key that matches no row is quarantined as ``landing.unknown_key``,
never ignored. "New" means: no row in ``sohoa.landing_object`` for this (key, etag), i.e. sohoa has not
committed what this upload produced.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from sohoa.db.connection import Connection
from sohoa.storage.s3 import LandingObject

Kind = Literal["records", "catalogue", "scan", "result", "inbox", "unknown"]

_RECORDS = re.compile(r"^records/[^/].*\.(jsonl|jsonl\.gz|csv)$")
_CATALOGUE = re.compile(r"^catalogue/(agencies|procedures)\.csv$")
_DOSSIER_DOC = re.compile(r"^(scans|results)/([^/]+)/(.+)$")
_INBOX = re.compile(r"^inbox/(.+)$")
MAX_KEY_LENGTH = 1024


@dataclass(frozen=True)
class LandingKey:
    key: str
    kind: Kind
    ma_ho_so: str | None = None
    file_name: str | None = None
    reason: str | None = None  # why an unknown key is unknown


def classify(key: str) -> LandingKey:
    """Map a landing key onto the input contract."""
    if len(key) > MAX_KEY_LENGTH:
        return LandingKey(key, "unknown", reason=f"key longer than {MAX_KEY_LENGTH} characters")
    if key.endswith("/"):
        return LandingKey(key, "unknown", reason="folder marker, not a file")
    if _RECORDS.match(key):
        return LandingKey(key, "records", file_name=key.rsplit("/", 1)[-1])
    if m := _CATALOGUE.match(key):
        return LandingKey(key, "catalogue", file_name=m.group(1))
    if m := _DOSSIER_DOC.match(key):
        kind: Kind = "scan" if m.group(1) == "scans" else "result"
        return LandingKey(key, kind, ma_ho_so=m.group(2), file_name=m.group(3).rsplit("/", 1)[-1])
    if m := _INBOX.match(key):
        return LandingKey(key, "inbox", file_name=m.group(1).rsplit("/", 1)[-1])
    if key.startswith("records/"):
        reason = "records must be .jsonl, .jsonl.gz or .csv"
    elif key.startswith("catalogue/"):
        reason = "catalogue files are catalogue/agencies.csv and catalogue/procedures.csv"
    elif key.startswith(("scans/", "results/")):
        reason = "documents go under scans/<MaHoSo>/<name> or results/<MaHoSo>/<name>"
    else:
        reason = "key outside the landing contract (records/, catalogue/, scans/, results/, inbox/)"
    return LandingKey(key, "unknown", reason=reason)


def pending(conn: Connection, objects: Iterable[LandingObject]) -> list[LandingObject]:
    """The objects whose (key, etag) sohoa has not yet committed, oldest first (arrival order)."""
    objs = list(objects)
    if not objs:
        return []
    with conn.cursor() as cur:
        cur.execute(
            "SELECT object_key, etag FROM sohoa.landing_object WHERE object_key = ANY(%s)",
            ([o.key for o in objs],),
        )
        seen = {(k, e) for k, e in cur.fetchall()}
    new = [o for o in objs if (o.key, o.etag) not in seen]
    new.sort(key=lambda o: (o.last_modified.timestamp() if o.last_modified else 0.0, o.key))
    return new


def claim(conn: Connection, obj: LandingObject) -> tuple[str, str | None] | None:
    """Lock one upload for the caller's transaction; if sohoa already committed it, its (status, sha256).

    A stage must call this before taking an object in, and leave the object alone when it returns a value.
    An Airflow retry replays the object references its first try was given (its XCom), and that try may have
    committed some of them before it failed: taking those in again found their own document and marked them
    duplicates of themselves. The transaction-scoped advisory lock also keeps two runs from taking in the same
    upload at once: the second waits, then sees the first one's commit.
    """
    with conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"landing\n{obj.key}\n{obj.etag}",))
        cur.execute("SELECT status, sha256 FROM sohoa.landing_object WHERE object_key = %s AND etag = %s",
                    (obj.key, obj.etag))
        row = cur.fetchone()
    return (str(row[0]), row[1]) if row else None


def mark(
    conn: Connection,
    obj: LandingObject,
    kind: Kind,
    status: str,
    *,
    sha256: str | None = None,
    detail: str | None = None,
) -> None:
    """Record what became of a landing object, inside the caller's transaction."""
    with conn.cursor() as cur:
        cur.execute(
            """INSERT INTO sohoa.landing_object (object_key, etag, size_bytes, kind, status, sha256, detail)
               VALUES (%s, %s, %s, %s, %s, %s, %s)
               ON CONFLICT (object_key, etag) DO UPDATE
                 SET status = EXCLUDED.status, sha256 = EXCLUDED.sha256, detail = EXCLUDED.detail,
                     processed_at = now()""",
            (obj.key, obj.etag, obj.size, kind, status, sha256, detail),
        )
