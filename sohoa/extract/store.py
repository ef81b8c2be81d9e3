"""Keeping extracted fields, and what ``publish.giay_to.truong_trich_xuat`` shows of them.

Two places, because of personal data (Decree 13/2023):

- ``sohoa.extracted_field`` (private) holds every candidate with its value, page, line, offsets and
  confidence, for the review portal and the cross-checks;
- ``sohoa.ocr_result.extracted`` (read by the public view) holds the winning value of each field, where a
  person's correction (``sohoa.field_correction``, newest first) beats the machine. Personal fields show no
  value there: an identity number or tax code becomes its keyed pseudonym (the same HMAC as
  ``publish.ho_so.chu_ho_so_ma_hoa``, so the two can be joined), a name or birth date only its presence.

The JSON of ``truong_trich_xuat``::

    {"version": "sohoa-extract/1",
     "fields": {"ma_ho_so": {"value": "000.00.32.H19-210708-0032", "page": 1, "line": 6, "start": 210,
                             "end": 235, "confidence": 0.93, "source": "ocr"},
                "so_cccd": {"pseudonym": "9f2c...", "page": 1, ..., "source": "ocr"},
                "chu_ho_so": {"present": true, "page": 1, ..., "source": "person",
                              "corrected_at": "2026-11-21T21:00:00+00:00"}}}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import psycopg2.extras

from sohoa.db.connection import Connection
from sohoa.extract.fields import EXTRACTOR_VERSION, PERSONAL_FIELDS, Extraction, FieldValue
from sohoa.privacy import pseudonym

PSEUDONYMISED = frozenset({"so_cccd", "ma_so_thue"})


@dataclass(frozen=True)
class EffectiveField:
    """The value that counts for a field of an original: a person's correction, else the machine's best."""

    name: str
    value: str | None
    source: str  # "ocr" or "person"
    confidence: float | None
    page: int | None = None
    line: int | None = None
    start: int | None = None
    end: int | None = None
    corrected_at: str | None = None


def save_extraction(conn: Connection, sha256: str, extraction: Extraction) -> int:
    """Replace the stored candidates of an original by these; return how many were stored."""
    best = extraction.best()
    ordinals: dict[str, int] = {}
    rows = []
    for c in sorted(extraction.candidates, key=lambda c: (c is not best.get(c.name), c.page, c.start)):
        ordinal = ordinals.get(c.name, 0)
        ordinals[c.name] = ordinal + 1
        rows.append(
            (
                sha256,
                c.name,
                ordinal,
                c.value,
                c.page,
                c.line,
                c.start,
                c.end,
                c.confidence,
                c.personal,
                EXTRACTOR_VERSION,
            )
        )
    with conn.cursor() as cur:
        cur.execute("DELETE FROM sohoa.extracted_field WHERE sha256 = %s", (sha256,))
        if rows:
            psycopg2.extras.execute_values(
                cur,
                """INSERT INTO sohoa.extracted_field (sha256, name, ordinal, value, page_no, line_no, char_start,
                                                      char_end, confidence, personal, extractor) VALUES %s""",
                rows,
            )
    return len(rows)


def stored_candidates(conn: Connection, sha256: str) -> list[FieldValue]:
    """The stored candidates of an original, best of each field first."""
    with conn.cursor() as cur:
        cur.execute(
            """SELECT name, value, page_no, line_no, char_start, char_end, confidence FROM sohoa.extracted_field
                WHERE sha256 = %s ORDER BY name, ordinal""",
            (sha256,),
        )
        return [FieldValue(r[0], r[1], r[2], r[3], r[4], r[5], float(r[6])) for r in cur.fetchall()]


def effective_fields(conn: Connection, sha256: str) -> dict[str, EffectiveField]:
    """Each field's value that counts: the newest correction, else the machine's best candidate."""
    out: dict[str, EffectiveField] = {}
    for c in stored_candidates(conn, sha256):
        if c.name not in out:
            out[c.name] = EffectiveField(c.name, c.value, "ocr", c.confidence, c.page, c.line, c.start, c.end)
    with conn.cursor() as cur:
        cur.execute(
            """SELECT DISTINCT ON (name) name, value, corrected_at FROM sohoa.field_correction
                WHERE sha256 = %s ORDER BY name, corrected_at DESC, id DESC""",
            (sha256,),
        )
        for name, value, at in cur.fetchall():
            machine = out.get(name)
            out[name] = EffectiveField(
                name,
                value,
                "person",
                None,
                machine.page if machine else None,
                machine.line if machine else None,
                machine.start if machine else None,
                machine.end if machine else None,
                at.isoformat(),
            )
    return out


def public_fields(fields: dict[str, EffectiveField], key: bytes) -> dict[str, Any]:
    """The JSON of ``truong_trich_xuat``: no personal value, only pseudonyms or presence."""
    shown: dict[str, Any] = {}
    for name in sorted(fields):
        f = fields[name]
        entry: dict[str, Any] = {}
        if name in PSEUDONYMISED:
            entry["pseudonym"] = pseudonym(key, f.value)
        elif name in PERSONAL_FIELDS:
            entry["present"] = f.value is not None
        else:
            entry["value"] = f.value
        for attr in ("page", "line", "start", "end", "confidence"):
            value = getattr(f, attr)
            if value is not None:
                entry[attr] = value
        entry["source"] = f.source
        if f.corrected_at is not None:
            entry["corrected_at"] = f.corrected_at
        shown[name] = entry
    return {"version": EXTRACTOR_VERSION, "fields": shown}


def publish_fields(conn: Connection, sha256: str, key: bytes) -> dict[str, Any]:
    """Write the public JSON of an original's fields to ``sohoa.ocr_result.extracted``; return it."""
    document = public_fields(effective_fields(conn, sha256), key)
    with conn.cursor() as cur:
        # New fields are validated again by the next GX documents run (gx_checked_at cleared).
        cur.execute(
            "UPDATE sohoa.ocr_result SET extracted = %s, gx_checked_at = NULL WHERE sha256 = %s",
            (json.dumps(document, ensure_ascii=False), sha256),
        )
    return document
