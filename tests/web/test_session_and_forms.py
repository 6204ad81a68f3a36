"""The settings pages over plain HTTP: sign-in and its cookie, CSRF on every form, revocation ending the
session, validation messages beside their fields, and secrets never sent back."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import httpx

from skygate_emulator.tls import ensure_test_pki
from tests.support import make_settings, running_gateway
from tests.web.conftest import Site

CANARY = "canary-secret-value-0000000000000000000001"


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


def signed_in(site: Site) -> httpx.Client:
    client = httpx.Client(base_url=site.url)
    page = client.get("/login")
    response = client.post("/login", data={"key": site.admin_key, "csrf": csrf_of(page.text)})
    assert response.status_code == 303, response.text
    return client


def test_sign_in_sets_an_httponly_samesite_cookie(site: Site) -> None:
    with httpx.Client(base_url=site.url) as client:
        assert client.get("/ai-providers").headers["location"] == "/settings/login"
        page = client.get("/login")
        assert '<label for="key">Admin key</label>' in page.text
        response = client.post("/login", data={"key": site.admin_key, "csrf": csrf_of(page.text)})
        assert response.status_code == 303
        cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("skygate_session="))
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie
        assert "Path=/settings" in cookie
        assert site.admin_key not in cookie  # only a hash of it, signed
        assert "Organization AI providers" in client.get("/ai-providers").text


def test_a_wrong_key_or_a_missing_csrf_token_does_not_sign_in(site: Site) -> None:
    with httpx.Client(base_url=site.url) as client:
        page = client.get("/login")
        wrong = client.post("/login", data={"key": "sk-sg-nope", "csrf": csrf_of(page.text)})
        assert wrong.status_code == 401
        assert "invalid API key" in wrong.text
        forged = client.post("/login", data={"key": site.admin_key})
        assert forged.status_code == 400
        assert "skygate_session" not in forged.headers.get("set-cookie", "")


def test_revoking_the_key_ends_the_session(site: Site) -> None:
    client = signed_in(site)
    assert client.get("/ai-providers").status_code == 200
    with site.gateway.api() as api:
        keys = api.get(f"/orgs/{site.org_id}/keys").json()["data"]
        api.delete(f"/keys/{next(k for k in keys if k['role'] == 'admin')['id']}")
    assert client.get("/ai-providers").headers["location"] == "/settings/login"


def test_forms_without_the_csrf_token_change_nothing(site: Site) -> None:
    client = signed_in(site)
    body = {"owner": "org", "org": site.org_id, "name": "sneaky", "auth_method": "api_key",
            "api_key": CANARY, "api_base": "https://x.openai.azure.com"}  # fmt: skip
    assert client.post("/ai-providers/new", data=body).status_code == 400
    with site.gateway.api() as api:
        assert api.get(f"/orgs/{site.org_id}/providers").json()["data"] == []


def test_validation_errors_sit_beside_their_fields_and_secrets_are_not_echoed(site: Site) -> None:
    client = signed_in(site)
    form = client.get("/ai-providers/new", params={"org": site.org_id}).text
    body = {"csrf": csrf_of(form), "owner": "org", "org": site.org_id, "name": "prod", "auth_method": "api_key",
            "api_key": CANARY, "api_base": "http://evil.example.com", "include_default_registry": "on",
            "model_deployment_0": "claude", "model_api_0": "messages"}  # fmt: skip
    page = client.post("/ai-providers/new", data=body)
    assert page.status_code == 422
    assert re.search(r'id="api_base-error"[^>]*>[^<]*https', page.text), page.text
    assert 'value="http://evil.example.com"' in page.text  # what was typed stays, to be fixed
    assert CANARY not in page.text
    named = client.post("/ai-providers/new", data=dict(body, name="bad one!"))
    assert 'id="name-error"' in named.text
    good = dict(body, api_base="https://contoso.openai.azure.com/openai/v1/")
    assert client.post("/ai-providers/new", data=good).status_code == 303
    listing = client.get("/ai-providers", params={"org": site.org_id}).text
    assert "prod" in listing
    assert "…0001" in listing  # the preview: last four characters only
    assert CANARY not in listing


class _Labels(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.fields: set[str] = set()
        self.labelled: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in ("input", "select", "textarea") and found.get("type") != "hidden":
            self.fields.add(found.get("id") or f"<{tag} name={found.get('name')} without id>")
        if tag == "label" and found.get("for"):
            self.labelled.add(str(found["for"]))


def test_every_input_has_a_bound_label(site: Site) -> None:
    client = signed_in(site)
    checked = 0
    for path in ["/ai-providers", "/ai-providers/new", "/keys", "/login"]:
        parser = _Labels()
        parser.feed(client.get(path, params={"org": site.org_id}).text)
        assert parser.fields <= parser.labelled, f"{path}: unlabelled {parser.fields - parser.labelled}"
        checked += len(parser.fields)
    assert checked > 20  # the provider form alone has more; the check saw the pages' inputs


def test_the_session_cookie_is_secure_over_tls(tmp_path: Path) -> None:
    pki = ensure_test_pki(tmp_path / "tls")
    settings = make_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'skygate.db'}")
    with (
        running_gateway(settings, pki) as gateway,
        httpx.Client(base_url=f"{gateway.base_url}/settings", verify=gateway.verify) as client,
    ):
        assert gateway.base_url.startswith("https://")
        page = client.get("/login")
        response = client.post("/login", data={"key": gateway.admin_token, "csrf": csrf_of(page.text)})
        assert response.status_code == 303
        cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("skygate_session="))
        assert "Secure" in cookie
        assert "HttpOnly" in cookie


def test_an_id_in_the_url_is_never_rendered_as_html(site: Site) -> None:
    client = signed_in(site)
    response = client.get("/ai-providers/<script>alert(1)</script>")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/plain")
