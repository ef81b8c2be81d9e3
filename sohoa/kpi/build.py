"""Build the KPI tables of ``../shared/domain/kpi.md`` in PostgreSQL: full, incremental, or a day range.

Everything is set-based SQL (``schemas/kpi/``); Python only orders the statements. Four tables, each built
from the one before:

1. ``kpi.ho_so``: one row of facts per accepted dossier (receipt and finish days, deadline verdicts, the
   first overdue day, the flags the counts need);
2. ``kpi.ngay_chi_tiet``: the daily counts per (day, agency, procedure) series, the series numbered once and
   for ever in ``kpi.chuoi`` (integer keys index several times faster than the two codes), published with the
   codes as the view ``kpi.dossier_daily``; stocks come from at most three change points per dossier (opens,
   becomes overdue, closes), never from one row per dossier per day;
3. ``kpi.co_quan_ngay``: the same per (day, agency), plus ``'*'``;
4. ``kpi.ky_co_quan``: the counts of each period (days, months, quarters, years) per agency and ``'*'``,
   published as the view ``kpi.indicator``, the period table of 11 indicators per row (migration 0018).

**Full build** (no previous build, ``full=True``, or ``from_date`` at or before the first receipt day):
new tables are built beside the live ones inside one transaction and swapped in at its end, so readers see
the previous tables, whole, until the commit, and a failure leaves them untouched.

**Incremental build** (the nightly default): the dossiers that changed since the last build (captured in
``kpi.thay_doi`` by triggers on ``sohoa.dossier`` and ``sohoa.document``, in the same transaction as the
change), the dossiers a catalogue or holiday change affects, the new days since the last build date and,
for ``from_date``, every day from it. Each change touches its dossier's days, old state and new, from
receipt to finish (or to B while open), per (agency, procedure) series; those series and days are
recomputed with the very SQL of the full build, then the agencies' days and every period containing a
touched day, plus the periods not yet ended for every agency. All in one REPEATABLE READ transaction:
readers keep the previous rows until it commits.

Builds are serialised by a session advisory lock and logged in ``kpi.build_log`` (failed ones too).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg2
import psycopg2.extensions

from sohoa.config import Settings
from sohoa.db.connection import Connection
from sohoa.kpi import daily_parts
from sohoa.kpi.lanes import Lanes
from sohoa.kpi.sql import render

log = logging.getLogger(__name__)

PHIEN_BAN = "766-2026.1"
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
LOCK_KEY = 766_2026  # advisory lock of the KPI build
CALENDAR_FROM = date(2000, 1, 1)
CALENDAR_TO = date(2045, 12, 31)
WORK_MEM = os.environ.get("SOHOA_KPI_WORK_MEM", "256MB")  # per sort or hash of the build's queries
MAINTENANCE_WORK_MEM = os.environ.get("SOHOA_KPI_MAINTENANCE_WORK_MEM", "512MB")  # per index build

# The KPI tables a full build builds beside the live ones and swaps in: each one's key (a unique index made
# first, attached as the primary key at the end, so that building it never locks out the lanes that read the
# table meanwhile) and its other indexes, by name suffix.
# Keys and indexes on text are the slow ones to build (strcoll per comparison): the facts are keyed by a hash of
# ma_ho_so first, and the facts and the daily table by the series number of kpi.chuoi (migration 0020).
_KEYS: dict[str, str] = {
    "ho_so": "khoa, ma_ho_so",
    "ngay_chi_tiet": "chuoi, ngay",
    "co_quan_ngay": "ma_co_quan, ngay",
    "ky_co_quan": "ky, tu_ngay, ma_co_quan",
}
_INDEXES: dict[str, dict[str, str]] = {
    # no index on ma_tthc: only a catalogue change reads the facts by procedure (a sequential scan of seconds,
    # on the rare nights it happens), while the index cost 11 s of every 10M full build
    # nor on d_het: an incremental build finds the series with open dossiers in the daily table (migration 0021);
    # d_nhan: see _RECENT
    "ho_so": {"chuoi": "chuoi, d_het"},
    # no (agency, day) index: an incremental build reads an agency's days series by series through the key
    "ngay_chi_tiet": {"ngay": "ngay"},
    "co_quan_ngay": {"ngay": "ngay"},
    "ky_co_quan": {"co_quan": "ma_co_quan, ky, tu_ngay"},
}
# The facts' index on d_nhan holds only the dossiers received on or after the date of the full build that made
# it (a partial index): incremental builds ask the facts for the dossiers received since the previous build date,
# never before the full build's (the first receipt day comes from the daily table). The whole index cost 10-17 s
# of one core in every 10M full build.
_RECENT = "d_nhan"
_NEW = {name: f"kpi.{name}_moi" for name in _KEYS}  # the tables a full build builds beside the live ones
# A full build computes the daily table in this many lanes at once, each over a range of the series numbers
# (a partition, sohoa.kpi.daily_parts): one per core of a 2-core server, and nothing beside them (a third lane
# indexing the facts there cost the daily lanes ~30 s at 10M: the facts are indexed in the next stage).
_DAILY_LANES = int(os.environ.get("SOHOA_KPI_DAILY_LANES", "2"))
# the daily lanes' sums per (day, agency), scratch of a full build
_AGENCY_PARTS = "kpi.co_quan_ngay_moi_phan"

# The views over the tables a full build swaps in (kpi.dossier_daily, kpi.indicator): a view is bound to the
# table it was created on, so the swap drops them and creates them again from their own definition, read from
# the database (the migrations are their one source).
_VIEWS = ("dossier_daily", "indicator")
# the rows of the view kpi.indicator per row of kpi.ky_co_quan: one per indicator of kpi.md
INDICATORS_PER_ROW = 11


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")  # values quoted in database errors may be dossier data


class KpiBuildError(RuntimeError):
    """A build that cannot run as asked (e.g. ``--from`` after ``--to``); the message says why."""


@dataclass(frozen=True)
class BuildSummary:
    """What one build did, as logged in ``kpi.build_log``."""

    kind: str  # full, incremental or range
    build_date: date  # B: the tables hold the days before it
    first_day: date | None  # the first day recomputed (None: nothing to recompute)
    dossiers_refreshed: int
    daily_rows: int
    indicator_rows: int
    seconds: float
    months: list[date] = field(default_factory=list)  # first days of the months whose rows were rewritten
    reports: list[str] = field(default_factory=list)  # object keys of the KPI reports written

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "build_date": self.build_date.isoformat(),
            "first_day": self.first_day.isoformat() if self.first_day else None,
            "dossiers_refreshed": self.dossiers_refreshed,
            "daily_rows": self.daily_rows,
            "indicator_rows": self.indicator_rows,
            "seconds": round(self.seconds, 3),
            "months": [m.isoformat() for m in self.months],
            "reports": self.reports,
        }


def report_months(summary: BuildSummary) -> list[date]:
    """The months whose reports a build refreshes: the latest two it rewrote (a full rebuild rewrites
    every month; older reports are rendered on demand with sohoa.kpi.report.render_report)."""
    return summary.months[-2:]


def today_in_vietnam(now: datetime | None = None) -> date:
    """The local date in Vietnam: the default build date B."""
    return (now or datetime.now(tz=VIETNAM)).astimezone(VIETNAM).date()


def build(
    settings: Settings,
    *,
    build_date: date | None = None,
    from_date: date | None = None,
    full: bool = False,
    reports: bool = True,
    report: Callable[[str], None] | None = None,
) -> BuildSummary:
    """Build the KPI tables (what ``sohoa kpi build`` and the nightly DAG run) and, with ``reports``,
    write the HTML KPI reports of the months the build rewrote to the object store.

    Args:
        settings: where the database and the object store are.
        build_date: B, exclusive; the default is today in Vietnam.
        from_date: rebuild every day from this one (a range build); at or before the first receipt day, or
            with ``full``, the tables are rebuilt beside and swapped in.
        full: rebuild everything.
        reports: also render and store the KPI reports (sohoa.kpi.report).
        report: called with a line of progress now and then.
    """
    say = report or (lambda _m: None)

    # A plain connection, not sohoa.db.connect's `with conn:` block: build_on manages its own transaction.
    def connect() -> Connection:
        return psycopg2.connect(settings.dsn(), application_name="sohoa-kpi")

    conn = connect()
    try:
        summary = build_on(
            conn,
            connect=connect,
            build_date=build_date or today_in_vietnam(),
            from_date=from_date,
            full=full,
            report=say,
        )
    finally:
        conn.close()
    if reports and summary.months:
        from sohoa.kpi.report import write_reports

        keys = write_reports(settings, report_months(summary))
        say(f"{len(keys)} KPI report(s) written to s3://{settings.bucket_published}/")
        summary = BuildSummary(**{**summary.__dict__, "reports": keys})
    return summary


def build_on(
    conn: Connection,
    *,
    connect: Callable[[], Connection],
    build_date: date,
    from_date: date | None = None,
    full: bool = False,
    report: Callable[[str], None] | None = None,
) -> BuildSummary:
    """Build on an open connection that is not inside a ``with conn:`` block (the build manages its own
    transaction; the connection is left in autocommit mode); see :func:`build`. ``connect`` opens further
    connections to the same database: a full build runs its steps in several at once (:mod:`sohoa.kpi.lanes`)."""
    say = report or (lambda _m: None)
    if from_date is not None and from_date >= build_date:
        raise KpiBuildError(f"--from {from_date} must be before --to {build_date} (the build date is exclusive)")
    started = time.monotonic()
    started_at = datetime.now(tz=VIETNAM)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
    kind = "full"
    try:
        _drop_beside(conn)
        conn.set_session(isolation_level=psycopg2.extensions.ISOLATION_LEVEL_REPEATABLE_READ, autocommit=False)
        try:
            with conn.cursor() as cur:
                _session_settings(cur)
                cur.execute("SELECT ngay_build FROM kpi.build_state")
                row = cur.fetchone()
                previous: date | None = row[0] if row else None
                first = _first_day(cur) if previous is not None and _has_facts(cur) else None
                kind = _kind(previous, first, from_date, full)
                if kind == "full":
                    # the lane that computes the facts sees exactly this transaction's snapshot
                    cur.execute("SELECT pg_export_snapshot()")
                    snapshot = _scalar_text(cur)
                    assert snapshot is not None  # a transaction always has a snapshot to export
                    _consume_changes(cur)
                    counts = _full(cur, Lanes(connect, _session_settings), snapshot, build_date, say)
                else:
                    _calendar(cur)
                    _consume_changes(cur)
                    assert previous is not None
                    counts = _incremental(cur, build_date, previous, from_date, say)
                _remember_inputs(cur, build_date)
                seconds = time.monotonic() - started
                summary = BuildSummary(
                    kind,
                    build_date,
                    counts.first_day,
                    counts.dossiers,
                    counts.daily,
                    counts.indicator,
                    seconds,
                    counts.months,
                )
                _log(cur, started_at, summary, "ok", None)
            conn.commit()
        except BaseException as exc:
            conn.rollback()
            _log_failure(conn, started_at, kind, build_date, time.monotonic() - started, exc)
            if kind == "full":
                with contextlib.suppress(psycopg2.Error):
                    _drop_beside(conn)
            raise
    finally:
        if conn.get_transaction_status() != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
            conn.rollback()
        conn.set_session(isolation_level=psycopg2.extensions.ISOLATION_LEVEL_DEFAULT, autocommit=True)
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
    log.info(
        "KPI %s build to %s: %d dossier(s) refreshed, %d daily row(s), %d indicator row(s) in %.1f s",
        summary.kind,
        build_date,
        summary.dossiers_refreshed,
        summary.daily_rows,
        summary.indicator_rows,
        summary.seconds,
    )
    return summary


@dataclass
class _Counts:
    first_day: date | None = None
    dossiers: int = 0
    daily: int = 0
    indicator: int = 0
    months: list[date] = field(default_factory=list)


Cursor = psycopg2.extensions.cursor


def _session_settings(cur: Cursor) -> None:
    """The build's own settings, for its transaction only: the service's postgresql.conf stays as the DB
    admin set it (docs/kpi.md says what an admin may set instead)."""
    # The daily step sorts and aggregates millions of rows: with the default 4 MB they spill to disk.
    cur.execute("SET LOCAL work_mem = %s", (WORK_MEM,))
    # Index builds of the tables built beside (10M dossiers: the default 64 MB sorts on disk).
    cur.execute("SET LOCAL maintenance_work_mem = %s", (MAINTENANCE_WORK_MEM,))
    # JIT compiling these wide queries costs seconds (measured: 7 s of an 8 s nightly daily step).
    cur.execute("SET LOCAL jit = off")
    # The build's commit need not wait for its WAL flush: a crash before the flush loses the build, and
    # the previous tables (or the next build) stand, which is what a failed build does anyway.
    cur.execute("SET LOCAL synchronous_commit = off")


def _kind(previous: date | None, first: date | None, from_date: date | None, full: bool) -> str:
    if full or previous is None or first is None:
        return "full"
    if from_date is not None:
        return "full" if from_date <= first else "range"
    return "incremental"


def _first_day(cur: Cursor) -> date | None:
    """The first receipt day before the build date: the first day of the daily table (a dossier always has a
    row on its receipt day), through its day index."""
    cur.execute("SELECT min(ngay) FROM kpi.ngay_chi_tiet")
    return _scalar_date(cur)


def _has_facts(cur: Cursor) -> bool:
    """Whether the facts cache holds anything (emptied by a crash or a migration: the next build is full)."""
    cur.execute("SELECT EXISTS (SELECT 1 FROM kpi.ho_so)")
    return bool(_scalar(cur))


def _calendar(cur: Cursor) -> None:
    """Refresh ``kpi.lich``, the working-day calendar, from the holidays: ``stt`` numbers the working days,
    so the n-th working day after day d is the working day whose ``stt`` is ``stt(d) + n``."""
    cur.execute("DELETE FROM kpi.lich")
    cur.execute(
        """
        INSERT INTO kpi.lich (ngay, lam_viec, stt)
        SELECT ngay, lam_viec, sum(lam_viec::integer) OVER (ORDER BY ngay)::integer
        FROM (SELECT g::date AS ngay,
                     extract(isodow FROM g) < 6 AND NOT EXISTS (SELECT 1 FROM kpi.ngay_nghi n WHERE n.ngay = g::date)
                         AS lam_viec
              FROM generate_series(%s::timestamp, %s::timestamp, interval '1 day') g) d
        """,
        (CALENDAR_FROM, CALENDAR_TO),
    )
    cur.execute("ANALYZE kpi.lich")


def _consume_changes(cur: Cursor) -> None:
    """Take the change captures this build's snapshot sees; they are deleted when the build commits, and
    changes committed meanwhile stay for the next build."""
    cur.execute("CREATE TEMP TABLE da_doc ON COMMIT DROP AS SELECT id, ma_ho_so FROM kpi.thay_doi")
    cur.execute("DELETE FROM kpi.thay_doi t USING da_doc d WHERE t.id = d.id")


def _remember_inputs(cur: Cursor, build_date: date) -> None:
    """Keep the catalogue attributes and holidays this build used, and the build date."""
    cur.execute("DELETE FROM kpi.tthc_da_dung")
    cur.execute("""INSERT INTO kpi.tthc_da_dung
                   SELECT ma_tthc, thoi_han_giai_quyet, co_ket_qua_giay, toan_trinh FROM sohoa.procedure""")
    cur.execute("DELETE FROM kpi.ngay_nghi_da_dung")
    cur.execute("INSERT INTO kpi.ngay_nghi_da_dung SELECT ngay FROM kpi.ngay_nghi")
    cur.execute(
        """INSERT INTO kpi.build_state (id, ngay_build, phien_ban, built_at) VALUES (true, %s, %s, now())
           ON CONFLICT (id) DO UPDATE SET ngay_build = EXCLUDED.ngay_build, phien_ban = EXCLUDED.phien_ban,
                                          built_at = EXCLUDED.built_at""",
        (build_date, PHIEN_BAN),
    )


def _full(cur: Cursor, lanes: Lanes, snapshot: str, build_date: date, say: Callable[[str], None]) -> _Counts:
    """Build all four tables beside the live ones, in lanes (:mod:`sohoa.kpi.lanes`), then swap them in with
    the build's transaction ``cur``.

    The facts lane imports ``snapshot``, the build transaction's own, so the facts come from exactly the state
    whose change captures the build consumes; later lanes read only what earlier ones built. On 2 cores, the
    daily table is computed in two ranges of the series at once, each lane writing, summing per agency, indexing
    and attaching its partition; then the agency days and periods are computed from the lanes' sums while two
    lanes index the facts.
    """
    counts = _Counts()
    new = _NEW

    say("dossier facts")

    def facts(c: Cursor) -> tuple[int, date | None, list[daily_parts.Range]]:
        steps = _Steps("facts lane")
        # the working-day calendar of this snapshot's holidays, for the facts' counted deadlines
        _calendar(c)
        _number_series(c, "true")
        steps.done("calendar and series numbers")
        # CREATE TABLE AS, unlike INSERT ... SELECT, may run in parallel workers (PostgreSQL 15). The facts are
        # the incremental build's cache, rebuilt by every full build: unlogged (see migration 0014).
        c.execute(f"CREATE UNLOGGED TABLE {new['ho_so']} AS " + render("ho_so", dossiers="true"))
        rows = c.rowcount
        steps.done("facts")
        c.execute(f"ANALYZE {new['ho_so']}")
        steps.done("statistics")
        # the (agency, procedure) series, each over [its first receipt day, B), and their dossiers: read by a
        # query of its own, which may run in parallel workers (the same inside an INSERT never does)
        c.execute(
            f"""SELECT chuoi, count(*), min(d_nhan) FROM {new["ho_so"]} WHERE d_nhan < %s
                GROUP BY chuoi ORDER BY chuoi""",
            (build_date,),
        )
        series = c.fetchall()
        c.execute("DELETE FROM kpi.doan")
        c.execute(
            "INSERT INTO kpi.doan (id, tu, den) "
            "SELECT id, tu, %s::date FROM unnest(%s::integer[], %s::date[]) u(id, tu)",
            (build_date, [i for i, _, _ in series], [tu for _, _, tu in series]),
        )
        c.execute("ANALYZE kpi.doan")
        steps.done("segments")
        first = min((tu for _, _, tu in series), default=None)
        # the daily table, partitioned by series number: one partition per lane (sohoa.kpi.daily_parts)
        c.execute(
            f"CREATE TABLE {new['ngay_chi_tiet']} (LIKE kpi.ngay_chi_tiet INCLUDING DEFAULTS INCLUDING CONSTRAINTS) "
            "PARTITION BY RANGE (chuoi)"
        )
        for name in ("co_quan_ngay", "ky_co_quan"):
            c.execute(f"CREATE TABLE {new[name]} (LIKE kpi.{name} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
        # each daily lane's sums per (day, agency) of its own series, added up by the periods lane
        c.execute(f"CREATE UNLOGGED TABLE {_AGENCY_PARTS} (LIKE kpi.co_quan_ngay)")
        return rows, first, daily_parts.split([(i, n) for i, n, _ in series], _DAILY_LANES)

    [(counts.dossiers, first, ranges)] = lanes.run([facts], snapshot=snapshot)
    counts.first_day = first

    say("daily table")

    def daily(lane: int, r: daily_parts.Range) -> Callable[[Cursor], int]:
        def job(c: Cursor) -> int:
            # The planner reads the segment conditions (d_nhan < den AND d_het > tu) as selective and joins the
            # facts series by series through an index: millions of random heap reads. A full build's segments
            # cover every dossier, so one hash join over a sequential scan is right (10M: 121 s -> 96 s).
            c.execute("SET LOCAL enable_nestloop = off")
            # one process per lane: the lanes already fill the cores (CREATE TABLE AS and CREATE INDEX may plan
            # parallel workers)
            c.execute("SET LOCAL max_parallel_workers_per_gather = 0")
            c.execute("SET LOCAL max_parallel_maintenance_workers = 0")
            part = daily_parts.table(lane)
            steps = _Steps(f"daily lane {lane}")
            series = f"(SELECT * FROM kpi.doan WHERE {daily_parts.condition('id', r)})"
            c.execute(f"CREATE TABLE {part} AS " + render("ngay_chi_tiet", ho_so=new["ho_so"], doan=series))
            rows = int(c.rowcount)
            steps.done("rows")
            c.execute(f"INSERT INTO {_AGENCY_PARTS} " + render("co_quan_ngay", rows=_with_agency(part)))
            steps.done("agency sums")
            # the daily table's constraints (NOT NULL) and a CHECK of the range, verified in one scan, so that
            # attaching it needs none; then its key and index, which the parent's adopt in the keys stage
            name = part.removeprefix("kpi.")
            c.execute(
                "SELECT attname FROM pg_attribute WHERE attrelid = 'kpi.ngay_chi_tiet'::regclass AND attnum > 0 "
                "AND attnotnull AND NOT attisdropped ORDER BY attnum"
            )
            not_null = [f"ALTER {row[0]} SET NOT NULL" for row in c.fetchall()]
            c.execute(
                f"ALTER TABLE {part} {', '.join(not_null)}, "
                f"ADD CONSTRAINT {name}_khoang CHECK ({daily_parts.condition('chuoi', r)})"
            )
            steps.done("constraints")
            c.execute(f"ALTER TABLE {part} ADD CONSTRAINT {name}_pkey PRIMARY KEY ({_KEYS['ngay_chi_tiet']})")
            steps.done("key")
            for suffix, columns in _INDEXES["ngay_chi_tiet"].items():
                c.execute(f"CREATE INDEX {name}_{suffix} ON {part} ({columns})")
                steps.done(suffix)
            c.execute(f"ALTER TABLE {new['ngay_chi_tiet']} ATTACH PARTITION {part} FOR VALUES {daily_parts.bound(r)}")
            c.execute(f"ALTER TABLE {part} DROP CONSTRAINT {name}_khoang")
            steps.done("attached")
            return rows

        job.__name__ = f"daily_{lane}"
        return job

    rows = lanes.run([daily(lane, r) for lane, r in enumerate(ranges)])
    counts.daily = sum(rows)

    # The facts' key and indexes, beside the periods lane (which has one core's work): built beside the daily
    # lanes, they took a third of the cores from them for the whole time they ran.
    # (one process each: their parallel workers would take the cores from the periods lane, the longest)
    def facts_key(c: Cursor) -> None:
        c.execute("SET LOCAL max_parallel_maintenance_workers = 0")
        _key(c, "ho_so")
        # the daily table's statistics (its partitions', and the parent's over them), here rather than in the
        # keys stage, which runs alone
        c.execute(f"ANALYZE {new['ngay_chi_tiet']}")

    def facts_indexes(c: Cursor) -> None:
        c.execute("SET LOCAL max_parallel_maintenance_workers = 0")
        _indexes(c, "ho_so")
        c.execute(
            f"CREATE INDEX ho_so_moi_{_RECENT} ON {new['ho_so']} (d_nhan) WHERE d_nhan >= %s::date", (build_date,)
        )

    say("agency days and periods")

    def periods(c: Cursor) -> tuple[int, list[date]]:
        if first is None:  # no dossier received before B: the tables stay empty, with their indexes
            c.execute(f"DROP TABLE {_AGENCY_PARTS}")
            for name in ("co_quan_ngay", "ky_co_quan"):
                _key(c, name)
                _indexes(c, name)
            return 0, []
        c.execute("CREATE TEMP TABLE cq (ma_co_quan text, tu date, den date) ON COMMIT DROP")
        _period_tables(c)
        c.execute("INSERT INTO cq VALUES ('*', %s, %s)", (first, build_date))  # '*' every day
        # the agencies' days, added up from the daily lanes' sums, then '*'
        _agency_days(c, new["co_quan_ngay"], f"{_AGENCY_PARTS} d")
        c.execute(f"DROP TABLE {_AGENCY_PARTS}")
        _key(c, "co_quan_ngay")
        _indexes(c, "co_quan_ngay")
        c.execute(f"ANALYZE {new['co_quan_ngay']}")
        c.execute("INSERT INTO kv VALUES (NULL, %s, %s)", (first, build_date))
        _periods(c, build_date)
        c.execute(
            f"INSERT INTO {new['ky_co_quan']} "
            + render("ky_co_quan", cqn=new["co_quan_ngay"], agency_match="p.ma_co_quan IS NULL")
        )
        indicator_rows = INDICATORS_PER_ROW * int(c.rowcount)
        _key(c, "ky_co_quan")
        _indexes(c, "ky_co_quan")
        c.execute(f"ANALYZE {new['ky_co_quan']}")
        return indicator_rows, _months(c)

    (counts.indicator, counts.months), _, _ = lanes.run([periods, facts_key, facts_indexes])

    say("keys")

    def keys(c: Cursor) -> None:
        for name, table in new.items():
            if name == "ngay_chi_tiet":  # partitioned: its key and index adopt those of its partitions
                c.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name}_moi_pkey PRIMARY KEY ({_KEYS[name]})")
                _indexes(c, name)
                continue
            c.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name}_moi_pkey PRIMARY KEY USING INDEX {name}_moi_pkey")
        # (every table was analysed by an earlier lane)

    lanes.run([keys])

    say("swap")
    cur.execute(
        "SELECT relname, pg_get_viewdef(oid) FROM pg_class "
        "WHERE relnamespace = 'kpi'::regnamespace AND relname = ANY(%s)",
        (list(_VIEWS),),
    )
    views: dict[str, str] = dict(cur.fetchall())
    grants = _grants(cur, [*views, *new])
    # (the lanes' names: this transaction's snapshot, older than their commits, does not see the partitions)
    parts = [daily_parts.table(lane).removeprefix("kpi.") for lane in range(len(ranges))]
    for view in views:
        cur.execute(f"DROP VIEW kpi.{view}")
    for name, table in new.items():
        cur.execute(f"DROP TABLE kpi.{name}")  # with its partitions
        cur.execute(f"ALTER TABLE {table} RENAME TO {name}")
        for suffix in ["pkey", *_INDEXES[name], *([_RECENT] if name == "ho_so" else [])]:
            cur.execute(f"ALTER INDEX kpi.{name}_moi_{suffix} RENAME TO {name}_{suffix}")
    for part in parts:  # ngay_chi_tiet_moi_<lane> -> ngay_chi_tiet_<lane>, and their indexes
        live = part.replace("_moi_", "_", 1)
        cur.execute(f"ALTER TABLE kpi.{part} RENAME TO {live}")
        for suffix in ["pkey", *_INDEXES["ngay_chi_tiet"]]:
            cur.execute(f"ALTER INDEX kpi.{part}_{suffix} RENAME TO {live}_{suffix}")
    for view, definition in views.items():
        cur.execute(f"CREATE VIEW kpi.{view} AS {definition}")
    for grant in grants:
        cur.execute(grant)
    return counts


def _grants(cur: Cursor, names: list[str]) -> list[str]:
    """The GRANT statements that give the relations ``kpi.<name>`` built anew by a full build the privileges
    the ones they replace have (a reporting role's SELECT on ``kpi.indicator``, say), other than their owner's."""
    cur.execute(
        """SELECT format('GRANT %%s ON kpi.%%I TO %%s', a.privilege_type, c.relname,
                         CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(r.rolname) END)
           FROM pg_class c
           CROSS JOIN LATERAL aclexplode(c.relacl) a
           LEFT JOIN pg_roles r ON r.oid = a.grantee
           WHERE c.relnamespace = 'kpi'::regnamespace AND c.relname = ANY(%s) AND a.grantee <> c.relowner
           ORDER BY 1""",
        (names,),
    )
    return [row[0] for row in cur.fetchall()]


def _drop_beside(conn: Connection) -> None:
    """Drop the tables a full build builds beside the live ones (left by a build that failed or died), in a
    transaction of their own: lanes commit them, so the build's rollback does not remove them."""
    conn.autocommit = True
    with conn.cursor() as cur:
        # (the daily table with its partitions: a lane attaches its partition in the transaction that makes it)
        for table in [*_NEW.values(), _AGENCY_PARTS]:
            cur.execute(f"DROP TABLE IF EXISTS {table}")


class _Steps:
    """Logs how long each step of a lane took (at DEBUG: ``bench/kpi_bench.py`` shows them)."""

    def __init__(self, lane: str) -> None:
        self._lane = lane
        self._last = time.monotonic()

    def done(self, step: str) -> None:
        now = time.monotonic()
        log.debug("KPI %s: %s in %.1f s", self._lane, step, now - self._last)
        self._last = now


def _agency_days(cur: Cursor, target: str, rows: str) -> None:
    """Fill ``target`` for the (agency, day range)s of ``cq``: the agencies from ``rows`` (daily rows with
    their agency, aliased d: :data:`_CQ_DAILY_ROWS`, or a full build's sums of its lanes), then '*' from the
    agencies' rows (much smaller than the daily table)."""
    cur.execute(f"INSERT INTO {target} " + render("co_quan_ngay", rows=rows))
    cur.execute(f"INSERT INTO {target} " + render("tat_ca_ngay", cqn=target))


def _with_agency(daily: str) -> str:
    """Every row of the daily table ``daily`` with its agency, as co_quan_ngay.sql reads them."""
    return f"(SELECT x.*, c.ma_co_quan FROM {daily} x JOIN kpi.chuoi c ON c.id = x.chuoi) d"


# The daily rows of the (agency, day range)s of cq (an incremental build): every series of each agency, one
# range of the daily key (chuoi, ngay) each; OFFSET 0 keeps the range scans (flattened, the planner joined the
# whole daily table: 10M dossiers, 3.4 s instead of 0.4 s).
_CQ_DAILY_ROWS = (
    "(SELECT x.*, c.ma_co_quan FROM cq JOIN kpi.chuoi c ON c.ma_co_quan = cq.ma_co_quan "
    "CROSS JOIN LATERAL (SELECT * FROM kpi.ngay_chi_tiet y WHERE y.chuoi = c.id "
    "AND y.ngay >= cq.tu AND y.ngay < cq.den OFFSET 0) x WHERE cq.ma_co_quan <> '*') d"
)


def _number_series(cur: Cursor, dossiers: str) -> None:
    """Give the (agency, procedure) series of the dossiers ``dossiers`` (a condition on ``kpi.dau_vao x``) that
    have none their number in ``kpi.chuoi``, which the facts carry (numbers are never reused or changed).

    The series are read by a query of their own, which PostgreSQL may run in parallel workers (an
    ``INSERT ... SELECT`` never is: a full build's DISTINCT over every dossier took 2.4 s of one core at 10M),
    and come back as two arrays of a few thousand codes."""
    cur.execute(f"SELECT DISTINCT x.ma_co_quan, x.ma_tthc FROM kpi.dau_vao x WHERE ({dossiers})")
    pairs = cur.fetchall()
    if pairs:
        cur.execute(
            # (those numbered already are left out first: ON CONFLICT would draw a number for each all the same)
            """INSERT INTO kpi.chuoi (ma_co_quan, ma_tthc)
               SELECT a, p FROM unnest(%s::text[], %s::text[]) n(a, p)
               WHERE NOT EXISTS (SELECT 1 FROM kpi.chuoi c WHERE c.ma_co_quan = n.a AND c.ma_tthc = n.p)
               ORDER BY 1, 2 ON CONFLICT DO NOTHING""",
            ([a for a, _ in pairs], [p for _, p in pairs]),
        )


def _key(cur: Cursor, name: str) -> None:
    """The unique index that becomes the primary key of the table built beside (attached in the last stage)."""
    cur.execute(f"CREATE UNIQUE INDEX {name}_moi_pkey ON {_NEW[name]} ({_KEYS[name]})")


def _indexes(cur: Cursor, name: str) -> None:
    for suffix, columns in _INDEXES[name].items():
        cur.execute(f"CREATE INDEX {name}_moi_{suffix} ON {_NEW[name]} ({columns})")


def _periods(cur: Cursor, build_date: date) -> None:
    """Fill ``kt`` with every day, month, quarter and year that contains a day of a range of ``kv``
    (ma_co_quan, tu, den), for that agency (NULL: every agency and '*'); ``den_ngay`` is the period's
    natural end, or the build date for a period not yet ended."""
    cur.execute(
        """
        INSERT INTO kt (ky, tu_ngay, den_ngay, ma_co_quan)
        SELECT DISTINCT k.ky, k.tu, least(k.het, %(b)s::date), r.ma_co_quan
        FROM kv r
        CROSS JOIN LATERAL generate_series(r.tu::timestamp, (r.den - 1)::timestamp, interval '1 day') g
        CROSS JOIN LATERAL (VALUES
            ('ngay', g::date, g::date + 1),
            ('thang', date_trunc('month', g)::date, (date_trunc('month', g) + interval '1 month')::date),
            ('quy', date_trunc('quarter', g)::date, (date_trunc('quarter', g) + interval '3 months')::date),
            ('nam', date_trunc('year', g)::date, (date_trunc('year', g) + interval '1 year')::date)
        ) k(ky, tu, het)
        WHERE r.tu < r.den
        """,
        {"b": build_date},
    )


def _months(cur: Cursor) -> list[date]:
    cur.execute("SELECT DISTINCT tu_ngay FROM kt WHERE ky = 'thang' ORDER BY tu_ngay")
    return [r[0] for r in cur.fetchall()]


def _period_tables(cur: Cursor) -> None:
    cur.execute("CREATE TEMP TABLE kv (ma_co_quan text, tu date, den date) ON COMMIT DROP")
    cur.execute("CREATE TEMP TABLE kt (ky text, tu_ngay date, den_ngay date, ma_co_quan text) ON COMMIT DROP")


_PROCEDURE_CHANGES = """
    SELECT ma_tthc FROM (
        (SELECT ma_tthc, thoi_han_giai_quyet, co_ket_qua_giay, toan_trinh FROM sohoa.procedure
         EXCEPT SELECT ma_tthc, thoi_han_giai_quyet, co_ket_qua_giay, toan_trinh FROM kpi.tthc_da_dung)
        UNION ALL
        (SELECT ma_tthc, thoi_han_giai_quyet, co_ket_qua_giay, toan_trinh FROM kpi.tthc_da_dung
         EXCEPT SELECT ma_tthc, thoi_han_giai_quyet, co_ket_qua_giay, toan_trinh FROM sohoa.procedure)
    ) c
"""

# a fact row of the dossier doi.ma_ho_so, through the facts' key (khoa, ma_ho_so)
_BY_KEY = "h.khoa = kpi.khoa(doi.ma_ho_so) AND h.ma_ho_so = doi.ma_ho_so"

_HOLIDAY_CHANGES = """
    (SELECT ngay FROM kpi.ngay_nghi EXCEPT SELECT ngay FROM kpi.ngay_nghi_da_dung)
    UNION
    (SELECT ngay FROM kpi.ngay_nghi_da_dung EXCEPT SELECT ngay FROM kpi.ngay_nghi)
"""


def _incremental(
    cur: Cursor, build_date: date, previous: date, from_date: date | None, say: Callable[[str], None]
) -> _Counts:
    """Recompute, in place, what changed records, documents, catalogue or holidays touched, the new days,
    and (range build) every day from ``from_date``."""
    counts = _Counts()
    b = build_date
    say("changed dossiers")
    cur.execute("CREATE TEMP TABLE doi (ma_ho_so text PRIMARY KEY) ON COMMIT DROP")
    cur.execute("INSERT INTO doi SELECT DISTINCT ma_ho_so FROM da_doc")
    # A procedure whose deadline, paper-result or fully-online attribute changed touches all its dossiers.
    # (Asked first: the facts have no index on ma_tthc, and most nights no procedure changed.)
    cur.execute(_PROCEDURE_CHANGES)
    changed_procedures = [row[0] for row in cur.fetchall()]
    if changed_procedures:
        cur.execute(
            """INSERT INTO doi SELECT ma_ho_so FROM kpi.ho_so
               WHERE chuoi IN (SELECT id FROM kpi.chuoi WHERE ma_tthc = ANY(%s)) ON CONFLICT DO NOTHING""",
            (changed_procedures,),
        )
    # A holiday added or removed moves the counted deadline of the dossiers whose count crosses that day.
    cur.execute(f"""INSERT INTO doi SELECT h.ma_ho_so FROM kpi.ho_so h JOIN ({_HOLIDAY_CHANGES}) n
                    ON h.han_tu_lich AND h.d_nhan < n.ngay AND n.ngay <= h.d_han ON CONFLICT DO NOTHING""")
    cur.execute("SELECT count(*) FROM doi")
    counts.dossiers = _scalar(cur)
    cur.execute(f"CREATE TEMP TABLE cu ON COMMIT DROP AS SELECT h.* FROM kpi.ho_so h JOIN doi ON {_BY_KEY}")
    cur.execute(f"DELETE FROM kpi.ho_so h USING doi WHERE {_BY_KEY}")
    dossiers = "x.ma_ho_so IN (SELECT ma_ho_so FROM doi)"
    _number_series(cur, dossiers)
    cur.execute("INSERT INTO kpi.ho_so " + render("ho_so", dossiers=dossiers))

    say("touched days")
    cur.execute("CREATE TEMP TABLE seg0 (id integer, tu date, den date) ON COMMIT DROP")
    # Every day a changed dossier enters a count, in its old state and its new one.
    cur.execute("INSERT INTO seg0 SELECT chuoi, d_nhan, least(d_het, %s) FROM cu", (b,))
    cur.execute(f"INSERT INTO seg0 SELECT chuoi, d_nhan, least(d_het, %s) FROM kpi.ho_so h JOIN doi ON {_BY_KEY}", (b,))
    # The new days since the previous build date, and the days of a range build, for every series active on
    # them: with a dossier open at the end of the day before (the daily table's stock, as the previous build
    # left it: the dossiers changed since are in seg0 already), or received from that day on (received at or
    # after the previous build date, a dossier loaded before that build is not in its tables nor a change).
    # No index on the facts' finish day is needed for it (10M dossiers: 11 s of every full build).
    for start in [d for d in (previous if b > previous else None, from_date) if d is not None]:
        cur.execute(
            """INSERT INTO seg0 SELECT chuoi, %(s)s::date, %(b)s::date
                       FROM kpi.ngay_chi_tiet WHERE ngay = %(s)s::date - 1 AND dang_giai_quyet <> 0""",
            {"s": start, "b": b},
        )
        cur.execute(
            """INSERT INTO seg0 SELECT DISTINCT chuoi, %(s)s::date, %(b)s::date
                       FROM kpi.ho_so WHERE d_nhan >= %(s)s AND d_nhan < %(b)s""",
            {"s": start, "b": b},
        )
    if from_date is not None:
        cur.execute(
            """INSERT INTO seg0 SELECT DISTINCT chuoi, %(s)s::date, %(b)s::date
                       FROM kpi.ngay_chi_tiet WHERE ngay >= %(s)s""",
            {"s": from_date, "b": b},
        )
    cur.execute("DELETE FROM kpi.doan")
    cur.execute("""INSERT INTO kpi.doan (id, tu, den)
                   SELECT id, min(tu), max(den) FROM seg0 WHERE tu < den GROUP BY id""")
    cur.execute("ANALYZE kpi.doan")

    say("daily table")
    if b < previous:  # the tables hold the days before the build date only
        for table, column in (("ngay_chi_tiet", "ngay"), ("co_quan_ngay", "ngay"), ("ky_co_quan", "tu_ngay")):
            cur.execute(f"DELETE FROM kpi.{table} WHERE {column} >= %s", (b,))
    # The segments' daily rows and the touched series' facts through their keys (chuoi, ngay) and (chuoi, d_het):
    # the planner, which cannot tell how few rows a segment holds, would scan them all (10M dossiers, a nightly's
    # segments: deleting 85k daily rows took 5.6 s instead of 0.3 s, the recompute 2.8 s instead of 1.7 s).
    cur.execute("SET LOCAL enable_seqscan = off")
    cur.execute("""DELETE FROM kpi.ngay_chi_tiet d USING kpi.doan s
                   WHERE d.chuoi = s.id AND d.ngay >= s.tu AND d.ngay < s.den""")
    say("daily table: recompute")
    cur.execute("INSERT INTO kpi.ngay_chi_tiet " + render("ngay_chi_tiet", ho_so="kpi.ho_so", doan="kpi.doan"))
    counts.daily = cur.rowcount
    cur.execute("RESET enable_seqscan")

    say("daily table: first day")
    first = _first_day(cur)
    if first is None:
        for table in ("ngay_chi_tiet", "co_quan_ngay", "ky_co_quan"):
            cur.execute(f"DELETE FROM kpi.{table}")
        return counts
    cur.execute("DELETE FROM kpi.co_quan_ngay WHERE ngay < %s", (first,))
    cur.execute("DELETE FROM kpi.ky_co_quan WHERE tu_ngay < %s AND den_ngay <= %s", (first, first))

    say("agency days and periods")
    cur.execute(
        "CREATE TEMP TABLE cq ON COMMIT DROP AS SELECT c.ma_co_quan, min(s.tu) AS tu, max(s.den) AS den "
        "FROM kpi.doan s JOIN kpi.chuoi c ON c.id = s.id GROUP BY c.ma_co_quan"
    )
    # '*' over every touched day, and over the new days even if no dossier is active on them.
    cur.execute(
        """INSERT INTO cq SELECT '*', min(tu), max(den)
                   FROM (SELECT tu, den FROM kpi.doan UNION ALL SELECT %(p)s, %(b)s WHERE %(b)s > %(p)s) r""",
        {"p": previous, "b": b},
    )
    cur.execute("DELETE FROM cq WHERE tu IS NULL")
    cur.execute("UPDATE cq SET tu = greatest(tu, %s), den = least(den, %s)", (first, b))
    cur.execute("""DELETE FROM kpi.co_quan_ngay c USING cq
                   WHERE c.ma_co_quan = cq.ma_co_quan AND c.ngay >= cq.tu AND c.ngay < cq.den""")
    _agency_days(cur, "kpi.co_quan_ngay", _CQ_DAILY_ROWS)

    say("periods")
    _period_tables(cur)
    cur.execute("INSERT INTO kv SELECT ma_co_quan, tu, den FROM cq")
    # The periods not yet ended (their end moves with the build date) and those around the previous build
    # date, for every agency.
    cur.execute("INSERT INTO kv VALUES (NULL, greatest(%s, %s), %s)", (min(previous, b) - timedelta(days=1), first, b))
    _periods(cur, b)
    cur.execute("""DELETE FROM kt a USING kt n
                   WHERE a.ma_co_quan IS NOT NULL AND n.ma_co_quan IS NULL AND a.ky = n.ky AND a.tu_ngay = n.tu_ngay""")
    cur.execute("ANALYZE kt")
    cur.execute("""DELETE FROM kpi.ky_co_quan i USING kt
                   WHERE kt.ma_co_quan IS NULL AND i.ky = kt.ky AND i.tu_ngay = kt.tu_ngay""")
    cur.execute("""DELETE FROM kpi.ky_co_quan i USING kt
                   WHERE i.ky = kt.ky AND i.tu_ngay = kt.tu_ngay AND i.ma_co_quan = kt.ma_co_quan""")
    cur.execute(
        "INSERT INTO kpi.ky_co_quan "
        + render("ky_co_quan", cqn="kpi.co_quan_ngay", agency_match="p.ma_co_quan IS NULL")
    )
    counts.indicator = INDICATORS_PER_ROW * cur.rowcount
    cur.execute(
        "INSERT INTO kpi.ky_co_quan "
        + render("ky_co_quan", cqn="kpi.co_quan_ngay", agency_match="c.ma_co_quan = p.ma_co_quan")
    )
    counts.indicator += INDICATORS_PER_ROW * cur.rowcount
    cur.execute("SELECT min(tu) FROM kpi.doan")
    counts.first_day = _scalar_date(cur) or (previous if b > previous else None)
    counts.months = _months(cur)
    return counts


def _scalar(cur: Cursor) -> int:
    row = cur.fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _scalar_text(cur: Cursor) -> str | None:
    row = cur.fetchone()
    return str(row[0]) if row and row[0] is not None else None


def _scalar_date(cur: Cursor) -> date | None:
    row = cur.fetchone()
    return row[0] if row and row[0] is not None else None


def _log(cur: Cursor, started_at: datetime, s: BuildSummary, status: str, error: str | None) -> None:
    cur.execute(
        """INSERT INTO kpi.build_log (started_at, finished_at, kind, tu_ngay, den_ngay, phien_ban, ho_so_changed,
                                      daily_rows, indicator_rows, duration_s, status, error)
           VALUES (%s, now(), %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
        (
            started_at,
            s.kind,
            s.first_day,
            s.build_date,
            PHIEN_BAN,
            s.dossiers_refreshed,
            s.daily_rows,
            s.indicator_rows,
            round(s.seconds, 3),
            status,
            error,
        ),
    )


def _log_failure(
    conn: Connection, started_at: datetime, kind: str, build_date: date, seconds: float, exc: BaseException
) -> None:
    """Record a failed build in its own transaction; the message is the error's class and first line
    (database errors name tables and constraints, never dossier data)."""
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    detail = f"{type(exc).__name__}: {_QUOTED.sub('…', first_line)}"[:500]
    try:
        with conn.cursor() as cur:
            _log(cur, started_at, BuildSummary(kind, build_date, None, 0, 0, 0, seconds), "failed", detail)
        conn.commit()
    except psycopg2.Error:
        conn.rollback()
        log.warning("could not log the failed KPI build")
