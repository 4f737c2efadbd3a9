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
from alignkg.validate import violation_query_findings
from casefiles import one, read_header, show

CASES_DIR = Path(__file__).parent / "cases" / "violations"
CASES = sorted(CASES_DIR.glob("*.ttl"))
QUERIES = sorted(q.name[: -len(".rq")] for q in query_files() if q.name.endswith("-violation.rq"))
_NAME = re.compile(
    r"^(?P<query>[a-z0-9-]+?-violation)-(?P<expect>fires|quiet)-(?P<what>[a-z0-9-]+)$"
)
_KEYS = {"query", "expect", "focus", "value"}


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_case_header(path: Path) -> None:
    """The header is well formed and agrees with the file name and the query files."""
    header = read_header(path)
    assert set(header) <= _KEYS, f"unknown header lines: {set(header) - _KEYS}"
    name = _NAME.match(path.stem)
    assert name, f"{path.name}: name it <query>-fires-<what>.ttl or <query>-quiet-<what>.ttl"
    query, expect = one(header, "query"), one(header, "expect")
    assert query == name.group("query"), "the '# query:' line must match the file name"
    assert expect == name.group("expect"), "the '# expect:' line must match the file name"
    assert query in QUERIES, f"no queries/{query}.rq"
    if expect == "fires":
        assert one(header, "focus"), "a fires case names the focus node it expects ('# focus:')"
    else:
        assert not {"focus", "value"} & set(header), "a quiet case expects nothing"


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_case(path: Path) -> None:
    """A fires case gets a finding of its query on the focus node, a quiet case none."""
    header = read_header(path)
    query = one(header, "query")
    findings = violation_query_findings(assemble([path]))
    of_query = [f for f in findings if f.rule == query]
    assert all(f.severity == "Violation" for f in findings)
    if one(header, "expect") == "quiet":
        assert not of_query, f"expected no finding of {query}, got:\n{show(of_query)}"
        return
    focus = one(header, "focus")
    at_focus = [f for f in of_query if f.focus == focus]
    assert at_focus, f"expected a finding of {query} on {focus}, got:\n{show(findings)}"
    for value in header.get("value", []):
        assert any(f.value == value for f in at_focus), (
            f"expected a finding of {query} on {focus} with value {value!r}, got:\n{show(at_focus)}"
        )


@pytest.mark.parametrize("expect", ["fires", "quiet"])
@pytest.mark.parametrize("query", QUERIES)
def test_every_query_has_cases(query: str, expect: str) -> None:
    """Every violation query has a case that fires it and one that keeps it quiet."""
    cases = [p.name for p in CASES if p.stem.startswith(f"{query}-{expect}-")]
    assert cases, f"no case tests/cases/violations/{query}-{expect}-<what>.ttl"
