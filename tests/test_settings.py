"""Settings are read from SKYGATE_* variables once; bad values fail at start-up with the variable's name."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from skygate.settings import Settings


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKYGATE_PUBLIC_URL", "https://gw.example.com/")
    monkeypatch.setenv("SKYGATE_ALLOWED_UPSTREAM_HOSTS", " 127.0.0.1, LocalHost:8443 ,")
    monkeypatch.setenv("SKYGATE_MASTER_KEY", "")
    settings = Settings()
    assert settings.public_url == "https://gw.example.com"
    assert settings.has_public_issuer
    assert settings.allowed_upstream_hosts == ("127.0.0.1", "localhost:8443")
    assert settings.master_key is None


@pytest.mark.parametrize("value", ["gw.example.com", "https://gw.example.com/?x=1", "ftp://gw.example.com"])
def test_malformed_public_url_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("SKYGATE_PUBLIC_URL", value)
    with pytest.raises(ValidationError, match="SKYGATE_PUBLIC_URL"):
        Settings()


def test_plain_http_public_url_is_not_an_issuer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKYGATE_PUBLIC_URL", "http://gw.internal:8080")
    assert not Settings().has_public_issuer
