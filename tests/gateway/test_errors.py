"""Bad requests and upstream failures answer in the caller's format with the right status; nothing leaks upstream."""

from __future__ import annotations

import time
from typing import Any

import anthropic
import httpx
import openai
import pytest

from tests.gateway.conftest import DataPlane
from tests.gateway.test_sdk_calls import claude, oai

HI = [{"role": "user", "content": "hi"}]


def _post(dp: DataPlane, path: str, content: bytes | None = None, json: Any = None, **headers: str) -> httpx.Response:
    headers.setdefault("authorization", f"Bearer {dp.invoke_key}")
    return httpx.post(f"{dp.gateway.base_url}{path}", content=content, json=json, headers=headers, timeout=30)


@pytest.mark.parametrize(
    ("content", "status", "fragment"),
    [
        (b'{"model": "gpt-4o",', 400, "not valid JSON"),
        (b"[1, 2]", 400, "must be a JSON object"),
        (b'{"messages": []}', 400, "model: required"),
        (b'{"model": 42}', 400, "model: required"),
        (b'{"model": "gpt-4o", "stream": "yes"}', 400, "stream: must be true or false"),
    ],
)
def test_bad_requests_in_both_formats(dp: DataPlane, content: bytes, status: int, fragment: str) -> None:
    as_openai = _post(dp, "/v1/chat/completions", content)
    assert as_openai.status_code == status
    assert fragment in as_openai.json()["error"]["message"]
    as_anthropic = _post(dp, "/v1/messages", content)
    assert as_anthropic.status_code == status
    assert as_anthropic.json()["type"] == "error"
    assert as_anthropic.json()["error"]["type"] == "invalid_request_error"
    assert fragment in as_anthropic.json()["error"]["message"]


def test_oversized_bodies_are_413(dp: DataPlane) -> None:
    limit = dp.gateway.settings.max_request_bytes
    response = _post(dp, "/v1/chat/completions", b'{"model": "gpt-4o", "pad": "' + b"a" * limit + b'"}')
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"


def test_keys_are_checked_in_both_formats(dp: DataPlane) -> None:
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(
            base_url=f"{dp.gateway.base_url}/v1", api_key="sk-sg-nope", max_retries=0
        ).chat.completions.create(model="gpt-4o", messages=HI)
    with pytest.raises(anthropic.AuthenticationError) as denied:
        anthropic.Anthropic(base_url=dp.gateway.base_url, api_key="sk-sg-nope", max_retries=0).messages.create(
            model="claude-sonnet-4-5", max_tokens=5, messages=HI
        )
    assert denied.value.body["error"]["type"] == "authentication_error"  # type: ignore[index]
    no_key = httpx.post(f"{dp.gateway.base_url}/v1/chat/completions", json={"model": "gpt-4o"})
    assert no_key.status_code == 401
    assert "Authorization: Bearer" in no_key.json()["error"]["message"]
    admin = _post(dp, "/v1/chat/completions", json={"model": "gpt-4o", "messages": HI},
                  authorization=f"Bearer {dp.admin_key}")  # fmt: skip
    assert admin.status_code == 403
    x_api_key = _post(dp, "/v1/messages", json={"model": "claude-sonnet-4-5", "max_tokens": 5, "messages": HI},
                      authorization="", **{"x-api-key": dp.invoke_key})  # fmt: skip
    assert x_api_key.status_code == 200


def test_upstream_errors_keep_their_status_and_message(dp: DataPlane) -> None:
    with pytest.raises(openai.NotFoundError) as missing:
        oai(dp).chat.completions.create(model="ghost", messages=HI)
    assert missing.value.code == "DeploymentNotFound"
    assert "The API deployment for this resource does not exist" in missing.value.message
    dp.provider("wrong-key", auth={"method": "api_key", "api_key": "not-the-key-0000"}, include_default_registry=False,
                models=[{"deployment": "gpt-4o", "api": "chat_completions", "alias": "locked"},
                        {"deployment": "claude-sonnet-4-5", "api": "messages", "alias": "locked-claude"}])  # fmt: skip
    with pytest.raises(openai.AuthenticationError) as denied:
        oai(dp).chat.completions.create(model="locked", messages=HI)
    assert "Access denied due to invalid subscription key" in denied.value.message
    with pytest.raises(anthropic.AuthenticationError) as anthropic_denied:
        claude(dp).messages.create(model="locked-claude", max_tokens=5, messages=HI)  # type: ignore[arg-type]
    body = anthropic_denied.value.body
    assert body["type"] == "error"  # type: ignore[index]
    assert "Access denied due to invalid subscription key" in body["error"]["message"]  # type: ignore[index]


