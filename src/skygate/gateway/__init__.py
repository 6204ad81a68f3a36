"""The data plane: OpenAI- and Anthropic-compatible endpoints, routing from an in-memory snapshot, upstream
calls with failover, streaming pass-through."""
