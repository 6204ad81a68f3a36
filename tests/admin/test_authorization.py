"""Who may call what on /api/v1: instance admin, org admin keys (own org only), invoke keys (never)."""

from __future__ import annotations

import pytest

from tests.support import Gateway, OrgFixture, azure_key_provider, make_org, unique


def test_requests_without_credentials_get_401_with_a_hint(gateway: Gateway) -> None:
    with gateway.api(anonymous=True) as api:
        response = api.get("/orgs")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer" in response.json()["error"]["message"]


@pytest.mark.parametrize("token", ["nope", "sk-sg-" + "A" * 43, "sk-sgadmin-" + "B" * 43])
def test_unknown_tokens_get_401(gateway: Gateway, token: str) -> None:
    with gateway.api(token) as api:
        response = api.get("/orgs")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_only_the_instance_admin_creates_organizations(gateway: Gateway, org: OrgFixture) -> None:
    with gateway.api(org.admin_key) as api:
        response = api.post("/orgs", json={"name": unique("org")})
    assert response.status_code == 403
    with gateway.api() as api:
        assert api.post("/orgs", json={"name": unique("org")}).status_code == 201


def test_invoke_keys_are_refused_on_every_admin_route(gateway: Gateway, org: OrgFixture) -> None:
    with gateway.api(anonymous=True) as api:
        paths = api.get("/openapi.json").json()["paths"]
    values = {"org": org.id, "project": org.project_id, "provider_id": "prov_x", "key_id": "key_x"}
    routes = [(method.upper(), path.format(**values)) for path, ops in paths.items() for method in ops]
    assert len(routes) >= 15
    with gateway.api(org.invoke_key) as api:
        for method, path in routes:
            response = api.request(method, path, json={} if method in ("POST", "PATCH") else None)
            assert response.status_code == 403, (method, path)
            assert "invoke keys" in response.json()["error"]["message"]


def test_org_admin_key_manages_its_own_org(gateway: Gateway, org: OrgFixture) -> None:
    with gateway.api(org.admin_key) as api:
        assert api.get(f"/orgs/{org.id}").json()["name"] == org.name
        assert api.get(f"/orgs/{org.name}").json()["id"] == org.id
        assert [o["id"] for o in api.get("/orgs").json()["data"]] == [org.id]
        created = api.post(f"/orgs/{org.id}/providers", json=azure_key_provider())
        assert created.status_code == 201
        assert api.get(f"/providers/{created.json()['id']}").status_code == 200


def test_org_admin_key_sees_another_orgs_ids_as_404(gateway: Gateway, org: OrgFixture) -> None:
    other = make_org(gateway)
    with gateway.api() as api:
        provider = api.post(f"/orgs/{other.id}/providers", json=azure_key_provider()).json()
        key_id = api.get(f"/orgs/{other.id}/keys").json()["data"][0]["id"]
    attempts = [
        ("GET", f"/orgs/{other.id}", None),
        ("PATCH", f"/orgs/{other.id}", {"gateway_enabled": False}),
        ("GET", f"/orgs/{other.name}/projects", None),
        ("POST", f"/orgs/{other.id}/projects", {"name": "x"}),
        ("GET", f"/orgs/{other.id}/keys", None),
        ("POST", f"/orgs/{other.id}/keys", {"name": "x", "role": "admin"}),
        ("DELETE", f"/keys/{key_id}", None),
        ("GET", f"/orgs/{other.id}/providers", None),
        ("POST", f"/orgs/{other.id}/providers", azure_key_provider()),
        ("GET", f"/projects/{other.project_id}/providers", None),
        ("POST", f"/projects/{other.project_id}/providers", azure_key_provider()),
        ("GET", f"/providers/{provider['id']}", None),
        ("PATCH", f"/providers/{provider['id']}", {"include_default_registry": False}),
        ("DELETE", f"/providers/{provider['id']}", None),
        ("GET", f"/orgs/{other.id}/audit", None),
    ]
    with gateway.api(org.admin_key) as api:
        for method, path, body in attempts:
            response = api.request(method, path, json=body)
            assert response.status_code == 404, (method, path, response.text)
    with gateway.api() as api:
        # Nothing of the other org changed.
        assert api.get(f"/providers/{provider['id']}").json()["include_default_registry"] is True
        assert api.get(f"/orgs/{other.id}").json()["gateway_enabled"] is True
        assert all(k["revoked_at"] is None for k in api.get(f"/orgs/{other.id}/keys").json()["data"])


def test_revoked_admin_key_stops_working(gateway: Gateway, org: OrgFixture) -> None:
    with gateway.api() as api:
        created = api.post(f"/orgs/{org.id}/keys", json={"name": "temp", "role": "admin"}).json()
    with gateway.api(created["key"]) as api:
        assert api.get(f"/orgs/{org.id}").status_code == 200
        assert api.delete(f"/keys/{created['id']}").json()["revoked_at"] is not None
        response = api.get(f"/orgs/{org.id}")
    assert response.status_code == 401
    assert "revoked" in response.json()["error"]["message"]


def test_bootstrapped_admin_token_is_an_instance_admin(gateway: Gateway) -> None:
    """The token `skygate admin bootstrap` prints works like SKYGATE_ADMIN_TOKEN (checked via the CLI tests too)."""
    import asyncio

    from skygate.services.keys import create_admin_token
    from skygate.services.runtime import open_runtime

    async def mint() -> str:
        async with open_runtime(gateway.settings) as rt:
            return await create_admin_token(rt)

    token = asyncio.run(mint())
    assert token.startswith("sk-sgadmin-")
    with gateway.api(token) as api:
        created = api.post("/orgs", json={"name": unique("org")}).json()
        [event] = api.get(f"/orgs/{created['id']}/audit").json()["data"]
    # Each bootstrapped token is told apart in the audit log.
    assert event["actor"].startswith("admin-token:adm_")
