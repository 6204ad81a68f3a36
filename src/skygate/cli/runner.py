"""Running a service call from a command: one runtime per command, errors as messages and exit codes."""

from __future__ import annotations

import asyncio
import getpass
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn, TypeVar

import typer
from pydantic import BaseModel, ValidationError

from skygate.domain.inputs import describe_validation_errors
from skygate.domain.records import Principal
from skygate.errors import FieldError, SkygateError, ValidationFailed
from skygate.services.runtime import Runtime, open_runtime
from skygate.settings import Settings
from skygate.store.migrate import upgrade

__all__ = ["cli_principal", "emit", "fail", "parse_input", "run_service"]

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


def cli_principal() -> Principal:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return Principal("cli", f"cli:{user}")


def fail(message: str, fields: list[FieldError] | None = None) -> NoReturn:
    typer.echo(f"error: {message}" if not fields else "error: invalid input", err=True)
    for field in fields or []:
        typer.echo(f"  {field}", err=True)
    raise typer.Exit(1)


def parse_input(model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fail("invalid input", describe_validation_errors([dict(e) for e in exc.errors()]))


def run_service(call: Callable[[Runtime], Awaitable[T]]) -> T:
    """Migrate (idempotent), open a runtime, run `call`, and map our errors to exit code 1."""
    settings = Settings()

    async def main() -> T:
        async with open_runtime(settings) as runtime:
            return await call(runtime)

    try:
        upgrade(settings.effective_database_url)
        return asyncio.run(main())
    except SkygateError as exc:
        fail(exc.message, exc.errors if isinstance(exc, ValidationFailed) else None)


def emit(data: Any, as_json: bool, human: Callable[[Any], str] | None = None) -> None:
    if as_json or human is None:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        typer.echo(human(data))
