"""Shared fixtures: paths to the repository, its cases and the paper."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "cases"
PAPER_DIR = ROOT.parent / "shared" / "paper"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def paper_text() -> str:
    """The paper's text, or skip where the folder is absent (it is not ours to ship)."""
    files = sorted(PAPER_DIR.glob("*.txt")) if PAPER_DIR.is_dir() else []
    if not files:
        pytest.skip(f"the paper is not available at {PAPER_DIR}")
    return files[0].read_text(encoding="utf-8")
