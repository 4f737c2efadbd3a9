"""The same .rq files give the same results on rdflib and pyoxigraph.

One small graph is built once per engine (rdflib is slow: seconds even for a handful of
events) and compared: the stage rows, every named query of ``queries/``, and the
triples the derivation adds to the derived graph.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path

import pytest
from rdflib import BNode, Literal, URIRef
from rdflib.term import Node

from alignkg.build import KnowledgeGraph, assemble
from alignkg.namespace import DERIVED_GRAPH
from alignkg.resources import query_files
from alignkg.stages import stage_rows
from reference import RefRow, event_turtle, make_event, reference_stages, to_turtle

# rdflib warns on every quad it matches in a Dataset; recording millions of warnings
# costs more than the queries.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Dataset.default_context is deprecated:DeprecationWarning"
)

D = dt.date
EVENTS = [
    make_event("e1", parties=("CHN", "RUS"), indicator=1, level="low", start=D(1995, 12, 18)),
    make_event("e2", parties=("RUS", "CHN"), indicator=2, level="low", start=D(1996, 10, 11),
               persistence="persistent"),
    make_event("e3", parties=("RUS", "CHN"), indicator=3, level="high", start=D(1995, 1, 1),
               end=D(1997, 6, 30), persistence="persistent", precision="year"),
    # Projected to the 15 pairs of the six founding members.
    make_event("e4", grouping="SCO", indicator=2, level="high", start=D(2002, 10, 1),
               persistence="persistent", precision="month"),
    # A one-off event whose end falls in the next year.
    make_event("e5", parties=("RUS", "CHN"), indicator=4, level="high", start=D(2001, 8, 19),
               end=D(2002, 1, 25)),
    make_event("e6", parties=("RUS", "CHN"), indicator=5, level="low", start=D(2002, 8, 19)),
    # A grouping event before the SCO existed: it counts for no dyad.
    make_event("e7", grouping="SCO", indicator=1, level="low", start=D(1998, 3, 1)),
    make_event("e8", parties=("IND", "PAK"), dimension="diplomatic", start=D(2000, 2, 21)),
    make_event("e9", parties=("USA", "JPN"), indicator=2, level="high", start=D(1999, 4, 17),
               end=D(2000, 1, 1), persistence="persistent"),
    # The Soviet Union no longer existed: a state-existence violation.
    make_event("e10", parties=("SUN", "CHN"), indicator=1, level="low", start=D(2001, 5, 1)),
]

LONG_QUOTE = " ".join(f"word{i}" for i in range(45))
EXTRA = f"""
ex:src2 a ak:Source ; dcterms:title "Second source"@en , "第二"@zh ; dcterms:language "zh" ;
  ak:sourceKind ak:OfficialDocument ; ak:url "https://example.org/two"^^xsd:anyURI .
ex:src3 a ak:Source ; dcterms:title "Third source" ; dcterms:language "ru" .
ex:src4 a ak:Source ; dcterms:title "Fourth source"@en ; dcterms:language "en" ;
  ak:sourceKind ak:Book .
ex:e2 prov:wasDerivedFrom ex:src2 , ex:src3 ; ak:footnote 12 , 3 , 7 .
ex:e4 prov:wasDerivedFrom ex:src3 ; ak:footnote 40 .
ex:e5 prov:wasDerivedFrom ex:src2 , ex:src4 ;
  ak:codingDecision [ a ak:CodingDecision ; ak:decision "High level."@en ;
    ak:reason "The exercise reached distant seas."@en ] .
ex:e8 ak:aspect ak:VotingAgreement .
ex:src4 ak:reviewedBy ex:coder .
ex:e6 ak:evidence [ a oa:Annotation ; oa:hasTarget [ oa:hasSource ex:src2 ;
  oa:hasSelector [ a oa:TextQuoteSelector ; oa:exact "{LONG_QUOTE}" ] ] ] .
