"""Every .rq parses on both engines; bound values are never formatted into query text."""

from __future__ import annotations

from importlib.resources.abc import Traversable

import pytest
from rdflib import Literal
from rdflib.plugins.sparql import prepareQuery

from alignkg.errors import QueryError, UsageError
from alignkg.query import parse_binding, refuse_unsafe
from alignkg.resources import calendar_span_query, check_rules, derivation_rules, query_files
from alignkg.store import new_store

ALL = [*query_files(), *derivation_rules(), *check_rules()]


@pytest.mark.parametrize("file", ALL, ids=[f.name for f in ALL])
def test_every_query_parses_and_runs_on_an_empty_store(file: Traversable) -> None:
    text = file.read_text(encoding="utf-8")
    prepareQuery(text)
    store = new_store("oxigraph")
    if "CONSTRUCT" in text:
        assert store.construct(text) == []
    else:
        assert store.select(text) == []


def test_calendar_span_is_unbound_on_an_empty_store_and_spans_the_dates() -> None:
    from rdflib import URIRef

    from alignkg.namespace import AK, DATA_GRAPH

    store = new_store("oxigraph")
    assert store.select(calendar_span_query()) == [{}]
    event = URIRef("https://example.org/e")
    date = URIRef("http://www.w3.org/2001/XMLSchema#date")
    store.add(
        [
            (event, URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), AK.Event),
            (event, AK.startDate, Literal("1992-12-18", datatype=date)),
            (event, AK.endDate, Literal("2004-10-14", datatype=date)),
        ],
        graph=DATA_GRAPH,
    )
    [row] = store.select(calendar_span_query())
    assert (int(row["first"]), int(row["last"])) == (1992, 2004)


@pytest.mark.parametrize(
    "text",
    [
        "DROP ALL",
        "INSERT DATA { <a:b> <a:c> <a:d> }",
        "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
        "LOAD <http://example.org/data.ttl>",
        "select * where { service <http://x/> { ?s ?p ?o } }",
        "PREFIX ex: <http://x/>\nDELETE WHERE { ?s ?p ?o }",
        # Spellings a SPARQL parser reads as keywords although a regular expression over
        # comments, strings and IRIs would hide them:
        "SELECT * WHERE { ?a ?p ?b FILTER(?a<?b)SERVICE<http://x/>{?s ?p ?o} }",
        "PREFIX ex: <http://x/> SELECT * WHERE { BIND(ex:a\\' AS ?q) SERVICE <http://x/> "
        "{ ?s ?p ?o } BIND('x' AS ?z) }",
        "PREFIX ex: <http://x/> SELECT * WHERE { BIND(ex:a\\# AS ?q) SERVICE <http://x/> "
        "{ ?s ?p ?o } }",
        "SELECT * WHERE { \\u0053ERVICE <http://x/> { ?s ?p ?o } }",
        "\\u0044ROP ALL",
    ],
)
def test_updates_load_and_service_are_refused(text: str) -> None:
    with pytest.raises(QueryError, match="refused"):
        refuse_unsafe(text)


@pytest.mark.parametrize(
    "text",
    [
        "SELECT ?load ?service WHERE { ?load <http://x/drop> ?service }",
        'SELECT * WHERE { ?s ?p "INSERT DATA" } # DROP ALL',
        "PREFIX ex: <http://x/> SELECT * WHERE { ?s ex:delete ?o }",
        "SELECT * WHERE { ?s ?p ?o FILTER(?o < 3) } ORDER BY ?s",
        "SELECT * WHERE { ?s <http://x/p> 'it\\'s SERVICE time' }",
    ],
)
def test_keywords_in_names_strings_and_comments_are_not_refused(text: str) -> None:
    refuse_unsafe(text)


def test_injection_through_a_binding_stays_a_literal() -> None:
    store = new_store("oxigraph")
    name, value = parse_binding('label=x" } ; DROP ALL ; SELECT * WHERE { "')
    assert name == "label"
    assert isinstance(value, Literal)
    rows = store.select("SELECT ?label WHERE { BIND(?label AS ?copy) }", {name: value})
    assert rows == [{"label": value}]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("dyad=RUS-CHN", "https://w3id.org/alignkg/dyad/CHN-RUS"),
        ("year=2015", "2015"),
        ("x=<https://example.org/a>", "https://example.org/a"),
        ("x=ak:Event", "https://w3id.org/alignkg/ns#Event"),
        ("?x=hello", "hello"),
    ],
)
def test_bindings(text: str, expected: str) -> None:
    assert str(parse_binding(text)[1]) == expected


@pytest.mark.parametrize("text", ["nothing", "=x", "a b=c"])
def test_bad_bindings(text: str) -> None:
    with pytest.raises(UsageError):
        parse_binding(text)
