"""The admin API under /api/v1: parse the request, call a service, render the record."""
