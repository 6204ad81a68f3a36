"""Upstream provider types. Each type owns its URL rules, route building and auth header sources."""
