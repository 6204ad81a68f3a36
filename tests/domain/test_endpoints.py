"""The api_base normalisation table (SPEC §2) and the upstream host rules (SPEC §4)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skygate.providers.azure.endpoints import EndpointError, normalise_api_base, normalise_authority_host

NORMALISATION = [
    ("https://contoso.openai.azure.com", "https://contoso.openai.azure.com"),
    ("https://contoso.openai.azure.com/", "https://contoso.openai.azure.com"),
    ("https://contoso.openai.azure.com/openai", "https://contoso.openai.azure.com"),
    ("https://contoso.openai.azure.com/openai/", "https://contoso.openai.azure.com"),
    ("https://contoso.openai.azure.com/openai/v1", "https://contoso.openai.azure.com"),
    ("https://contoso.openai.azure.com/openai/v1/", "https://contoso.openai.azure.com"),
    ("https://Contoso.OpenAI.Azure.com/OpenAI/V1", "https://contoso.openai.azure.com"),
    ("  https://contoso.cognitiveservices.azure.com/  ", "https://contoso.cognitiveservices.azure.com"),
    ("https://r1.services.ai.azure.com/api/projects/p1", "https://r1.services.ai.azure.com"),
    ("https://r1.services.ai.azure.com/api/projects/p1/", "https://r1.services.ai.azure.com"),
    ("https://r1.services.ai.azure.com/api/projects/_project", "https://r1.services.ai.azure.com"),
    ("https://r1.services.ai.azure.com/api/projects/p1/openai/v1", "https://r1.services.ai.azure.com"),
    ("https://r1.services.ai.azure.com/models", "https://r1.services.ai.azure.com"),
    ("https://r1.services.ai.azure.com/anthropic", "https://r1.services.ai.azure.com"),
    ("https://r1.services.ai.azure.com/anthropic/", "https://r1.services.ai.azure.com"),
    ("https://r1.openai.azure.us/openai", "https://r1.openai.azure.us"),
    ("https://r1.openai.azure.cn/", "https://r1.openai.azure.cn"),
    ("https://r1.cognitiveservices.azure.us", "https://r1.cognitiveservices.azure.us"),
    ("https://r1.openai.azure.com:443/openai/v1", "https://r1.openai.azure.com:443"),
]


@pytest.mark.parametrize(("entered", "normalised"), NORMALISATION)
def test_api_base_normalisation_table(entered: str, normalised: str) -> None:
    assert normalise_api_base(entered) == normalised


REFUSED = [
    ("http://contoso.openai.azure.com", "must use https"),
    ("https://api.openai.com/v1", "is not an Azure OpenAI or Foundry host"),
    ("https://contoso.openai.azure.com.evil.example", "is not an Azure OpenAI or Foundry host"),
    ("https://openai.azure.com", "is not an Azure OpenAI or Foundry host"),
    ("https://contoso.openai.azure.com/openai?api-version=2024-10-21", "must not contain a query string"),
    ("https://user:pw@contoso.openai.azure.com", "must not contain a user name or password"),
    ("contoso.openai.azure.com", "must be an absolute https:// URL"),
    ("ftp://contoso.openai.azure.com", "must be an absolute https:// URL"),
    ("https://contoso.openai.azure.com:99999", "is not a valid URL"),
    ("http://127.0.0.1:8443", "must use https"),
]


@pytest.mark.parametrize(("entered", "rule"), REFUSED)
def test_api_base_refusals_name_the_rule(entered: str, rule: str) -> None:
    with pytest.raises(EndpointError, match=rule):
        normalise_api_base(entered)


def test_allowed_hosts_admit_loopback_and_plain_http() -> None:
    allowed = ("127.0.0.1", "localhost:9000")
    assert normalise_api_base("http://127.0.0.1:8443/openai/v1", allowed) == "http://127.0.0.1:8443"
    assert normalise_api_base("https://localhost:9000/anthropic", allowed) == "https://localhost:9000"
    with pytest.raises(EndpointError):
        normalise_api_base("https://localhost:9001", allowed)


@pytest.mark.parametrize(
    ("entered", "expected"),
    [
        ("https://login.microsoftonline.com", "https://login.microsoftonline.com"),
        ("https://login.microsoftonline.com/", "https://login.microsoftonline.com"),
        ("https://login.microsoftonline.us", "https://login.microsoftonline.us"),
        ("https://login.chinacloudapi.cn/", "https://login.chinacloudapi.cn"),
    ],
)
def test_authority_hosts_of_the_entra_clouds(entered: str, expected: str) -> None:
    assert normalise_authority_host(entered) == expected


@pytest.mark.parametrize(
    ("entered", "rule"),
    [
        ("http://login.microsoftonline.com", "must use https"),
        ("https://login.example.com", "is not an Entra login host"),
        ("https://login.microsoftonline.com/contoso", "without a path"),
        ("http://127.0.0.1:9443", "must use https"),
    ],
)
def test_authority_host_refusals(entered: str, rule: str) -> None:
    with pytest.raises(EndpointError, match=rule):
        normalise_authority_host(entered, ("127.0.0.1",))


_segments = st.lists(st.sampled_from(["openai", "v1", "models", "anthropic", "api", "projects", "p1", ""]), max_size=6)


@given(resource=st.from_regex(r"[a-z][a-z0-9-]{1,20}", fullmatch=True), path=_segments)
def test_normalisation_is_idempotent_and_leaves_no_known_suffix(resource: str, path: list[str]) -> None:
    url = f"https://{resource}.services.ai.azure.com/" + "/".join(path)
    once = normalise_api_base(url)
    assert normalise_api_base(once) == once
    assert not once.endswith(("/", "/openai", "/openai/v1", "/models", "/anthropic"))
    assert once.startswith(f"https://{resource}.services.ai.azure.com")
