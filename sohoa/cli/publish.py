"""``sohoa publish`` (a new snapshot of the "1 có" dataset) and ``sohoa api`` (the read API and its tokens).

Registered on the main app by :func:`register`. Errors a user can fix end with one line and exit 1.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from rich.console import Console

from sohoa.config import get_settings

console = Console()
err = Console(stderr=True)

api_app = typer.Typer(
    help="Serve the read API of the published dataset (SOHOA_API_HOST, SOHOA_API_PORT; default "
    "127.0.0.1:18091), or manage its tokens with `sohoa api token`.",
    invoke_without_command=True,
)
token_app = typer.Typer(help="Tokens of the read API.", no_args_is_help=True)
api_app.add_typer(token_app, name="token")


def _fail(message: str) -> None:
    err.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(1)


def publish(
    force: Annotated[bool, typer.Option("--force", help="Write a snapshot even if the data did not change.")] = False,
    keep: Annotated[
        int | None, typer.Option(help="Complete snapshots to keep (default SOHOA_PUBLISH_KEEP_SNAPSHOTS, 14).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Publish a new snapshot of the '1 có' dataset to the published bucket (the DAG runs the same code)."""
    import psycopg2
    from minio.error import S3Error

    from sohoa.publish.options import publish_options
    from sohoa.publish.snapshot import PublishError
    from sohoa.publish.snapshot import publish as run

    options = publish_options()
    if keep is not None:
        options = options.model_copy(update={"keep_snapshots": keep})
    try:
        with console.status("publishing") as status:
            # Progress: a spinner on a terminal, plain lines otherwise (on stderr with --json, so stdout
            # stays parseable).
            def report(message: str) -> None:
                if console.is_terminal and not as_json:
                    status.update(message)
                else:
                    (err if as_json else console).print(message, highlight=False)

            summary = run(get_settings(), force=force, options=options, report=report)
    except (PublishError, S3Error) as exc:
        _fail(str(exc))
    except psycopg2.OperationalError as exc:
        _fail(f"cannot reach the database: {str(exc).strip().splitlines()[0]}")
    if as_json:
        console.out(json.dumps(summary.as_dict(), indent=2), highlight=False)
        return
    settings = get_settings()
    if summary.status == "unchanged":
        console.print(f"unchanged since snapshot {summary.snapshot}: nothing written", highlight=False)
    else:
        console.print(
            f"published snapshot {summary.snapshot} (schema {summary.schema_version}) in {summary.seconds:.1f} s",
            highlight=False,
        )
        for f in summary.files:
            console.print(
                f"  s3://{settings.bucket_published}/{f.key}  {f.rows} rows  {f.bytes} bytes", highlight=False
            )
    if summary.deleted:
        console.print("retention deleted: " + ", ".join(summary.deleted), highlight=False)


@api_app.callback()
def api(ctx: typer.Context) -> None:
    """Serve the read API (SOHOA_API_HOST, SOHOA_API_PORT; default 127.0.0.1:18091) until interrupted."""
    if ctx.invoked_subcommand is not None:
        return
    from sohoa.api.app import serve
    from sohoa.publish.options import api_options

    options = api_options()
    console.print(f"sohoa read API on http://{options.host}:{options.port} (OpenAPI at /docs)", highlight=False)
    serve(get_settings(), options)


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Argument(help="Who or what uses the token, e.g. provincial-warehouse.")],
    agency: Annotated[
        list[str] | None, typer.Option("--agency", help="Limit to this agency code (MaCoQuan); repeat for several.")
    ] = None,
    days: Annotated[int | None, typer.Option(help="Expire after this many days.")] = None,
) -> None:
    """Create a token and print it once (only its hash is stored)."""
    from sohoa.api.tokens import TokenError, create_token
    from sohoa.db.connection import connect

    expires = datetime.now(UTC) + timedelta(days=days) if days else None
    try:
        with connect(get_settings()) as conn:
            token = create_token(conn, name, agencies=agency or None, expires_at=expires)
    except TokenError as exc:
        _fail(str(exc))
    err.print(f"token {name!r} created; it is shown this once, keep it in a secret store:", highlight=False)
    console.out(token)


@token_app.command("revoke")
def token_revoke(name: Annotated[str, typer.Argument(help="The token's name.")]) -> None:
    """Revoke a token at once."""
    from sohoa.api.tokens import revoke_token
    from sohoa.db.connection import connect

    with connect(get_settings()) as conn:
        if not revoke_token(conn, name):
            _fail(f"no active token named {name!r}")
    console.print(f"token {name!r} revoked", highlight=False)


@token_app.command("list")
def token_list() -> None:
    """The tokens (never their value): name, agencies, dates."""
    from sohoa.api.tokens import list_tokens
    from sohoa.db.connection import connect

    with connect(get_settings()) as conn:
        rows = list_tokens(conn)
    for name, agencies, created, expires, revoked, used in rows:
        state = "revoked" if revoked else ("expired" if expires and expires < datetime.now(UTC) else "active")
        console.print(
            f"{name:<30} {state:<8} agencies={','.join(agencies) if agencies else '*'} "
            f"created={created:%Y-%m-%d} last_used={used or '-'}",
            highlight=False,
        )


def register(app: typer.Typer) -> None:
    """Add ``publish`` and ``api`` to the ``sohoa`` command."""
    app.command("publish")(publish)
    app.add_typer(api_app, name="api")
