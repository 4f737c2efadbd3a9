"""The W3C Turtle test suite through alignkg's loader (``alignkg.kg.read_file``).

One case per entry of ``tests/w3c/turtle/manifest.ttl`` (the RDF 1.1 Turtle suite, see
``tests/w3c/README.md``):

- every negative syntax and negative evaluation test is rejected with ``AK101``, a line
  and a column;
- every positive syntax test loads, and every evaluation test loads and gives a graph
  isomorphic to its expected N-Triples;
- except the tests ``tests/w3c/turtle/alignkg-rejects.csv`` lists: inputs alignkg refuses
  on purpose (an empty file; relative IRIs, since alignkg reads files without a base IRI).
  Those must be refused with the recorded code, and the relative ones must load once the
  suite's base IRI is written at the top of the file (what a base IRI given to the parser
  would do), so the refusal is the missing base and nothing else.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.compare import isomorphic
from rdflib.namespace import RDF
from rdflib.term import Node

from alignkg.errors import InputError
from alignkg.kg import ParsedFile, parse_bytes, read_file

SUITE = Path(__file__).parent / "w3c" / "turtle"
#: Where the suite lives: each file's base IRI is its retrieval IRI under this folder.
BASE = "http://www.w3.org/2013/TurtleTests/"
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
RDFT = Namespace("http://www.w3.org/ns/rdftest#")
NEGATIVE = {RDFT.TestTurtleNegativeSyntax, RDFT.TestTurtleNegativeEval}
POSITIVE = {RDFT.TestTurtlePositiveSyntax, RDFT.TestTurtleEval}


@dataclass(frozen=True)
class Entry:
    """One test of the manifest."""

    name: str
    kind: URIRef
    action: Path
    result: Path | None

    @property
    def base(self) -> str:
        return BASE + self.action.name


def _local(node: Node) -> Path:
    return SUITE / str(node)[len(BASE) :]


@cache
def entries() -> tuple[Entry, ...]:
    manifest = Graph().parse(SUITE / "manifest.ttl", publicID=BASE + "manifest.ttl")
    top = next(manifest.subjects(RDF.type, MF.Manifest))
    found = []
    for node in Collection(manifest, manifest.value(top, MF.entries)):
        kind = manifest.value(node, RDF.type)
        result = manifest.value(node, MF.result)
        assert isinstance(kind, URIRef)
        found.append(
            Entry(
                name=str(manifest.value(node, MF.name)),
                kind=kind,
                action=_local(manifest.value(node, MF.action)),
                result=_local(result) if result is not None else None,
            )
        )
    return tuple(found)


def _rejects() -> dict[str, dict[str, str]]:
    with (SUITE / "alignkg-rejects.csv").open(encoding="utf-8") as handle:
        return {row["test"]: row for row in csv.DictReader(handle)}


REJECTS = _rejects()
NEGATIVES = [e for e in entries() if e.kind in NEGATIVE]
POSITIVES = [e for e in entries() if e.kind in POSITIVE]


def _ids(entry: Entry) -> str:
    return entry.name


@pytest.mark.parametrize("entry", NEGATIVES, ids=_ids)
def test_negative_test_is_rejected_with_its_location(entry: Entry) -> None:
    with pytest.raises(InputError) as caught:
        read_file(entry.action)
    error = caught.value
    assert error.code == "AK101", str(error)
    assert error.location.line >= 1 and error.location.column >= 1, str(error)
    assert str(error).startswith(f"{error.location.path}:{error.location.line}:")
    assert entry.action.name in error.location.path
    assert error.message.strip()


def _rdflib_term(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> Node:
    """The term as rdflib's, lexical forms kept as written (no normalisation)."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    assert isinstance(term, ox.Literal), term
    if term.language:
        return Literal(term.value, lang=term.language, normalize=False)
    return Literal(term.value, datatype=URIRef(term.datatype.value), normalize=False)


def _graph(triples: list[ox.Triple]) -> Graph:
    graph = Graph()
    for t in triples:
        graph.add((_rdflib_term(t.subject), _rdflib_term(t.predicate), _rdflib_term(t.object)))
    return graph


def _check_result(entry: Entry, parsed: ParsedFile) -> None:
    """An evaluation test's triples are its expected N-Triples (up to blank node names)."""
    if entry.result is None:
        return
    # Leniently: one expected file has an IRI pyoxigraph's N-Triples parser calls invalid
    # (U+E01EF, outside RFC 3987's ranges) though Turtle's grammar allows it in a name.
    expected = list(ox.parse(path=entry.result, format=ox.RdfFormat.N_TRIPLES, lenient=True))
    expected_triples = [ox.Triple(q.subject, q.predicate, q.object) for q in expected]
    got, want = _graph(parsed.triples), _graph(expected_triples)
    assert len(got) == len(want)
    assert isomorphic(got, want), (
        f"{entry.name}: the triples differ from {entry.result.name}:\n"
        + "\n".join(sorted(str(t) for t in parsed.triples))
    )


@pytest.mark.parametrize("entry", POSITIVES, ids=_ids)
def test_positive_test_loads(entry: Entry) -> None:
    refused = REJECTS.get(entry.name)
    if refused is None:
        _check_result(entry, read_file(entry.action))
        return
    with pytest.raises(InputError) as caught:
        read_file(entry.action)
    assert caught.value.code == refused["code"], str(caught.value)
    location = caught.value.location
    assert location.line >= 1 and location.column >= 1, str(caught.value)
    if refused["code"] == "AK101":
        # Refused for want of a base IRI: with the suite's base it loads and is right.
        data = f"@base <{entry.base}> .\n".encode() + entry.action.read_bytes()
        _check_result(entry, parse_bytes(data, path=entry.action.name))


def test_the_suite_is_all_there() -> None:
    """The counts of the suite's README: a missing file or entry would pass silently."""
    counts = {kind: sum(e.kind == kind for e in entries()) for kind in (*NEGATIVE, *POSITIVE)}
    assert counts == {
        RDFT.TestTurtleNegativeSyntax: 78,
        RDFT.TestTurtleNegativeEval: 4,
        RDFT.TestTurtlePositiveSyntax: 77,
        RDFT.TestTurtleEval: 132,
    }
    assert all(e.action.is_file() for e in entries())
    assert all(e.result.is_file() for e in entries() if e.result is not None)


def test_refusals_name_positive_tests_only() -> None:
    """A negative test cannot be excused, and every refusal names a test of the suite."""
    assert set(REJECTS) <= {e.name for e in POSITIVES}


def test_readme_gives_the_counts() -> None:
    readme = " ".join((SUITE.parent.parent.parent / "README.md").read_text("utf-8").split())
    loaded = len(POSITIVES) - len(REJECTS)
    assert f"all {len(NEGATIVES)} negative tests" in readme
    assert f"Of the {len(POSITIVES)} positive tests" in readme
    assert f"{loaded} load as they are" in readme
    assert f"{len(REJECTS)} are refused on purpose" in readme
