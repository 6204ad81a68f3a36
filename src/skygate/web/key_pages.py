"""The keys page: the organization's gateway keys; create (the key is shown once) and revoke."""

from __future__ import annotations

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from skygate.domain.inputs import KeyCreate, describe_validation_errors
from skygate.domain.records import Principal
from skygate.errors import SkygateError, ValidationFailed
from skygate.services import keys, orgs
from skygate.services.runtime import Runtime
from skygate.web.forms import errors_by_input
from skygate.web.render import problem, render, runtime, signed_in, submitted, to_login
from skygate.web.session import Session

__all__ = ["create_key", "keys_page", "revoke_key"]


async def _page(
    rt: Runtime, session: Session, principal: Principal, org_ref: str | None, status: int = 200, **extra: object
) -> HTMLResponse:
    visible = await orgs.list_orgs(rt, principal)
    org = next((o for o in visible if org_ref in (o.id, o.name)), visible[0] if visible else None)
    projects = await orgs.list_projects(rt, principal, org.id) if org else []
    listed = await keys.list_keys(rt, principal, org.id) if org else []
    names = {p.id: p.name for p in projects}
    extra.setdefault("errors", {})
    extra.setdefault("values", {"role": "invoke"})
    return render("keys.html", status, csrf=session.csrf, principal=principal, orgs=visible, org=org,
                  projects=projects, keys=listed, project_names=names, **extra)  # fmt: skip


async def keys_page(request: Request) -> Response:
    signed = await signed_in(request)
    if signed is None:
        return to_login()
    return await _page(runtime(request), *signed, request.query_params.get("org"))


async def create_key(request: Request) -> Response:
    posted = await submitted(request)
    if isinstance(posted, Response):
        return posted
    session, principal, form = posted
    rt, org = runtime(request), form.get("org", "")
    body: dict[str, object] = {
        "name": form.get("name", "").strip(),
        "role": form.get("role", ""),
        "project_id": form.get("project") or None,
    }
    try:
        created, token = await keys.create_key(rt, principal, org, _parse(body))
    except ValidationFailed as exc:
        values = {k: v for k, v in form.items() if k != "csrf"}
        return await _page(rt, session, principal, org, 422, errors=errors_by_input(exc.errors), values=values)
    # The only time the key exists outside its hash: shown once, never stored or logged.
    return await _page(rt, session, principal, org, 201, new_key=token, new_key_name=created.name)


def _parse(body: dict[str, object]) -> KeyCreate:
    try:
        return KeyCreate.model_validate(body)
    except ValidationError as exc:
        errors = describe_validation_errors([dict(e) for e in exc.errors()])
        raise ValidationFailed(
            [e if e.field != "project_id" else type(e)("project", e.message) for e in errors]
        ) from exc


async def revoke_key(request: Request) -> Response:
    posted = await submitted(request)
    if isinstance(posted, Response):
        return posted
    _, principal, form = posted
    try:
        await keys.revoke_key(runtime(request), principal, request.path_params["key_id"])
    except SkygateError as exc:
        return problem(str(exc), exc.status)
    return RedirectResponse(f"/settings/keys?org={form.get('org', '')}", status_code=303)
