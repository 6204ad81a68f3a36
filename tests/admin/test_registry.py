"""The built-in Azure model registry: served to admins, and a checked data file."""

from __future__ import annotations

from skygate.registry.azure import load_azure_registry
from tests.support import Gateway, OrgFixture

REQUIRED_MODELS = {
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4.1",
    "gpt-4.1-mini",
    "gpt-4.1-nano",
    "o1",
    "o3",
    "o3-mini",
    "o4-mini",
    "gpt-5",
    "gpt-5-mini",
    "gpt-5-nano",
    "text-embedding-3-small",
    "text-embedding-3-large",
}


def test_registry_lists_the_openai_models_azure_serves(gateway: Gateway, org: OrgFixture) -> None:
    with gateway.api(org.admin_key) as api:
        response = api.get("/registry/azure")
    assert response.status_code == 200
    models = {m["name"]: m for m in response.json()["data"]}
    assert set(models) >= REQUIRED_MODELS
    gpt4o = models["gpt-4o"]
    assert gpt4o["format"] == "openai"
    assert set(gpt4o["apis"]) == {"chat", "responses"}
    assert gpt4o["context_window"] == 128000
    assert gpt4o["input_cost_per_mtok"] == 2.5
    assert gpt4o["output_cost_per_mtok"] == 10.0
    assert models["text-embedding-3-small"]["apis"] == ["embeddings"]


def test_registry_entries_are_consistent() -> None:
    registry = load_azure_registry()
    for model in registry.models:
        assert model.context_window > 0, model.name
        assert model.input_cost_per_mtok >= 0, model.name
        if "embeddings" in model.apis:
            assert model.apis == ("embeddings",), model.name
        else:
            assert model.output_cost_per_mtok is not None, model.name
            assert model.output_cost_per_mtok >= model.input_cost_per_mtok, model.name
            assert model.max_output_tokens is not None, model.name
            assert model.max_output_tokens <= model.context_window, model.name
