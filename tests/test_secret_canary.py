"""Canaries: provider secrets stored through the API never appear in the database file, logs or responses."""

from __future__ import annotations

import secrets
import stat
from pathlib import Path

from skygate.observability.logging import redact
from tests.support import CLIENT, TENANT, azure_key_provider, make_org, make_settings, running_gateway


def _canary(tag: str) -> str:
    return f"CANARY{tag}{secrets.token_hex(16)}"


def test_secrets_never_leave_in_plaintext(tmp_path: Path) -> None:
    api_key, client_secret, rotated = _canary("KEY"), _canary("ENTRA"), _canary("ROTATED")
    settings = make_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'skygate.db'}")
    with running_gateway(settings) as gw:
        org = make_org(gw)
        entra = {
            "method": "entra_client_secret",
            "tenant_id": TENANT,
            "client_id": CLIENT,
            "client_secret": client_secret,
        }
        with gw.api() as api:
            key_provider = api.post(
                f"/orgs/{org.id}/providers", json=azure_key_provider(auth={"method": "api_key", "api_key": api_key})
            )
            assert key_provider.status_code == 201
            assert (
                api.post(f"/projects/{org.project_id}/providers", json=azure_key_provider(auth=entra)).status_code
                == 201
            )
            provider_id = key_provider.json()["id"]
            # Failures must not echo what was sent either.
            assert (
                api.post(
                    f"/orgs/{org.id}/providers",
                    json=azure_key_provider(api_base="http://nope", auth={"method": "api_key", "api_key": api_key}),
                ).status_code
                == 422
            )
            assert (
                api.post(
                    f"/orgs/{org.id}/providers",
                    json=azure_key_provider(auth={"method": "api_key", "api_key": api_key + " x"}),
                ).status_code
                == 422
            )
            assert (
                api.post(
                    f"/orgs/{org.id}/providers",
                    json=azure_key_provider(
                        auth={"method": "api_key", "api_key": 12345, "client_secret": client_secret}
                    ),
                ).status_code
                == 422
            )
            assert api.patch(f"/providers/{provider_id}", json={"auth": {"api_key": rotated}}).status_code == 200
            api.get(f"/providers/{provider_id}")
            api.get(f"/orgs/{org.id}/providers")
            api.get(f"/projects/{org.project_id}/providers")
            api.get(f"/orgs/{org.id}/audit")
        responses = list(gw.responses)
        logs = "\n".join(gw.logs.lines)

    assert len(responses) >= 10
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("skygate.db*"))
    assert len(stored) > 0
    for canary in (api_key, client_secret, rotated):
        for response in responses:
            assert canary not in response.text, response.request.url
            assert canary not in str(response.headers)
        assert canary not in logs
        assert canary.encode() not in stored
    key_file = tmp_path / "master.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_bytes().strip() not in stored


def test_log_redaction_masks_credential_shapes() -> None:
    line = redact(
        "auth Bearer abcdefghijklmnop key=sk-sg-0123456789abcdefABCDEF "
        "api-key: 9f8e7d6c5b4a client_secret=hunter2hunter2"
    )
    for leaked in ("abcdefghijklmnop", "sk-sg-0123456789", "9f8e7d6c5b4a", "hunter2hunter2"):
        assert leaked not in line
    assert line.count("[redacted]") == 4


def test_tracebacks_are_redacted_too() -> None:
    import logging

    from skygate.observability.logging import RedactingFilter

    try:
        raise ValueError("upstream said: Bearer abcdefghijklmnopqrstuvwxyz")
    except ValueError:
        import sys

        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    RedactingFilter().filter(record)
    formatted = logging.Formatter().format(record)
    assert "ValueError" in formatted
    assert "abcdefghijklmnopqrstuvwxyz" not in formatted
