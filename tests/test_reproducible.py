"""A build is reproducible: the same input gives the same bytes in every file it writes,
whatever Python's hash seed (which orders sets, and so once the statements a store was
given and the blank nodes of a validation report)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import RDF, RDFS

from alignkg.store import in_order, sorted_nquads

ROOT = Path(__file__).resolve().parent.parent
MINI = ROOT / "tests" / "cases" / "example" / "mini.ttl"
KG = ROOT / "kg"


def _build(out: Path, seed: str, *options: str) -> dict[str, bytes]:
    environment = {**os.environ, "PYTHONHASHSEED": seed}
    done = subprocess.run(
        [sys.executable, "-m", "alignkg", "build", "-q", "--out", str(out), *options],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode in {0, 1}, done.stderr  # 1: the example graph has violations
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.is_file()}


@pytest.mark.parametrize(
    "options",
    [
        ("--no-cache", "--kg", str(MINI)),
        ("--no-cache", "--engine", "rdflib", "--kg", str(MINI)),
        ("--no-cache", "--kg", str(KG)),
        ("--cache", "{out}/cache", "--kg", str(KG)),
    ],
    ids=["example", "example-rdflib", "china-russia", "china-russia-fresh-cache"],
)
def test_two_builds_write_the_same_bytes(tmp_path: Path, options: tuple[str, ...]) -> None:
    written = []
    for seed in ("1", "2"):
        out = tmp_path / seed
        written.append(_build(out, seed, *(o.format(out=out) for o in options)))
    first, second = written
    assert "alignkg.nq" in first and "validation.ttl" in first
    assert sorted(first) == sorted(second)
    assert [name for name in first if first[name] != second[name]] == []


@pytest.mark.parametrize(
    ("given", "written"),
    [
        (b"<b> <p> <o> <g> .\n<a> <p> <o> <g> .\n", b"<a> <p> <o> <g> .\n<b> <p> <o> <g> .\n"),
        (b"<a> <p> <o> <g> .\n\n<a> <p> <o> <g> .\n", b"<a> <p> <o> <g> .\n"),  # twice, blank line
        (b"<a> <p> <o> <g> .", b"<a> <p> <o> <g> .\n"),  # no final newline
        (b"", b""),
    ],
    ids=["order", "duplicate", "last-line", "empty"],
)
def test_nquads_from_rdflib_or_a_server_are_written_sorted(given: bytes, written: bytes) -> None:
    assert sorted_nquads(given) == written


def test_triples_come_in_one_order_whatever_order_they_were_given_in() -> None:
    # terms of every kind side by side (an rdflib Literal does not compare with a URIRef)
    triples = [
        (URIRef("https://example.org/b"), RDFS.label, Literal("b", lang="en")),
        (BNode("x"), RDF.value, Literal(2)),
        (URIRef("https://example.org/a"), RDF.type, URIRef("https://example.org/C")),
    ]
    assert in_order(triples) == in_order(reversed(triples)) == in_order(set(triples))
    assert [t[0] for t in in_order(triples)] == [triples[2][0], triples[0][0], BNode("x")]
