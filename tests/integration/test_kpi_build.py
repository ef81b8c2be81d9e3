"""The KPI build against the real PostgreSQL and S3 server, records loaded through the real intake path.

What a provincial reporting officer checks: the April 2021 figures of a hand-computed fixture
(``kpi_fixture.py``, every edge case of kpi.md), that an incremental build gives exactly the rows of a full
one, that rebuilding changes nothing, that a failed build leaves the previous tables whole, and that every
build is logged.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import kpi_fixture as fx
import psycopg2
import pytest
from db_rows import rows as _query

from sohoa.config import Settings
from sohoa.intake import pipeline
from sohoa.kpi import build as kpi_build
from sohoa.kpi import report
from sohoa.sample.catalogues import agencies_csv, procedures_csv
from sohoa.sample.records import generate_records
from sohoa.storage import s3

pytestmark = pytest.mark.integration


def _put(settings: Settings, key: str, data: bytes) -> None:
    s3.put_bytes(s3.make_client(settings), settings.bucket_landing, key, data, "application/octet-stream")


def _load_april(settings: Settings) -> None:
    _put(settings, "catalogue/agencies.csv", fx.AGENCIES_CSV)
    _put(settings, "catalogue/procedures.csv", fx.PROCEDURES_CSV)
    _put(settings, "records/april.jsonl", fx.jsonl(fx.april_records()))
    pipeline.run_all(settings)


def _snapshot(settings: Settings) -> dict[str, list[tuple[Any, ...]]]:
    return {
        "daily": _query(settings, "SELECT * FROM kpi.dossier_daily ORDER BY ngay, ma_co_quan, ma_tthc"),
        "indicator": _query(settings, "SELECT * FROM kpi.indicator ORDER BY ky, tu_ngay, ma_co_quan, chi_so"),
    }


def _indicators(
    settings: Settings, agency: str, ky: str = "thang", tu: dt.date = dt.date(2021, 4, 1)
) -> dict[str, tuple[Any, ...]]:
    rows = _query(
        settings,
        "SELECT chi_so, tu_so, mau_so, ty_le, diem, den_ngay, phien_ban FROM kpi.indicator "
        "WHERE ky = %s AND tu_ngay = %s AND ma_co_quan = %s",
        ky,
        tu,
        agency,
    )
    return {r[0]: r[1:] for r in rows}


def _as_text(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


@pytest.fixture
def april(settings: Settings) -> Iterator[Settings]:
    _load_april(settings)
    kpi_build.build(settings, build_date=fx.BUILD_DATE, reports=False)
    return settings


def test_april_indicators_match_the_hand_computed_figures(april: Settings) -> None:
    got = _indicators(april, fx.AGENCY_A)
    assert set(got) == set(fx.EXPECTED_APRIL_A)
    for chi_so, (tu, mau, ty_le, diem) in fx.EXPECTED_APRIL_A.items():
        row = got[chi_so]
        assert (row[0], row[1], _as_text(row[2]), _as_text(row[3])) == (tu, mau, ty_le, diem), chi_so
        assert row[4] == dt.date(2021, 5, 1)
        assert row[5] == "766-2026.1"


def test_rounding_is_half_up_at_point_005(april: Settings) -> None:
    got = _indicators(april, fx.AGENCY_B2)
    for chi_so, (tu, mau, ty_le, diem) in fx.EXPECTED_APRIL_B2.items():
        row = got[chi_so]
        assert (row[0], row[1], _as_text(row[2]), _as_text(row[3])) == (tu, mau, ty_le, diem), chi_so
    assert round(3.125, 2) == 3.12  # what a float round would have published


def test_all_agencies_row_is_the_sum_of_the_agencies(april: Settings) -> None:
    star = _indicators(april, "*")
    a, b2 = _indicators(april, fx.AGENCY_A), _indicators(april, fx.AGENCY_B2)
    for chi_so in fx.EXPECTED_APRIL_A:
        assert star[chi_so][0] == a[chi_so][0] + b2[chi_so][0], chi_so
        assert star[chi_so][1] == a[chi_so][1] + b2[chi_so][1], chi_so
    assert star["TIEN_DO"][:2] == (6, 41)


def test_daily_flows_and_stocks_in_vietnam_time(april: Settings) -> None:
    rows = _query(
        april,
        """
        SELECT ngay, sum(tiep_nhan), sum(giai_quyet), sum(giai_quyet_truoc_han), sum(giai_quyet_dung_han),
               sum(giai_quyet_qua_han), sum(rut_ho_so), sum(dang_giai_quyet), sum(dang_giai_quyet_trong_han),
               sum(dang_giai_quyet_qua_han)
        FROM kpi.dossier_daily WHERE ma_co_quan = %s GROUP BY ngay""",
        fx.AGENCY_A,
    )
    by_day = {r[0]: tuple(int(v) for v in r[1:]) for r in rows}
    zero = (0,) * 9
    for day, flows in fx.EXPECTED_FLOWS_A.items():
        assert by_day.get(day, zero)[:6] == flows, day
    for day, stock in fx.EXPECTED_STOCK_A.items():
        assert by_day.get(day, zero)[6:] == stock, day
    # Only complete days before the build date, and the first day is the first receipt (Mar 25).
    assert min(by_day) == dt.date(2021, 3, 25)
    assert max(by_day) == dt.date(2021, 4, 30)
    channels = _query(
        april,
        "SELECT sum(tiep_nhan_truc_tiep), sum(tiep_nhan_truc_tuyen), sum(tiep_nhan_buu_chinh) "
        "FROM kpi.dossier_daily WHERE ma_co_quan = %s AND ngay >= '2021-04-01'",
        fx.AGENCY_A,
    )
    assert tuple(int(v) for v in channels[0]) == (3, 4, 1)  # D2 (channel null) D5 D6; D1 D3 D4 D5c; D5b


def test_periods_days_quarters_years_and_the_all_agencies_rows(april: Settings) -> None:
    day = _indicators(april, fx.AGENCY_A, "ngay", dt.date(2021, 4, 8))
    assert day["TY_LE_DUNG_HAN"][:2] == (2, 2)
    # 2021-04-21 (a holiday): no dossier of A enters any count except the open ones, '*' always has a row.
    assert _indicators(april, "*", "ngay", dt.date(2021, 4, 21))["TIEN_DO"][4] == dt.date(2021, 4, 22)
    quarter = _indicators(april, fx.AGENCY_A, "quy", dt.date(2021, 4, 1))
    assert quarter["TIEN_DO"][:2] == (5, 9)
    assert quarter["TIEN_DO"][4] == fx.BUILD_DATE
    year = _indicators(april, fx.AGENCY_A, "nam", dt.date(2021, 1, 1))
    assert year["TIEN_DO"][1] == 9  # the ten accepted dossiers of A received in 2021, less the withdrawn one
    march = _indicators(april, fx.AGENCY_A, "thang", dt.date(2021, 3, 1))
    assert march["TIEN_DO"][:2] == (2, 2)
    assert march["TIEN_DO"][4] == dt.date(2021, 4, 1)
    # B2 has no dossier in March: no row for it; '*' has one.
    assert _indicators(april, fx.AGENCY_B2, "thang", dt.date(2021, 3, 1)) == {}
    assert _indicators(april, "*", "thang", dt.date(2021, 3, 1))["TIEN_DO"][:2] == (2, 2)


def test_rebuilding_the_same_inputs_gives_the_same_rows(april: Settings) -> None:
    before = _snapshot(april)
    again = kpi_build.build(april, build_date=fx.BUILD_DATE, reports=False)
    assert again.kind == "incremental"
    assert again.dossiers_refreshed == 0
    assert _snapshot(april) == before
    kpi_build.build(april, build_date=fx.BUILD_DATE, full=True, reports=False)
    assert _snapshot(april) == before
    # the series keep their numbers, and rebuilding draws no new ones (the next series gets the next number)
    series = len(_query(april, "SELECT DISTINCT ma_co_quan, ma_tthc FROM kpi.dossier_daily"))
    assert _query(april, "SELECT count(*), max(id) FROM kpi.chuoi") == [(series, series)]
    assert _query(april, "SELECT last_value FROM pg_sequences WHERE sequencename = 'chuoi_id_seq'") == [(series,)]


def test_incremental_build_equals_a_full_build_after_changes(april: Settings) -> None:
    # Next night: D4 is answered and resolved, a new online dossier, a scan of D2's result,
    # and an operator adds a holiday that moves D5c's counted deadline.
    rows = [
        fx.record(
            fx.D4,
            "2021-04-12 08:00",
            status=10,
            KenhThucHien=2,
            NgayHenTra="2021-04-14 17:00",
            updated="2021-05-01 09:00",
            NgayKetThucXuLy="2021-05-01 08:00",
            DanhSachHoSoBoSung=[
                {"NgayBoSung": "2021-04-13T08:00:00+07:00", "NgayTiepNhanBoSung": "2021-04-30T08:00:00+07:00"}
            ],
        ),
        fx.record(
            fx.code(fx.AGENCY_A, "210501", 12), "2021-05-01 10:00", status=2, KenhThucHien=2, updated="2021-05-01 10:00"
        ),
    ]
    _put(april, "records/may-1.jsonl", fx.jsonl(rows))
    pipeline.run_all(april)
    _query(
        april,
        "INSERT INTO sohoa.original (sha256, raw_uri, size_bytes, mime_type) VALUES ('ab', 's3://raw/ab', 1, "
        "'application/pdf')",
    )
    _query(
        april,
        "INSERT INTO sohoa.document (ma_ho_so, loai, ten_giay_to, landing_key, sha256) "
        "VALUES (%s, 'ket_qua', 'kq.pdf', 'results/x/kq.pdf', 'ab')",
        fx.D2,
    )
    _query(april, "INSERT INTO kpi.ngay_nghi (ngay, ten) VALUES ('2021-04-28', 'ngày nghỉ thử')")
    try:
        summary = kpi_build.build(april, build_date=dt.date(2021, 5, 2), reports=False)
        assert summary.kind == "incremental"
        assert summary.dossiers_refreshed >= 4  # D4, the new one, D2 (scan), D5c (holiday)
        incremental = _snapshot(april)
        kpi_build.build(april, build_date=dt.date(2021, 5, 2), full=True, reports=False)
        assert _snapshot(april) == incremental
    finally:
        _query(april, "DELETE FROM kpi.ngay_nghi WHERE ngay = '2021-04-28'")
    got = _indicators(april, fx.AGENCY_A)
    assert got["KET_QUA_DIEN_TU"][:2] == (2, 5)  # D2's result scan now counts
    # April's T stays May 1; D4 was open within deadline at T, and now D5c too (its deadline moved to May 4).
    assert got["TIEN_DO"][:2] == (6, 9)
    may = _indicators(april, fx.AGENCY_A, "thang", dt.date(2021, 5, 1))
    assert may["TIEN_DO"][4] == dt.date(2021, 5, 2)
    # D5c's counted deadline moved from Apr 29 to Apr 30: within deadline at the end of Apr 29 now.
    stock = _query(
        april,
        "SELECT sum(dang_giai_quyet_trong_han) FROM kpi.dossier_daily WHERE ma_co_quan = %s AND ngay = '2021-04-29'",
        fx.AGENCY_A,
    )
    assert stock[0][0] == 2


def test_a_changed_procedure_deadline_refreshes_its_dossiers(april: Settings) -> None:
    # An operator corrects a procedure's ThoiHanGiaiQuyet in the catalogue: the next nightly build must
    # re-count the deadlines of that procedure's dossiers (and only those), as a full build would.
    (ma_tthc, dossiers), *_ = _query(
        april,
        "SELECT c.ma_tthc, count(*) FROM kpi.ho_so h JOIN kpi.chuoi c ON c.id = h.chuoi GROUP BY c.ma_tthc "
        "ORDER BY count(*) FILTER (WHERE h.han_tu_lich) DESC, c.ma_tthc LIMIT 1",
    )
    before = _snapshot(april)
    _query(
        april, "UPDATE sohoa.procedure SET thoi_han_giai_quyet = thoi_han_giai_quyet + 3 WHERE ma_tthc = %s", ma_tthc
    )
    summary = kpi_build.build(april, build_date=fx.BUILD_DATE, reports=False)
    assert summary.kind == "incremental"
    assert summary.dossiers_refreshed == dossiers
    incremental = _snapshot(april)
    assert incremental != before  # a longer counted deadline changes some stock or on-time figure
    kpi_build.build(april, build_date=fx.BUILD_DATE, full=True, reports=False)
    assert _snapshot(april) == incremental


def test_sample_batches_incremental_equals_full(settings: Settings) -> None:
    first = generate_records(150, seed=11, start=dt.date(2026, 1, 5), end=dt.date(2026, 3, 20))
    _put(settings, "catalogue/agencies.csv", agencies_csv())
    _put(settings, "catalogue/procedures.csv", procedures_csv())
    _put(settings, "records/1.jsonl", first.jsonl_bytes())
    pipeline.run_all(settings)
    kpi_build.build(settings, build_date=dt.date(2026, 3, 10), reports=False)
    second = generate_records(80, seed=12, start=dt.date(2026, 2, 1), end=dt.date(2026, 3, 25))
    _put(settings, "records/2.jsonl", second.jsonl_bytes())
    pipeline.run_all(settings)
    summary = kpi_build.build(settings, build_date=dt.date(2026, 3, 26), reports=False)
    assert summary.kind == "incremental"
    incremental = _snapshot(settings)
    assert incremental["daily"]
    assert incremental["indicator"]
    kpi_build.build(settings, build_date=dt.date(2026, 3, 26), full=True, reports=False)
    assert _snapshot(settings) == incremental
    # A range build over the last month, then going back a week, then forward again: same rows again.
    kpi_build.build(settings, build_date=dt.date(2026, 3, 26), from_date=dt.date(2026, 3, 1), reports=False)
    assert _snapshot(settings) == incremental
    kpi_build.build(settings, build_date=dt.date(2026, 3, 19), reports=False)
    assert max(r[0] for r in _snapshot(settings)["daily"]) <= dt.date(2026, 3, 18)
    kpi_build.build(settings, build_date=dt.date(2026, 3, 26), reports=False)
    assert _snapshot(settings) == incremental


def test_a_failed_build_leaves_the_previous_tables_and_is_logged(
    april: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _snapshot(april)
    real = kpi_build.render

    def failing(name: str, **names: str) -> str:
        if name == "ky_co_quan":
            raise RuntimeError("disk full")
        return real(name, **names)

    monkeypatch.setattr(kpi_build, "render", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        kpi_build.build(april, build_date=fx.BUILD_DATE, full=True, reports=False)
    assert _snapshot(april) == before
    # the tables the lanes built beside (and committed: the daily table's partitions, the sums per agency of
    # the daily lanes...) are gone with the failed build
    assert _query(april, "SELECT relname FROM pg_class WHERE relname LIKE %s", "%\\_moi%") == []
    log = _query(
        april,
        "SELECT kind, status, error, den_ngay, phien_ban, daily_rows, indicator_rows, duration_s "
        "FROM kpi.build_log ORDER BY id",
    )
    assert [r[:2] for r in log] == [("full", "ok"), ("full", "failed")]
    assert "disk full" in log[1][2]
    assert log[0][3] == fx.BUILD_DATE
    assert log[0][4] == "766-2026.1"
    assert log[0][5] > 0
    assert log[0][6] == _query(april, "SELECT count(*) FROM kpi.indicator")[0][0] > 0
    assert log[0][7] is not None


def test_a_record_landed_during_a_full_build_is_left_for_the_next_build(
    april: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The full build computes its facts on another connection (a lane) than the one that consumes the change
    # captures; both must see the same state, or a record committed in between would be lost to the KPIs.
    before = _snapshot(april)
    real = kpi_build.render
    landed: list[str] = []

    def land_then_render(name: str, **names: str) -> str:
        if name == "ho_so" and not landed:  # the facts lane has its snapshot; it has not read anything yet
            new = fx.record(
                fx.code(fx.AGENCY_A, "210430", 77), "2021-04-30 10:00", status=2, updated="2021-04-30 10:00"
            )
            _put(april, "records/during-the-build.jsonl", fx.jsonl([new]))
            pipeline.run_all(april)
            landed.append(name)
        return real(name, **names)

    monkeypatch.setattr(kpi_build, "render", land_then_render)
    kpi_build.build(april, build_date=fx.BUILD_DATE, full=True, reports=False)
    monkeypatch.undo()
    assert landed
    assert _snapshot(april) == before  # the build counted the state it started from
    summary = kpi_build.build(april, build_date=fx.BUILD_DATE, reports=False)
    assert summary.kind == "incremental"
    assert summary.dossiers_refreshed == 1  # the record that landed meanwhile
    after = _snapshot(april)
    assert after != before
    kpi_build.build(april, build_date=fx.BUILD_DATE, full=True, reports=False)
    assert _snapshot(april) == after


def test_a_full_build_before_any_receipt_leaves_empty_tables_with_their_keys(settings: Settings) -> None:
    _load_april(settings)  # every dossier is received in 2021
    summary = kpi_build.build(settings, build_date=dt.date(2020, 1, 1), full=True, reports=False)
    assert (summary.kind, summary.first_day, summary.daily_rows, summary.indicator_rows) == ("full", None, 0, 0)
    assert _snapshot(settings) == {"daily": [], "indicator": []}
    keys = _query(
        settings,
        "SELECT conrelid::regclass::text FROM pg_constraint WHERE contype = 'p' AND connamespace = 'kpi'::regnamespace "
        "AND conrelid::regclass::text IN ('kpi.ho_so', 'kpi.ngay_chi_tiet', 'kpi.co_quan_ngay', 'kpi.ky_co_quan') "
        "ORDER BY 1",
    )
    assert [k[0] for k in keys] == ["kpi.co_quan_ngay", "kpi.ho_so", "kpi.ky_co_quan", "kpi.ngay_chi_tiet"]


def test_to_before_from_is_refused(settings: Settings) -> None:
    with pytest.raises(kpi_build.KpiBuildError, match="must be before"):
        kpi_build.build(settings, build_date=dt.date(2021, 1, 1), from_date=dt.date(2021, 2, 1), reports=False)


def test_monthly_report_in_vietnamese_is_stored_in_the_object_store(settings: Settings) -> None:
    _load_april(settings)
    summary = kpi_build.build(settings, build_date=fx.BUILD_DATE)
    assert summary.months[-1] == dt.date(2021, 4, 1)
    assert "kpi/bao-cao/2021-04/000.00.32.H19.html" in summary.reports
    assert "kpi/bao-cao/2021-04/tat-ca.html" in summary.reports
    client = s3.make_client(settings)
    html = s3.get_bytes(client, settings.bucket_published, "kpi/bao-cao/2021-04/000.00.32.H19.html").decode()
    assert "Báo cáo chỉ số" in html
    assert "UBND huyện A" in html
    assert "Tháng 4/2021" in html
    assert "766-2026.1" in html
    assert "11,11/20" in html  # TIEN_DO points, the Vietnamese way
    assert "4/6" in html
    assert "đạt 66,67%" in html
    assert "<svg" in html
    assert fx.D1 not in html
    assert "-210405-" not in html
    conn = psycopg2.connect(settings.dsn())
    try:
        assert report.render_report(conn, dt.date(2021, 4, 1), "*") is not None
        assert report.render_report(conn, dt.date(2019, 4, 1), "*") is None
    finally:
        conn.close()


def test_cli_builds_and_reports_in_one_line_each(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from sohoa.cli.main import app
    from sohoa.config import get_settings

    _load_april(settings)
    env = {
        "SOHOA_DATABASE_URL": settings.dsn(),
        "SOHOA_S3_ENDPOINT": settings.s3_endpoint or "",
        "SOHOA_S3_ACCESS_KEY": settings.s3_access_key,
        "SOHOA_S3_SECRET_KEY": settings.s3_secret_key.get_secret_value(),
        "SOHOA_BUCKET_PUBLISHED": settings.bucket_published,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        done = runner.invoke(app, ["kpi", "build", "--to", "2021-05-01"])
        assert done.exit_code == 0, done.output
        said = " ".join(done.output.split())  # rich wraps long lines
        assert "KPI full build to 2021-05-01" in said
        assert "KPI report(s) in s3://" in said
        again = runner.invoke(app, ["kpi", "build", "--to", "2021-05-01", "--no-report"])
        assert again.exit_code == 0, again.output
        said = " ".join(again.output.split())
        assert "KPI incremental build" in said
        assert "0 dossier(s) refreshed" in said
        wrong = runner.invoke(app, ["kpi", "build", "--from", "2021-06-01", "--to", "2021-05-01"])
        assert wrong.exit_code == 2
        assert "must be before" in " ".join(wrong.output.split())
        assert "Traceback" not in wrong.output
    finally:
        get_settings.cache_clear()
    assert _query(settings, "SELECT count(*) FROM kpi.build_log WHERE status = 'ok'")[0][0] == 2


@contextmanager
def _database_before(pg_server: str, migration: str) -> Iterator[tuple[str, Callable[[], list[str]]]]:
    """A new database migrated up to (not including) ``migration``: its URL and a function that applies the
    remaining migrations and returns their ids; dropped at the end."""
    from yoyo import get_backend, read_migrations

    from sohoa.db.migrate import MIGRATIONS

    name = f"sohoa_upgrade_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(pg_server)
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        url = pg_server.rsplit("/", 1)[0] + "/" + name
        backend = get_backend(url)
        migrations = read_migrations(str(MIGRATIONS))
        with backend.lock():
            backend.apply_migrations(backend.to_apply(migrations.filter(lambda m: m.id < migration)))

        def upgrade() -> list[str]:
            with backend.lock():
                applied = backend.to_apply(migrations)
                backend.apply_migrations(applied)
            return [m.id for m in applied]

        yield url, upgrade
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_upgrading_to_the_period_counts_keeps_every_indicator_row(april: Settings, pg_server: str) -> None:
    # Migration 0018 replaces the table kpi.indicator by a view over kpi.ky_co_quan: a database built before it
    # must show the same rows, column types included, and go on with incremental builds from them.
    built = _query(april, "SELECT * FROM kpi.indicator ORDER BY ky, tu_ngay, ma_co_quan, chi_so")
    columns = (
        "SELECT column_name, data_type, numeric_precision, numeric_scale FROM information_schema.columns "
        "WHERE table_schema = 'kpi' AND table_name = 'indicator' ORDER BY ordinal_position"
    )
    with _database_before(pg_server, "0018") as (url, upgrade):
        old = psycopg2.connect(url)
        with old, old.cursor() as cur:
            cur.execute(columns)
            old_columns = cur.fetchall()
            cur.executemany(f"INSERT INTO kpi.indicator VALUES ({', '.join(['%s'] * len(built[0]))})", built)
        old.close()
        assert upgrade()[0].startswith("0018")
        new = psycopg2.connect(url)
        with new, new.cursor() as cur:
            cur.execute(columns)
            assert cur.fetchall() == old_columns
            cur.execute("SELECT * FROM kpi.indicator ORDER BY ky, tu_ngay, ma_co_quan, chi_so")
            assert cur.fetchall() == built
            cur.execute("SELECT relkind FROM pg_class WHERE oid = 'kpi.indicator'::regclass")
            assert cur.fetchone() == ("v",)
        new.close()


def test_a_full_build_keeps_the_privileges_granted_on_the_kpi_relations(april: Settings) -> None:
    # A province's reporting role reads kpi.indicator and kpi.dossier_daily; a full build replaces the tables
    # and views underneath, and must not take that away (nor give it anything more).
    role = f"bao_cao_{uuid.uuid4().hex[:8]}"
    _query(april, f'CREATE ROLE "{role}"')
    try:
        _query(april, f'GRANT SELECT ON kpi.indicator, kpi.dossier_daily TO "{role}"')
        kpi_build.build(april, build_date=fx.BUILD_DATE, full=True, reports=False)
        rights = _query(
            april,
            "SELECT has_table_privilege(%s, 'kpi.indicator', 'SELECT'), "
            "has_table_privilege(%s, 'kpi.dossier_daily', 'SELECT'), "
            "has_table_privilege(%s, 'kpi.ky_co_quan', 'SELECT'), "
            "has_table_privilege(%s, 'kpi.indicator', 'INSERT')",
            role,
            role,
            role,
            role,
        )
        assert rights == [(True, True, False, False)]
    finally:
        _query(april, f'DROP OWNED BY "{role}"')
        _query(april, f'DROP ROLE "{role}"')


def test_upgrading_to_series_numbers_keeps_every_daily_row(april: Settings, pg_server: str) -> None:
    # Migration 0020 keys the daily table by a series number (kpi.chuoi) instead of the two codes: a database
    # built before it must show the same kpi.dossier_daily, column types included, and its next build, finding
    # the facts cache emptied, must be a full one.
    built = _query(april, "SELECT * FROM kpi.dossier_daily ORDER BY ngay, ma_co_quan, ma_tthc")
    assert built
    # the rows as the table before 0020 held them: the codes, then every count (auxiliary ones included)
    counts = [
        r[0]
        for r in _query(
            april,
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'kpi' "
            "AND table_name = 'ngay_chi_tiet' AND column_name NOT IN ('ngay', 'chuoi') ORDER BY ordinal_position",
        )
    ]
    old_rows = _query(
        april,
        f"SELECT d.ngay, c.ma_co_quan, c.ma_tthc, {', '.join('d.' + n for n in counts)} "
        "FROM kpi.ngay_chi_tiet d JOIN kpi.chuoi c ON c.id = d.chuoi",
    )
    columns = (
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'kpi' AND table_name = 'dossier_daily' ORDER BY ordinal_position"
    )
    with _database_before(pg_server, "0020") as (url, upgrade):
        old = psycopg2.connect(url)
        with old, old.cursor() as cur:
            cur.execute(columns)
            old_columns = cur.fetchall()
            cur.executemany(f"INSERT INTO kpi.ngay_chi_tiet VALUES ({', '.join(['%s'] * len(old_rows[0]))})", old_rows)
        old.close()
        assert upgrade()[0].startswith("0020")
        new = psycopg2.connect(url)
        with new, new.cursor() as cur:
            cur.execute(columns)
            assert cur.fetchall() == old_columns
            cur.execute("SELECT * FROM kpi.dossier_daily ORDER BY ngay, ma_co_quan, ma_tthc")
            assert cur.fetchall() == built
            cur.execute("SELECT count(*) FROM kpi.ho_so")
            assert cur.fetchone() == (0,)
            assert not kpi_build._has_facts(cur)  # so the next build is a full one
        new.close()


def test_partitioning_the_daily_table_keeps_its_rows_key_and_privileges(april: Settings, pg_server: str) -> None:
    # Migration 0022 makes kpi.ngay_chi_tiet a table partitioned by series number: a database built before it
    # must show the same kpi.dossier_daily, keep its key, and a reporting role must still read the view.
    built = _query(april, "SELECT * FROM kpi.dossier_daily ORDER BY ngay, ma_co_quan, ma_tthc")
    series = _query(april, "SELECT id, ma_co_quan, ma_tthc FROM kpi.chuoi")
    daily = _query(april, "SELECT * FROM kpi.ngay_chi_tiet")
    role = f"bao_cao_{uuid.uuid4().hex[:8]}"
    with _database_before(pg_server, "0022") as (url, upgrade):
        old = psycopg2.connect(url)
        with old, old.cursor() as cur:
            cur.execute(f'CREATE ROLE "{role}"')
            cur.execute(f'GRANT SELECT ON kpi.dossier_daily TO "{role}"')
            cur.executemany("INSERT INTO kpi.chuoi (id, ma_co_quan, ma_tthc) VALUES (%s, %s, %s)", series)
            cur.executemany(f"INSERT INTO kpi.ngay_chi_tiet VALUES ({', '.join(['%s'] * len(daily[0]))})", daily)
        old.close()
        try:
            assert upgrade()[0].startswith("0022")
            new = psycopg2.connect(url)
            with new, new.cursor() as cur:
                cur.execute("SELECT * FROM kpi.dossier_daily ORDER BY ngay, ma_co_quan, ma_tthc")
                assert cur.fetchall() == built
                cur.execute("SELECT relkind FROM pg_class WHERE oid = 'kpi.ngay_chi_tiet'::regclass")
                assert cur.fetchone() == ("p",)
                cur.execute(
                    "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid = 'kpi.ngay_chi_tiet'::regclass AND contype = 'p'"
                )
                assert cur.fetchone() == ("PRIMARY KEY (chuoi, ngay)",)
                cur.execute("SELECT has_table_privilege(%s, 'kpi.dossier_daily', 'SELECT')", (role,))
                assert cur.fetchone() == (True,)
                with pytest.raises(psycopg2.errors.UniqueViolation):
                    cur.execute(f"INSERT INTO kpi.ngay_chi_tiet VALUES ({', '.join(['%s'] * len(daily[0]))})", daily[0])
            new.close()
        finally:
            admin = psycopg2.connect(url)
            admin.autocommit = True
            with admin.cursor() as cur:
                cur.execute(f'DROP OWNED BY "{role}"')
                cur.execute(f'DROP ROLE "{role}"')
            admin.close()
