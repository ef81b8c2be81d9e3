"""What a landing key is, by the table of contracts/inputs.md, and which landing objects are new.

The key decides what a file is; a key that matches no row is quarantined as ``landing.unknown_key``,
never ignored. "New" means: no row in ``sohoa.landing_object`` for this (key, etag), i.e. sohoa has not
committed what this upload produced.
"""

from __future__ import annotations

import re
import unicodedata
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


# Characters that make a key lie about itself: bidirectional overrides and isolates turn "don\u202egnp.exe"
# into what reads as "donexe.png"; control characters (newline, escape...) forge log lines and break tools.
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def key_problem(key: str) -> str | None:
    """Why a key cannot be taken as a name, whatever folder it is in, or ``None``.

    Refused: control characters, bidirectional-override characters, and path segments that are empty
    (``a//b``), ``.`` or ``..`` (object stores do not resolve them, but every tool that copies the bucket to
    a file system does, so ``scans/X/../../etc/passwd`` must never become a document's name).
    """
    for ch in key:
        if unicodedata.category(ch) == "Cc":
            return f"the key contains a control character (U+{ord(ch):04X})"
        if ch in _BIDI_CONTROLS:
            return f"the key contains a bidirectional-text control (U+{ord(ch):04X}) that disguises its name"
    segments = key.split("/")
    if any(s in (".", "..") for s in segments):
        return "the key has a '.' or '..' segment (a path trick)"
    if any(s == "" for s in segments[:-1]):
        return "the key has an empty folder name ('//')"
    return None


def printable(key: str) -> str:
    """A key as it can go into a log line or a message: control and bidi characters escaped."""
    if key_problem(key) is None:
        return key
    return "".join(
        f"\\u{ord(ch):04x}" if unicodedata.category(ch) == "Cc" or ch in _BIDI_CONTROLS else ch for ch in key
    )


def classify(key: str) -> LandingKey:
    """Map a landing key onto the input contract."""
    if len(key) > MAX_KEY_LENGTH:
        return LandingKey(key, "unknown", reason=f"key longer than {MAX_KEY_LENGTH} characters")
    if key.endswith("/"):
        return LandingKey(key, "unknown", reason="folder marker, not a file")
    if (problem := key_problem(key)) is not None:
        return LandingKey(key, "unknown", reason=f"{problem}: {printable(key)}")
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
        cur.execute(
            "SELECT status, sha256 FROM sohoa.landing_object WHERE object_key = %s AND etag = %s", (obj.key, obj.etag)
        )
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
