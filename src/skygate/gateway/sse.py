"""Server-sent events out of an upstream body, for the streams that are translated."""

from __future__ import annotations

__all__ = ["SSEDecoder"]


class SSEDecoder:
    """Server-sent events from bytes in pieces of any size: each event's `data:` lines, joined. Other fields
    (`event:`, `id:`, comments) are not needed: every API we read repeats the event type inside the data."""

    def __init__(self) -> None:
        self._buffer = b""
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> list[str]:
        self._buffer += chunk
        *lines, self._buffer = self._buffer.split(b"\n")
        events = []
        for raw in lines:
            line = raw.rstrip(b"\r").decode("utf-8", "replace")
            if not line:
                if self._data:
                    events.append("\n".join(self._data))
                    self._data = []
            elif line.startswith("data:"):
                self._data.append(line[5:].removeprefix(" "))
        return events

    def end(self) -> list[str]:
        """What a stream that ends without a final blank line still holds."""
        events = self.feed(b"\n\n") if self._buffer or self._data else []
        return events
