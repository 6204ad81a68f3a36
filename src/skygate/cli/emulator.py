"""`skygate emulator`: the Azure + Entra emulator alone. The emulator package is imported here only, lazily:
the gateway itself never imports it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["emulator"]


def emulator(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8443,
    state: Annotated[Path | None, typer.Option(help="JSON file with tenants, apps, resources.")] = None,
    tls_cert: Annotated[Path | None, typer.Option(help="PEM certificate chain.")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="PEM private key.")] = None,
    tls_dir: Annotated[Path | None, typer.Option(help="Create (or reuse) a test CA and certificate here.")] = None,
    outbound_ca: Annotated[Path | None, typer.Option(help="CA bundle trusted when fetching issuer metadata.")] = None,
    allow_http_issuers: Annotated[bool, typer.Option(help="Accept http:// issuers (not real Entra).")] = False,
) -> None:
    """Run the Azure OpenAI / Foundry / Entra ID emulator over HTTPS."""
    import uvicorn

    from skygate.observability.logging import configure_logging
    from skygate_emulator import EmulatorOptions, create_emulator_app, load_state
    from skygate_emulator.tls import ensure_test_pki

    if tls_dir is not None and (tls_cert or tls_key):
        typer.echo("error: give either --tls-dir or --tls-cert with --tls-key", err=True)
        raise typer.Exit(1)
    if tls_dir is not None:
        pki = ensure_test_pki(tls_dir)
        tls_cert, tls_key, outbound_ca = pki.cert_file, pki.key_file, outbound_ca or pki.ca_file
        typer.echo(f"test CA: {pki.ca_file} (trust it in clients, e.g. SSL_CERT_FILE / REQUESTS_CA_BUNDLE)")
    if tls_cert is None or tls_key is None:
        typer.echo("error: the emulator serves HTTPS only: give --tls-dir DIR, or --tls-cert and --tls-key", err=True)
        raise typer.Exit(1)
    try:
        loaded = load_state(state)
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        typer.echo(f"error: --state {state}: {exc}", err=True)
        raise typer.Exit(1) from exc
    configure_logging("INFO")
    app, _ = create_emulator_app(loaded, EmulatorOptions(outbound_ca, allow_http_issuers))
    typer.echo(f"Azure emulator on https://{host}:{port}  (Entra authority: https://{host}:{port})")
    uvicorn.run(app, host=host, port=port, ssl_certfile=tls_cert, ssl_keyfile=tls_key, log_config=None)
