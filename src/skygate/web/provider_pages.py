"""The AI providers page: organization and project providers, add, edit, delete, connection test, and the
two small JSON helpers the form's script uses (the normalised API base, the workload-identity setup values)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from skygate.domain.inputs import ProviderCreate, ProviderPatch
from skygate.domain.records import Org, Principal, Project, Provider
from skygate.errors import Conflict, Forbidden, NotFound, SkygateError, ValidationFailed
from skygate.gateway.connection_test import run_connection_test
from skygate.providers.azure.endpoints import EndpointError, normalise_api_base
from skygate.services import orgs, providers
from skygate.services.runtime import Runtime
from skygate.services.workload_identity import setup_values
from skygate.web.forms import MODEL_ROWS, errors_by_input, parse, provider_body, values_of
from skygate.web.render import PROVIDERS, problem, render, runtime, signed_in, submitted, to_login
from skygate.web.session import Session

__all__ = [
    "create_provider",
    "delete_provider",
    "edit_provider_page",
    "new_provider_page",
    "normalised_api_base",
    "providers_page",
    "test_provider",
    "update_provider",
    "workload_identity_values",
]


async def _org_view(rt: Runtime, principal: Principal, ref: str | None) -> dict[str, Any]:
    """The organization switcher's choices and the chosen organization with its projects."""
    visible = await orgs.list_orgs(rt, principal)
    chosen = next((o for o in visible if ref in (o.id, o.name)), visible[0] if visible else None)
    projects = await orgs.list_projects(rt, principal, chosen.id) if chosen else []
    return {"orgs": visible, "org": chosen, "projects": projects, "wi_blocked": _wi_blocked(rt, chosen)}


def _wi_blocked(rt: Runtime, org: Org | None) -> str | None:
    """Why workload identity cannot be chosen here, in the words of the rule (SPEC §2)."""
    if not rt.settings.has_public_issuer:
        return "needs this instance to be a public OIDC issuer: set SKYGATE_PUBLIC_URL to its https URL"
    if org is not None and not org.gateway_enabled:
        return "needs the organization's gateway to be enabled"
    return None


async def providers_page(request: Request) -> Response:
    signed = await signed_in(request)
    if signed is None:
        return to_login()
    session, principal = signed
    rt = runtime(request)
    view = await _org_view(rt, principal, request.query_params.get("org"))
    org_providers: list[tuple[Project | None, Provider]] = []
    project_providers: list[tuple[Project | None, Provider]] = []
    if view["org"] is not None:
        listed = await providers.list_providers(rt, principal, org_ref=view["org"].id)
        org_providers = [(None, p) for p in listed]
        chosen = request.query_params.get("project") or None
        for project in view["projects"]:
            if chosen in (None, project.id):
                in_project = await providers.list_providers(rt, principal, project_ref=project.id)
                project_providers += [(project, p) for p in in_project]
    return render("providers.html", csrf=session.csrf, principal=principal, org_providers=org_providers,
                  project_providers=project_providers, notice=request.query_params.get("notice"),
                  project=request.query_params.get("project", ""), **view)  # fmt: skip


def _form_page(
    session: Session, principal: Principal, view: dict[str, Any], values: dict[str, Any], **extra: Any
) -> HTMLResponse:
    rows = max(MODEL_ROWS, sum(1 for k in values if k.startswith("model_deployment_")) + 1)
    status = 422 if extra.get("errors") else 200
    extra.setdefault("errors", {})
    return render("provider_form.html", status, csrf=session.csrf, principal=principal, values=values,
                  model_rows=rows, **view, **extra)  # fmt: skip


async def new_provider_page(request: Request) -> Response:
    signed = await signed_in(request)
    if signed is None:
        return to_login()
    session, principal = signed
    view = await _org_view(runtime(request), principal, request.query_params.get("org"))
    values = {"auth_method": "api_key", "include_default_registry": "on", "owner": "org"}
    return _form_page(session, principal, view, values)


def _rule_errors(exc: SkygateError) -> dict[str, list[str]]:
    if isinstance(exc, ValidationFailed):
        return errors_by_input(exc.errors)
    if isinstance(exc, Conflict):
        return {"name": [str(exc)]}
    return {"owner": [str(exc)]}


def _typed(form: dict[str, str]) -> dict[str, str]:
    # Secrets are never sent back into the page: the user types them again.
    return {k: v for k, v in form.items() if k not in ("api_key", "client_secret", "csrf")}


