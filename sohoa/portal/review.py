"""The review queue's data for the portal: which waiting documents a user may see, and one document's review.

Who sees what (authorisation lives here, next to the queries, like ``sohoa.portal.dossiers``):

- ``kiem_tra`` and ``quan_tri`` see every waiting document;
- ``can_bo`` sees the documents of their agency's dossiers (the agency of the dossier's current record, or,
  before its record arrives, the agency code that starts the dossier code: the rule of the dossier pages);
- an unassigned inbox scan has no dossier, so no agency of its own: it belongs to the agency of the officer
  who uploaded it through the portal (``portal.upload.ma_co_quan``), so the counter that scanned it can file
  it. An inbox scan that arrived another way (a scanner drop, ``sohoa landing put``) has no agency at all and
  is seen by reviewers and administrators only. This is the rule of ``dossiers.may_view_document``.

The queue walks ``sohoa.document_review`` in the order documents were flagged through a partial index of the
waiting rows (``document_review_waiting``; ``document_review_waiting_agency`` when scoped to an agency, on the
agency the review row keeps, see migration 0008_review) and joins each row by primary or unique keys; a page is
``page_size`` rows. The rule above is SQL (``sohoa.document_agency``, migration 0008) and is checked again, live,
on every row shown: the kept agency can only be late (until the next ``refresh_review_state``), so a late row is
hidden for a while, never shown to another agency. The header's count is capped (:data:`COUNT_CAP`) and cached
for a few seconds (:class:`QueueCounter`), so no page pays for counting a long queue.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sohoa.db.connection import Connection
from sohoa.portal.users import User
from sohoa.review.actions import CORRECTABLE_FIELDS, document_fields
from sohoa.review.state import REVIEW_RULES

# The correction form's field list: the ones a counter fixes most first, then the rest.
FIELD_ORDER = (
    "ma_ho_so",
    "so_ky_hieu",
    "ngay_van_ban",
    "chu_ho_so",
    "so_cccd",
    "ngay_sinh",
    "ma_so_thue",
    "ngay_tiep_nhan",
    "ngay_hen_tra",
    "ngay_hieu_luc",
    "ma_giay_to_ket_qua",
)
COUNT_CAP = 100  # the header shows "99+" beyond this: enough to say "there is work", cheap to count


@dataclass(frozen=True)
class QueueFilters:
    reason: str = ""  # one of REVIEW_RULES, or "" for all
    agency: str = ""  # reviewers only; an officer always sees their own agency


@dataclass(frozen=True)
class QueueRow:
    document_id: int
    ma_ho_so: str | None
    loai: str
    name: str  # the uploaded file name, else the document's type name (shown to authorised users only)
    reasons: tuple[str, ...]
    flagged_at: datetime
    mean_confidence: float | None
    agency: str | None
    suggested_ma_ho_so: str | None  # the dossier code read on an inbox scan


def _scope(user: User, filters: QueueFilters) -> tuple[str, list[Any], str | None]:
    """(conditions on the review rows, their parameters, the agency the rows must belong to or None for all)."""
    where: list[str] = []
    params: list[Any] = []
    agency = user.ma_co_quan if not user.is_reviewer else filters.agency.strip()
    scoped = (agency or "") if (not user.is_reviewer or agency) else None
    if scoped is not None:
        where.append("r.ma_co_quan = %s")
        params.append(scoped)
    if filters.reason in REVIEW_RULES:
        where.append("%s = ANY(r.reasons)")
        params.append(filters.reason)
    return "".join(f" AND {w}" for w in where), params, scoped


def _visible(scoped: str | None) -> tuple[str, list[Any]]:
    """The live check of a row read through the kept agency (the same SQL that fills the column), applied to
    the rows a page or a count has already chosen by index, so it runs a page's worth of times, not once per
    waiting document: a late row is hidden, never shown."""
    if scoped is None:
        return "true", []
    return "sohoa.document_agency(w.document_id) IS NOT DISTINCT FROM %s", [scoped]


def queue_page(
    conn: Connection, user: User, filters: QueueFilters, *, page: int, page_size: int
) -> tuple[list[QueueRow], bool]:
    """One page of the documents waiting for a person that the user may see; (rows, more pages follow)."""
    where, params, scoped = _scope(user, filters)
    visible, visible_params = _visible(scoped)
    sql = f"""
        WITH w AS (SELECT r.document_id, r.reasons, r.flagged_at, r.ma_co_quan FROM sohoa.document_review r
                    WHERE r.state = 'needs_review'{where}
                    ORDER BY r.flagged_at, r.document_id LIMIT %s OFFSET %s)
        SELECT d.id, d.ma_ho_so, d.loai, COALESCE(up.original_name, d.ten_giay_to), w.reasons, w.flagged_at,
               o.mean_confidence, w.ma_co_quan,
               CASE WHEN d.ma_ho_so IS NULL THEN
                    (SELECT e.value FROM sohoa.extracted_field e
                      WHERE e.sha256 = d.sha256 AND e.name = 'ma_ho_so' AND e.ordinal = 0) END,
               {visible}
          FROM w
          JOIN sohoa.document d ON d.id = w.document_id
          LEFT JOIN LATERAL (SELECT f.original_name FROM portal.upload_file f
                              WHERE f.object_key = d.landing_key) up ON true
          LEFT JOIN sohoa.ocr_result o ON o.sha256 = d.sha256
         ORDER BY w.flagged_at, w.document_id"""
    with conn.cursor() as cur:
        cur.execute(sql, [*params, page_size + 1, max(0, page - 1) * page_size, *visible_params])
        found = cur.fetchall()
    rows = [
        QueueRow(r[0], r[1], r[2], r[3], tuple(r[4]), r[5], None if r[6] is None else float(r[6]), r[7], r[8])
        for r in found[:page_size]
        if r[9]
    ]
    return rows, len(found) > page_size


def queue_count(conn: Connection, user: User, *, cap: int = COUNT_CAP) -> int:
    """How many documents wait for this user, counted up to ``cap``."""
    where, params, scoped = _scope(user, QueueFilters())
    visible, visible_params = _visible(scoped)
    with conn.cursor() as cur:
        cur.execute(
            f"""SELECT count(*) FILTER (WHERE {visible})
                          FROM (SELECT r.document_id FROM sohoa.document_review r
                                 WHERE r.state = 'needs_review'{where} LIMIT %s) w""",
            [*visible_params, *params, cap],
        )
        row = cur.fetchone()
    return int(row[0]) if row else 0


@dataclass
class QueueCounter:
    """The header's queue count per scope (all, or one agency), kept for ``ttl_s`` seconds; a review decision
    calls :meth:`forget` so the person who made it sees the new count at once."""

    ttl_s: float = 20.0
    _values: dict[str, tuple[float, int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, user: User, count: Callable[[], int]) -> int:
        scope = "*" if user.is_reviewer else f"agency:{user.ma_co_quan}"
        now = time.monotonic()
        with self._lock:
            cached = self._values.get(scope)
        if cached is not None and now - cached[0] < self.ttl_s:
            return cached[1]
        value = count()
        with self._lock:
            self._values[scope] = (now, value)
        return value

    def forget(self) -> None:
        with self._lock:
            self._values.clear()


@dataclass
class ReviewView:
    """What the review page of one document shows (besides the page and its text)."""

    state: str | None  # needs_review, reviewed, cleared, or None (never flagged)
    reasons: list[str]
    reviewed_by: str | None
    reviewed_at: datetime | None
    fields: dict[str, dict[str, Any]]  # document_fields(): personal values included, for authorised staff
    correctable: list[str]
    issues: list[dict[str, Any]]
    corrections: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    suggested_ma_ho_so: str | None


def review_view(conn: Connection, document_id: int) -> ReviewView:
    """The review data of a document the caller has already authorised."""
    with conn.cursor() as cur:
        cur.execute("SELECT landing_key, sha256, ma_ho_so FROM sohoa.document WHERE id = %s", (document_id,))
        landing_key, sha256, ma_ho_so = cur.fetchone() or (None, None, None)
        cur.execute(
            "SELECT state, reasons, reviewed_by, reviewed_at FROM sohoa.document_review WHERE document_id = %s",
            (document_id,),
        )
        state = cur.fetchone()
        cur.execute(
            """SELECT id, rule, severity, detail, detected_at, resolved_at FROM sohoa.issue
                        WHERE object_key = %s AND source = 'document'
                        ORDER BY resolved_at IS NOT NULL, detected_at, id""",
            (landing_key,),
        )
        issues = [
            dict(zip(("id", "rule", "severity", "detail", "detected_at", "resolved_at"), r, strict=True))
            for r in cur.fetchall()
        ]
        cur.execute(
            """SELECT name, value, corrected_by, corrected_at, note FROM sohoa.field_correction
                        WHERE sha256 = %s ORDER BY corrected_at DESC, id DESC LIMIT 50""",
            (sha256,),
        )
        corrections = [dict(zip(("name", "value", "by", "at", "note"), r, strict=True)) for r in cur.fetchall()]
        cur.execute(
            """SELECT action, actor, acted_at, detail FROM sohoa.review_action
                        WHERE document_id = %s ORDER BY acted_at DESC, id DESC LIMIT 50""",
            (document_id,),
        )
        actions = [dict(zip(("action", "actor", "at", "detail"), r, strict=True)) for r in cur.fetchall()]
    fields = document_fields(conn, document_id)
    suggested = fields.get("ma_ho_so", {}).get("value") if ma_ho_so is None else None
    return ReviewView(
        state=state[0] if state else None,
        reasons=list(state[1]) if state else [],
        reviewed_by=state[2] if state else None,
        reviewed_at=state[3] if state else None,
        fields=fields,
        correctable=[f for f in FIELD_ORDER if f in CORRECTABLE_FIELDS] + sorted(CORRECTABLE_FIELDS - set(FIELD_ORDER)),
        issues=issues,
        corrections=corrections,
        actions=actions,
        suggested_ma_ho_so=suggested,
    )


def issue_of_document(conn: Connection, issue_id: int, document_id: int) -> bool:
    """True when the finding is one of the document's (a form may not close another document's finding)."""
    with conn.cursor() as cur:
        cur.execute(
            """SELECT 1 FROM sohoa.issue i JOIN sohoa.document d ON d.landing_key = i.object_key
                        WHERE i.id = %s AND d.id = %s AND i.source = 'document'""",
            (issue_id, document_id),
        )
        return cur.fetchone() is not None
