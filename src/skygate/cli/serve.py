"""`skygate serve`: migrate, then run the ASGI app under uvicorn."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from skygate.errors import SkygateError
from skygate.gateway.server_protocol import HTTP_PROTOCOL
from skygate.observability.logging import configure_logging
from skygate.services.master_keys import load_master_keys
from skygate.settings import Settings
from skygate.store.migrate import upgrade

__all__ = ["prepare", "serve"]

Host = Annotated[str, typer.Option(help="Interface to listen on.")]
Port = Annotated[int, typer.Option(help="TCP port.")]


def prepare(settings: Settings) -> None:
    """Once, before any worker starts: logging, master key file, migrations."""
    configure_logging(settings.log_level)
    try:
        load_master_keys(settings)
        upgrade(settings.effective_database_url)
    except SkygateError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc


def serve(
    host: Host = "127.0.0.1",
    port: Port = 8080,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    tls_cert: Annotated[Path | None, typer.Option(help="PEM certificate chain for HTTPS.")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="PEM private key for HTTPS.")] = None,
) -> None:
    """Run the gateway (admin API, and the data plane as it lands)."""
    if (tls_cert is None) != (tls_key is None):
        typer.echo("error: --tls-cert and --tls-key go together", err=True)
        raise typer.Exit(1)
    settings = Settings()
    prepare(settings)
    uvicorn.run(
        "skygate.app:create_app_from_env", factory=True, host=host, port=port, workers=workers,
        ssl_certfile=tls_cert, ssl_keyfile=tls_key, log_config=None, proxy_headers=False,
        access_log=settings.access_log, http=HTTP_PROTOCOL,
    )  # fmt: skip
