"""What the data plane holds per process: the routing snapshot (kept fresh by polling the config version)
and the pooled upstream client."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import httpx

from skygate.gateway.snapshot import Snapshot, build_snapshot
from skygate.gateway.upstream import UpstreamClient
from skygate.gateway.upstream_client import create_upstream_client
from skygate.identity.entra_tokens import EntraTokenCache
from skygate.services.runtime import Runtime
from skygate.services.signing_keys import load_signing_keys
from skygate.store.snapshot import load_config
from skygate.store.version import VersionProbe
from skygate.trust import combined_ca_file

__all__ = ["GatewayState"]

log = logging.getLogger(__name__)

# Admin changes reach every process within this interval (the issue asks for 1 s).
POLL_SECONDS = 0.25


class GatewayState:
    def __init__(
        self, runtime: Runtime, snapshot: Snapshot, client: httpx.AsyncClient, upstream: UpstreamClient
    ) -> None:
        # `upstream` carries model calls (the hot path); `client` the connection test's probes.
        self.runtime, self.snapshot, self.client, self.upstream = runtime, snapshot, client, upstream
        issuer = runtime.settings.public_url or ""
        self.tokens = EntraTokenCache(
            combined_ca_file(runtime.settings), lambda subject: self.snapshot.signing_keys.assertion(issuer, subject)
        )
        self._version = VersionProbe(runtime.engine)
        self._poller: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, runtime: Runtime) -> GatewayState:
        client, upstream = create_upstream_client(runtime.settings), UpstreamClient(runtime.settings)
        state = cls(runtime, await cls._build(runtime), client, upstream)
        state._poller = asyncio.create_task(state._poll(), name="skygate-snapshot-poller")
        return state

    @staticmethod
    async def _build(runtime: Runtime) -> Snapshot:
        async with runtime.engine.connect() as conn:
            config = await load_config(conn)
        settings, signing = runtime.settings, await load_signing_keys(runtime)
        return build_snapshot(
            config,
            runtime.keyring,
            runtime.registry,
            settings.allowed_upstream_hosts,
            signing,
            issuer=settings.has_public_issuer,
        )

    async def refresh(self) -> None:
        self.snapshot = await self._build(self.runtime)

    async def _poll(self) -> None:
        """One single-row read per interval; a rebuild only when the version moved."""
        while True:
            await asyncio.sleep(POLL_SECONDS)
            try:
                if await self._version.read() != self.snapshot.version:
                    await self.refresh()
            except Exception:  # keep serving the last good snapshot; say why
                log.exception("refreshing the routing snapshot failed; serving the previous one")

    async def close(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
        self._version.close()
        await self.client.aclose()
        await self.upstream.aclose()
