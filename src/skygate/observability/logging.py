"""Log set-up for the process, with a last-line filter that masks anything shaped like a credential."""

from __future__ import annotations

import logging
import re
import sys

__all__ = ["RedactingFilter", "configure_logging", "redact"]

# Our own key formats, and bearer / api-key header values, wherever they might end up in a message.
_PATTERNS = (
    re.compile(r"sk-sg(?:admin)?-[A-Za-z0-9]{8,}"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"(?i)((?:api-key|x-api-key|client_secret|api_key)[\"']?\s*[:=]\s*[\"']?)[^\s\"',}]{4,}"),
)


def redact(text: str) -> str:
    text = _PATTERNS[0].sub("[redacted]", text)
    for pattern in _PATTERNS[1:]:
        text = pattern.sub(lambda m: m.group(1) + "[redacted]", text)
    return text


class RedactingFilter(logging.Filter):
    """Never the first line of defence (secrets are not logged on purpose), but the last."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            # Formatters reuse a pre-set exc_text, so the traceback is printed redacted too.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
