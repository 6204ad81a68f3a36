"""Entra access tokens for upstream calls, from azure-identity's credentials, cached per (authority, tenant,
client, scope, method, credential): refreshed before expiry, one refresh at a time per key, and a still-valid
token keeps serving when Entra fails. Tokens live here only, never inside a long-lived client."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from azure.core.credentials import TokenCredential
from azure.identity import ClientAssertionCredential, ClientSecretCredential

__all__ = ["EntraTokenCache", "EntraTokenError", "TokenRequest"]

log = logging.getLogger(__name__)

# Refresh this long before expiry (or at half the lifetime of a shorter token).
REFRESH_MARGIN_SECONDS = 300.0
# After a failed refresh, answer from memory for this long instead of asking Entra again on every call.
FAILURE_BACKOFF_SECONDS = 5.0
# A refresh that hands back the token already held, with less than this left, asks again through a new credential
# (which has no cache): azure-identity's assertion credential serves its cached token to its last second (it asks
# early only for tokens of more than five minutes, and not twice within 30 s), and one sent then can expire on the
# way, a 401 upstream. Only short-lived tokens (the emulator's, in tests) come near it.
LAST_SECONDS = 2.0
_AADSTS = re.compile(r"AADSTS(\d+)")


class EntraTokenError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        match = _AADSTS.search(message)
        self.code = f"AADSTS{match.group(1)}" if match else None
        self.message = message


@dataclass(frozen=True)
class TokenRequest:
    """What a token is for. `credential_id` tells credentials apart (a secret's fingerprint, or the workload
    subject); the secret itself is never part of the key."""

    method: str
    authority: str
    tenant_id: str
    client_id: str
    scope: str
    credential_id: str
    secret: str | None = field(default=None, compare=False, repr=False)
    subject: str | None = field(default=None, compare=False)


@dataclass
class _Entry:
    credential: TokenCredential
    token: str | None = None
    expires_on: float = 0.0
    refresh_at: float = 0.0
    failed_until: float = 0.0
    error: EntraTokenError | None = None
    refreshing: asyncio.Task[str] | None = None


class EntraTokenCache:
    def __init__(self, ca_file: str | None, assertion_for: Callable[[str], str]) -> None:
        """`assertion_for(subject)` signs a fresh workload-identity assertion (called by azure-identity)."""
        self._ca_file = ca_file
        self._assertion_for = assertion_for
        self._entries: dict[TokenRequest, _Entry] = {}
        self._locks: dict[TokenRequest, asyncio.Lock] = {}

    def _credential(self, request: TokenRequest) -> TokenCredential:
        # Short network timeouts: a hanging token endpoint must not hold callers (azure-core's default is minutes).
        options: dict[str, object] = {"authority": request.authority, "connection_timeout": 10, "read_timeout": 10}
        if self._ca_file:
            options["connection_verify"] = self._ca_file
        if request.method == "workload_identity":
            subject = request.subject or ""
            return ClientAssertionCredential(
                request.tenant_id, request.client_id, lambda: self._assertion_for(subject), **options
            )
        # Instance discovery would call login.microsoftonline.com even for another cloud (reference §10).
        return ClientSecretCredential(
            request.tenant_id, request.client_id, request.secret or "", disable_instance_discovery=True, **options
        )

    async def token(self, request: TokenRequest) -> str:
        now = time.time()
        entry = self._entries.get(request)
        if entry is not None and entry.token and now < entry.refresh_at:
            return entry.token
        if entry is not None and entry.token and entry.expires_on > now + 10:
            # Due for refresh but still good: serve it, and let one background task refresh it.
            if entry.refreshing is None or entry.refreshing.done():
                entry.refreshing = asyncio.create_task(self._locked_refresh(request))
                # Its failure is already logged and remembered in the entry; nobody awaits the task itself.
                entry.refreshing.add_done_callback(lambda task: task.cancelled() or task.exception())
            return entry.token
        return await self._locked_refresh(request)

    async def _locked_refresh(self, request: TokenRequest) -> str:
        """One refresh at a time per key; callers that queued behind it get its result."""
        async with self._locks.setdefault(request, asyncio.Lock()):
            now = time.time()
            entry = self._entries.get(request)
            if entry is not None and entry.token and now < entry.refresh_at:
                return entry.token
            if entry is None:
                entry = self._entries[request] = _Entry(self._credential(request))
            if entry.failed_until > now and entry.error is not None:
                return self._fallback(entry, now, entry.error)
            return await self._refresh(entry, request, now)

    def _fallback(self, entry: _Entry, now: float, error: EntraTokenError) -> str:
        if entry.token and entry.expires_on > now + 10:
            return entry.token
        raise error

    async def _refresh(self, entry: _Entry, request: TokenRequest, now: float) -> str:
        try:
            # azure-identity's credentials are blocking (requests); a refresh is rare, so a thread is fine.
            access = await asyncio.to_thread(entry.credential.get_token, request.scope)
            if access.token == entry.token and access.expires_on - time.time() < LAST_SECONDS:
                stale, entry.credential = entry.credential, self._credential(request)
                access = await asyncio.to_thread(entry.credential.get_token, request.scope)
                await asyncio.to_thread(_close, stale)
        except Exception as exc:
            error = EntraTokenError(str(exc))
            entry.error, entry.failed_until = error, now + FAILURE_BACKOFF_SECONDS
            log.warning(
                "Entra token for client %s in tenant %s failed: %s",
                request.client_id,
                request.tenant_id,
                error.code or type(exc).__name__,
            )
            return self._fallback(entry, now, error)
        lifetime = max(access.expires_on - now, 0)
        entry.token, entry.expires_on = access.token, float(access.expires_on)
        entry.refresh_at = access.expires_on - min(REFRESH_MARGIN_SECONDS, lifetime / 2)
        entry.error, entry.failed_until = None, 0.0
        return access.token


def _close(credential: TokenCredential) -> None:
    """A credential replaced by a fresh one: its HTTP session goes now, not whenever the collector finds it."""
    close = getattr(credential, "close", None)
    if close is not None:
        close()
