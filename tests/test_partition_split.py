"""How a partitioned build splits one file's statements: each event's own (its
statements and those of the blank nodes only it reaches by evidence, target and
selector) and the shared rest. Each case is a file and, for every subject, whose
statements it travels with; blank nodes are named by their ``rdfs:comment``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest

from alignkg import partition
from alignkg.kg import read_file

PREFIXES = """\
@prefix ak:   <https://w3id.org/alignkg/ns#> .
@prefix oa:   <http://www.w3.org/ns/oa#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix ex:   <https://example.org/> .
"""


@dataclass(frozen=True)
class Case:
    name: str
    text: str
    #: subject (IRI local name or blank node comment) -> the event it travels with, or
    #: "shared"
    expected: dict[str, str]
    #: whether the file's evidence path leads from one event to another
    linked: bool = False


CASES = [
    Case(
        "an-event-with-its-annotation-target-and-selector",
        """
ex:e1 ak:party ex:a , ex:b ; ak:evidence [ rdfs:comment "annotation" ;
    oa:hasTarget [ rdfs:comment "target" ; oa:hasSource ex:s ;
        oa:hasSelector [ rdfs:comment "selector" ] ] ] .
ex:s rdfs:label "a source" .
""",
        {
            "e1": "e1",
            "annotation": "e1",
            "target": "e1",
            "selector": "e1",
            "s": "shared",
        },
    ),
    Case(
        "a-target-two-events-share",
        """
ex:e1 ak:party ex:a , ex:b ; ak:evidence [ rdfs:comment "first" ; oa:hasTarget _:t ] .
ex:e2 ak:grouping ex:g ; ak:evidence [ rdfs:comment "second" ; oa:hasTarget _:t ] .
_:t rdfs:comment "target" ; oa:hasSelector [ rdfs:comment "selector" ] .
""",
        {
            "e1": "e1",
            "e2": "e2",
            "first": "e1",
            "second": "e2",
            "target": "shared",
            "selector": "shared",
        },
    ),
    Case(
        "a-node-something-else-points-at",
        """
ex:e1 ak:party ex:a ; ak:evidence _:n .
_:n rdfs:comment "annotation" ; oa:hasTarget [ rdfs:comment "target" ] .
ex:other rdfs:seeAlso _:n .
""",
        {"e1": "e1", "annotation": "shared", "target": "shared", "other": "shared"},
    ),
    Case(
        "a-node-reached-otherwise-than-by-evidence",
        """
ex:e1 ak:party ex:a ; ak:note [ rdfs:comment "note" ] .
""",
        {"e1": "e1", "note": "shared"},
    ),
    Case(
        "an-annotation-named-by-an-iri",
        """
ex:e1 ak:party ex:a ; ak:evidence ex:annotation .
ex:annotation oa:hasTarget [ rdfs:comment "target" ] .
""",
        {"e1": "e1", "annotation": "shared", "target": "shared"},
    ),
    Case(
        "an-event-whose-evidence-leads-to-another",
        """
ex:e1 ak:party ex:a ; ak:evidence _:e2 .
_:e2 ak:party ex:b ; rdfs:comment "e2" .
""",
        {"e1": "e1", "e2": "e2"},
        linked=True,
    ),
]


def _name(node: object, comments: dict[object, str]) -> str:
    if isinstance(node, ox.BlankNode):
        return comments[node]
    assert isinstance(node, ox.NamedNode)
    return node.value.rsplit("/", 1)[-1]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_statement_travels_with_its_event(case: Case, tmp_path: Path) -> None:
    path = tmp_path / "case.ttl"
    path.write_text(PREFIXES + case.text, encoding="utf-8")
    graph = ox.NamedNode("https://example.org/graph")
    quads = [ox.Quad(t.subject, t.predicate, t.object, graph) for t in read_file(path).triples]
    comments = {
        q.subject: q.object.value
        for q in quads
        if q.predicate.value.endswith("#comment") and isinstance(q.object, ox.Literal)
    }
    split = partition._split(quads)
    found: dict[str, str] = {}
    start = 0
    for event, count in split.blocks:
        for quad in split.own[start : start + count]:
            found[_name(quad.subject, comments)] = _name(event, comments)
        start += count
    assert start == len(split.own)
    for quad in split.shared:
        found[_name(quad.subject, comments)] = "shared"
    assert found == case.expected
    assert len(split.own) + len(split.shared) == len(quads)
    assert split.linked == case.linked


# --- The split follows the queries' own paths --------------------------------------------
# The predicates the split by event follows are read from rules/partition/*.rq with
# rdflib's SPARQL parser, not written out again in Python.

AK = "https://w3id.org/alignkg/ns#"
OA = "http://www.w3.org/ns/oa#"
QUERY_PREFIXES = f"PREFIX ak: <{AK}>\nPREFIX oa: <{OA}>\n"


@dataclass(frozen=True)
class PathCase:
    name: str
    where: str
    #: the IRIs the path from ?event to ?node follows, or the error's words
    expected: set[str] | str


PATH_CASES = [
    PathCase(
        "alternatives-repeated",
        "?event (ak:evidence|oa:hasTarget)* ?node .",
        {AK + "evidence", OA + "hasTarget"},
    ),
    PathCase(
        "a-sequence", "?event ak:evidence/oa:hasTarget ?node .", {AK + "evidence", OA + "hasTarget"}
    ),
    PathCase("an-inverse-path", "?event ^ak:evidence+ ?node .", {AK + "evidence"}),
    PathCase("a-negated-path", "?event !ak:evidence ?node .", "cannot follow"),
    PathCase("no-path-from-event", "?event ak:evidence ?node .", "found 0"),
    PathCase(
        "two-paths-from-event",
        "?event ak:evidence* ?node . ?event oa:hasTarget+ ?node .",
        "found 2",
    ),
    PathCase("a-path-from-something-else", "?other ak:evidence* ?node .", "found 0"),
]


@pytest.mark.parametrize("case", PATH_CASES, ids=[c.name for c in PATH_CASES])
def test_the_path_from_an_event_is_read_from_the_query(case: PathCase) -> None:
    query = QUERY_PREFIXES + f"SELECT * WHERE {{ {case.where} }}"
    if isinstance(case.expected, str):
        with pytest.raises(ValueError, match=case.expected):
            partition.path_from_event(query)
    else:
        assert {iri.value for iri in partition.path_from_event(query)} == case.expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "chunk-input",
            {
                AK + "evidence",
                OA + "hasTarget",
                OA + "hasSelector",
                OA + "hasSource",
                "http://www.w3.org/ns/prov#wasDerivedFrom",
                "http://www.w3.org/ns/prov#wasAttributedTo",
            },
        ),
        ("remainder-input", {AK + "evidence", OA + "hasTarget", OA + "hasSelector"}),
    ],
)
def test_the_shipped_queries_paths(name: str, expected: set[str]) -> None:
    assert {iri.value for iri in partition._path(name)} == expected


def test_events_are_what_all_pair_events_reads_them_by() -> None:
    assert {iri.value for iri in partition._indexed()} == {AK + "party", AK + "grouping"}


def test_a_plain_predicate_of_an_event_is_not_a_path() -> None:
    query = QUERY_PREFIXES + "SELECT * WHERE { ?event ak:party ?a ; ak:evidence* ?node }"
    assert {iri.value for iri in partition.event_predicates(query)} == {AK + "party"}
