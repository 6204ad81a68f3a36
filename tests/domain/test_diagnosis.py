"""Every mapped failure gets its own concrete fix (the connection test's advice)."""

from __future__ import annotations

import pytest

from skygate.providers.azure.diagnosis import ProviderFacts, fix_for_aadsts, fix_for_upstream

FACTS = ProviderFacts(
    api_base="https://contoso.openai.azure.com",
    tenant_id="72f988bf-86f1-41af-91ab-2d7cd011db47",
    client_id="0b5e3a61-2d0c-4a39-9a3f-6f2b35d0c9a1",
    issuer="https://gw.example.com",
    subject="skygate:org:org_1:azure:prod",
    deployment="gpt-4o-prod",
)


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("AADSTS7000215", "Value (not its Secret ID)"),
        ("AADSTS700016", "there is no app 0b5e3a61-2d0c-4a39-9a3f-6f2b35d0c9a1 in tenant"),
        ("AADSTS90002", "does not exist in this cloud"),
        ("AADSTS70011", "https://cognitiveservices.azure.com/.default"),
        ("AADSTS1002012", "must end in /.default"),
        ("AADSTS700211", "Issuer to https://gw.example.com"),
        ("AADSTS700212", "Audience to api://AzureADTokenExchange"),
        ("AADSTS700213", "Value (subject identifier) to skygate:org:org_1:azure:prod"),
        ("AADSTS700024", "clock"),
        ("AADSTS7000272", "https://gw.example.com/.well-known/jwks.json"),
        ("AADSTS50166", "https://gw.example.com/.well-known/openid-configuration"),
    ],
)
def test_each_aadsts_code_has_its_fix(code: str, fragment: str) -> None:
    assert fragment in fix_for_aadsts(code, FACTS)


def test_unknown_codes_point_at_the_error_page() -> None:
    assert "login.microsoftonline.com/error" in fix_for_aadsts("AADSTS1", FACTS)


@pytest.mark.parametrize(
    ("status", "body", "fragment"),
    [
        (401, {"error": {"code": "401", "message": "Access denied due to invalid subscription key"}}, "copy Key 1"),
        (401, {"statusCode": 401, "message": "Unauthorized. Access token is missing"}, "refused the access token"),
        (
            401,
            {"error": {"code": "PermissionDenied", "message": "lacks the required data action"}},
            "'Cognitive Services OpenAI User' role",
        ),
        (
            400,
            {
                "error": {
                    "code": "Tenant provided in token does not match resource token",
                    "message": "Token tenant x does not match resource tenant.",
                }
            },
            "set auth.tenant_id",
        ),
        (404, {"error": {"code": "DeploymentNotFound", "message": "..."}}, "no deployment 'gpt-4o-prod'"),
        (404, {"error": {"code": "404", "message": "Resource not found"}}, "does not look like"),
    ],
)
def test_each_azure_failure_has_its_fix(status: int, body: object, fragment: str) -> None:
    assert fragment in fix_for_upstream(status, body, FACTS)
