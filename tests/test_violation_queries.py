"""The violation queries (``queries/*-violation.rq``), case by case: each fires on a broken
example and keeps quiet on a near miss.

Every case is one Turtle file under ``tests/cases/violations/``, named
``<query>-fires-<what>.ttl`` or ``<query>-quiet-<what>.ttl``, whose first comment lines
state the expected result::

    # query: quote-length-violation            the query file's stem
    # expect: fires                            or: quiet
    # focus: https://example.org/e1            (fires) the focus node of the finding
    # value: ...                               (optional, repeatable) a finding per value
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from alignkg.build import assemble
from alignkg.resources import query_files
from alignkg.validate import Finding, violation_query_findings

CASES_DIR = Path(__file__).parent / "cases" / "violations"
CASES = sorted(CASES_DIR.glob("*.ttl"))
QUERIES = sorted(q.name[: -len(".rq")] for q in query_files() if q.name.endswith("-violation.rq"))
_NAME = re.compile(
    r"^(?P<query>[a-z0-9-]+?-violation)-(?P<expect>fires|quiet)-(?P<what>[a-z0-9-]+)$"
)
_HEADER_LINE = re.compile(r"^#\s*([a-z-]+):\s*(.*?)\s*$")
_KEYS = {"query", "expect", "focus", "value"}


def read_header(path: Path) -> dict[str, list[str]]:
    """The ``# key: value`` lines at the top of a case file (up to the first other line)."""
    header: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _HEADER_LINE.match(line)
        if not match:
            break
        header.setdefault(match.group(1), []).append(match.group(2))
    return header


def _one(header: dict[str, list[str]], key: str) -> str | None:
    values = header.get(key, [])
    assert len(values) <= 1, f"header line {key!r} given {len(values)} times"
    return values[0] if values else None


def _show(findings: list[Finding]) -> str:
    return "\n".join(f"  {f.key()}: {f.message}" for f in findings) or "  (none)"


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_case_header(path: Path) -> None:
    """The header is well formed and agrees with the file name and the query files."""
    header = read_header(path)
    assert set(header) <= _KEYS, f"unknown header lines: {set(header) - _KEYS}"
    name = _NAME.match(path.stem)
    assert name, f"{path.name}: name it <query>-fires-<what>.ttl or <query>-quiet-<what>.ttl"
    query, expect = _one(header, "query"), _one(header, "expect")
    assert query == name.group("query"), "the '# query:' line must match the file name"
    assert expect == name.group("expect"), "the '# expect:' line must match the file name"
    assert query in QUERIES, f"no queries/{query}.rq"
    if expect == "fires":
        assert _one(header, "focus"), "a fires case names the focus node it expects ('# focus:')"
    else:
        assert not {"focus", "value"} & set(header), "a quiet case expects nothing"


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_case(path: Path) -> None:
    """A fires case gets a finding of its query on the focus node, a quiet case none."""
    header = read_header(path)
    query = _one(header, "query")
    findings = violation_query_findings(assemble([path]))
    of_query = [f for f in findings if f.rule == query]
    assert all(f.severity == "Violation" for f in findings)
    if _one(header, "expect") == "quiet":
        assert not of_query, f"expected no finding of {query}, got:\n{_show(of_query)}"
        return
    focus = _one(header, "focus")
    at_focus = [f for f in of_query if f.focus == focus]
    assert at_focus, f"expected a finding of {query} on {focus}, got:\n{_show(findings)}"
    for value in header.get("value", []):
        assert any(f.value == value for f in at_focus), (
            f"expected a finding of {query} on {focus} with value {value!r}, got:\n{_show(at_focus)}"
        )


@pytest.mark.parametrize("expect", ["fires", "quiet"])
@pytest.mark.parametrize("query", QUERIES)
def test_every_query_has_cases(query: str, expect: str) -> None:
    """Every violation query has a case that fires it and one that keeps it quiet."""
    cases = [p.name for p in CASES if p.stem.startswith(f"{query}-{expect}-")]
    assert cases, f"no case tests/cases/violations/{query}-{expect}-<what>.ttl"
