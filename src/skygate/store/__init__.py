"""Persistence: tables, repositories and migrations. The only package that speaks SQL."""
