"""Recording of every request the emulator receives, with credentials masked, for tests to assert on."""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["RecordedRequest", "Recorder", "RecordingMiddleware", "mask"]

_SECRET_HEADERS = frozenset({"api-key", "x-api-key", "authorization", "cookie"})
_SECRET_FIELDS = frozenset({"client_secret", "client_assertion", "api_key", "password"})


def mask(value: str) -> str:
    """Keep the scheme word and the last 4 characters: enough to tell credentials apart, not to use them."""
    scheme, _, rest = value.partition(" ") if value.lower().startswith(("bearer ", "basic ")) else ("", "", value)
    shown = f"***{rest[-4:]}" if len(rest) > 8 else "***"
    return f"{scheme} {shown}" if scheme else shown


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any

    def public(self) -> dict[str, Any]:
        return asdict(self)


class Recorder:
    def __init__(self, limit: int = 1000) -> None:
        self._items: list[RecordedRequest] = []
        self._limit = limit
        self._lock = threading.Lock()

    def add(self, item: RecordedRequest) -> None:
        with self._lock:
            self._items.append(item)
            del self._items[: -self._limit]

    def all(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def _body(raw: bytes, content_type: str) -> Any:
    if "x-www-form-urlencoded" in content_type:
        form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True).items()}
        return {k: mask(v) if k in _SECRET_FIELDS else v for k, v in form.items()}
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode("utf-8", "replace")[:2000]


class RecordingMiddleware:
    """Buffers each request body, records it, and hands the same bytes on. `/_emulator` itself is not recorded."""

    def __init__(self, app: ASGIApp, recorder: Recorder) -> None:
        self.app, self.recorder = app, recorder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_emulator"):
            await self.app(scope, receive, send)
            return
        chunks, more = [], True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        raw = b"".join(chunks)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        self.recorder.add(
            RecordedRequest(
                method=scope["method"],
                path=scope["path"],
                query={k: v[0] for k, v in parse_qs(scope["query_string"].decode("latin-1")).items()},
                headers={k: mask(v) if k in _SECRET_HEADERS else v for k, v in headers.items()},
                body=_body(raw, headers.get("content-type", "")),
            )
        )
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": raw, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
