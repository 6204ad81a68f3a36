"""The README stays true: the two-command Quickstart, every setting, every command and every admin route."""

from __future__ import annotations

import re
from pathlib import Path

from skygate.admin.app import build_admin_app
from skygate.cli.main import app as cli_app
from skygate.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", README, re.S | re.M)
    assert match, f"README has no '## {title}' section"
    return match.group(1)


def test_quickstart_is_exactly_make_demo_and_make_test() -> None:
    blocks = re.findall(r"```(?:sh|bash|shell)?\n(.*?)```", _section("Quickstart"), re.S)
    commands = [line.strip() for block in blocks for line in block.splitlines() if line.strip()]
    assert commands == ["make demo", "make test"]


def test_every_setting_is_documented() -> None:
    config = _section("Configuration")
    for name in Settings.model_fields:
        assert f"SKYGATE_{name.upper()}" in config, name


def test_every_cli_command_is_documented() -> None:
    names = [c.name or c.callback.__name__ for c in cli_app.registered_commands if c.callback]
    names += [g.name for g in cli_app.registered_groups if g.name]
    for name in names:
        assert f"skygate {name}" in README, name


def test_every_admin_route_is_documented() -> None:
    section = _section("Admin API")
    for path, operations in build_admin_app().openapi()["paths"].items():
        for method in operations:
            assert f"{method.upper()} {path}" in section, f"{method.upper()} {path}"


def test_the_translation_matrix_covers_every_translated_pair() -> None:
    section = _section("Calling models")
    header = next(line for line in section.splitlines() if line.startswith("| feature |"))
    pairs = ["chat → Messages", "chat → Responses", "Responses → chat", "Responses → Messages", "Messages → chat",
             "Messages → Responses"]  # fmt: skip
    assert [cell.strip() for cell in header.strip("|").split("|")][1:] == pairs
    assert (ROOT / "docs" / "translation.md").is_file()
