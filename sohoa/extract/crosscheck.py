"""Cross-checks of what a document says against the dossier record it is filed under.

- ``document.dossier_code_mismatch`` (warning, contract rule): the dossier code read on the scan (printed in its
  text, carried by a barcode on page 1, or set by a person) differs from the dossier the document is filed under
  (its ``scans/<MaHoSo>/`` folder);
- ``document.identity_mismatch`` (warning, sohoa rule): identity numbers (CCCD) or tax codes were read on the
  document and none equals the applicant's ``SoGiayToChuHoSo`` in the dossier's current state. The detail
  never shows either number.

Only values read with confidence >= :data:`MIN_CONFIDENCE` or set by a person take part. The findings are
re-evaluated whenever the fields change (a new extraction, a person's correction): a finding that no longer
holds is closed (``resolved_at``), so ``quality.issues`` shows what is wrong now.
"""

from __future__ import annotations

from dataclasses import dataclass

from sohoa.db.connection import Connection
from sohoa.extract.store import effective_fields, stored_candidates
from sohoa.quality.issues import Issue, record_issues

MIN_CONFIDENCE = 0.5
CROSS_CHECK_RULES = ("document.dossier_code_mismatch", "document.identity_mismatch")


@dataclass(frozen=True)
class DocumentRef:
    """A stored document: its id, dossier (None for an unassigned inbox scan), landing key and original."""

    id: int
    ma_ho_so: str | None
    landing_key: str
    sha256: str


def documents_of(conn: Connection, sha256: str) -> list[DocumentRef]:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT id, ma_ho_so, landing_key, sha256 FROM sohoa.document WHERE sha256 = %s ORDER BY id", (sha256,)
        )
        return [DocumentRef(*r) for r in cur.fetchall()]


def document_by_id(conn: Connection, document_id: int) -> DocumentRef | None:
    with conn.cursor() as cur:
        cur.execute("SELECT id, ma_ho_so, landing_key, sha256 FROM sohoa.document WHERE id = %s", (document_id,))
        row = cur.fetchone()
    return DocumentRef(*row) if row else None


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def barcode_mismatch(ma_ho_so: str, barcode_codes: list[str], landing_key: str, sha256: str) -> Issue | None:
    """The finding for a scan filed under one dossier whose page-1 barcode names another (read exactly, so it
    needs no confidence threshold); ``None`` when the barcodes name the folder's dossier or nothing."""
    if not barcode_codes or ma_ho_so in barcode_codes:
        return None
    return Issue(
        "document",
        "document.dossier_code_mismatch",
        "warning",
        f"barcode on page 1 names dossier {barcode_codes[0]}, the folder names {ma_ho_so}",
        ma_ho_so=ma_ho_so,
        object_key=landing_key,
        scope=sha256,
    )


def cross_check(conn: Connection, doc: DocumentRef) -> list[Issue]:
    """The cross-check findings that hold now for one document."""
    if doc.ma_ho_so is None:
        return []
    fields = effective_fields(conn, doc.sha256)
    issues: list[Issue] = []
    with conn.cursor() as cur:
        cur.execute("SELECT barcode_codes FROM sohoa.original WHERE sha256 = %s", (doc.sha256,))
        row = cur.fetchone()
    by_barcode = barcode_mismatch(doc.ma_ho_so, list(row[0]) if row else [], doc.landing_key, doc.sha256)
    if by_barcode is not None:
        issues.append(by_barcode)
    code = fields.get("ma_ho_so")
    trusted = code is not None and (code.source == "person" or (code.confidence or 0) >= MIN_CONFIDENCE)
    if code is not None and trusted and code.value is not None and code.value != doc.ma_ho_so:
        where = f" on page {code.page}" if code.page is not None else ""
        who = "set by a person" if code.source == "person" else f"printed{where}"
        issues.append(
            Issue(
                "document",
                "document.dossier_code_mismatch",
                "warning",
                f"the dossier code {who} is {code.value}, the document is filed under {doc.ma_ho_so}",
                ma_ho_so=doc.ma_ho_so,
                object_key=doc.landing_key,
                scope=doc.sha256,
            )
        )
    identities = _identity_values(conn, doc.sha256)
    if identities:
        with conn.cursor() as cur:
            cur.execute(
                """SELECT v.so_giay_to FROM sohoa.dossier d
                             JOIN sohoa.record_version v ON v.batch_id = d.batch_id AND v.line_no = d.line_no
                            WHERE d.ma_ho_so = %s""",
                (doc.ma_ho_so,),
            )
            row = cur.fetchone()
        recorded = _digits(row[0]) if row and row[0] else ""
        if recorded and recorded not in identities:
            issues.append(
                Issue(
                    "document",
                    "document.identity_mismatch",
                    "warning",
                    f"{len(identities)} identity number(s) read on the document, none equals the "
                    "record's SoGiayToChuHoSo",
                    ma_ho_so=doc.ma_ho_so,
                    object_key=doc.landing_key,
                    scope=doc.sha256,
                )
            )
    return issues


def _identity_values(conn: Connection, sha256: str) -> set[str]:
    """Identity numbers and tax codes of the document that take part (corrections replace the machine's)."""
    fields = effective_fields(conn, sha256)
    values: set[str] = set()
    for name in ("so_cccd", "ma_so_thue"):
        f = fields.get(name)
        if f is not None and f.source == "person":
            if f.value:
                values.add(_digits(f.value))
            continue
        values.update(
            _digits(c.value)
            for c in stored_candidates(conn, sha256)
            if c.name == name and c.confidence >= MIN_CONFIDENCE
        )
    return values


def refresh_cross_checks(conn: Connection, doc: DocumentRef) -> list[Issue]:
    """Record the cross-check findings that hold, close those that no longer do; return the current ones."""
    current = cross_check(conn, doc)
    record_issues(conn, current)
    with conn.cursor() as cur:
        cur.execute(
            """UPDATE sohoa.issue SET resolved_at = now()
                WHERE rule = ANY(%s) AND resolved_at IS NULL AND source = 'document'
                  AND object_key = %s AND ma_ho_so IS NOT DISTINCT FROM %s AND NOT (fingerprint = ANY(%s))""",
            (list(CROSS_CHECK_RULES), doc.landing_key, doc.ma_ho_so, [i.fingerprint() for i in current]),
        )
        # A finding that holds again is open again, unless a person closed it on purpose (accepted it).
        cur.execute(
            """UPDATE sohoa.issue i SET resolved_at = NULL
                WHERE i.fingerprint = ANY(%s) AND i.resolved_at IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM sohoa.review_action a
                                   WHERE a.issue_id = i.id AND a.action = 'resolve_issue')""",
            ([i.fingerprint() for i in current],),
        )
    return current
