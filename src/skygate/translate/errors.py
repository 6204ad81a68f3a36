"""The one error translation raises: a request feature the target format cannot express."""

from __future__ import annotations

__all__ = ["UnreadableAnswer", "Untranslatable"]


class Untranslatable(Exception):
    """Becomes a 400 naming the field: refusing is better than silently changing the answer."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field


class UnreadableAnswer(Exception):
    """An upstream answer or event not in the shape its API documents: a 502, never a crash."""
