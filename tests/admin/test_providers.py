"""Provider lifecycle through the admin API: create, read without the secret, patch, delete."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.support import CLIENT, TENANT, Gateway, OrgFixture, azure_key_provider, stored_secret, unique

SECRET = "k" * 28 + "WXYZ"


def test_create_returns_both_api_base_values_and_no_secret(gateway: Gateway, org: OrgFixture) -> None:
    body = azure_key_provider(api_base="https://r1.services.ai.azure.com/api/projects/p1")
    with gateway.api() as api:
        response = api.post(f"/orgs/{org.id}/providers", json=body)
    assert response.status_code == 201
    created = response.json()
    assert created["id"].startswith("prov_")
    assert created["scope"] == "org"
    assert created["api_base"] == "https://r1.services.ai.azure.com"
    assert created["api_base_input"] == "https://r1.services.ai.azure.com/api/projects/p1"
    assert created["auth"]["method"] == "api_key"
    assert created["auth"]["secret_preview"] == "WXYZ"
    assert created["auth"]["secret_fingerprint"].startswith("hmac-sha256:")
    assert created["include_default_registry"] is True
    assert "api_key" not in created["auth"]
    assert SECRET not in response.text


def test_get_and_list_never_show_the_secret(gateway: Gateway, org: OrgFixture) -> None:
    with gateway.api() as api:
        created = api.post(f"/orgs/{org.id}/providers", json=azure_key_provider()).json()
        one = api.get(f"/providers/{created['id']}")
        listed = api.get(f"/orgs/{org.id}/providers")
    assert one.json() == created
    assert [p["id"] for p in listed.json()["data"]] == [created["id"]]
    assert SECRET not in one.text + listed.text


def test_patch_without_the_secret_keeps_it(gateway: Gateway, org: OrgFixture) -> None:
    with gateway.api() as api:
        created = api.post(f"/orgs/{org.id}/providers", json=azure_key_provider()).json()
        patched = api.patch(
            f"/providers/{created['id']}",
            json={
                "models": [{"deployment": "claude-sonnet-4-5", "api": "messages", "alias": "claude"}],
                "api_version": "2024-10-21",
            },
        )
    assert patched.status_code == 200, patched.text
    after = patched.json()
    assert after["auth"]["secret_fingerprint"] == created["auth"]["secret_fingerprint"]
    assert after["auth"]["secret_updated_at"] == created["auth"]["secret_updated_at"]
    assert after["models"][0]["alias"] == "claude"
    assert after["api_version"] == "2024-10-21"
    assert after["updated_at"] > created["updated_at"]


def test_patch_with_a_new_secret_replaces_it(gateway: Gateway, org: OrgFixture) -> None:
    with gateway.api() as api:
        created = api.post(f"/orgs/{org.id}/providers", json=azure_key_provider()).json()
        patched = api.patch(f"/providers/{created['id']}", json={"auth": {"api_key": "n" * 30 + "ABCD"}}).json()
    assert patched["auth"]["secret_preview"] == "ABCD"
    assert patched["auth"]["secret_fingerprint"] != created["auth"]["secret_fingerprint"]


def test_switching_auth_method_needs_the_new_methods_secret(gateway: Gateway, org: OrgFixture) -> None:
    with gateway.api() as api:
        created = api.post(f"/orgs/{org.id}/providers", json=azure_key_provider()).json()
        switch = {"auth": {"method": "entra_client_secret", "tenant_id": TENANT, "client_id": CLIENT}}
        refused = api.patch(f"/providers/{created['id']}", json=switch)
        assert refused.status_code == 422
        assert refused.json()["error"]["fields"][0]["field"] == "auth.client_secret"
        assert api.get(f"/providers/{created['id']}").json() == created
        switch["auth"]["client_secret"] = "c" * 36 + "QRST"
        switched = api.patch(f"/providers/{created['id']}", json=switch).json()
    assert switched["auth"]["method"] == "entra_client_secret"
    assert switched["auth"]["secret_preview"] == "QRST"
    assert switched["auth"]["scope"] == "https://cognitiveservices.azure.com/.default"


def test_switching_to_workload_identity_keeps_tenant_and_client_and_drops_the_secret(
    gateway: Gateway, org: OrgFixture
) -> None:
    entra = {"method": "entra_client_secret", "tenant_id": TENANT, "client_id": CLIENT, "client_secret": "c" * 40}
    with gateway.api() as api:
        created = api.post(f"/orgs/{org.id}/providers", json=azure_key_provider(auth=entra)).json()
        switched = api.patch(
            f"/providers/{created['id']}", json={"auth": {"method": "workload_identity", "subject_suffix": "prod"}}
        ).json()
    assert switched["auth"]["tenant_id"] == TENANT
    assert switched["auth"]["client_id"] == CLIENT
    assert switched["auth"]["secret_preview"] is None
    assert switched["auth"]["secret_fingerprint"] is None


def test_names_are_unique_per_scope(gateway: Gateway, org: OrgFixture) -> None:
    name = unique("main")
    with gateway.api() as api:
        assert api.post(f"/orgs/{org.id}/providers", json=azure_key_provider(name)).status_code == 201
        duplicate = api.post(f"/orgs/{org.id}/providers", json=azure_key_provider(name))
        assert duplicate.status_code == 409
        assert duplicate.json()["error"]["code"] == "conflict"
        assert name in duplicate.json()["error"]["message"]
        # The same name at project scope is an override, not a clash.
        override = api.post(f"/projects/{org.project_id}/providers", json=azure_key_provider(name))
        assert override.status_code == 201
        assert override.json()["scope"] == "project"
        assert override.json()["project_id"] == org.project_id
        assert [p["name"] for p in api.get(f"/projects/{org.project_id}/providers").json()["data"]] == [name]
        assert [p["name"] for p in api.get(f"/orgs/{org.id}/providers").json()["data"]] == [name]


def test_renaming_onto_an_existing_name_is_a_409(gateway: Gateway, org: OrgFixture) -> None:
    with gateway.api() as api:
        first = api.post(f"/orgs/{org.id}/providers", json=azure_key_provider()).json()
        second = api.post(f"/orgs/{org.id}/providers", json=azure_key_provider()).json()
        response = api.patch(f"/providers/{second['id']}", json={"name": first["name"]})
        assert response.status_code == 409
        assert api.get(f"/providers/{second['id']}").json()["name"] == second["name"]


def test_patch_validates_the_merged_result(gateway: Gateway, org: OrgFixture) -> None:
    with gateway.api() as api:
        created = api.post(f"/orgs/{org.id}/providers", json=azure_key_provider()).json()
        response = api.patch(f"/providers/{created['id']}", json={"auth": {"tenant_id": TENANT}})
        assert response.status_code == 422
        assert response.json()["error"]["fields"][0]["field"] == "auth.tenant_id"
        response = api.patch(f"/providers/{created['id']}", json={"api_base": "https://example.com"})
        assert response.status_code == 422
        assert api.get(f"/providers/{created['id']}").json() == created


def test_delete_removes_the_provider(gateway: Gateway, org: OrgFixture) -> None:
    with gateway.api() as api:
        created = api.post(f"/orgs/{org.id}/providers", json=azure_key_provider()).json()
        assert api.delete(f"/providers/{created['id']}").status_code == 204
        assert api.get(f"/providers/{created['id']}").status_code == 404
        assert api.delete(f"/providers/{created['id']}").status_code == 404


def test_changes_are_audited_without_secret_values(gateway: Gateway, org: OrgFixture) -> None:
    with gateway.api(org.admin_key) as api:
        created = api.post(f"/orgs/{org.id}/providers", json=azure_key_provider()).json()
        api.patch(f"/providers/{created['id']}", json={"auth": {"api_key": "z" * 32}, "api_version": "2024-10-21"})
        api.delete(f"/providers/{created['id']}")
        events = api.get(f"/orgs/{org.id}/audit").json()["data"]
    key_id = created["created_by"].removeprefix("key:")
    assert created["created_by"] == f"key:{key_id}"
    mine = [e for e in events if e["target_id"] == created["id"]]
    assert [e["action"] for e in mine] == ["provider.delete", "provider.update", "provider.create"]
    assert all(e["actor"] == f"key:{key_id}" for e in mine)
    assert mine[1]["details"]["changed"] == ["api_version", "auth.secret"]
    text = str(events)
    assert SECRET not in text
    assert "z" * 32 not in text


def test_patch_keeps_the_secret_itself_not_just_its_fingerprint(gateway: Gateway, org: OrgFixture) -> None:
    with gateway.api() as api:
        created = api.post(f"/orgs/{org.id}/providers", json=azure_key_provider()).json()
        api.patch(f"/providers/{created['id']}", json={"include_default_registry": False, "api_version": "2024-10-21"})
    assert stored_secret(gateway.settings, created["id"]) == SECRET


def test_a_kept_secret_does_not_follow_the_provider_to_a_new_destination(gateway: Gateway, org: OrgFixture) -> None:
    entra = {"method": "entra_client_secret", "tenant_id": TENANT, "client_id": CLIENT, "client_secret": "c" * 40}
    with gateway.api() as api:
        keyed = api.post(f"/orgs/{org.id}/providers", json=azure_key_provider()).json()
        moved = api.patch(f"/providers/{keyed['id']}", json={"api_base": "https://elsewhere.openai.azure.com"})
        assert moved.status_code == 422
        [error] = moved.json()["error"]["fields"]
        assert error["field"] == "auth.api_key"
        assert "another host" in error["message"]
        # Same host, another path form: the destination is unchanged, so the secret stays.
        same = api.patch(f"/providers/{keyed['id']}", json={"api_base": "https://contoso.openai.azure.com/openai/v1"})
        assert same.status_code == 200
        # Moving with the secret re-sent is fine.
        resent = api.patch(
            f"/providers/{keyed['id']}",
            json={"api_base": "https://elsewhere.openai.azure.com", "auth": {"api_key": "r" * 32}},
        )
        assert resent.status_code == 200
        client = api.post(f"/orgs/{org.id}/providers", json=azure_key_provider(auth=entra)).json()
        retenant = api.patch(f"/providers/{client['id']}", json={"auth": {"tenant_id": "contoso.onmicrosoft.com"}})
        assert retenant.status_code == 422
        assert retenant.json()["error"]["fields"][0]["field"] == "auth.client_secret"
        assert api.get(f"/providers/{client['id']}").json()["auth"]["tenant_id"] == TENANT


def test_concurrent_patches_never_lose_a_secret_change(gateway: Gateway, org: OrgFixture) -> None:
    with gateway.api() as api:
        created = api.post(f"/orgs/{org.id}/providers", json=azure_key_provider()).json()

    def patch(body: dict[str, object]) -> int:
        with gateway.api() as api:
            return api.patch(f"/providers/{created['id']}", json=body).status_code

    for round_ in range(5):
        new_secret = f"round{round_}" + "s" * 30
        bodies = [{"auth": {"api_key": new_secret}}] + [{"include_default_registry": i % 2 == 0} for i in range(4)]
        with ThreadPoolExecutor(max_workers=5) as pool:
            statuses = list(pool.map(patch, bodies))
        assert statuses == [200] * 5
        assert stored_secret(gateway.settings, created["id"]) == new_secret
