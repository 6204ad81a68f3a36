"""The emulated world: tenants, app registrations (secrets, federated credentials), resources (keys, role
assignments, deployments with their faults). Loaded from a JSON file; changed at run time via /_emulator."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "OPENAI_USER_ROLE",
    "App",
    "Deployment",
    "EmulatorState",
    "Faults",
    "FederatedCredential",
    "Resource",
    "RoleAssignment",
    "Tenant",
    "default_state",
    "load_state",
]

# Reference §12: the built-in role that grants the OpenAI data actions.
OPENAI_USER_ROLE = "Cognitive Services OpenAI User"
# Roles whose data actions include the OpenAI inference actions (§12); Owner/Contributor have none.
DATA_ROLES = frozenset(
    {
        OPENAI_USER_ROLE,
        "Cognitive Services OpenAI Contributor",
        "Cognitive Services User",
        "Azure AI User",
        "Azure AI Developer",
        "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd",  # the OpenAI User role definition id (§12)
    }
)


@dataclass
class Tenant:
    id: str
    domains: list[str] = field(default_factory=list)


@dataclass
class FederatedCredential:
    name: str
    issuer: str
    subject: str
    audience: str = "api://AzureADTokenExchange"


@dataclass
class App:
    tenant_id: str
    client_id: str
    object_id: str
    display_name: str = "app"
    secrets: list[str] = field(default_factory=list)
    federated_credentials: list[FederatedCredential] = field(default_factory=list)


@dataclass
class Faults:
    """What goes wrong on the next requests to a deployment. `count` requests fail (-1: all of them)."""

    status: int | None = None
    count: int = -1
    retry_after: int = 1
    latency_ms: int = 0
    chunk_delay_ms: int = 0
    drop_after_chunks: int | None = None
    content_filter: bool = False


@dataclass
class Deployment:
    name: str
    model: str
    format: Literal["openai", "anthropic"] = "openai"
    kind: Literal["chat", "responses", "embeddings"] = "chat"  # responses: a Responses-only model
    faults: Faults = field(default_factory=Faults)


@dataclass
class RoleAssignment:
    principal_id: str
    role: str = OPENAI_USER_ROLE


@dataclass
class Resource:
    name: str
    tenant_id: str
    keys: list[str] = field(default_factory=list)
    role_assignments: list[RoleAssignment] = field(default_factory=list)
    deployments: list[Deployment] = field(default_factory=list)

    def deployment(self, name: str) -> Deployment | None:
        return next((d for d in self.deployments if d.name == name), None)


@dataclass
class EmulatorState:
    tenants: list[Tenant] = field(default_factory=list)
    apps: list[App] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)

    def tenant(self, ref: str) -> Tenant | None:
        ref = ref.lower()
        return next((t for t in self.tenants if t.id.lower() == ref or ref in (d.lower() for d in t.domains)), None)

    def app(self, tenant_id: str, client_id: str) -> App | None:
        return next((a for a in self.apps if a.tenant_id == tenant_id and a.client_id == client_id), None)

    def resource_for_host(self, host: str) -> Resource | None:
        """`{name}.anything` picks that resource (as Azure's subdomains do); a bare IP address or `localhost`
        the first one; any other name nothing, as DNS would for a resource that does not exist."""
        hostname = host.split("]")[0].lstrip("[") if host.startswith("[") else host.rsplit(":", 1)[0]
        hostname = hostname.lower()
        named = next((r for r in self.resources if r.name.lower() == hostname.split(".")[0]), None)
        if named is not None:
            return named
        bare = hostname == "localhost" or ":" in hostname or hostname.replace(".", "").isdigit()
        return self.resources[0] if bare and self.resources else None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EmulatorState:
        return cls(
            tenants=[Tenant(**t) for t in data.get("tenants", [])],
            apps=[
                App(
                    **{
                        **a,
                        "federated_credentials": [FederatedCredential(**f) for f in a.get("federated_credentials", [])],
                    }
                )
                for a in data.get("apps", [])
            ],
            resources=[
                Resource(
                    **{
                        **r,
                        "role_assignments": [RoleAssignment(**x) for x in r.get("role_assignments", [])],
                        "deployments": [
                            Deployment(**{**d, "faults": Faults(**d.get("faults", {}))})
                            for d in r.get("deployments", [])
                        ],
                    }
                )
                for r in data.get("resources", [])
            ],
        )


def load_state(path: Path | None) -> EmulatorState:
    return EmulatorState.from_json(json.loads(path.read_text())) if path else default_state()


# Fixed, documented identities so the demo and tests can name them.
DEMO_TENANT = "11111111-1111-4111-8111-111111111111"
DEMO_CLIENT = "22222222-2222-4222-8222-222222222222"
DEMO_OBJECT = "33333333-3333-4333-8333-333333333333"
DEMO_SECRET = "emulator-client-secret-value-0001"
DEMO_KEY = "emulatorkey0000000000000000000001"


def default_state() -> EmulatorState:
    """One tenant, one app with a secret and the OpenAI User role, one resource with GPT, embedding and Claude."""
    return EmulatorState.from_json(
        {
            "tenants": [{"id": DEMO_TENANT, "domains": ["emulator.onmicrosoft.com"]}],
            "apps": [
                {
                    "tenant_id": DEMO_TENANT,
                    "client_id": DEMO_CLIENT,
                    "object_id": DEMO_OBJECT,
                    "display_name": "skygate-demo",
                    "secrets": [DEMO_SECRET],
                }
            ],
            "resources": [
                {
                    "name": "emulator",
                    "tenant_id": DEMO_TENANT,
                    "keys": [DEMO_KEY],
                    "role_assignments": [{"principal_id": DEMO_OBJECT}],
                    "deployments": [
                        {"name": "gpt-4o", "model": "gpt-4o"},
                        {"name": "gpt-4o-mini", "model": "gpt-4o-mini"},
                        {"name": "text-embedding-3-small", "model": "text-embedding-3-small", "kind": "embeddings"},
                        {"name": "claude-sonnet-4-5", "model": "claude-sonnet-4-5", "format": "anthropic"},
                    ],
                }
            ],
        }
    )
