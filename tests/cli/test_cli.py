"""The skygate CLI: the same services as the API, JSON output, clear errors and non-zero exit codes."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from skygate.cli.main import app
from skygate.crypto import MasterKey
from skygate.services.master_keys import write_key_file
from tests.support import fresh_database, make_settings, running_gateway, skygate_executable, stored_secret

CANARY = "CANARYCLI" + "x7" * 16


class Cli:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.runner = CliRunner()

    def __call__(self, *args: str, ok: bool = True, extra_env: dict[str, str] | None = None) -> Any:
        result = self.runner.invoke(app, list(args), env=self.env | (extra_env or {}), catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output + result.stderr
            return json.loads(result.stdout) if "--json" in args else result.stdout
        assert result.exit_code != 0, result.output
        return result.stderr


@pytest.fixture
def cli(backend: str, tmp_path: Path) -> Iterator[Cli]:
    with fresh_database(backend, tmp_path) as url:
        yield Cli({"SKYGATE_DATA_DIR": str(tmp_path), "SKYGATE_DATABASE_URL": url, "SKYGATE_MASTER_KEY": ""})


def test_provider_create_read_update_delete(cli: Cli) -> None:
    org = cli("orgs", "create", "acme", "--json")
    assert org["name"] == "acme"
    cli("projects", "create", "acme", "web", "--json")
    created = cli(
        "providers",
        "create",
        "main",
        "--org",
        "acme",
        "--api-base",
        "https://r1.services.ai.azure.com/api/projects/p1",
        "--auth-method",
        "api_key",
        "--model",
        "claude-sonnet-4-5:messages:claude",
        "--json",
        extra_env={"SKYGATE_PROVIDER_API_KEY": CANARY},
    )
    assert created["api_base"] == "https://r1.services.ai.azure.com"
    assert created["auth"]["secret_preview"] == CANARY[-4:]
    assert created["models"][0] == {
        "deployment": "claude-sonnet-4-5",
        "api": "messages",
        "alias": "claude",
        "input_cost_per_mtok": None,
        "output_cost_per_mtok": None,
    }
    fetched = cli("providers", "get", created["id"], "--json")
    assert fetched == created
    updated = cli("providers", "update", created["id"], "--api-version", "2024-10-21", "--json")
    assert updated["api_version"] == "2024-10-21"
    assert updated["auth"]["secret_fingerprint"] == created["auth"]["secret_fingerprint"]
    listing = cli("providers", "list", "--org", "acme")
    assert created["id"] in listing
    assert "…" + CANARY[-4:] in listing
    assert cli("providers", "delete", created["id"], "--json") == {"id": created["id"], "deleted": True}
    assert "not found" in cli("providers", "get", created["id"], ok=False)
    everything = json.dumps([created, fetched, updated]) + listing
    assert CANARY not in everything


def test_provider_from_a_json_file_with_flags_overriding(cli: Cli, tmp_path: Path) -> None:
    cli("orgs", "create", "acme")
    body = {
        "name": "from-file",
        "type": "azure",
        "api_base": "https://c.openai.azure.com/openai/v1",
        "auth": {
            "method": "entra_client_secret",
            "tenant_id": "contoso.onmicrosoft.com",
            "client_id": "0b5e3a61-2d0c-4a39-9a3f-6f2b35d0c9a1",
            "client_secret": CANARY,
        },
    }
    path = tmp_path / "provider.json"
    path.write_text(json.dumps(body))
    created = cli(
        "providers", "create", "--org", "acme", "--from-file", str(path), "--scope", "api://custom/.default", "--json"
    )
    assert created["name"] == "from-file"
    assert created["api_base"] == "https://c.openai.azure.com"
    assert created["auth"]["scope"] == "api://custom/.default"


def test_invalid_input_exits_non_zero_naming_the_field(cli: Cli) -> None:
    cli("orgs", "create", "acme")
    err = cli(
        "providers",
        "create",
        "bad",
        "--org",
        "acme",
        "--api-base",
        "http://c.openai.azure.com",
        "--auth-method",
        "api_key",
        "--api-key",
        "k" * 20,
        "--tenant-id",
        "contoso.com",
        ok=False,
    )
    assert "api_base: must use https" in err
    assert "auth.tenant_id: is not used by auth method 'api_key'" in err
    assert "exactly one of --org" in cli(
        "providers", "create", "x", "--api-base", "https://c.openai.azure.com", ok=False
    )
    assert "already exists" in cli("orgs", "create", "acme", ok=False)
    assert "name:" in cli("orgs", "create", "no spaces allowed", ok=False)
    assert "DEPLOYMENT:API" in cli("providers", "create", "m", "--org", "acme", "--model", "justone", ok=False)
    assert cli("providers", "list", "--org", "acme", "--json") == []


def test_keys_and_bootstrap_work_against_the_running_api(cli: Cli, tmp_path: Path) -> None:
    boot = cli("admin", "bootstrap", "--org", "boot", "--json")
    assert boot["admin_token"].startswith("sk-sgadmin-")
    assert boot["org_admin_key"].startswith("sk-sg-")
    key = cli("keys", "create", "boot", "ci", "--role", "admin", "--json")
    assert key["key"] not in cli("keys", "list", "boot")
    settings = make_settings(tmp_path, cli.env["SKYGATE_DATABASE_URL"])
    with running_gateway(settings) as gw:
        with gw.api(boot["admin_token"]) as api:
            assert api.post("/orgs", json={"name": "via-api"}).status_code == 201
        with gw.api(key["key"]) as api:
            assert api.get("/orgs/boot").json()["id"] == boot["org"]["id"]
        revoked = cli("keys", "revoke", key["id"], "--json")
        assert revoked["revoked_at"] is not None
        with gw.api(key["key"]) as api:
            assert api.get("/orgs/boot").status_code == 401
    assert {o["name"] for o in cli("orgs", "list", "--json")} == {"boot", "via-api"}
    actions = [e["action"] for e in cli("orgs", "audit", "boot", "--json")]
    assert actions[:2] == ["key.revoke", "key.create"]


def test_rotating_the_master_key_keeps_secrets_and_keys_working(cli: Cli, tmp_path: Path) -> None:
    created = _keyed_provider(cli)
    key = cli("keys", "create", "acme", "ops", "--role", "admin", "--json")
    old_key_file = (tmp_path / "master.key").read_text()
    out = cli("admin", "rotate-master-key")
    assert "re-wrapped 2 sealed values" in out  # the provider secret and the key pepper
    assert (tmp_path / "master.key").read_text() != old_key_file
    assert not (tmp_path / "master.new").exists()
    settings = make_settings(tmp_path, cli.env["SKYGATE_DATABASE_URL"])
    assert stored_secret(settings, created["id"]) == CANARY
    with running_gateway(settings) as gw, gw.api(key["key"]) as api:
        assert api.get("/orgs/acme").status_code == 200
    # The old key no longer opens anything.
    stale = cli("orgs", "list", ok=False, extra_env={"SKYGATE_MASTER_KEY": old_key_file.strip()})
    assert "not configured" in stale or "does not open" in stale


def test_console_script_is_installed_and_fails_with_exit_code(tmp_path: Path) -> None:
    exe = skygate_executable()
    env = os.environ | {"SKYGATE_DATA_DIR": str(tmp_path), "SKYGATE_DATABASE_URL": ""}
    help_run = subprocess.run([exe, "--help"], capture_output=True, text=True, env=env, check=False)
    assert help_run.returncode == 0
    for command in ("serve", "demo", "admin", "orgs", "projects", "keys", "providers"):
        assert command in help_run.stdout
    missing = subprocess.run([exe, "orgs", "get", "nope"], capture_output=True, text=True, env=env, check=False)
    assert missing.returncode == 1
    assert "error: organization 'nope' not found" in missing.stderr


def _keyed_provider(cli: Cli, env: dict[str, str] | None = None) -> dict[str, Any]:
    cli("orgs", "create", "acme", extra_env=env)
    return cli(  # type: ignore[no-any-return]
        "providers",
        "create",
        "main",
        "--org",
        "acme",
        "--api-base",
        "https://c.openai.azure.com",
        "--auth-method",
        "api_key",
        "--api-key",
        CANARY,
        "--json",
        extra_env=env,
    )


def test_an_interrupted_rotation_still_opens_everything(cli: Cli, tmp_path: Path) -> None:
    """A crash between the rotation's commit and its rename leaves master.new beside master.key; both are read."""
    created = _keyed_provider(cli)
    new = MasterKey.generate()
    old_file = (tmp_path / "master.key").read_text()
    cli("admin", "rotate-master-key", extra_env={"SKYGATE_NEW_MASTER_KEY": new.encoded()})
    # Recreate the crash: the data is under the new key, the old key file is back and the new one is staged.
    (tmp_path / "master.key").write_text(old_file)
    write_key_file(tmp_path / "master.new", new, exclusive=True)
    settings = make_settings(tmp_path, cli.env["SKYGATE_DATABASE_URL"])
    assert stored_secret(settings, created["id"]) == CANARY
    assert "re-wrapped" in cli("admin", "rotate-master-key")
    assert not (tmp_path / "master.new").exists()
    assert stored_secret(settings, created["id"]) == CANARY


