"""``sohoa portal``: serve the records officers' web portal; ``sohoa portal create-user``: add a user (the
first administrator, typically).

The password is asked for on the terminal (or read from ``SOHOA_PORTAL_NEW_PASSWORD`` for scripts), never
taken as a command-line argument, which other users of the machine could read in the process list.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.console import Console

from sohoa.config import get_settings

app = typer.Typer(help="The records officers' web portal.", invoke_without_command=True)
console = Console()
err = Console(stderr=True)


@app.callback()
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address (default SOHOA_PORTAL_HOST, 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default SOHOA_PORTAL_PORT, 18090).")] = None,
) -> None:
    """Serve the portal (until Ctrl-C). Run `sohoa portal create-user` first to have someone to sign in."""
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn

    from sohoa.portal import create_app
    from sohoa.portal.settings import PortalSettings

    portal_settings = PortalSettings()
    host = host or portal_settings.host
    port = port or portal_settings.port
    console.print(f"sohoa portal on http://{host}:{port}/", highlight=False)
    uvicorn.run(
        create_app(get_settings(), portal_settings),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        proxy_headers=True,
    )


@app.command("create-user")
def create_user(
    username: Annotated[str, typer.Argument(help="Sign-in name: 3-64 of A-Z a-z 0-9 . _ -")],
    role: Annotated[str, typer.Option(help="can_bo (officer), kiem_tra (reviewer) or quan_tri (admin).")] = "quan_tri",
    agency: Annotated[str | None, typer.Option(help="Agency code MaCoQuan (required for can_bo).")] = None,
    name: Annotated[str, typer.Option(help="Display name.")] = "",
) -> None:
    """Create a portal user; the password is prompted for (or SOHOA_PORTAL_NEW_PASSWORD)."""
    import psycopg2

    from sohoa.db.connection import connect
    from sohoa.db.migrate import migrate
    from sohoa.portal import audit, users
    from sohoa.portal.passwords import WeakPassword

    password = os.environ.get("SOHOA_PORTAL_NEW_PASSWORD") or typer.prompt(
        "password", hide_input=True, confirmation_prompt=True
    )
    settings = get_settings()
    try:
        migrate(settings.dsn())
        with connect(settings) as conn:
            user = users.create_user(conn, username, password, role, display_name=name, ma_co_quan=agency)
            audit.record(conn, None, "user.create", f"user:{user.id} role:{user.role} (command line)")
    except (users.UserError, WeakPassword) as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None
    except psycopg2.OperationalError as exc:
        err.print(f"[red]error:[/red] cannot reach the database: {str(exc).strip().splitlines()[0]}", highlight=False)
        raise typer.Exit(1) from None
    console.print(f"created user {user.username} (id {user.id}, role {user.role})", highlight=False)
