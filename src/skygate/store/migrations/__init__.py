"""Alembic migration scripts for skygate's store."""
