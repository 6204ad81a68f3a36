"""The built-in registry of OpenAI models that Azure serves (`azure_models.json`), loaded and checked once."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from importlib import resources
from typing import Any, Literal

__all__ = ["AzureRegistry", "RegistryModel", "load_azure_registry"]

Api = Literal["chat", "responses", "embeddings"]
_APIS = frozenset({"chat", "responses", "embeddings"})


@dataclass(slots=True, frozen=True)
class RegistryModel:
    name: str
    format: Literal["openai"]
    apis: tuple[Api, ...]
    context_window: int
    max_output_tokens: int | None
    input_cost_per_mtok: float
    output_cost_per_mtok: float | None
    cached_input_cost_per_mtok: float | None

    def public(self) -> dict[str, Any]:
        return asdict(self) | {"apis": list(self.apis)}


@dataclass(slots=True, frozen=True)
class AzureRegistry:
    source: str
    models: tuple[RegistryModel, ...]

    def get(self, name: str) -> RegistryModel | None:
        return next((m for m in self.models if m.name == name), None)


def _model(entry: dict[str, Any]) -> RegistryModel:
    apis = tuple(entry["apis"])
    if not apis or not set(apis) <= _APIS:
        raise ValueError(f"registry entry {entry['name']!r}: apis must be a non-empty subset of {sorted(_APIS)}")
    if entry["format"] != "openai":
        raise ValueError(f"registry entry {entry['name']!r}: Azure's registry holds OpenAI-format models only")
    return RegistryModel(
        name=entry["name"],
        format="openai",
        apis=apis,
        context_window=int(entry["context_window"]),
        max_output_tokens=entry.get("max_output_tokens"),
        input_cost_per_mtok=float(entry["input_cost_per_mtok"]),
        output_cost_per_mtok=entry.get("output_cost_per_mtok"),
        cached_input_cost_per_mtok=entry.get("cached_input_cost_per_mtok"),
    )


def load_azure_registry() -> AzureRegistry:
    raw = json.loads(resources.files("skygate.registry").joinpath("azure_models.json").read_text("utf-8"))
    models = tuple(_model(entry) for entry in raw["models"])
    names = [m.name for m in models]
    if len(names) != len(set(names)):
        raise ValueError("registry has duplicate model names")
    return AzureRegistry(raw["source"], models)