async def create_provider(request: Request) -> Response:
    posted = await submitted(request)
    if isinstance(posted, Response):
        return posted
    session, principal, form = posted
    rt = runtime(request)
    view = await _org_view(rt, principal, form.get("org"))
    owner = form.get("owner", "org")
    try:
        body = parse(provider_body(form), ProviderCreate)
        if owner == "org":
            await providers.create_provider(rt, principal, body, org_ref=form.get("org", ""))
        else:
            await providers.create_provider(rt, principal, body, project_ref=owner)
    except (ValidationFailed, Conflict, NotFound, Forbidden) as exc:
        return _form_page(session, principal, view, _typed(form), errors=_rule_errors(exc))
    org = view["org"].id if view["org"] else ""
    return RedirectResponse(f"{PROVIDERS}?org={org}&notice=created", status_code=303)


async def _editing(
    request: Request, *, post: bool = False
) -> tuple[Session, Principal, Provider, dict[str, Any], dict[str, str]] | Response:
    """The provider in the URL for a signed-in user (and, for a post, the checked form)."""
    if post:
        posted = await submitted(request)
        if isinstance(posted, Response):
            return posted
        session, principal, form = posted
    else:
        signed = await signed_in(request)
        if signed is None:
            return to_login()
        (session, principal), form = signed, {}
    rt = runtime(request)
    try:
        provider = await providers.get_provider(rt, principal, request.path_params["provider_id"])
    except NotFound as exc:
        return problem(str(exc), 404)
    view = await _org_view(rt, principal, provider.org_id)
    return session, principal, provider, view, form


async def _setup(rt: Runtime, principal: Principal, provider: Provider) -> dict[str, Any] | None:
    auth = provider.config["auth"]
    if auth["method"] != "workload_identity":
        return None
    return await setup_values(rt, principal, provider.org_id, auth["subject_suffix"])


async def edit_provider_page(request: Request) -> Response:
    editing = await _editing(request)
    if isinstance(editing, Response):
        return editing
    session, principal, provider, view, _ = editing
    setup = await _setup(runtime(request), principal, provider)
    return _form_page(session, principal, view, values_of(provider), provider=provider, setup=setup)


async def update_provider(request: Request) -> Response:
    editing = await _editing(request, post=True)
    if isinstance(editing, Response):
        return editing
    session, principal, provider, view, form = editing
    rt = runtime(request)
    body = provider_body(form)
    body.pop("type")
    try:
        patch = parse(body, ProviderPatch)
        await providers.update_provider(rt, principal, provider.id, patch)
    except (ValidationFailed, Conflict, NotFound, Forbidden) as exc:
        values = _typed(form) | {"owner": provider.project_id or "org"}
        return _form_page(session, principal, view, values, provider=provider, errors=_rule_errors(exc))
    return RedirectResponse(f"{PROVIDERS}?org={provider.org_id}&notice=saved", status_code=303)


async def test_provider(request: Request) -> Response:
    editing = await _editing(request, post=True)
    if isinstance(editing, Response):
        return editing
    session, principal, provider, view, _ = editing
    rt, gateway = runtime(request), request.app.state.gateway
    report = await run_connection_test(rt, provider, gateway.client, gateway.snapshot.signing_keys)
    setup = await _setup(rt, principal, provider)
    return _form_page(session, principal, view, values_of(provider), provider=provider, setup=setup, test=report)


async def delete_provider(request: Request) -> Response:
    posted = await submitted(request)
    if isinstance(posted, Response):
        return posted
    _, principal, form = posted
    try:
        await providers.delete_provider(runtime(request), principal, request.path_params["provider_id"])
    except SkygateError as exc:
        return problem(str(exc), exc.status)
    return RedirectResponse(f"{PROVIDERS}?org={form.get('org', '')}&notice=deleted", status_code=303)


async def normalised_api_base(request: Request) -> Response:
    """What the gateway will call for a pasted endpoint, or the rule it breaks (shown as you type)."""
    if await signed_in(request) is None:
        return JSONResponse({"error": "sign in again"}, status_code=401)
    raw = request.query_params.get("api_base", "")
    try:
        return JSONResponse({"api_base": normalise_api_base(raw, runtime(request).settings.allowed_upstream_hosts)})
    except EndpointError as exc:
        return JSONResponse({"error": str(exc)})


async def workload_identity_values(request: Request) -> Response:
    signed = await signed_in(request)
    if signed is None:
        return JSONResponse({"error": "sign in again"}, status_code=401)
    params = request.query_params
    try:
        values = await setup_values(
            runtime(request), signed[1], params.get("org", ""), params.get("subject_suffix", "")
        )
    except SkygateError as exc:
        return JSONResponse({"error": str(exc)}, status_code=exc.status)
    return JSONResponse(values)
