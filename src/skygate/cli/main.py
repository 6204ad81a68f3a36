"""The `skygate` command: wires the sub-commands together."""

from __future__ import annotations

import typer

from skygate.cli.admin import admin_app, db_app
from skygate.cli.demo import demo
from skygate.cli.emulator import emulator
from skygate.cli.orgs import keys_app, orgs_app, projects_app
from skygate.cli.providers import providers_app
from skygate.cli.serve import serve

__all__ = ["app", "run"]

app = typer.Typer(
    help="skygate: a self-hostable AI gateway for Azure AI Foundry and Azure OpenAI.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command()(serve)
app.command()(demo)
app.command()(emulator)
app.add_typer(admin_app, name="admin")
app.add_typer(db_app, name="db")
app.add_typer(orgs_app, name="orgs")
app.add_typer(projects_app, name="projects")
app.add_typer(keys_app, name="keys")
app.add_typer(providers_app, name="providers")


def run() -> None:
    app()
