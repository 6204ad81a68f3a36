"""What can go wrong with an upstream call, as the proxy tells the cases apart (failover only for the first)."""

from __future__ import annotations

__all__ = ["UpstreamConnectError", "UpstreamError", "UpstreamTimeout"]


class UpstreamError(Exception):
    """The upstream connection failed after the request may have reached it."""


class UpstreamConnectError(UpstreamError):
    """The request never reached the upstream: trying another provider is safe."""


class UpstreamTimeout(UpstreamError):
    """The upstream took longer than SKYGATE_UPSTREAM_TIMEOUT_SECONDS to answer."""
