"""The settings pages in a real Chromium (Debian's, driven by Playwright): sign in, add providers, see
validation errors beside their fields, switch auth methods, delete. `.ci/run` installs Chromium, so in CI these
run; elsewhere they skip with the command that installs it. SKYGATE_UPDATE_SCREENSHOTS=1 refreshes docs/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from skygate_emulator.server import RunningEmulator
from tests.emulator.support import DEMO_KEY
from tests.support import PUBLIC_URL, Gateway
from tests.web.conftest import Site

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture(scope="module")
def browser(site_gateway: Gateway) -> Iterator[Browser]:
    """After the gateway: Playwright's sync API keeps an event loop running in this thread, and the gateway's
    start-up (migrations) runs its own with asyncio.run."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser tests: .ci/run installs Debian's chromium")
        pytest.skip("Chromium is not installed: apt-get install chromium (as .ci/run does)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    yield context.new_page()
    context.close()


def shot(page: Page, name: str) -> None:
    if os.environ.get("SKYGATE_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, site: Site, key: str | None = None) -> None:
    page.goto(f"{site.url}/ai-providers")
    expect(page).to_have_url(f"{site.url}/login")
    shot(page, "sign-in")
    page.get_by_label("Admin key").fill(key or site.admin_key)
    page.get_by_role("button", name="Sign in").click()


def test_a_wrong_key_is_told_so(page: Page, site: Site) -> None:
    sign_in(page, site, key="sk-sg-not-a-key")
    expect(page.get_by_role("alert")).to_contain_text("invalid API key")


def test_add_see_errors_fix_and_delete_a_provider(page: Page, site: Site) -> None:
    sign_in(page, site)
    expect(page.get_by_role("heading", name="Organization AI providers")).to_be_visible()
    page.get_by_role("link", name="Add provider").click()

    page.get_by_label("Name", exact=True).fill("prod")
    page.get_by_label("API Key", exact=True).check()
    expect(page.get_by_label("Client ID")).to_be_hidden()  # only the chosen method's fields
    page.get_by_label("API key", exact=True).fill("key-that-ends-in-9876")
    page.get_by_label("API base URL").fill("http://contoso.openai.azure.com")
    page.get_by_label("Deployment name, row 1").fill("claude-sonnet-4-5")
    page.get_by_label("Format, row 1").select_option("messages")
    page.get_by_role("button", name="Save").click()

    error = page.locator("#api_base-error")
    expect(error).to_contain_text("https")
    expect(page.get_by_label("API base URL")).to_have_attribute("aria-invalid", "true")
    shot(page, "validation-error")
    page.get_by_label("API base URL").fill("https://contoso.services.ai.azure.com/api/projects/web")
    page.get_by_label("API key", exact=True).fill("key-that-ends-in-9876")  # secrets are never sent back
    page.get_by_role("button", name="Save").click()

    row = page.locator("tr[data-provider=prod]")
    expect(row).to_contain_text("API Key")
    expect(row).to_contain_text("…9876")
    shot(page, "ai-providers")
    row.get_by_role("button", name="Delete prod").click()
    expect(page.locator("tr[data-provider=prod]")).to_have_count(0)


def test_entra_fields_appear_for_entra_and_a_project_provider_overrides(page: Page, site: Site) -> None:
    sign_in(page, site)
    page.get_by_role("link", name="Add provider").click()
    page.get_by_label("Entra API (Azure AD)").check()
    expect(page.get_by_label("API key", exact=True)).to_be_hidden()
    page.get_by_label("Scope", exact=True).fill("https://cognitiveservices.azure.com/.default")
    page.get_by_label("Name", exact=True).fill("entra")
    page.get_by_label("Client ID").fill("22222222-2222-4222-8222-222222222222")
    page.get_by_label("Tenant ID").fill("11111111-1111-4111-8111-111111111111")
    page.get_by_label("Client secret").fill("secret-value-abcd")
    page.get_by_label("API base URL").fill("https://contoso.openai.azure.com")
    page.get_by_label("Belongs to").select_option(label="Project web (overrides)")
    shot(page, "add-provider")
    page.get_by_role("button", name="Save").click()
    row = page.locator("tr[data-provider=entra]")
    expect(row).to_contain_text("Entra API (Azure AD)")
    expect(row).to_contain_text("web")
    expect(row).to_contain_text("…abcd")


def test_edit_then_test_the_connection_against_the_emulator(page: Page, site: Site, emulator: RunningEmulator) -> None:
    sign_in(page, site)
    page.get_by_role("link", name="Add provider").click()
    page.get_by_label("Name", exact=True).fill("emulated")
    page.get_by_label("API key", exact=True).fill("wrong-key-0000")
    page.get_by_label("API base URL").fill(f"{emulator.url}/openai/v1/")
    expect(page.locator("#api_base-normalised")).to_have_text(f"Calls go to {emulator.url}")  # as you type
    page.get_by_role("button", name="Save").click()

    page.get_by_role("link", name="emulated").click()
    page.get_by_role("button", name="Test").click()
    expect(page.get_by_role("heading", name="Connection test: failed")).to_be_visible()
    expect(page.locator(".test")).to_contain_text("copy Key 1")  # the fix, not just the failure

    page.get_by_label("API key", exact=True).fill(DEMO_KEY)  # edit: the new key replaces the old one
    page.get_by_role("button", name="Save").click()
    expect(page.locator("tr[data-provider=emulated]")).to_contain_text("…" + DEMO_KEY[-4:])
    page.get_by_role("link", name="emulated").click()
    page.get_by_role("button", name="Test").click()
    expect(page.get_by_role("heading", name="Connection test: passed")).to_be_visible()
    shot(page, "connection-test")


def test_workload_identity_shows_its_setup_values(page: Page, site: Site) -> None:
    sign_in(page, site)
    page.get_by_role("link", name="Add provider").click()
    page.get_by_label("Microsoft Entra Workload Identity").check()
    page.get_by_label("Subject suffix").fill("prod")
    expect(page.locator("#wi-issuer")).to_have_text(PUBLIC_URL)
    expect(page.locator("#wi-subject")).to_have_text(f"skygate:org:{site.org_id}:azure:prod")
    expect(page.locator("#wi-audience")).to_have_text("api://AzureADTokenExchange")
    expect(page.locator("#wi-type")).to_have_text("Explicit subject identifier")
    expect(page.locator("#wi-az")).to_contain_text("az ad app federated-credential create")
    shot(page, "workload-identity")
    page.get_by_label("Belongs to").select_option(label="Project web (overrides)")
    expect(page.get_by_label("Microsoft Entra Workload Identity")).to_be_disabled()
    expect(page.locator("#wi-project")).to_be_visible()
    page.get_by_label("Belongs to").select_option(label=f"Organization {site.org_name}")
    page.get_by_label("Microsoft Entra Workload Identity").check()
    page.get_by_label("Name", exact=True).fill("keyless")
    page.get_by_label("Client ID").fill("77777777-7777-4777-8777-777777777777")
    page.get_by_label("Tenant ID").fill("11111111-1111-4111-8111-111111111111")
    page.get_by_label("Scope", exact=True).fill("https://cognitiveservices.azure.com/.default")
    page.get_by_label("API base URL").fill("https://contoso.openai.azure.com")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("tr[data-provider=keyless]")).to_contain_text("Microsoft Entra Workload Identity")
    expect(page.locator("tr[data-provider=keyless]")).to_contain_text("none stored")  # nothing secret to keep


def test_keys_are_shown_once_and_can_be_revoked(page: Page, site: Site) -> None:
    sign_in(page, site)
    page.get_by_role("link", name="Keys").click()
    page.get_by_label("Key name").fill("web-app")
    page.get_by_label("Role").select_option("admin")
    page.get_by_label("Project").select_option(label="web")
    page.get_by_role("button", name="Create key").click()
    expect(page.locator("#project_id-error, #project-error").first).to_contain_text("admin")  # admin keys: org-wide
    page.get_by_label("Role").select_option("invoke")
    page.get_by_role("button", name="Create key").click()
    key = page.locator("#new-key").inner_text()
    assert key.startswith("sk-sg-")
    row = page.locator("tr[data-key=web-app]")
    expect(row).to_contain_text("active")
    expect(row).not_to_contain_text(key)  # the list shows the prefix only
    shot(page, "keys")
    page.get_by_role("link", name="Keys").click()
    expect(page.locator("#new-key")).to_have_count(0)  # shown once: a later visit has only the prefix
    row.get_by_role("button", name="Revoke web-app").click()
    expect(page.locator("tr[data-key=web-app]")).to_contain_text("revoked")


def test_saving_works_without_javascript(browser: Browser, site: Site) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in(page, site)
    page.get_by_role("link", name="Add provider").click()
    expect(page.get_by_label("Client ID")).to_be_visible()  # no script: every method's fields show
    page.get_by_label("Name", exact=True).fill("plain")
    page.get_by_label("API key", exact=True).fill("no-script-key-4321")
    page.get_by_label("API base URL").fill("https://plain.openai.azure.com")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("tr[data-provider=plain]")).to_contain_text("…4321")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{site.url}/login")
    page.goto(f"{site.url}/ai-providers")
    expect(page).to_have_url(f"{site.url}/login")  # signed out for real
    context.close()


def test_the_switcher_picks_a_project(page: Page, site: Site) -> None:
    with site.gateway.api() as api:
        other = api.post(f"/orgs/{site.org_id}/projects", json={"name": "mobile"}).json()
        for project, name in ((site.project_id, "web-only"), (other["id"], "mobile-only")):
            body = {"name": name, "type": "azure", "api_base": "https://contoso.openai.azure.com",
                    "auth": {"method": "api_key", "api_key": "k-0000"}}  # fmt: skip
            assert api.post(f"/projects/{project}/providers", json=body).status_code == 201
    sign_in(page, site)
    expect(page.locator("tr[data-provider]")).to_have_count(2)
    page.get_by_label("Project").select_option(label="mobile")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("tr[data-provider]")).to_have_count(1)
    expect(page.locator("tr[data-provider=mobile-only]")).to_contain_text("mobile")
