"""The one pooled HTTP client a process uses for every upstream call: keep-alive, TCP_NODELAY, and TLS that
trusts the system store plus SKYGATE_CA_BUNDLE."""

from __future__ import annotations

import socket
from http.cookiejar import CookieJar, DefaultCookiePolicy

import httpx

from skygate.settings import Settings
from skygate.trust import upstream_tls_context

__all__ = ["create_upstream_client"]


def create_upstream_client(settings: Settings) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(
        verify=upstream_tls_context(settings),
        limits=httpx.Limits(max_connections=1000, max_keepalive_connections=200, keepalive_expiry=60),
        socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
        retries=0,
    )
    # Long reads: a model may think for minutes before the first byte. Connecting is what must be quick.
    timeout = httpx.Timeout(settings.upstream_timeout_seconds, connect=10.0)
    # A jar that takes no cookie: the client serves every organization (see UpstreamClient).
    no_cookies = CookieJar(DefaultCookiePolicy(allowed_domains=[]))
    return httpx.AsyncClient(transport=transport, timeout=timeout, follow_redirects=False, cookies=no_cookies)
