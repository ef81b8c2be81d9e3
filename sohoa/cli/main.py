"""The ``sohoa`` command (typer + rich). Each command is thin: it parses options and calls the core.

Errors a user can fix (a service that does not answer, a bad input file) end with a one-line message
and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from sohoa.cli.kpi import kpi_app
from sohoa.cli.portal import app as portal_app
from sohoa.cli.quality import quality_app, review_app
from sohoa.config import get_settings

app = typer.Typer(
    name="sohoa",
    help="sohoa: the data platform behind the '1 có' digitised-dossier programme.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
services_app = typer.Typer(
    help="Local services of the embedded default (PostgreSQL, S3, Airflow).", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
landing_app = typer.Typer(help="The landing bucket.", no_args_is_help=True)
app.add_typer(services_app, name="services")
app.add_typer(db_app, name="db")
app.add_typer(landing_app, name="landing")
app.add_typer(kpi_app, name="kpi")
app.add_typer(portal_app, name="portal")
app.add_typer(quality_app, name="quality")
app.add_typer(review_app, name="review")

console = Console(stderr=False)
err = Console(stderr=True)


def _fail(message: str, code: int = 1) -> None:
    err.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(code)


@app.callback()
def _main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log what happens.")] = False) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@services_app.command("up")
def services_up(
    no_airflow: Annotated[bool, typer.Option("--no-airflow", help="Start only PostgreSQL and S3.")] = False,
) -> None:
    """Start the local services (idempotent); returns when each one answers."""
    from sohoa.services import manager
    from sohoa.services.processes import ServiceError

    settings = get_settings()
    try:
        with console.status("starting services") as status:
            manager.up(settings, with_airflow=not no_airflow, with_portal=True, report=lambda m: status.update(m))
    except ServiceError as exc:
        _fail(str(exc))
    for state in manager.states(settings):
        mark = "[green]up[/green]" if state.running else "[yellow]not running[/yellow]"
        where = "embedded" if state.embedded else "configured"
        console.print(f"{state.name:<11} {mark}  {state.endpoint}  ({where})", highlight=False)


@services_app.command("down")
def services_down() -> None:
    """Stop exactly the local services that `services up` started."""
    from sohoa.services import manager

    stopped = manager.down(get_settings())
    console.print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))


@services_app.command("status")
def services_status(
    as_json: Annotated[bool, typer.Option("--json", help="Endpoints and local credentials as JSON.")] = False,
) -> None:
    """Show the services, their endpoints and whether they answer."""
    from sohoa.services import manager

    settings = get_settings()
    if as_json:
        console.out(json.dumps(manager.status_json(settings), indent=2), highlight=False)
        return
    for state in manager.states(settings):
        mark = "[green]up[/green]" if state.running else "[red]down[/red]"
        console.print(f"{state.name:<11} {mark}  {state.endpoint}", highlight=False)


@db_app.command("migrate")
def db_migrate() -> None:
    """Apply the SQL migrations of schemas/migrations (idempotent)."""
    import psycopg2

    from sohoa.db.migrate import migrate

    try:
        applied = migrate(get_settings().dsn())
    except psycopg2.OperationalError as exc:
        _fail(f"cannot reach the database: {str(exc).strip().splitlines()[0]}")
    console.print("applied: " + ", ".join(applied) if applied else "schema is up to date")


@landing_app.command("put")
def landing_put(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to upload.", exists=True)],
    prefix: Annotated[str, typer.Option(help="Key prefix, e.g. records/ or scans/<MaHoSo>/.")] = "",
) -> None:
    """Upload files or folders into the landing bucket, keeping relative paths under the prefix."""
    from sohoa.intake.upload import plan_upload, upload

    settings = get_settings()
    plan = plan_upload(paths, prefix)
    if not plan:
        _fail("nothing to upload")
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

    total = sum(p.stat().st_size for p, _ in plan)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        console=console,
        disable=not console.is_terminal,
    ) as progress:
        task = progress.add_task("uploading", total=total)
        for path, key in plan:
            upload(settings, path, key)
            progress.advance(task, path.stat().st_size)
            if not console.is_terminal:
                console.print(f"put s3://{settings.bucket_landing}/{key}", highlight=False)
    console.print(f"{len(plan)} file(s) uploaded to s3://{settings.bucket_landing}/")


@app.command("run")
def run(
    wait: Annotated[bool, typer.Option("--wait", help="Wait for the DAGs and print a summary.")] = False,
    timeout: Annotated[int, typer.Option(help="Seconds to wait at most.")] = 3600,
) -> None:
    """Trigger the ingestion DAGs over everything new in the landing bucket."""
    from sohoa.orchestration.airflow_client import AirflowError, run_chain, trigger_and_wait

    settings = get_settings()
    say = lambda m: console.print(m, highlight=False)  # noqa: E731
    try:
        if not wait:
            trigger_and_wait(settings, wait=False, timeout_s=timeout, report=say)
            return
        outcomes = run_chain(settings, timeout_s=timeout, report=say)
    except AirflowError as exc:
        _fail(str(exc))
    from sohoa.reporting.summary import print_summary

    print_summary(console, settings)
    bad = [o for o in outcomes if not o.succeeded]
    if bad:
        _fail(
            "; ".join(
                f"{o.dag_id} run {o.run_id} ended {o.state}, failed tasks: {', '.join(o.failed) or '?'}" for o in bad
            )
        )


@app.command("ocr")
def ocr(
    input_path: Annotated[Path, typer.Argument(metavar="INPUT", help="PDF, TIFF, JPEG or PNG.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    pdfa: Annotated[bool, typer.Option("--pdfa", help="Write searchable.pdf as PDF/A-2b (archives).")] = False,
) -> None:
    """OCR one file outside the pipeline: text.txt, searchable.pdf and pages.json in --out."""
    from ocr import OcrOptions, ocr_file
    from ocr.errors import OcrError

    if not input_path.is_file():
        _fail(f"{input_path}: no such file")
    try:
        with console.status(f"OCR {input_path.name}"):
            result = ocr_file(input_path, out, options=OcrOptions(pdfa=pdfa))
    except OcrError as exc:
        _fail(str(exc))
    confidence = f"{result.mean_confidence:.1f}" if result.mean_confidence is not None else "n/a (no text)"
    console.print(
        f"{input_path.name}: {len(result.pages)} page(s), mean confidence {confidence}; "
        f"wrote {out}/text.txt, searchable.pdf, pages.json",
        highlight=False,
    )
    for warning in result.warnings:
        console.print(f"warning: {warning}", highlight=False)


@app.command("reconcile")
def reconcile(
    fixity_sample: Annotated[int, typer.Option(help="Stored originals whose SHA-256 is re-computed.")] = 100,
    grace_minutes: Annotated[int, typer.Option(help="Age after which an uningested landing object is reported.")] = 60,
) -> None:
    """Compare the buckets with the database, repair what is safe, report the rest (what the nightly DAG runs)."""
    from datetime import timedelta

    from sohoa.intake.reconcile import reconcile as run

    with console.status("reconciling the buckets with the database"):
        report = run(get_settings(), fixity_sample=fixity_sample, grace=timedelta(minutes=grace_minutes))
    console.print(
        f"landing {report.landing_objects} object(s), raw {report.raw_objects}, originals on record "
        f"{report.originals}; fixity {report.fixity_checked} checked, {report.fixity_failed} failed",
        highlight=False,
    )
    console.print(f"repaired: {report.repaired or 'nothing'}; problems: {report.problems or 'none'}", highlight=False)
    if not report.clean:
        _fail("problems left for a person: see quality.issues")


@app.command("status")
def dossier_status(ma_ho_so: Annotated[str, typer.Argument(metavar="MaHoSo")]) -> None:
    """What sohoa knows about one dossier: record, documents, OCR, quality issues."""
    from sohoa.reporting.dossier import print_dossier

    if not print_dossier(console, get_settings(), ma_ho_so):
        _fail(f"sohoa knows nothing of dossier {ma_ho_so}")


@app.command("demo")
def demo(
    dossiers: Annotated[int, typer.Option(help="Dossier records to generate.")] = 300,
    scans: Annotated[int, typer.Option(help="Dossiers that get scanned documents.")] = 6,
) -> None:
    """Services up, a generated sample batch, a full run through Airflow and a printed summary."""
    from sohoa.demo import run_demo

    code = run_demo(console, get_settings(), dossiers=dossiers, scanned_dossiers=scans)
    raise typer.Exit(code)


from sohoa.cli import publish as _publish_cli  # noqa: E402 - registered after the core commands

_publish_cli.register(app)

if __name__ == "__main__":  # pragma: no cover
    app()
