"""What the records officers' portal calls: the review queue and people's decisions.

Every function takes a connection (the caller commits) and, for a decision, the ``actor`` (the signed-in
user's login); each decision is written to ``sohoa.review_action`` with who and when, so the audit trail is
complete. Values typed by people may be personal data: they go to private tables only, never to logs or
``quality.issues`` details.

A correction wins over the machine's value everywhere the value is used: ``truong_trich_xuat`` is rebuilt
from it, and the cross-checks run again (a corrected dossier code closes a mismatch finding).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sohoa.config import Settings
from sohoa.db.connection import Connection
from sohoa.extract.crosscheck import document_by_id, refresh_cross_checks
from sohoa.extract.dates import parse_date
from sohoa.extract.fields import PERSONAL_FIELDS
from sohoa.extract.store import effective_fields, publish_fields
from sohoa.records.codes import is_valid_dossier_code
from sohoa.review.state import REVIEW_RULES, refresh_review_state

CORRECTABLE_FIELDS = frozenset(
    {
        "ma_ho_so",
        "so_cccd",
        "ma_so_thue",
        "chu_ho_so",
        "so_ky_hieu",
        "ngay_van_ban",
        "ngay_sinh",
        "ngay_tiep_nhan",
        "ngay_hen_tra",
        "ngay_hieu_luc",
        "ma_giay_to_ket_qua",
    }
)


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class ReviewError(ValueError):
    """A decision that cannot be applied (unknown document, field or finding; bad value); nothing changed."""


@dataclass(frozen=True)
class QueueItem:
    """One document waiting for a person, with what the portal shows in its list."""

    document_id: int
    ma_ho_so: str | None
    loai: str
    ten_giay_to: str
    landing_key: str
    reasons: tuple[str, ...]
    flagged_at: datetime
    mean_confidence: float | None
    suggested_ma_ho_so: str | None  # the dossier code read on the scan, for an inbox document


def _require_actor(actor: str) -> str:
    actor = actor.strip()
    if not actor:
        raise ReviewError("a review decision needs the name of the person who makes it")
    return actor


def _log(
    conn: Connection,
    action: str,
    actor: str,
    *,
    document_id: int | None = None,
    issue_id: int | None = None,
    detail: str = "",
) -> None:
    with conn.cursor() as cur:
        cur.execute(
            """INSERT INTO sohoa.review_action (document_id, issue_id, action, actor, detail)
                       VALUES (%s, %s, %s, %s, %s)""",
            (document_id, issue_id, action, actor, detail),
        )


def sync_review_states(conn: Connection) -> int:
    """Bring every document's review state up to date with the open findings; return how many need review.

    The OCR stage does this for the documents it reads; this catches findings made elsewhere (an inbox scan
    left unassigned, an unreadable file)."""
    with conn.cursor() as cur:
        cur.execute(
            """SELECT d.id FROM sohoa.document d
                WHERE EXISTS (SELECT 1 FROM sohoa.issue i WHERE i.object_key = d.landing_key AND i.rule = ANY(%s))
                   OR EXISTS (SELECT 1 FROM sohoa.document_review r WHERE r.document_id = d.id)""",
            (list(REVIEW_RULES),),
        )
        ids = [r[0] for r in cur.fetchall()]
    return sum(1 for i in ids if refresh_review_state(conn, i) == "needs_review")


def review_queue(
    conn: Connection, *, limit: int = 100, offset: int = 0, ma_ho_so: str | None = None
) -> list[QueueItem]:
    """Documents that need review, oldest flag first (optionally of one dossier)."""
    with conn.cursor() as cur:
        cur.execute(
            """SELECT d.id, d.ma_ho_so, d.loai, d.ten_giay_to, d.landing_key, r.reasons, r.flagged_at,
                      o.mean_confidence,
                      (SELECT f.value FROM sohoa.extracted_field f
                        WHERE f.sha256 = d.sha256 AND f.name = 'ma_ho_so' AND f.ordinal = 0)
                 FROM sohoa.document_review r
                 JOIN sohoa.document d ON d.id = r.document_id
                 LEFT JOIN sohoa.ocr_result o ON o.sha256 = d.sha256
                WHERE r.state = 'needs_review' AND (%s::text IS NULL OR d.ma_ho_so = %s)
                ORDER BY r.flagged_at, d.id LIMIT %s OFFSET %s""",
            (ma_ho_so, ma_ho_so, limit, offset),
        )
        return [
            QueueItem(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                tuple(r[5]),
                r[6],
                None if r[7] is None else float(r[7]),
                r[8] if r[1] is None else None,
            )
            for r in cur.fetchall()
        ]


def document_fields(conn: Connection, document_id: int) -> dict[str, dict[str, Any]]:
    """The fields of a document as the review screen shows them: value (personal ones included: the portal
    shows them to authorised staff only), source, confidence and where they were read."""
    doc = document_by_id(conn, document_id)
    if doc is None:
        raise ReviewError(f"no document {document_id}")
    return {
        name: {
            "value": f.value,
            "source": f.source,
            "confidence": f.confidence,
            "page": f.page,
            "line": f.line,
            "start": f.start,
            "end": f.end,
            "corrected_at": f.corrected_at,
            "personal": name in PERSONAL_FIELDS,
        }
        for name, f in sorted(effective_fields(conn, doc.sha256).items())
    }


def correct_field(
    conn: Connection,
    settings: Settings,
    document_id: int,
    name: str,
    value: str | None,
    actor: str,
    note: str | None = None,
) -> None:
    """Store a person's value for a field of a document; it wins over the machine's from now on.

    Args:
        value: the right value, or None when the field is not on the document at all.
    """
    actor = _require_actor(actor)
    doc = document_by_id(conn, document_id)
    if doc is None:
        raise ReviewError(f"no document {document_id}")
    if name not in CORRECTABLE_FIELDS:
        known = ", ".join(sorted(CORRECTABLE_FIELDS))
        raise ReviewError(f"{name!r} is not a field that can be corrected; one of {known}")
    if value is not None:
        value = _checked_value(name, value)
    with conn.cursor() as cur:
        cur.execute(
            """INSERT INTO sohoa.field_correction (sha256, document_id, name, value, corrected_by, note)
                       VALUES (%s, %s, %s, %s, %s, %s)""",
            (doc.sha256, doc.id, name, value, actor, note),
        )
    _log(conn, "correct_field", actor, document_id=doc.id, detail=f"field {name} corrected")
    publish_fields(conn, doc.sha256, settings.secret_pseudonym_key())
    with conn.cursor() as cur:
        cur.execute("SELECT id FROM sohoa.document WHERE sha256 = %s", (doc.sha256,))
        sharing = [r[0] for r in cur.fetchall()]
    for other_id in sharing:  # the correction is about the content, shared by every copy of the bytes
        other = document_by_id(conn, other_id)
        assert other is not None
        refresh_cross_checks(conn, other)
        refresh_review_state(conn, other_id)


def _checked_value(name: str, value: str) -> str:
    """A person's value in the form the machine stores (ISO dates, digits only); obvious typos are refused."""
    value = " ".join(value.split())
    if not value:
        raise ReviewError(f"{name}: an empty value; to say the field is not on the document, give no value")
    if name == "ma_ho_so" and not is_valid_dossier_code(value):
        raise ReviewError("ma_ho_so must be a national dossier code <agency code>-<YYMMDD>-<NNNN>")
    if name.startswith("ngay_"):
        day = parse_date(value) if not _ISO_DATE.fullmatch(value) else date.fromisoformat(value)
        if day is None:
            raise ReviewError(f"{name} must be a date: 2021-07-08, 08/07/2021 or 'ngày 08 tháng 7 năm 2021'")
        return day.isoformat()
    if name == "so_cccd" and not (value.isascii() and value.isdigit() and len(value) in (9, 12)):
        raise ReviewError("so_cccd must be 12 digits (or a legacy 9-digit number)")
    return value


