"""What the emulator's handlers share: the state, the signing key, options, the outbound client, the recorder."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import httpx

from skygate_emulator.faults import StreamGauge
from skygate_emulator.recorder import Recorder
from skygate_emulator.signing import SigningKey
from skygate_emulator.state import EmulatorState

__all__ = ["EmulatorContext", "EmulatorOptions"]


@dataclass
class EmulatorOptions:
    # CA bundle the emulated Entra trusts when it fetches an issuer's discovery document and JWKS.
    outbound_ca: Path | None = None
    # Not real Entra behaviour (§13.3): accept http:// issuers. Off unless a test asks for it.
    allow_http_issuers: bool = False
    # Entra's tokens live about an hour (§9.3); tests shorten it to see refreshes.
    token_lifetime_seconds: int = 3599
    # Entra's clock relative to ours: tests move it to see assertions judged expired (AADSTS700024).
    clock_offset_seconds: float = 0.0


@dataclass
class EmulatorContext:
    state: EmulatorState
    signing_key: SigningKey
    options: EmulatorOptions
    http: httpx.AsyncClient
    recorder: Recorder = field(default_factory=lambda: Recorder())
    streams: StreamGauge = field(default_factory=StreamGauge)
