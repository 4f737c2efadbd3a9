"""Reading test case files: Turtle data whose leading ``# key: value`` comments say what
the case expects (e.g. ``# shape: EventCoder``, ``# expect: fires``, ``# focus: IRI``)."""

from __future__ import annotations

import re
from pathlib import Path

from alignkg.validate import Finding

_HEADER_LINE = re.compile(r"^#\s*([a-z-]+):\s*(.*?)\s*$")


def read_header(path: Path) -> dict[str, list[str]]:
    """The ``# key: value`` lines at the top of a case file (up to the first other line)."""
    header: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _HEADER_LINE.match(line)
        if not match:
            break
        header.setdefault(match.group(1), []).append(match.group(2))
    return header


def one(header: dict[str, list[str]], key: str) -> str | None:
    """The single value of a header key, or None; a key given twice is a broken case."""
    values = header.get(key, [])
    assert len(values) <= 1, f"header line {key!r} given {len(values)} times"
    return values[0] if values else None


def show(findings: list[Finding]) -> str:
    """Findings as indented lines for an assertion message."""
    return "\n".join(f"  {f.key()}: {f.message}" for f in findings) or "  (none)"
