"""Malformed, oversized and mistyped requests get a clear 4xx naming the problem, and change nothing."""

from __future__ import annotations

from tests.support import Gateway, OrgFixture, azure_key_provider


def test_malformed_json_is_a_400(gateway: Gateway, org: OrgFixture) -> None:
    with gateway.api() as api:
        response = api.post(
            f"/orgs/{org.id}/providers", content=b'{"name": "x",', headers={"content-type": "application/json"}
        )
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "malformed_request"
        assert "not valid JSON" in response.json()["error"]["message"]
        assert api.get(f"/orgs/{org.id}/providers").json()["data"] == []


def test_unknown_fields_are_a_422_listing_each_of_them(gateway: Gateway, org: OrgFixture) -> None:
    body = azure_key_provider(deploymnet="gpt-4o", extra_flag=True)
    body["auth"]["tenant"] = "x"
    with gateway.api() as api:
        response = api.post(f"/orgs/{org.id}/providers", json=body)
    assert response.status_code == 422
    fields = {f["field"]: f["message"] for f in response.json()["error"]["fields"]}
    assert set(fields) == {"deploymnet", "extra_flag", "auth.tenant"}
    assert all("not a known field" in m for m in fields.values())


def test_body_over_the_limit_is_a_413(gateway: Gateway, org: OrgFixture) -> None:
    limit = gateway.settings.admin_max_body_bytes
    body = azure_key_provider(additional_headers={"x-pad": "a" * (limit + 1)})
    with gateway.api() as api:
        response = api.post(f"/orgs/{org.id}/providers", json=body)
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "payload_too_large"
        assert api.get(f"/orgs/{org.id}/providers").json()["data"] == []


def test_chunked_body_over_the_limit_is_a_413(gateway: Gateway, org: OrgFixture) -> None:
    limit = gateway.settings.admin_max_body_bytes

    def chunks() -> object:
        for _ in range(limit // 65536 + 2):
            yield b" " * 65536

    with gateway.api() as api:
        response = api.post(f"/orgs/{org.id}/providers", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_wrong_json_types_are_422_naming_the_field(gateway: Gateway, org: OrgFixture) -> None:
    with gateway.api() as api:
        response = api.post(f"/orgs/{org.id}/providers", json=azure_key_provider(include_default_registry="yes"))
        assert response.status_code == 422
        assert response.json()["error"]["fields"][0]["field"] == "include_default_registry"
        response = api.post(f"/orgs/{org.id}/providers", json=[1, 2])
        assert response.status_code == 422
        assert response.json()["error"]["fields"][0]["message"] == "must be a JSON object"


def test_missing_required_fields_are_each_named(gateway: Gateway, org: OrgFixture) -> None:
    with gateway.api() as api:
        response = api.post(f"/orgs/{org.id}/providers", json={"type": "azure"})
    assert response.status_code == 422
    fields = {f["field"]: f["message"] for f in response.json()["error"]["fields"]}
    assert fields == {"name": "is required", "api_base": "is required", "auth": "is required"}


def test_unknown_type_names_the_allowed_values(gateway: Gateway, org: OrgFixture) -> None:
    with gateway.api() as api:
        response = api.post(f"/orgs/{org.id}/providers", json=azure_key_provider(type="bedrock"))
    assert response.status_code == 422
    [error] = response.json()["error"]["fields"]
    assert error["field"] == "type"
    assert "'azure'" in error["message"]


def test_unknown_routes_and_methods_answer_in_the_error_format(gateway: Gateway) -> None:
    with gateway.api() as api:
        missing = api.get("/no-such-thing")
        wrong_method = api.put("/orgs")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"


def test_form_bodies_are_a_415_and_bare_json_bodies_are_accepted(gateway: Gateway, org: OrgFixture) -> None:
    with gateway.api() as api:
        response = api.post(f"/orgs/{org.id}/projects", data={"name": "web2"})
        assert response.status_code == 415
        assert "Content-Type: application/json" in response.json()["error"]["message"]
        # No Content-Type at all: read as JSON, as curl users expect.
        assert api.post(f"/orgs/{org.id}/projects", content=b'{"name": "web3"}').status_code == 201
        assert [p["name"] for p in api.get(f"/orgs/{org.id}/projects").json()["data"]] == ["web", "web3"]


def test_values_a_database_cannot_hold_are_refused_or_not_found(gateway: Gateway, org: OrgFixture) -> None:
    with gateway.api() as api:
        for path in ("/orgs/a%00b", "/providers/prov_%00", "/projects/p%00/providers", "/orgs/a%00b/keys"):
            assert api.get(path).status_code == 404, path
        assert api.delete("/keys/key_%00").status_code == 404
        response = api.post(f"/orgs/{org.id}/keys", json={"name": "a\u0000b", "role": "invoke"})
        assert response.status_code == 422
        assert response.json()["error"]["fields"][0]["field"] == "name"


def test_non_finite_numbers_are_refused(gateway: Gateway, org: OrgFixture) -> None:
    for literal in (b"1e999", b"NaN", b"Infinity"):
        body = (
            b'{"name": "m", "type": "azure", "api_base": "https://c.openai.azure.com", '
            b'"auth": {"method": "api_key", "api_key": "kkkkkkkkkkkkkkkk"}, '
            b'"models": [{"deployment": "d", "api": "responses", "input_cost_per_mtok": ' + literal + b"}]}"
        )
        with gateway.api() as api:
            response = api.post(f"/orgs/{org.id}/providers", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 422, (literal, response.text)
        assert response.json()["error"]["fields"][0]["field"] == "models.0.input_cost_per_mtok"


def test_control_characters_and_non_ascii_header_values_are_refused(gateway: Gateway, org: OrgFixture) -> None:
    cases = [
        (azure_key_provider(api_base="https://c.openai.azure.com/\u0000"), "api_base"),
        (azure_key_provider(api_base="https://c.openai.azure.com/a b"), "api_base"),
        (azure_key_provider(additional_headers={"x-team": "caf\u00e9"}), "additional_headers.x-team"),
    ]
    with gateway.api() as api:
        for body, field in cases:
            response = api.post(f"/orgs/{org.id}/providers", json=body)
            assert response.status_code == 422, response.text
            assert response.json()["error"]["fields"][0]["field"] == field


def test_text_that_cannot_be_encoded_is_a_4xx_not_a_500(gateway: Gateway, org: OrgFixture) -> None:
    surrogate = b'"\\ud800"'
    cases = [
        (f"/orgs/{org.id}/providers", b'{"name": "x", "type": "azure", "api_base": "https://c.openai.azure.com", '
         b'"auth": {"method": "api_key", "api_key": "kkkkkkkkkkkkkkkk"}, "additional_headers": {' + surrogate
         + b': "x"}}', 422),
        (f"/orgs/{org.id}/keys", b'{"name": "k", "role": "invoke", "project_id": ' + surrogate + b"}", 422),
        (f"/orgs/{org.id}/projects", b'{"name": ' + surrogate + b"}", 422),
        (f"/orgs/{org.id}/projects", b'{"name": "\xff\xfe"}', 400),
    ]  # fmt: skip
    with gateway.api() as api:
        for path, body, status in cases:
            response = api.post(path, content=body, headers={"content-type": "application/json"})
            assert response.status_code == status, (body, response.text)
            assert response.json()["error"]["code"] in ("validation_error", "malformed_request")
