"""Docs that cannot drift: every command is documented, with an example in its help."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from alignkg.cli import parser

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands() -> dict[str, argparse.ArgumentParser]:
    for action in parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("no subcommands")


@pytest.mark.parametrize("name", sorted(_commands()))
def test_every_command_is_in_the_readme(name: str) -> None:
    assert f"alignkg {name}" in README


@pytest.mark.parametrize("name", sorted(_commands()))
def test_every_command_help_has_an_example(name: str) -> None:
    assert "Example: alignkg" in (_commands()[name].description or "")


def test_readme_gives_the_two_fresh_machine_commands() -> None:
    blocks = re.findall(r"```sh\n(.*?)\n```", README, re.S)
    assert any("alignkg build" in b and "venv" in b for b in blocks)
    assert any("pytest" in b and "venv" in b for b in blocks)


def test_ci_runs_the_readme_test_command() -> None:
    blocks = re.findall(r"```sh\n(.*?)\n```", README, re.S)
    test_command = next(b for b in blocks if "pytest" in b).strip()
    assert test_command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_every_named_query_is_documented_by_a_comment() -> None:
    from alignkg.resources import query_files

    for file in query_files():
        assert file.read_text(encoding="utf-8").startswith("#"), file.name
