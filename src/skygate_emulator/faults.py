"""Injected failures per deployment: status codes with Azure's bodies, latency, slow or dropped streams."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

from starlette.responses import JSONResponse

from skygate_emulator import azure_errors as errors
from skygate_emulator.state import Deployment

__all__ = ["DroppedConnection", "StreamGauge", "failure_for", "paced"]


class DroppedConnection(Exception):
    """Raised mid-stream: the server closes the connection without finishing the response."""


def failure_for(deployment: Deployment, api_version: str, operation: str) -> JSONResponse | None:
    faults = deployment.faults
    if faults.content_filter:
        return errors.content_filter()
    if faults.status is None or faults.count == 0:
        return None
    if faults.count > 0:
        faults.count -= 1
    if faults.status == 429:
        return errors.rate_limited(api_version, int(faults.retry_after), operation)
    return errors.server_error(faults.status)


class StreamGauge:
    """How many streams each deployment is sending right now: lets a test see that a disconnect reached us."""

    def __init__(self) -> None:
        self.open: dict[str, int] = {}


async def paced(deployment: Deployment, chunks: Iterator[bytes], gauge: StreamGauge) -> AsyncIterator[bytes]:
    faults = deployment.faults
    gauge.open[deployment.name] = gauge.open.get(deployment.name, 0) + 1
    try:
        for sent, chunk in enumerate(chunks):
            if faults.drop_after_chunks is not None and sent >= faults.drop_after_chunks:
                raise DroppedConnection(f"fault injection: dropped after {sent} chunks")
            if sent and faults.chunk_delay_ms:
                await asyncio.sleep(faults.chunk_delay_ms / 1000)
            yield chunk
    finally:
        gauge.open[deployment.name] -= 1
