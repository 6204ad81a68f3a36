"""What a request's translation learns that its answer's translation needs."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

__all__ = ["TranslationContext"]


@dataclass(slots=True)
class TranslationContext:
    model: str  # the name the caller asked for; translated answers carry it
    created: int = field(default_factory=lambda: int(time.time()))
    # A chat caller's `stream_options.include_usage`: the usage chunk is only theirs when they asked for it.
    caller_usage: bool = False
    # JSON mode on a Messages model is a forced tool of this name; its input is the answer's text.
    json_tool: str | None = None
