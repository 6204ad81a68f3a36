"""A test certificate authority and a loopback server certificate, made with trustme and kept in a folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import trustme

__all__ = ["TestPKI", "ensure_test_pki"]


@dataclass(frozen=True)
class TestPKI:
    ca_file: Path
    cert_file: Path  # the server certificate chain and its private key, in one PEM file
    key_file: Path


def ensure_test_pki(directory: Path) -> TestPKI:
    """Reuse the CA and certificate in `directory`, or create them (valid for 127.0.0.1, ::1 and localhost)."""
    directory.mkdir(parents=True, exist_ok=True)
    pki = TestPKI(directory / "ca.pem", directory / "server.pem", directory / "server.pem")
    if not (pki.ca_file.exists() and pki.cert_file.exists()):
        ca = trustme.CA(organization_name="skygate emulator test CA")
        cert = ca.issue_cert("127.0.0.1", "::1", "localhost", "*.localhost")
        ca.cert_pem.write_to_path(str(pki.ca_file))
        cert.private_key_and_cert_chain_pem.write_to_path(str(pki.cert_file))
    return pki
