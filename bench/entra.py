"""The auth part of the bench: the same call through an API-key provider, an Entra client-secret provider and a
workload-identity provider, which differ only in how skygate authenticates upstream. Entra is the project's
emulator (over TLS, in this process); it is asked once per provider, then skygate serves its cached token.

Workload identity needs Entra to read skygate's discovery document over https: nginx terminates TLS in front of
skygate for that (SKYGATE_PUBLIC_URL), while the load goes to skygate's plain port like every other row."""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.harness import MODEL, Result, Skygate, wrk, wrk_script
from skygate_emulator.server import RunningEmulator, running_emulator
from skygate_emulator.state import EmulatorState, FederatedCredential
from skygate_emulator.tls import TestPKI, ensure_test_pki

TENANT = "bbbbbbbb-0000-4000-8000-000000000001"
SECRET_APP = "bbbbbbbb-0000-4000-8000-000000000002"
WI_APP = "bbbbbbbb-0000-4000-8000-000000000003"
SECRET = "bench-client-secret-0001"  # the emulator's own test value, not a credential of anything real

# nginx's TLS front for skygate's OIDC routes (added to the bench's nginx configuration).
TLS_FRONT = """
  server {{
    listen 127.0.0.1:{port} ssl;
    ssl_certificate {cert}; ssl_certificate_key {key};
    location / {{ proxy_pass http://127.0.0.1:{skygate}; }}
  }}
"""

AUTHS = ("api key", "entra secret", "workload identity")


def pki(tmp: Path) -> TestPKI:
    return ensure_test_pki(tmp / "tls")


@contextmanager
def entra(tmp: Path) -> Iterator[RunningEmulator]:
    state = EmulatorState.from_json({"tenants": [{"id": TENANT}], "apps": [
        {"tenant_id": TENANT, "client_id": SECRET_APP, "object_id": SECRET_APP, "secrets": [SECRET]},
        {"tenant_id": TENANT, "client_id": WI_APP, "object_id": WI_APP},
    ]})  # fmt: skip
    with running_emulator(tmp / "tls", state) as emulator:
        yield emulator


def keys(skygate: Skygate, emulator: RunningEmulator, public_url: str, upstream: int) -> dict[str, str]:
    """An organization per auth method, each with one provider on the stand-in; their invoke keys."""
    base = {"type": "azure", "api_base": f"http://127.0.0.1:{upstream}"}
    entra_auth = {"tenant_id": TENANT, "authority_host": emulator.url}
    wi_org = skygate.org("bench-wi")
    subject = f"skygate:org:{wi_org}:azure:bench"
    # The WI app trusts this organization's subject from skygate's issuer, as `az ad app federated-credential`
    # would set it up.
    emulator.state.apps[1].federated_credentials.append(FederatedCredential("skygate", public_url, subject))
    return {
        "api key": skygate.key_provider("bench-key", upstream),
        "entra secret": skygate.org_with_key("bench-secret", {**base, "name": "secret", "auth": {
            **entra_auth, "method": "entra_client_secret", "client_id": SECRET_APP, "client_secret": SECRET}}),
        "workload identity": skygate.org_with_key("bench-wi", {**base, "name": "wi", "auth": {
            **entra_auth, "method": "workload_identity", "client_id": WI_APP, "subject_suffix": "bench"}}, wi_org),
    }  # fmt: skip


def parity(tmp: Path, url: str, keyed: dict[str, str], levels: list[int], rounds: int, seconds: float) -> list[Result]:
    """Rounds that take the three methods in turn, so drift on a noisy machine hits each alike; the median of
    each method's rounds is reported."""
    scripts = {auth: wrk_script(tmp, key) for auth, key in keyed.items()}
    results = []
    for level in levels:
        for auth in AUTHS:
            wrk(url, scripts[auth], level, 1.0, auth)  # warm-up, and the first (uncached) token
        runs: dict[str, list[Result]] = {auth: [] for auth in AUTHS}
        for _ in range(rounds):
            for auth in AUTHS:
                runs[auth].append(wrk(url, scripts[auth], level, seconds, auth))
        for auth in AUTHS:
            rows = runs[auth]
            results.append(Result(auth, level, statistics.median(r.rps for r in rows),
                                  statistics.median(r.p50_us for r in rows), statistics.median(r.p99_us for r in rows),
                                  sum(r.errors for r in rows)))  # fmt: skip
    return results


def parity_table(results: list[Result], rounds: int) -> str:
    lines = [
        f"Auth methods ({MODEL} through skygate; median of {rounds} interleaved rounds each):",
        "",
        "| provider auth | c | rps | p50 | p99 | rps vs API key | p50 vs API key |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    by = {(r.target, r.concurrency): r for r in results}
    for r in results:
        key = by[("api key", r.concurrency)]
        lines.append(f"| {r.target} | {r.concurrency} | {r.rps:,.0f} | {r.p50_us:,.0f} µs | {r.p99_us:,.0f} µs | "
                     f"{r.rps / key.rps - 1:+.1%} | {r.p50_us / key.p50_us - 1:+.1%} |")  # fmt: skip
    lines.append(f"\nerrors (non-2xx): {sum(r.errors for r in results)}")
    return "\n".join(lines)
