"""Each documented data-plane error body (reference §7), byte for byte where the reference has the text."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from azure.identity import ClientSecretCredential

from skygate_emulator.server import RunningEmulator
from tests.emulator.support import (
    DEMO_CLIENT,
    DEMO_KEY,
    DEMO_SECRET,
    DEMO_TENANT,
    NOROLE_CLIENT,
    OTHER_CLIENT,
    OTHER_SECRET,
    OTHER_TENANT,
    raw_client,
)

CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
CLASSIC = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"
KEY_DENIED = {
    "error": {
        "code": "401",
        "message": "Access denied due to invalid subscription key or wrong API endpoint. "
        "Make sure to provide a valid key for an active subscription and use a correct regional API endpoint "
        "for your resource.",
    }
}
TOKEN_INVALID = {
    "statusCode": 401,
    "message": "Unauthorized. Access token is missing, invalid, audience is incorrect "
    "(https://cognitiveservices.azure.com), or have expired.",
}


def _token(emulator: RunningEmulator, tenant: str, client: str, secret: str, scope: str) -> str:
    credential = ClientSecretCredential(tenant, client, secret, authority=emulator.url, disable_instance_discovery=True)
    return credential.get_token(scope).token


def _post(emulator: RunningEmulator, path: str, headers: dict[str, str], body: Any = CHAT) -> httpx.Response:
    with raw_client(emulator.ca_file, emulator.url) as client:
        return client.post(path, headers=headers, json=body)


def test_wrong_or_missing_key_is_the_key_401(emulator: RunningEmulator) -> None:
    for headers in ({"api-key": "wrong"}, {}):
        response = _post(emulator, CLASSIC, headers)
        assert response.status_code == 401
        assert response.json() == KEY_DENIED
        assert response.headers["apim-request-id"]


def test_an_api_key_as_bearer_is_a_token_401_on_classic_routes_but_fine_on_v1(emulator: RunningEmulator) -> None:
    response = _post(emulator, CLASSIC, {"authorization": f"Bearer {DEMO_KEY}"})
    assert response.status_code == 401
    assert response.json() == TOKEN_INVALID
    assert _post(emulator, "/openai/v1/chat/completions", {"authorization": f"Bearer {DEMO_KEY}"}).status_code == 200


def test_a_token_for_another_audience_is_a_token_401(emulator: RunningEmulator) -> None:
    token = _token(emulator, DEMO_TENANT, DEMO_CLIENT, DEMO_SECRET, "https://ml.azure.com/.default")
    response = _post(emulator, CLASSIC, {"authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json() == TOKEN_INVALID


def test_a_token_of_another_tenant_is_a_400(emulator: RunningEmulator) -> None:
    token = _token(emulator, OTHER_TENANT, OTHER_CLIENT, OTHER_SECRET, "https://cognitiveservices.azure.com/.default")
    response = _post(emulator, CLASSIC, {"authorization": f"Bearer {token}"})
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "Tenant provided in token does not match resource token",
            "message": f"Token tenant {OTHER_TENANT} does not match resource tenant.",
        }
    }


def test_a_principal_without_the_openai_role_is_a_401_permission_denied(emulator: RunningEmulator) -> None:
    token = _token(emulator, DEMO_TENANT, NOROLE_CLIENT, DEMO_SECRET, "https://cognitiveservices.azure.com/.default")
    response = _post(emulator, CLASSIC, {"authorization": f"Bearer {token}"})
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "PermissionDenied"
    assert error["message"] == (
        "The principal `88888888-0000-4000-8000-000000000000` lacks the required data action "
        "`Microsoft.CognitiveServices/accounts/OpenAI/deployments/chat/completions/action` to perform "
        "`POST /openai/deployments/{deployment-id}/chat/completions` operation."
    )


def test_unknown_deployment_is_deployment_not_found(emulator: RunningEmulator) -> None:
    message = (
        "The API deployment for this resource does not exist. If you created the deployment within the last "
        "5 minutes, please wait a moment and try again."
    )
    classic = _post(emulator, "/openai/deployments/nope/chat/completions?api-version=2024-10-21", {"api-key": DEMO_KEY})
    assert classic.status_code == 404
    assert classic.json() == {"error": {"code": "DeploymentNotFound", "message": message}}
    v1 = _post(emulator, "/openai/v1/chat/completions", {"api-key": DEMO_KEY}, CHAT | {"model": "nope"})
    assert v1.json() == {"error": {"code": "DeploymentNotFound", "message": message, "type": "invalid_request_error"}}


@pytest.mark.parametrize(
    "path", ["/openai/deployments/gpt-4o/chat/completions", "/openai/responses", "/openai/unknown"]
)
def test_classic_routes_without_api_version_are_resource_not_found(emulator: RunningEmulator, path: str) -> None:
    response = _post(emulator, path, {"api-key": DEMO_KEY})
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "404", "message": "Resource not found"}}


def test_stream_options_on_the_responses_api_is_a_400(emulator: RunningEmulator) -> None:
    body = {"model": "gpt-4o", "input": "x", "stream": True, "stream_options": {"include_usage": True}}
    response = _post(emulator, "/openai/v1/responses", {"api-key": DEMO_KEY}, body)
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "message": "Unknown parameter: 'stream_options'.",
            "type": "invalid_request_error",
            "param": "stream_options",
            "code": "unknown_parameter",
        }
    }


def test_content_filter_400_has_the_2024_10_21_shape(emulator: RunningEmulator) -> None:
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "EMULATOR_CONTENT_FILTER"}]}
    error = _post(emulator, CLASSIC, {"api-key": DEMO_KEY}, body).json()["error"]
    assert error["code"] == "content_filter"
    assert error["param"] == "prompt"
    assert error["type"] is None
    assert error["status"] == 400
    assert error["message"].startswith("The response was filtered due to the prompt triggering Azure OpenAI's")
    assert error["innererror"]["code"] == "ResponsibleAIPolicyViolation"
    assert error["innererror"]["content_filter_result"]["jailbreak"] == {"filtered": True, "detected": True}


def test_the_anthropic_route_refuses_api_key_alone(emulator: RunningEmulator) -> None:
    body = {"model": "claude-sonnet-4-5", "max_tokens": 10, "messages": [{"role": "user", "content": "x"}]}
    response = _post(emulator, "/anthropic/v1/messages", {"api-key": DEMO_KEY, "anthropic-version": "2023-06-01"}, body)
    assert response.status_code == 401
    assert response.json() == KEY_DENIED
    ok = _post(emulator, "/anthropic/v1/messages", {"x-api-key": DEMO_KEY, "anthropic-version": "2023-06-01"}, body)
    assert ok.status_code == 200


def test_claude_on_an_openai_route_and_chat_on_an_embedding_deployment(emulator: RunningEmulator) -> None:
    claude = _post(
        emulator, "/openai/v1/chat/completions", {"api-key": DEMO_KEY}, CHAT | {"model": "claude-sonnet-4-5"}
    )
    assert claude.status_code == 404
    assert claude.json()["error"]["code"] == "api_not_supported"
    embed = _post(
        emulator, "/openai/v1/chat/completions", {"api-key": DEMO_KEY}, CHAT | {"model": "text-embedding-3-small"}
    )
    assert embed.status_code == 400
    assert embed.json()["error"]["code"] == "OperationNotSupported"


def test_responses_carry_the_azure_request_headers(emulator: RunningEmulator) -> None:
    response = _post(emulator, CLASSIC, {"api-key": DEMO_KEY, "x-ms-client-request-id": "abc-123"})
    assert response.headers["x-ms-client-request-id"] == "abc-123"
    for header in ("apim-request-id", "x-request-id", "x-ms-region", "x-ratelimit-remaining-tokens"):
        assert response.headers[header]


@pytest.mark.parametrize(
    ("path", "body", "operation"),
    [
        (
            "/openai/responses?api-version=2025-04-01-preview",
            {"model": "gpt-4o", "input": "x"},
            "POST /openai/responses",
        ),
        ("/openai/v1/chat/completions", CHAT, "POST /openai/v1/chat/completions"),
        (
            "/anthropic/v1/messages",
            {"model": "claude-sonnet-4-5", "max_tokens": 5, "messages": CHAT["messages"]},
            "POST /anthropic/v1/messages",
        ),
    ],
)
def test_token_checks_apply_on_every_route(emulator: RunningEmulator, path: str, body: Any, operation: str) -> None:
    scope = "https://cognitiveservices.azure.com/.default"
    no_role = _token(emulator, DEMO_TENANT, NOROLE_CLIENT, DEMO_SECRET, scope)
    denied = _post(emulator, path, {"authorization": f"Bearer {no_role}"}, body)
    assert denied.status_code == 401
    assert denied.json()["error"]["code"] == "PermissionDenied"
    assert f"to perform `{operation}` operation." in denied.json()["error"]["message"]
    foreign = _token(emulator, OTHER_TENANT, OTHER_CLIENT, OTHER_SECRET, scope)
    mismatch = _post(emulator, path, {"authorization": f"Bearer {foreign}"}, body)
    assert mismatch.status_code == 400
    assert mismatch.json()["error"]["message"] == f"Token tenant {OTHER_TENANT} does not match resource tenant."
