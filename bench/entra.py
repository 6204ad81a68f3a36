"""The auth part of the bench: the same call through an API-key provider, an Entra client-secret provider and a
workload-identity provider, which differ only in how skygate authenticates upstream. Entra is the project's
emulator (over TLS, in this process); it is asked once per provider, then skygate serves its cached token.

Workload identity needs Entra to read skygate's discovery document over https: nginx terminates TLS in front of
skygate for that (SKYGATE_PUBLIC_URL), while the load goes to skygate's plain port like every other row."""

from __future__ import annotations

import math
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.harness import ERRORS, KEY, MODEL, Skygate, cpu_seconds, median, warm_up, wrk, wrk_script
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

# "api key again" is a second API-key provider measured the same way: how far two identical setups drift apart
# in this run, the yardstick for the Entra rows. "api key, token-sized" is an API-key provider whose requests are
# as large as the Entra ones (a padding header as long as the bearer token): what the larger request costs alone.
AUTHS = ("api key", "api key again", "api key, token-sized", "entra secret", "workload identity")
TOKEN_SIZED = "api key, token-sized"
TOKEN_AUTHS = AUTHS[3:]  # the providers that send an Entra token


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


def _padding(emulator: RunningEmulator) -> dict[str, str]:
    """A header that makes an API-key request as large as an Entra one: the `authorization: Bearer <token>` line
    less the `api-key: <key>` line, for a token the emulator issues."""
    trust = ssl.create_default_context(cafile=str(emulator.ca_file))
    answer = httpx.post(f"{emulator.url}/{TENANT}/oauth2/v2.0/token", verify=trust, data={
        "grant_type": "client_credentials", "client_id": SECRET_APP, "client_secret": SECRET,
        "scope": "https://cognitiveservices.azure.com/.default"})  # fmt: skip
    answer.raise_for_status()
    bearer = len(f"authorization: Bearer {answer.json()['access_token']}")
    name = "x-bench-padding"
    return {name: "p" * (bearer - len(f"api-key: {KEY}") - len(f"{name}: "))}


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
        "api key again": skygate.key_provider("bench-key-2", upstream),
        TOKEN_SIZED: skygate.key_provider("bench-key-3", upstream, _padding(emulator)),
        "entra secret": skygate.org_with_key("bench-secret", {**base, "name": "secret", "auth": {
            **entra_auth, "method": "entra_client_secret", "client_id": SECRET_APP, "client_secret": SECRET}}),
        "workload identity": skygate.org_with_key("bench-wi", {**base, "name": "wi", "auth": {
            **entra_auth, "method": "workload_identity", "client_id": WI_APP, "subject_suffix": "bench"}}, wi_org),
    }  # fmt: skip


@dataclass
class AuthResult:
    target: str
    concurrency: int
    rps: float
    p50_us: float
    p99_us: float
    cpu_us_per_call: float
    errors: int
    # Against the API-key rows: the median over rounds of this row over the mean of the two API-key rows of the
    # same round (set by `parity`), so drift between rounds cancels.
    rps_vs_key: float = math.nan
    cpu_vs_key: float = math.nan
    # Against the token-sized API-key row of the same round, likewise: the auth method less the request's size.
    rps_vs_sized: float = math.nan
    cpu_vs_sized: float = math.nan


def _round(url: str, script: Path, level: int, seconds: float, auth: str, pid: int) -> AuthResult:
    before = cpu_seconds(pid)
    r = wrk(url, script, level, seconds, auth)
    calls = r.rps * max(1, round(seconds))
    return AuthResult(auth, level, r.rps, r.p50_us, r.p99_us, (cpu_seconds(pid) - before) * 1e6 / calls, r.errors)


def parity(
    tmp: Path, url: str, pid: int, keyed: dict[str, str], levels: list[int], rounds: int, seconds: float
) -> list[AuthResult]:
    """Rounds that take the methods in turn, starting with the next one each round; each method's median over the
    rounds is reported, with its ratios to the API-key rows of the same round (`summarize`). The gateway's CPU
    time per call is the steadier measure: it does not move with the load generator's luck."""
    scripts = {auth: wrk_script(tmp, key) for auth, key in keyed.items()}
    results = []
    for level in levels:
        for auth in AUTHS:
            warm_up(url, scripts[auth], level, auth)
        runs: dict[str, list[AuthResult]] = {auth: [] for auth in AUTHS}
        for turn in range(rounds):
            for auth in AUTHS[turn % len(AUTHS) :] + AUTHS[: turn % len(AUTHS)]:
                runs[auth].append(_round(url, scripts[auth], level, seconds, auth, pid))
        results.extend(summarize(runs, level))
    return results


def summarize(runs: dict[str, list[AuthResult]], level: int) -> list[AuthResult]:
    """Each method's medians over its rounds (`runs[auth][turn]`), and its ratios to the API-key rows paired round
    by round: rows measured seconds apart share the host's speed far more than medians of rounds minutes apart."""

    def against(values: list[float], keyed: list[float]) -> float:
        return median(v / k - 1 if k > 0 else math.nan for v, k in zip(values, keyed, strict=True))

    pairs = list(zip(runs["api key"], runs["api key again"], strict=True))
    key_rps = [(a.rps + b.rps) / 2 for a, b in pairs]
    key_cpu = [(a.cpu_us_per_call + b.cpu_us_per_call) / 2 for a, b in pairs]
    sized = runs[TOKEN_SIZED]
    results = []
    for auth in AUTHS:
        rows = runs[auth]
        rps, cpu = [r.rps for r in rows], [r.cpu_us_per_call for r in rows]
        token = auth in TOKEN_AUTHS
        results.append(AuthResult(
            auth, level, median(rps), median(r.p50_us for r in rows), median(r.p99_us for r in rows), median(cpu),
            sum(r.errors for r in rows), against(rps, key_rps), against(cpu, key_cpu),
            against(rps, [r.rps for r in sized]) if token else math.nan,
            against(cpu, [r.cpu_us_per_call for r in sized]) if token else math.nan,
        ))  # fmt: skip
    return results


def parity_table(results: list[AuthResult], rounds: int) -> str:
    lines = [
        f"Auth methods ({MODEL} through skygate; median of {rounds} interleaved rounds each; each round's row compared",
        "with the mean of that round's two API-key rows, the median of those ratios; the API-key rows' own",
        "difference is what two identical setups drift apart in this run; the token rows are also compared, the",
        "same way, with the API-key row whose requests are as large as theirs):",
        "",
        "| provider auth | c | rps | p50 | p99 | CPU per call | rps vs API key | CPU per call vs API key "
        "| rps vs token-sized | CPU vs token-sized |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in results:
        sized = "| | |" if math.isnan(r.rps_vs_sized) else f"| {r.rps_vs_sized:+.1%} | {r.cpu_vs_sized:+.1%} |"
        lines.append(f"| {r.target} | {r.concurrency} | {r.rps:,.0f} | {r.p50_us:,.0f} µs | {r.p99_us:,.0f} µs | "
                     f"{r.cpu_us_per_call:,.0f} µs | {r.rps_vs_key:+.1%} | {r.cpu_vs_key:+.1%} {sized}")  # fmt: skip
    lines.append(f"\n{ERRORS}: {sum(r.errors for r in results)}")
    return "\n".join(lines)