"""
EXTRA += (Path(__file__).parent / "cases" / "tables" / "engines.ttl").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def data_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("engines")
    first = folder / "a.ttl"
    first.write_text(to_turtle(EVENTS[:5]) + EXTRA, encoding="utf-8")
    second = folder / "b.ttl"
    second.write_text(
        to_turtle([], header=False) + "\n".join(event_turtle(e) for e in EVENTS[5:]),
        encoding="utf-8",
    )
    return [first, second]


@pytest.fixture(scope="module")
def graphs(data_files: list[Path]) -> dict[str, KnowledgeGraph]:
    return {engine: assemble(data_files, engine=engine) for engine in ("oxigraph", "rdflib")}


def test_both_engines_derive_the_same_stage_rows(graphs: dict[str, KnowledgeGraph]) -> None:
    oxigraph = stage_rows(graphs["oxigraph"].store)
    rdflib = stage_rows(graphs["rdflib"].store)
    assert oxigraph, "the fixture derives stage rows"
    assert rdflib == oxigraph
    # ... and both agree with the plain-Python reference.
    assert {RefRow(*dataclasses.astuple(r)) for r in oxigraph} == reference_stages(EVENTS)


def test_both_engines_narrow_by_bound_values_alike(graphs: dict[str, KnowledgeGraph]) -> None:
    everything = stage_rows(graphs["oxigraph"].store)
    dyads = sorted({r.dyad for r in everything})
    assert {"CHN-RUS", "CHN-SUN", "IND-PAK", "JPN-USA", "CHN-KAZ"} <= set(dyads)
    for dyad in ("CHN-RUS", "JPN-USA", "KAZ-RUS"):
        for reading in ("strict", "manifested"):
            expected = [r for r in everything if r.dyad == dyad and r.reading == reading]
            assert expected
            for engine in ("oxigraph", "rdflib"):
                narrowed = stage_rows(
                    graphs[engine].store, dyad=dyad[4:] + "-" + dyad[:3], reading=reading
                )
                assert narrowed == expected, (engine, dyad, reading)


# --- Named queries ---------------------------------------------------------------------

_SEPARATOR = re.compile(
    r"GROUP_CONCAT\s*\(.*?;\s*separator\s*=\s*\"([^\"]*)\"\s*\)\s*AS\s*\?(\w+)",
    re.IGNORECASE | re.DOTALL,
)
_FORM = re.compile(r"^\s*(SELECT|CONSTRUCT|ASK|DESCRIBE)\b", re.IGNORECASE | re.MULTILINE)


def _strip_comments(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def _term(value: Node) -> tuple[str, ...]:
    if isinstance(value, BNode):
        return ("bnode",)
    if isinstance(value, URIRef):
        return ("iri", str(value))
    if isinstance(value, Literal):
        datatype = str(value.datatype) if value.datatype else ""
        if datatype == "http://www.w3.org/2001/XMLSchema#string":
            datatype = ""
        return ("literal", str(value), datatype, value.language or "")
    raise AssertionError(f"unexpected term {value!r}")


def _normalise(row: Mapping[str, Node], separators: Mapping[str, str]) -> tuple[object, ...]:
    cells: list[tuple[str, object]] = []
    for name, value in row.items():
        if isinstance(value, Literal) and str(value) == "" and not value.datatype:
            continue  # an empty GROUP_CONCAT is the same as an unbound one
        if name in separators:
            parts = str(value).split(separators[name].strip() or None)
            cells.append((name, ("concat", *sorted(p.strip() for p in parts))))
        else:
            cells.append((name, _term(value)))
    return tuple(sorted(cells))


QUERIES = {f.name: _strip_comments(f.read_text(encoding="utf-8")) for f in query_files()}


def test_there_are_named_queries_to_compare() -> None:
    assert "stage-per-dyad-year.rq" in QUERIES
    assert len(QUERIES) >= 5


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_both_engines_answer_every_named_query_alike(
    graphs: dict[str, KnowledgeGraph], name: str
) -> None:
    text = QUERIES[name]
    form = _FORM.search(text)
    assert form, f"{name}: no query form found"
    kind = form.group(1).upper()
    answers = {}
    for engine, kg in graphs.items():
        if kind == "SELECT":
            separators = {var: sep for sep, var in _SEPARATOR.findall(text)}
            rows = kg.store.select(text)
            answers[engine] = sorted(_normalise(r, separators) for r in rows)
        elif kind == "ASK":
            answers[engine] = kg.store.ask(text)
        else:
            answers[engine] = sorted(
                tuple(_term(t) for t in triple) for triple in kg.store.construct(text)
            )
    assert answers["rdflib"] == answers["oxigraph"]


def test_the_fixture_exercises_the_named_queries(graphs: dict[str, KnowledgeGraph]) -> None:
    """Each named query has something to compare on the fixture (no vacuous passes)."""
    store = graphs["oxigraph"].store
    for name, text in QUERIES.items():
        if _FORM.search(text).group(1).upper() == "SELECT":  # type: ignore[union-attr]
            assert store.select(text), f"{name} returns no rows on the fixture"


# --- The derived graph -----------------------------------------------------------------


def test_both_engines_derive_the_same_triples(graphs: dict[str, KnowledgeGraph]) -> None:
    derived = {
        engine: {tuple(_term(t) for t in triple) for triple in kg.store.triples(graph=DERIVED_GRAPH)}
        for engine, kg in graphs.items()
    }
    assert derived["oxigraph"], "the fixture derives triples"
    missing = sorted(derived["oxigraph"] - derived["rdflib"])[:10]
    extra = sorted(derived["rdflib"] - derived["oxigraph"])[:10]
    assert derived["rdflib"] == derived["oxigraph"], (
        f"\nonly on oxigraph: {missing}\nonly on rdflib: {extra}"
    )



@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
def test_a_graph_without_events_derives_nothing(engine: str) -> None:
    """Aggregates over no events make no groups: no dyad-year is minted from other labels
    (rdflib answers an empty GROUP BY with one unbound row; the rules guard against it)."""
    tables = Path(__file__).resolve().parent.parent / "kg" / "tables.ttl"
    kg = assemble([tables], engine=engine)  # type: ignore[arg-type]
    assert kg.store.triples(graph=DERIVED_GRAPH) == []
