"""`skygate orgs|projects|keys …`: organizations, projects and gateway keys."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from skygate.cli.runner import cli_principal, emit, parse_input, run_service
from skygate.domain.inputs import KeyCreate, OrgCreate, OrgPatch, ProjectCreate
from skygate.services import keys, orgs
from skygate.services.workload_identity import setup_values

__all__ = ["keys_app", "orgs_app", "projects_app"]

orgs_app = typer.Typer(help="Organizations.", no_args_is_help=True)
projects_app = typer.Typer(help="Projects inside an organization.", no_args_is_help=True)
keys_app = typer.Typer(help="Gateway keys (sk-sg-…).", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _org_line(o: dict[str, Any]) -> str:
    return f"{o['id']}  {o['name']}  gateway_enabled={str(o['gateway_enabled']).lower()}"


def _lines(render: Any) -> Any:
    return lambda rows: "\n".join(render(r) for r in rows) or "(none)"


@orgs_app.command("create")
def create_org(
    name: str,
    gateway_enabled: Annotated[bool, typer.Option("--gateway-enabled/--no-gateway-enabled")] = True,
    as_json: JsonFlag = False,
) -> None:
    body = parse_input(OrgCreate, {"name": name, "gateway_enabled": gateway_enabled})
    org = run_service(lambda rt: orgs.create_org(rt, cli_principal(), body))
    emit(org.public(), as_json, _org_line)


@orgs_app.command("list")
def list_orgs(as_json: JsonFlag = False) -> None:
    rows = run_service(lambda rt: orgs.list_orgs(rt, cli_principal()))
    emit([o.public() for o in rows], as_json, _lines(_org_line))


@orgs_app.command("get")
def get_org(org: Annotated[str, typer.Argument(help="Organization id or name.")], as_json: JsonFlag = False) -> None:
    emit(run_service(lambda rt: orgs.get_org(rt, cli_principal(), org)).public(), as_json, _org_line)


@orgs_app.command("update")
def update_org(
    org: Annotated[str, typer.Argument(help="Organization id or name.")],
    name: Annotated[str | None, typer.Option(help="New name.")] = None,
    gateway_enabled: Annotated[bool | None, typer.Option("--gateway-enabled/--no-gateway-enabled")] = None,
    as_json: JsonFlag = False,
) -> None:
    changes = {k: v for k, v in {"name": name, "gateway_enabled": gateway_enabled}.items() if v is not None}
    patch = parse_input(OrgPatch, changes)
    emit(run_service(lambda rt: orgs.update_org(rt, cli_principal(), org, patch)).public(), as_json, _org_line)


@orgs_app.command("audit")
def audit(org: str, limit: int = 50, as_json: JsonFlag = False) -> None:
    """Who changed what in an organization, newest first."""
    rows = run_service(lambda rt: orgs.list_audit(rt, cli_principal(), org, limit))
    emit(
        [e.public() for e in rows],
        as_json,
        _lines(lambda e: f"{e['at']}  {e['actor']}  {e['action']}  {e['target_id']}  {e['details']}"),
    )


@orgs_app.command("workload-identity")
def workload_identity(
    org: str,
    subject_suffix: Annotated[str, typer.Option(help="The provider's auth.subject_suffix.")],
    as_json: JsonFlag = False,
) -> None:
    """The issuer, subject and audience for Entra's federated credential, and the az commands to set it up."""
    values = run_service(lambda rt: setup_values(rt, cli_principal(), org, subject_suffix))
    emit(
        values,
        as_json,
        lambda v: "\n".join(
            [
                f"issuer:   {v['issuer']}",
                f"subject:  {v['subject']}",
                f"audience: {v['audience']}",
                "",
                *v["az_commands"],
            ]
        ),
    )


def _project_line(p: dict[str, Any]) -> str:
    return f"{p['id']}  {p['name']}"


@projects_app.command("create")
def create_project(org: str, name: str, as_json: JsonFlag = False) -> None:
    body = parse_input(ProjectCreate, {"name": name})
    emit(
        run_service(lambda rt: orgs.create_project(rt, cli_principal(), org, body)).public(),
        as_json,
        _project_line,
    )


@projects_app.command("list")
def list_projects(org: str, as_json: JsonFlag = False) -> None:
    rows = run_service(lambda rt: orgs.list_projects(rt, cli_principal(), org))
    emit([p.public() for p in rows], as_json, _lines(_project_line))


def _key_line(k: dict[str, Any]) -> str:
    state = "revoked" if k["revoked_at"] else "active"
    return f"{k['id']}  {k['prefix']}…  {k['role']}  {k['name']}  {state}"


@keys_app.command("create")
def create_key(
    org: str,
    name: str,
    role: Annotated[str, typer.Option(help="admin (manage the org) or invoke (call models).")] = "invoke",
    project: Annotated[str | None, typer.Option(help="Bind the key to this project id.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a key. The full key is printed once and cannot be shown again."""
    body = parse_input(KeyCreate, {"name": name, "role": role, "project_id": project})
    record, token = run_service(lambda rt: keys.create_key(rt, cli_principal(), org, body))
    emit(record.public() | {"key": token}, as_json, lambda k: f"{_key_line(k)}\n{k['key']}")


@keys_app.command("list")
def list_keys(org: str, as_json: JsonFlag = False) -> None:
    rows = run_service(lambda rt: keys.list_keys(rt, cli_principal(), org))
    emit([k.public() for k in rows], as_json, _lines(_key_line))


@keys_app.command("revoke")
def revoke_key(key_id: str, as_json: JsonFlag = False) -> None:
    emit(run_service(lambda rt: keys.revoke_key(rt, cli_principal(), key_id)).public(), as_json, _key_line)