def test_a_key_list_lets_instances_roll_to_a_new_master_key(cli: Cli, tmp_path: Path) -> None:
    old, new = MasterKey.generate(), MasterKey.generate()
    env = {"SKYGATE_MASTER_KEY": old.encoded()}
    created = _keyed_provider(cli, env)
    rolling = {"SKYGATE_MASTER_KEY": f"{new.encoded()},{old.encoded()}"}
    assert cli("providers", "get", created["id"], "--json", extra_env=rolling)["id"] == created["id"]
    out = cli("admin", "rotate-master-key", extra_env=rolling | {"SKYGATE_NEW_MASTER_KEY": new.encoded()})
    assert "set SKYGATE_MASTER_KEY to the new key on every instance" in out
    only_new = make_settings(tmp_path, cli.env["SKYGATE_DATABASE_URL"], master_key=new.encoded())
    assert stored_secret(only_new, created["id"]) == CANARY
    assert "not configured" in cli("orgs", "list", ok=False, extra_env=env)


def test_signing_key_rotation_and_workload_identity_values_from_the_cli(cli: Cli) -> None:
    out = cli("admin", "rotate-signing-key", "--overlap-seconds", "0")
    assert "published 2 keys" in out
    cli("orgs", "create", "acme")
    values = cli(
        "orgs",
        "workload-identity",
        "acme",
        "--subject-suffix",
        "prod",
        "--json",
        extra_env={"SKYGATE_PUBLIC_URL": "https://gw.example.com"},
    )
    assert values["issuer"] == "https://gw.example.com"
    assert values["subject"].endswith(":azure:prod")
    assert "needs a public https issuer" in cli(
        "orgs", "workload-identity", "acme", "--subject-suffix", "prod", ok=False
    )