def resolve_issue(conn: Connection, issue_id: int, actor: str, note: str = "") -> None:
    """Close a finding by a person's decision (e.g. "the mismatch is right: it is the proxy's ID")."""
    actor = _require_actor(actor)
    with conn.cursor() as cur:
        cur.execute(
            "UPDATE sohoa.issue SET resolved_at = now() WHERE id = %s AND resolved_at IS NULL "
            "RETURNING object_key, ma_ho_so",
            (issue_id,),
        )
        row = cur.fetchone()
        if row is None:
            cur.execute("SELECT 1 FROM sohoa.issue WHERE id = %s", (issue_id,))
            if cur.fetchone() is None:
                raise ReviewError(f"no finding {issue_id}")
            return  # already closed: nothing to do, nothing to log
        cur.execute(
            "SELECT id FROM sohoa.document WHERE landing_key = %s AND ma_ho_so IS NOT DISTINCT FROM %s",
            (row[0], row[1]),
        )
        docs = [r[0] for r in cur.fetchall()]
    _log(conn, "resolve_issue", actor, document_id=docs[0] if docs else None, issue_id=issue_id, detail=note[:500])
    for d in docs:
        refresh_review_state(conn, d)


def assign_document(conn: Connection, settings: Settings, document_id: int, ma_ho_so: str, actor: str) -> None:
    """File an inbox document (or a misfiled one) under a dossier; its ``document.unassigned`` finding closes.

    The dossier must be known (its record loaded). The same bytes already filed under that dossier make the
    request fail, since identical bytes in one dossier are one document.
    """
    actor = _require_actor(actor)
    doc = document_by_id(conn, document_id)
    if doc is None:
        raise ReviewError(f"no document {document_id}")
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM sohoa.dossier WHERE ma_ho_so = %s", (ma_ho_so,))
        if cur.fetchone() is None:
            raise ReviewError(f"no dossier {ma_ho_so} is known")
        cur.execute(
            "SELECT id FROM sohoa.document WHERE ma_ho_so = %s AND sha256 = %s AND id <> %s",
            (ma_ho_so, doc.sha256, doc.id),
        )
        existing = cur.fetchone()
        if existing is not None:
            raise ReviewError(f"dossier {ma_ho_so} already holds these bytes as document {existing[0]}")
        # linked_by/linked_at (0007_intake) say a person filed it, as sohoa.intake.inbox does for the machine.
        cur.execute(
            "UPDATE sohoa.document SET ma_ho_so = %s, linked_by = 'person', linked_at = now() WHERE id = %s",
            (ma_ho_so, doc.id),
        )
        cur.execute(
            """UPDATE sohoa.issue SET resolved_at = now()
                        WHERE rule = 'document.unassigned' AND object_key = %s AND resolved_at IS NULL""",
            (doc.landing_key,),
        )
    _log(
        conn,
        "assign_dossier",
        actor,
        document_id=doc.id,
        detail=f"filed under {ma_ho_so} (was {doc.ma_ho_so or 'unassigned'})",
    )
    moved = document_by_id(conn, doc.id)
    assert moved is not None
    refresh_cross_checks(conn, moved)
    refresh_review_state(conn, doc.id)


def mark_reviewed(conn: Connection, document_id: int, actor: str) -> None:
    """A person has looked at the document: it leaves the queue (it comes back only with a new finding)."""
    actor = _require_actor(actor)
    with conn.cursor() as cur:
        cur.execute(
            """INSERT INTO sohoa.document_review (document_id, state, reviewed_by, reviewed_at)
                       VALUES (%s, 'reviewed', %s, now())
                       ON CONFLICT (document_id) DO UPDATE
                          SET state = 'reviewed', reviewed_by = EXCLUDED.reviewed_by, reviewed_at = now()""",
            (document_id, actor),
        )
    _log(conn, "mark_reviewed", actor, document_id=document_id)
