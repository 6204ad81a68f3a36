"""Logging (with redaction), and later metrics and tracing."""
