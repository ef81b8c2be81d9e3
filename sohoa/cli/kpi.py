"""``sohoa kpi build``: build the KPI tables (the nightly DAG runs the same code, sohoa.kpi.build).

``--to`` is the build date B of domain/kpi.md (exclusive: the tables hold the days before it; default
today in Vietnam). Without ``--from`` the build is incremental: only what changed since the last build,
plus the new days. ``--from`` rebuilds every day from that date (at or before the first receipt day, or
with ``--full``, everything is rebuilt beside the live tables and swapped in).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import typer
from rich.console import Console

from sohoa.config import get_settings

kpi_app = typer.Typer(help="KPI tables (Decision 766 indicators) and the monthly KPI reports.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        err.print(f"[red]error:[/red] {option} {value!r} is not a date YYYY-MM-DD", highlight=False)
        raise typer.Exit(2) from None


@kpi_app.command("build")
def build(
    from_: Annotated[str | None, typer.Option("--from", help="First day to rebuild (YYYY-MM-DD).")] = None,
    to: Annotated[str | None, typer.Option("--to", help="Build date B, exclusive (default: today, Vietnam).")] = None,
    full: Annotated[bool, typer.Option("--full", help="Rebuild everything, beside the live tables.")] = False,
    no_report: Annotated[bool, typer.Option("--no-report", help="Do not write the monthly HTML reports.")] = False,
) -> None:
    """Build kpi.dossier_daily and kpi.indicator (incremental by default) and the monthly KPI reports."""
    import psycopg2

    from sohoa.kpi.build import KpiBuildError, report_months, today_in_vietnam
    from sohoa.kpi.build import build as run_build
    from sohoa.kpi.report import write_reports

    build_date = _day(to, "--to") or today_in_vietnam()
    from_date = _day(from_, "--from")
    settings = get_settings()
    try:
        with console.status("KPI build") as status:
            summary = run_build(
                settings,
                build_date=build_date,
                from_date=from_date,
                full=full,
                reports=False,
                report=lambda m: status.update(f"KPI build: {m}"),
            )
    except KpiBuildError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None
    except psycopg2.OperationalError as exc:
        err.print(f"[red]error:[/red] cannot reach the database: {str(exc).strip().splitlines()[0]}", highlight=False)
        raise typer.Exit(1) from None
    first = summary.first_day.isoformat() if summary.first_day else "nothing changed"
    console.print(
        f"KPI {summary.kind} build to {summary.build_date} (exclusive), from {first}: "
        f"{summary.dossiers_refreshed} dossier(s) refreshed, {summary.daily_rows} daily row(s), "
        f"{summary.indicator_rows} indicator row(s) written in {summary.seconds:.1f} s",
        highlight=False,
    )
    if no_report or not summary.months:
        return
    try:
        with console.status("KPI reports"):
            keys = write_reports(settings, report_months(summary))
    except Exception as exc:  # the tables are built; say why the reports are not, in one line
        err.print(
            f"[red]error:[/red] KPI tables built, reports not written: {type(exc).__name__}: "
            f"{str(exc).strip().splitlines()[0] if str(exc).strip() else ''}",
            highlight=False,
        )
        raise typer.Exit(1) from None
    console.print(f"{len(keys)} KPI report(s) in s3://{settings.bucket_published}/kpi/bao-cao/", highlight=False)
