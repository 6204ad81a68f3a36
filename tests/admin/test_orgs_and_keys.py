"""Organizations, projects and gateway keys through the admin API."""

from __future__ import annotations

import re

from tests.support import Gateway, OrgFixture, unique


def test_org_lifecycle_and_name_rules(gateway: Gateway) -> None:
    name = unique("acme")
    with gateway.api() as api:
        created = api.post("/orgs", json={"name": name})
        assert created.status_code == 201
        org = created.json()
        assert org["id"].startswith("org_")
        assert org["gateway_enabled"] is True
        assert api.post("/orgs", json={"name": name}).status_code == 409
        bad = api.post("/orgs", json={"name": "-bad name"})
        assert bad.status_code == 422
        assert bad.json()["error"]["fields"][0]["field"] == "name"
        patched = api.patch(f"/orgs/{name}", json={"gateway_enabled": False}).json()
        assert patched["gateway_enabled"] is False
        assert api.get(f"/orgs/{org['id']}").json()["gateway_enabled"] is False
        assert org["id"] in [o["id"] for o in api.get("/orgs").json()["data"]]
        assert api.get("/orgs/org_doesnotexist").status_code == 404


def test_projects_are_unique_within_an_org(gateway: Gateway, org: OrgFixture) -> None:
    with gateway.api() as api:
        duplicate = api.post(f"/orgs/{org.id}/projects", json={"name": "web"})
        assert duplicate.status_code == 409
        created = api.post(f"/orgs/{org.id}/projects", json={"name": "batch"})
        assert created.json()["id"].startswith("proj_")
        names = [p["name"] for p in api.get(f"/orgs/{org.id}/projects").json()["data"]]
    assert names == ["batch", "web"]


def test_new_key_is_shown_once_and_listed_by_prefix_only(gateway: Gateway, org: OrgFixture) -> None:
    with gateway.api() as api:
        response = api.post(f"/orgs/{org.id}/keys", json={"name": "ci", "role": "invoke", "project_id": org.project_id})
        assert response.status_code == 201
        created = response.json()
        key = created["key"]
        assert re.fullmatch(r"sk-sg-[0-9A-Za-z]{43}", key)
        assert created["prefix"] == key[:12]
        assert created["project_id"] == org.project_id
        listed = api.get(f"/orgs/{org.id}/keys")
    assert key not in listed.text
    row = next(k for k in listed.json()["data"] if k["id"] == created["id"])
    assert "key" not in row
    assert row["prefix"] == created["prefix"]
    assert row["revoked_at"] is None


def test_key_bound_to_a_project_of_another_org_is_refused(gateway: Gateway, org: OrgFixture) -> None:
    with gateway.api() as api:
        other = api.post("/orgs", json={"name": unique("other")}).json()
        response = api.post(
            f"/orgs/{other['id']}/keys", json={"name": "x", "role": "invoke", "project_id": org.project_id}
        )
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == "project_id"


def test_admin_keys_cannot_be_bound_to_a_project(gateway: Gateway, org: OrgFixture) -> None:
    with gateway.api() as api:
        response = api.post(f"/orgs/{org.id}/keys", json={"name": "x", "role": "admin", "project_id": org.project_id})
    assert response.status_code == 422
    [error] = response.json()["error"]["fields"]
    assert error["field"] == "project_id"
    assert "only invoke keys" in error["message"]


def test_renaming_onto_a_taken_name_does_not_say_whose_it_is(gateway: Gateway, org: OrgFixture) -> None:
    with gateway.api() as api:
        other = api.post("/orgs", json={"name": unique("other")}).json()
    with gateway.api(org.admin_key) as api:
        response = api.patch(f"/orgs/{org.id}", json={"name": other["name"]})
        assert response.status_code == 409
        assert "not available" in response.json()["error"]["message"]
        assert "organization" not in response.json()["error"]["message"]
        assert api.get(f"/orgs/{org.id}").json()["name"] == org.name


def test_key_role_must_be_admin_or_invoke(gateway: Gateway, org: OrgFixture) -> None:
    with gateway.api() as api:
        response = api.post(f"/orgs/{org.id}/keys", json={"name": "x", "role": "owner"})
    assert response.status_code == 422
    assert "'admin'" in response.json()["error"]["fields"][0]["message"]


def test_admin_key_use_sets_last_used_at(gateway: Gateway, org: OrgFixture) -> None:
    with gateway.api() as api:
        before = {k["name"]: k for k in api.get(f"/orgs/{org.id}/keys").json()["data"]}
    assert before["ops"]["last_used_at"] is None
    with gateway.api(org.admin_key) as api:
        api.get(f"/orgs/{org.id}")
    with gateway.api() as api:
        after = {k["name"]: k for k in api.get(f"/orgs/{org.id}/keys").json()["data"]}
    assert after["ops"]["last_used_at"] is not None
    assert after["app"]["last_used_at"] is None


def test_revoking_is_idempotent_and_audited(gateway: Gateway, org: OrgFixture) -> None:
    with gateway.api() as api:
        key = api.post(f"/orgs/{org.id}/keys", json={"name": "tmp", "role": "invoke"}).json()
        first = api.delete(f"/keys/{key['id']}").json()
        second = api.delete(f"/keys/{key['id']}").json()
        events = api.get(f"/orgs/{org.id}/audit").json()["data"]
    assert first["revoked_at"] is not None
    assert second["revoked_at"] == first["revoked_at"]
    assert [e["action"] for e in events if e["target_id"] == key["id"]] == ["key.revoke", "key.create"]
    assert key["key"] not in str(events)


def test_openapi_describes_the_admin_api(gateway: Gateway) -> None:
    with gateway.api(anonymous=True) as api:
        spec = api.get("/openapi.json").json()
    assert spec["servers"] == [{"url": "/api/v1"}]
    for path in [
        "/orgs",
        "/orgs/{org}/projects",
        "/orgs/{org}/keys",
        "/keys/{key_id}",
        "/orgs/{org}/providers",
        "/projects/{project}/providers",
        "/providers/{provider_id}",
        "/registry/azure",
        "/orgs/{org}/audit",
    ]:
        assert path in spec["paths"], path
    auth_schema = spec["components"]["schemas"]["AuthInput"]["properties"]
    assert set(auth_schema) >= {
        "method",
        "api_key",
        "tenant_id",
        "client_id",
        "client_secret",
        "scope",
        "subject_suffix",
        "authority_host",
    }
