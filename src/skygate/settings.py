"""Typed instance configuration, read once from the environment at start-up and passed down."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _default_data_dir() -> Path:
    return Path.home() / ".skygate"


class Settings(BaseSettings):
    """Every knob of an instance. Nothing else in the code reads the environment."""

    model_config = SettingsConfigDict(env_prefix="SKYGATE_", extra="ignore", env_ignore_empty=True)

    data_dir: Path = Field(default_factory=_default_data_dir)
    database_url: str | None = None
    master_key: SecretStr | None = None
    admin_token: SecretStr | None = None
    public_url: str | None = None
    redis_url: str | None = None
    ca_bundle: Path | None = None
    allowed_upstream_hosts: Annotated[tuple[str, ...], NoDecode] = ()
    admin_max_body_bytes: int = 1_048_576
    max_request_bytes: int = 33_554_432
    upstream_timeout_seconds: float = 600.0
    log_level: str = "INFO"
    # A line per request costs a formatted, redacted log write on every call (~20 µs): off unless asked for.
    access_log: bool = False

    @field_validator("allowed_upstream_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        # A comma-separated list in the environment; hosts compare case-insensitively.
        if isinstance(value, str):
            return tuple(h.strip().lower() for h in value.split(",") if h.strip())
        return value

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError("SKYGATE_PUBLIC_URL must be an http(s) URL without query or fragment")
        # The OIDC issuer must equal SKYGATE_PUBLIC_URL exactly, so one canonical form: no trailing slash.
        return value.rstrip("/")

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'skygate.db'}"

    @property
    def has_public_issuer(self) -> bool:
        """Workload identity needs Entra to reach our discovery document, hence a public https URL."""
        return bool(self.public_url and self.public_url.startswith("https://"))
