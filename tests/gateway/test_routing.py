"""Routing (SPEC §5): project overrides, pinning, unknown models, cross-format calls, freshness of admin changes."""

from __future__ import annotations

import time

import anthropic
import httpx
import openai
import pytest

from tests.gateway.conftest import DataPlane, wait_for_snapshot
from tests.gateway.test_sdk_calls import claude, oai

HI = [{"role": "user", "content": "hi"}]


def test_project_providers_override_org_providers_for_their_models(dp: DataPlane) -> None:
    dp.provider("project-azure", project=True, include_default_registry=False, api_version="2024-10-21",
                models=[{"deployment": "gpt-4o", "api": "chat_completions"}])  # fmt: skip
    by_header = oai(dp, **{"x-skygate-project": "web"}).chat.completions.with_raw_response.create(
        model="gpt-4o", messages=HI
    )
    assert by_header.headers["x-skygate-provider"] == "project-azure"
    # The project provider pins an api-version, so it uses the classic deployment route.
    assert dp.recorded()[-1].path == "/openai/deployments/gpt-4o/chat/completions"
    assert dp.recorded()[-1].query == {"api-version": "2024-10-21"}
    without = oai(dp).chat.completions.with_raw_response.create(model="gpt-4o", messages=HI)
    assert without.headers["x-skygate-provider"] == "main"
    # Models the project does not serve still come from the organization.
    other = oai(dp, **{"x-skygate-project": dp.project_id}).embeddings.with_raw_response.create(
        model="text-embedding-3-small", input="x"
    )
    assert other.headers["x-skygate-provider"] == "main"


def test_a_key_bound_to_a_project_uses_that_project(dp: DataPlane) -> None:
    dp.provider("project-azure", project=True, include_default_registry=False,
                models=[{"deployment": "gpt-4o", "api": "chat_completions"}])  # fmt: skip
    before = dp.config_version()
    with dp.gateway.api() as api:
        bound = api.post(f"/orgs/{dp.org_id}/keys", json={"name": "b", "role": "invoke", "project_id": dp.project_id})
    dp.settle(before)
    client = openai.OpenAI(base_url=f"{dp.gateway.base_url}/v1", api_key=bound.json()["key"], max_retries=0)
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=HI)
    assert raw.headers["x-skygate-provider"] == "project-azure"


def test_x_skygate_provider_pins_one_provider(dp: DataPlane) -> None:
    dp.provider("second")
    for _ in range(4):
        raw = oai(dp, **{"x-skygate-provider": "second"}).chat.completions.with_raw_response.create(
            model="gpt-4o", messages=HI
        )
        assert raw.headers["x-skygate-provider"] == "second"
    with pytest.raises(openai.NotFoundError) as missing:
        oai(dp, **{"x-skygate-provider": "nope"}).chat.completions.create(model="gpt-4o", messages=HI)
    assert missing.value.code == "model_not_found"


def test_several_providers_share_the_load(dp: DataPlane) -> None:
    dp.provider("second")
    used = {
        oai(dp).chat.completions.with_raw_response.create(model="gpt-4o", messages=HI).headers["x-skygate-provider"]
        for _ in range(16)
    }
    assert used == {"main", "second"}


def test_unknown_model_is_404_model_not_found_in_both_formats(dp: DataPlane) -> None:
    with pytest.raises(openai.NotFoundError) as openai_missing:
        oai(dp).chat.completions.create(model="no-such-model", messages=HI)
    assert openai_missing.value.code == "model_not_found"
    assert openai_missing.value.body["param"] == "model"  # type: ignore[index]
    with pytest.raises(anthropic.NotFoundError) as anthropic_missing:
        claude(dp).messages.create(model="no-such-model", max_tokens=10, messages=HI)  # type: ignore[arg-type]
    assert anthropic_missing.value.body["error"]["type"] == "not_found_error"  # type: ignore[index]
    assert anthropic_missing.value.body["type"] == "error"  # type: ignore[index]


def test_unknown_project_is_a_400(dp: DataPlane) -> None:
    with pytest.raises(openai.BadRequestError) as bad:
        oai(dp, **{"x-skygate-project": "nope"}).chat.completions.create(model="gpt-4o", messages=HI)
    assert bad.value.code == "project_not_found"


def test_embedding_models_and_generation_models_do_not_cross(dp: DataPlane) -> None:
    """Generation formats translate into each other; embeddings have no counterpart, so crossing is a 400."""
    with pytest.raises(anthropic.BadRequestError) as bad:
        claude(dp).messages.create(model="text-embedding-3-small", max_tokens=10, messages=HI)  # type: ignore[arg-type]
    assert "is served through the embeddings API" in str(bad.value)
    with pytest.raises(openai.BadRequestError) as wrong:
        oai(dp).embeddings.create(model="gpt-4o", input="x")
    assert "which embeddings calls cannot reach" in str(wrong.value)
    assert dp.recorded() == []


def test_admin_changes_reach_the_data_plane_within_a_second(dp: DataPlane) -> None:
    with dp.gateway.api() as api:
        provider = api.get(f"/orgs/{dp.org_id}/providers").json()["data"][0]
        api.patch(f"/providers/{provider['id']}", json={"include_default_registry": False})
    wait_for_snapshot(dp, "gpt-4o", present=False)
    with dp.gateway.api() as api:
        keys = api.get(f"/orgs/{dp.org_id}/keys").json()["data"]
        invoke = next(k for k in keys if k["role"] == "invoke")
        api.delete(f"/keys/{invoke['id']}")
    deadline = time.monotonic() + 1.0
    while True:
        status = httpx.get(f"{dp.gateway.base_url}/v1/models",
                           headers={"authorization": f"Bearer {dp.invoke_key}"}).status_code  # fmt: skip
        if status == 401:
            break
        assert time.monotonic() < deadline, "a revoked key still worked after 1 s"
        time.sleep(0.05)
