"""Which CAs upstream TLS trusts: the system's (certifi's) bundle plus SKYGATE_CA_BUNDLE, as one file for the
libraries (azure-identity's requests transport) that take a single path, or as an SSL context for the ones that
take a context (the data plane's client, the connection test's)."""

from __future__ import annotations

import ssl
from pathlib import Path

import certifi

from skygate.settings import Settings

__all__ = ["combined_ca_file", "upstream_tls_context"]


def upstream_tls_context(settings: Settings) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if settings.ca_bundle is not None:
        context.load_verify_locations(cafile=str(settings.ca_bundle))
    return context


def combined_ca_file(settings: Settings) -> str | None:
    """None means "the default trust store"; with an extra bundle, a file holding both (rewritten at start)."""
    if settings.ca_bundle is None:
        return None
    combined = settings.data_dir / "upstream-ca-bundle.pem"
    combined.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    combined.write_text(Path(certifi.where()).read_text() + "\n" + settings.ca_bundle.read_text())
    return str(combined)