def test_client_credentials_and_skygate_headers_never_go_upstream(dp: DataPlane) -> None:
    dp.provider("headers", include_default_registry=False, additional_headers={"x-team": "research"},
                models=[{"deployment": "gpt-4o", "api": "chat_completions", "alias": "with-headers"}])  # fmt: skip
    response = _post(dp, "/v1/chat/completions", json={"model": "with-headers", "messages": HI},
                     **{"x-skygate-project": "web", "cookie": "session=1", "x-forwarded-for": "10.0.0.1",
                        "api-key": "client-side-key", "x-ms-client-request-id": "trace-1"})  # fmt: skip
    assert response.status_code == 200
    upstream = dp.recorded()[-1]
    assert upstream.headers["x-team"] == "research"
    assert upstream.headers["x-ms-client-request-id"] == "trace-1"
    assert upstream.headers["api-key"] == "***" + "0000000000000000000001"[-4:]
    for leaked in ("authorization", "cookie", "x-forwarded-for", "x-skygate-project", "x-api-key"):
        assert leaked not in upstream.headers
    assert dp.invoke_key[-4:] not in str(upstream.headers)


def test_upstream_heads_follow_provider_changes_and_each_calls_own_headers(dp: DataPlane) -> None:
    """The upstream head is built once per route (gateway/proxy.py): a changed provider gets a new one, and a
    client header forwarded on one call is never sent on the next."""
    provider = dp.provider("heads", include_default_registry=False, additional_headers={"x-team": "research"},
                           models=[{"deployment": "gpt-4o", "api": "chat_completions", "alias": "heads"}])  # fmt: skip
    call = {"model": "heads", "messages": HI}
    assert _post(dp, "/v1/chat/completions", json=call).status_code == 200
    assert _post(dp, "/v1/chat/completions", json=call, **{"x-ms-client-request-id": "trace-2"}).status_code == 200
    assert _post(dp, "/v1/chat/completions", json=call).status_code == 200
    first, traced, plain = dp.recorded()[-3:]
    assert traced.headers["x-ms-client-request-id"] == "trace-2"
    assert "x-ms-client-request-id" not in first.headers
    assert "x-ms-client-request-id" not in plain.headers
    assert first.headers["x-team"] == traced.headers["x-team"] == plain.headers["x-team"] == "research"
    before = dp.config_version()
    with dp.gateway.api() as api:
        changed = api.patch(f"/providers/{provider['id']}", json={"additional_headers": {"x-team": "platform"}})
    assert changed.status_code == 200, changed.text
    dp.settle(before)
    assert _post(dp, "/v1/chat/completions", json=call).status_code == 200
    assert dp.recorded()[-1].headers["x-team"] == "platform"


def test_upstream_heads_are_per_api_and_keep_claudes_defaults(dp: DataPlane) -> None:
    """One registry route serves chat and Responses (a head for each); a Claude head keeps the default
    anthropic-version and both key headers after a call that forwarded anthropic-beta."""
    gpt = {"model": "gpt-4o", "messages": HI}
    assert _post(dp, "/v1/chat/completions", json=gpt).status_code == 200
    assert _post(dp, "/v1/responses", json={"model": "gpt-4o", "input": "hi"}).status_code == 200
    assert _post(dp, "/v1/chat/completions", json=gpt).status_code == 200
    assert [r.path for r in dp.recorded()[-3:]] == [
        "/openai/v1/chat/completions",
        "/openai/v1/responses",
        "/openai/v1/chat/completions",
    ]
    claude = {"model": "claude-sonnet-4-5", "max_tokens": 5, "messages": HI}
    assert _post(dp, "/v1/messages", json=claude).status_code == 200
    beta = _post(dp, "/v1/messages", json=claude, **{"anthropic-beta": "tools-2024-04-04"})
    assert beta.status_code == 200
    assert _post(dp, "/v1/messages", json=claude).status_code == 200
    first, forwarded, last = dp.recorded()[-3:]
    assert forwarded.headers["anthropic-beta"] == "tools-2024-04-04"
    assert "anthropic-beta" not in first.headers
    assert "anthropic-beta" not in last.headers
    for sent in (first, last):
        assert sent.path == "/anthropic/v1/messages"
        assert sent.headers["anthropic-version"] == "2023-06-01"
        assert sent.headers["x-api-key"] == sent.headers["api-key"] == "***" + "0000000000000000000001"[-4:]


def test_an_organization_with_the_gateway_disabled_is_refused(dp: DataPlane) -> None:
    with dp.gateway.api() as api:
        assert api.patch(f"/orgs/{dp.org_id}", json={"gateway_enabled": False}).status_code == 200
    deadline = time.monotonic() + 1.0
    while (status := _post(dp, "/v1/chat/completions", json={"model": "gpt-4o", "messages": HI}).status_code) != 403:
        assert time.monotonic() < deadline, status
        time.sleep(0.05)


def test_data_plane_routes_keep_their_methods(dp: DataPlane) -> None:
    """The /v1 fast path answers only the methods a route has; others still get Starlette's 405."""
    headers = {"authorization": f"Bearer {dp.invoke_key}"}
    wrong = httpx.get(f"{dp.gateway.base_url}/v1/chat/completions", headers=headers)
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "POST"
    head = httpx.head(f"{dp.gateway.base_url}/v1/models", headers=headers)
    assert head.status_code == 200
    assert head.content == b""
    assert int(head.headers["content-length"]) > 0  # the GET's length, without its body
