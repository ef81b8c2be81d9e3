"""The summary a person reads after a run: what was loaded, stored, OCR'd and found wrong."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.console import Console
from rich.table import Table

from sohoa.config import Settings
from sohoa.db.connection import Connection, connect


@dataclass
class Summary:
    batches: int = 0
    record_lines: int = 0
    unusable_lines: int = 0
    dossiers: int = 0
    documents: int = 0
    duplicates: int = 0
    quarantined: int = 0
    originals_ocr: int = 0
    pages_ocr: int = 0
    mean_confidence: float | None = None
    inbox_by_link: dict[str, int] = field(default_factory=dict)  # barcode, ocr_text, person, waiting
    issues_by_rule: list[tuple[str, str, int]] = field(default_factory=list)
    kpi_build: tuple[str, str, int, int] | None = None  # kind, build date, daily rows, indicator rows


def collect(conn: Connection) -> Summary:
    s = Summary()
    with conn.cursor() as cur:
        cur.execute(
            "SELECT count(*), coalesce(sum(line_count), 0), coalesce(sum(unusable_count), 0) FROM sohoa.record_batch"
        )
        s.batches, s.record_lines, s.unusable_lines = cur.fetchone()  # type: ignore[misc]
        cur.execute("SELECT count(*) FROM publish.ho_so")
        s.dossiers = cur.fetchone()[0]  # type: ignore[index]
        cur.execute("SELECT count(*) FROM publish.giay_to")
        s.documents = cur.fetchone()[0]  # type: ignore[index]
        cur.execute(
            "SELECT count(*) FILTER (WHERE status = 'duplicate'), count(*) FILTER (WHERE status = "
            "'quarantined') FROM sohoa.landing_object"
        )
        s.duplicates, s.quarantined = cur.fetchone()  # type: ignore[misc]
        cur.execute(
            "SELECT count(*), coalesce(sum(page_count), 0), avg(mean_confidence) FROM sohoa.ocr_result "
            "WHERE status = 'done'"
        )
        n, pages, conf = cur.fetchone()  # type: ignore[misc]
        s.originals_ocr, s.pages_ocr = n, pages
        s.mean_confidence = float(conf) if conf is not None else None
        cur.execute(
            "SELECT coalesce(linked_by, 'waiting'), count(*) FROM sohoa.document "
            "WHERE landing_key LIKE 'inbox/%%' GROUP BY 1"
        )
        s.inbox_by_link = {k: n for k, n in cur.fetchall()}
        cur.execute("SELECT to_regclass('kpi.build_log') IS NOT NULL")
        if cur.fetchone()[0]:  # type: ignore[index]
            cur.execute(
                "SELECT kind, den_ngay::text, coalesce(daily_rows, 0), coalesce(indicator_rows, 0) "
                "FROM kpi.build_log WHERE status = 'ok' ORDER BY id DESC LIMIT 1"
            )
            row = cur.fetchone()
            s.kpi_build = (row[0], row[1], row[2], row[3]) if row else None
        cur.execute(
            "SELECT rule, severity, count(*) FROM quality.issues WHERE resolved_at IS NULL "
            "GROUP BY rule, severity ORDER BY CASE severity WHEN 'error' THEN 0 WHEN 'warning' THEN 1 "
            "ELSE 2 END, rule"
        )
        s.issues_by_rule = [(r, sev, c) for r, sev, c in cur.fetchall()]
    return s


def print_summary(console: Console, settings: Settings) -> Summary:
    with connect(settings) as conn:
        s = collect(conn)
    console.print()
    console.print("[bold]sohoa summary[/bold] (everything in the database so far)")
    console.print(f"  record batches        {s.batches} ({s.record_lines} lines, {s.unusable_lines} not usable)")
    console.print(f"  dossiers              {s.dossiers}  (publish.ho_so)")
    console.print(
        f"  documents stored      {s.documents}  (publish.giay_to; {s.duplicates} duplicate upload(s), "
        f"{s.quarantined} quarantined)"
    )
    conf = f", mean word confidence {s.mean_confidence:.1f}" if s.mean_confidence is not None else ""
    console.print(f"  OCR                   {s.originals_ocr} file(s), {s.pages_ocr} page(s){conf}")
    if s.inbox_by_link:
        i = s.inbox_by_link
        console.print(
            f"  inbox scans           {i.get('barcode', 0)} linked by QR/barcode, {i.get('ocr_text', 0)} by "
            f"the printed code, {i.get('person', 0)} by a person, {i.get('waiting', 0)} waiting for a person"
        )
    if s.issues_by_rule:
        table = Table(title="open quality issues (quality.issues)", title_justify="left")
        table.add_column("rule")
        table.add_column("severity")
        table.add_column("count", justify="right")
        for rule, severity, count in s.issues_by_rule:
            table.add_row(rule, severity, str(count))
        console.print(table)
    if s.kpi_build is not None:
        kind, until, daily, indicators = s.kpi_build
        console.print(
            f"  KPI                   last build: {kind} up to {until} ({daily} daily rows, "
            f"{indicators} indicator rows in kpi.indicator)"
        )
    snapshot = _latest_snapshot(settings)
    if snapshot is not None:
        console.print(f"  published             snapshot {snapshot} in s3://{settings.bucket_published}/1co/")
    console.print("[bold]where to look[/bold]")
    console.print(f"  Airflow     {settings.airflow_base_url()}  (sohoa services status --json for the sign-in)")
    console.print(
        f"  S3          {settings.s3_url()}  buckets {settings.bucket_landing}, {settings.bucket_raw}, "
        f"{settings.bucket_derived}, {settings.bucket_quarantine}"
    )
    console.print("  PostgreSQL  views publish.ho_so, publish.giay_to, quality.issues, kpi.indicator")
    from sohoa.services.portal import url as portal_url

    console.print(f"  Portal      {portal_url()}  (first user: sohoa portal create-user)")
    return s


def _latest_snapshot(settings: Settings) -> str | None:
    """The id in ``1co/LATEST``, if the dataset was published."""
    from sohoa.publish.snapshot import latest_snapshot
    from sohoa.storage import s3

    try:
        return latest_snapshot(s3.make_client(settings), settings.bucket_published)
    except Exception:  # noqa: BLE001 - the summary must not fail on a missing bucket or object store hiccup
        return None
