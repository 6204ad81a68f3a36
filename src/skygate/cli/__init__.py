"""The `skygate` command line: thin Typer commands over the same services the admin API calls."""
