"""Updates, ``LOAD`` and ``SERVICE`` are refused before they run, in any spelling.

One table of cases, each refused (with the keyword named) or accepted, checked three
ways: by :func:`alignkg.query.refuse_unsafe` itself, by ``alignkg query FILE.rq`` (exit
code 2, a one-line message, no traceback) and by the endpoint of ``alignkg serve`` (GET,
POST form, POST body: HTTP 400, the store unchanged). Every ``{endpoint}`` in a case is
a local listener that records each connection: a refused query must reach nothing, and
an accepted one, run by pyoxigraph, by rdflib and by the endpoint, must reach nothing
either (the keyword in it is data, not a SERVICE call).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from rdflib import Dataset, URIRef

from alignkg import cli
from alignkg.errors import QueryError
from alignkg.query import refuse_unsafe
from servers import Listener, recording_listener
from test_serve import COUNT_QUADS, JSON, MINI, Running, _count, _send, _start

# --- the cases -------------------------------------------------------------------------


@dataclass(frozen=True)
class Refused:
    name: str
    text: str  # {endpoint}: the recording listener
    keyword: str


@dataclass(frozen=True)
class Accepted:
    name: str
    text: str


S = "SELECT * WHERE { "
REFUSED = [
    # Every update form, as a query.
    Refused("insert-data", "INSERT DATA { <http://x/s> <http://x/p> <http://x/o> }", "INSERT"),
    Refused("delete-data", "DELETE DATA { <http://x/s> <http://x/p> <http://x/o> }", "DELETE"),
    Refused("delete-where", "DELETE WHERE { ?s ?p ?o }", "DELETE"),
    Refused("with-delete", "WITH <http://x/g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", "DELETE"),
    Refused("with-insert", "WITH <http://x/g> INSERT { ?s ?p 1 } WHERE { ?s ?p ?o }", "INSERT"),
    Refused("drop-all", "DROP ALL", "DROP"),
    Refused("drop-silent-graph", "DROP SILENT GRAPH <http://x/g>", "DROP"),
    Refused("clear", "CLEAR DEFAULT", "CLEAR"),
    Refused("create", "CREATE GRAPH <http://x/g>", "CREATE"),
    Refused("load", "LOAD <{endpoint}>", "LOAD"),
    Refused("load-into", "LOAD SILENT <{endpoint}> INTO GRAPH <http://x/g>", "LOAD"),
    Refused("add", "ADD DEFAULT TO <http://x/g>", "ADD"),
    Refused("move", "MOVE SILENT <http://x/a> TO DEFAULT", "MOVE"),
    Refused("copy", "COPY <http://x/a> TO <http://x/b>", "COPY"),
    Refused("update-after-query", S + "?s ?p ?o } ; INSERT DATA { <http://x/a> <http://x/b> 1 }", "INSERT"),
    # Spellings: case, layout, comments.
    Refused("lower-case", "drop all", "DROP"),
    Refused("mixed-case", "dRoP aLl", "DROP"),
    Refused("service", S + "SERVICE <{endpoint}> { ?s ?p ?o } }", "SERVICE"),
    Refused("service-lower", S + "service <{endpoint}> { ?s ?p ?o } }", "SERVICE"),
    Refused("service-mixed-silent", S + "sErViCe SiLeNt <{endpoint}> { ?s ?p ?o } }", "SERVICE"),
    Refused("service-after-newline", S + "?s ?p ?o .\nservice\n<{endpoint}> { ?s ?p ?o } }", "SERVICE"),
    Refused("service-after-tab-cr", S + "?s ?p ?o .\r\n\tSERVICE\t<{endpoint}> { ?s ?p ?o } }", "SERVICE"),
    Refused("comment-between-tokens", S + "SERVICE # here\n <{endpoint}> # and here\n { ?s ?p ?o } }", "SERVICE"),
    Refused("after-a-comment-ended-by-cr", S + "?s ?p ?o } # c\rDROP ALL", "DROP"),
    Refused("service-variable", S + "BIND(<{endpoint}> AS ?u) SERVICE ?u { ?s ?p ?o } }", "SERVICE"),
    Refused("service-glued-to-brace", S + "BIND(1 AS ?x) }SERVICE<{endpoint}>{?s ?p ?o}", "SERVICE"),
    Refused("service-in-optional", S + "OPTIONAL { SERVICE <{endpoint}> { ?s ?p ?o } } }", "SERVICE"),
    Refused("service-in-union", S + "{ ?s ?p ?o } UNION { SERVICE <{endpoint}> { ?s ?p ?o } } }", "SERVICE"),
    Refused("service-in-subquery", S + "{ SELECT * WHERE { SERVICE <{endpoint}> { ?s ?p ?o } } } }", "SERVICE"),
    Refused("service-in-exists", S + "?s ?p ?o FILTER EXISTS { SERVICE <{endpoint}> { ?s ?p ?o } } }", "SERVICE"),
    Refused("service-in-construct", "CONSTRUCT { ?s ?p ?o } WHERE { SERVICE <{endpoint}> { ?s ?p ?o } }", "SERVICE"),
    Refused("service-in-ask", "ASK { SERVICE <{endpoint}> { ?s ?p ?o } }", "SERVICE"),
    Refused("service-in-describe", "DESCRIBE ?s WHERE { SERVICE <{endpoint}> { ?s ?p ?o } }", "SERVICE"),
    # Codepoint escapes (SPARQL decodes them before parsing; rdflib does).
    Refused("escape-u-first", S + "\\u0053ERVICE <{endpoint}> { ?s ?p ?o } }", "SERVICE"),
    Refused("escape-u-middle", S + "SERV\\u0049CE <{endpoint}> { ?s ?p ?o } }", "SERVICE"),
    Refused("escape-u-lower-hex", S + "\\u0073ervice <{endpoint}> { ?s ?p ?o } }", "SERVICE"),
    Refused("escape-big-u", "\\U00000044ROP ALL", "DROP"),
    Refused("escape-all-letters", "\\u0044\\u0052\\u004F\\u0050 ALL", "DROP"),
    # \u0022 is a quote once decoded: the string ends and SERVICE follows.
    Refused("escaped-quote-ends-string", S + '?s ?p "a\\u0022 . SERVICE <{endpoint}> { ?s ?p ?o } # " }', "SERVICE"),
    # \u003E is '>' once decoded: the IRI ends and SERVICE follows.
    Refused("escaped-bracket-ends-iri", S + "?s ?p <http://x/\\u003E . SERVICE <{endpoint}> { ?s ?p ?o } }", "SERVICE"),
    # \u000A ends a comment once decoded.
    Refused("escaped-newline-ends-comment", S + "?s ?p ?o # \\u000ASERVICE <{endpoint}> { ?s ?p ?o } }", "SERVICE"),
    # Look-alikes: rdflib compares keywords after str.upper(), which turns a long s into S.
    Refused("long-s", S + "\u017fERVICE <{endpoint}> { ?s ?p ?o } }", "SERVICE"),
    Refused("dotless-i", S + "SERV\u0131CE <{endpoint}> { ?s ?p ?o } }", "SERVICE"),
    # Where a naive reader would see an IRI, a string or a comment.
    Refused("after-less-than", S + "BIND(1 AS ?a) BIND(2 AS ?b) FILTER(?a<?b)SERVICE<{endpoint}>{?s ?p ?o} }", "SERVICE"),
    Refused("after-escaped-quote-in-name",
            "PREFIX ex: <http://x/>\n" + S + "BIND(ex:a\\' AS ?q) SERVICE <{endpoint}> { ?s ?p ?o } BIND('x' AS ?z) }", "SERVICE"),
    Refused("after-escaped-hash-in-name",
            "PREFIX ex: <http://x/>\n" + S + "BIND(ex:a\\# AS ?q) SERVICE <{endpoint}> { ?s ?p ?o } }", "SERVICE"),
    Refused("after-escaped-quote-in-string", S + '?s ?p "a\\"" . SERVICE <{endpoint}> { ?s ?p ?o } }', "SERVICE"),
    Refused("after-long-string", S + '?s ?p """a "" b""" . SERVICE <{endpoint}> { ?s ?p ?o } }', "SERVICE"),
    Refused("after-name-ending-in-dot", "PREFIX ex: <http://x/>\n" + S + "?s ex:p ex:o. SERVICE <{endpoint}> { ?s ?p ?o } }", "SERVICE"),
    Refused("after-language-tag", S + '?s ?p "x"@en SERVICE <{endpoint}> { ?s ?p ?o } }', "SERVICE"),
]  # fmt: skip

ACCEPTED = [
    Accepted("variable-service", "SELECT ?service ?load WHERE { ?service ?drop ?load }"),
    Accepted("variable-dollar", "SELECT $drop WHERE { $drop ?p ?o }"),
    Accepted("variable-middle-dot", "SELECT ?a\u00b7drop WHERE { ?a\u00b7drop ?p ?o }"),
    Accepted("string-drop", S + '?s ?p "drop all" }'),
    Accepted("string-single", S + "?s ?p 'SERVICE <{endpoint}> { }' }"),
    Accepted("string-long", S + '?s ?p """\nSERVICE <{endpoint}> { ?s ?p ?o }\n""" }'),
    Accepted("string-long-single", S + "?s ?p '''x ' SERVICE <{endpoint}> {} '' y''' }"),
    Accepted("string-escaped-quote", S + '?s ?p "a \\" SERVICE <{endpoint}> { } \\"" }'),
    Accepted("string-with-escapes", S + '?s ?p "SERVICE <{endpoint}> \\u0041 \\U00000042" }'),
    Accepted("string-in-filter", S + "?s ?p ?o FILTER(REPLACE(STR(?o), 'load', 'drop') != 'service') }"),
    Accepted("iri-load", S + "<http://x/LOAD> ?p ?o }"),
    Accepted("iri-service-path", S + "?s <http://x/SERVICE/DROP/INSERT> ?o }"),
    Accepted("comment", S + "?s ?p ?o } # SERVICE <{endpoint}> { }"),
    Accepted("comment-then-newline", S + "?s ?p ?o # DROP ALL\n}"),
    Accepted("prefix-named-service", "PREFIX service: <http://x/>\n" + S + "?s service:drop service:load }"),
    Accepted("empty-prefix", "PREFIX : <http://x/>\n" + S + "?s :drop :service }"),
    Accepted("local-with-escape", "PREFIX ex: <http://x/>\n" + S + "?s ex:a\\-drop ?o }"),
    Accepted("local-with-dot", "PREFIX ex: <http://x/>\n" + S + "?s ex:p ex:o.SERVICE }"),
    Accepted("local-with-percent", "PREFIX ex: <http://x/>\n" + S + "?s ex:a%20drop ?o }"),
    Accepted("local-with-colon", "PREFIX ex: <http://x/>\n" + S + "?s ex:a:service ?o }"),
    Accepted("language-subtag", S + '?s ?p "x"@en-drop }'),
    Accepted("blank-node", S + "_:service ?p ?o }"),
    Accepted("less-than", S + "?a ?p ?b FILTER(?a<?b) }"),
    Accepted("longer-words", S + "?s ?p ?o } # services, loaded, dropping, address, copying"),
    Accepted("function-names", S + "?s ?p ?o BIND(STRLEN(STR(?o)) AS ?copies) }"),
]  # fmt: skip


def _fill(text: str, endpoint: str) -> str:
    return text.replace("{endpoint}", endpoint)


# --- a listener that records every connection ------------------------------------------


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    with recording_listener() as recording:
        yield recording


# --- the tokenizer ---------------------------------------------------------------------


def test_the_cases_have_distinct_names() -> None:
    names = [c.name for c in REFUSED] + [c.name for c in ACCEPTED]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("case", REFUSED, ids=lambda c: c.name)
def test_refused(case: Refused) -> None:
    with pytest.raises(QueryError) as error:
        refuse_unsafe(_fill(case.text, "http://127.0.0.1:9/sparql"))
    assert str(error.value) == (
        f"refused: {case.keyword} is not allowed; alignkg runs read-only queries only"
    )


@pytest.mark.parametrize("case", ACCEPTED, ids=lambda c: c.name)
def test_accepted(case: Accepted) -> None:
    refuse_unsafe(_fill(case.text, "http://127.0.0.1:9/sparql"))


# --- what the engines do with the accepted cases ------------------------------------------


def _oxigraph(text: str) -> None:
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("http://x/s"), ox.NamedNode("http://x/p"), ox.Literal("o")))
    result = store.query(text)
    if not isinstance(result, bool):
        list(result)


def _rdflib(text: str) -> None:
    dataset = Dataset(default_union=True)
    dataset.graph(URIRef("http://x/g")).add(
        (URIRef("http://x/s"), URIRef("http://x/p"), URIRef("http://x/o"))
    )
    list(dataset.query(text))


@pytest.mark.parametrize("engine", [_oxigraph, _rdflib], ids=["oxigraph", "rdflib"])
def test_the_listener_sees_a_real_service_call(listener: Listener, engine: object) -> None:
    """The control: both engines do call a SERVICE endpoint, and the listener sees it."""
    assert callable(engine)
    listener.seen.clear()
    with contextlib.suppress(Exception):
        engine(_fill(S + "SERVICE <{endpoint}> { ?s ?p ?o } }", listener.url))
    for _ in range(100):
        if listener.seen:
            break
        time.sleep(0.02)
    assert len(listener.seen) == 1
    listener.seen.clear()


@pytest.mark.parametrize("engine", [_oxigraph, _rdflib], ids=["oxigraph", "rdflib"])
@pytest.mark.parametrize("case", ACCEPTED, ids=lambda c: c.name)
def test_an_accepted_case_reaches_nothing(
    listener: Listener, engine: object, case: Accepted
) -> None:
    assert callable(engine)
    listener.seen.clear()
    with contextlib.suppress(Exception):  # a parse error is fine: what matters is no call
        engine(_fill(case.text, listener.url))
    assert listener.seen == []


# --- alignkg query ---------------------------------------------------------------------


@pytest.mark.parametrize("case", REFUSED, ids=lambda c: c.name)
def test_alignkg_query_refuses_before_anything_runs(
    tmp_path: Path, listener: Listener, capsys: pytest.CaptureFixture[str], case: Refused
) -> None:
    listener.seen.clear()
    path = tmp_path / "q.rq"
    path.write_text(_fill(case.text, listener.url), encoding="utf-8")
    code = cli.main(["query", str(path), "-q", "--kg", str(MINI)])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err == (
        f"alignkg: error: refused: {case.keyword} is not allowed; "
        "alignkg runs read-only queries only\n"
    )
    assert listener.seen == []


# --- the endpoint ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def mini(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = _start(tmp_path_factory.mktemp("refusal"), "--kg", str(MINI), "--timeout", "5")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=60) as http:
        yield http


@pytest.mark.parametrize("how", ["get", "form", "body"])
@pytest.mark.parametrize("case", REFUSED, ids=lambda c: c.name)
def test_the_endpoint_refuses(
    mini: Running, client: httpx.Client, listener: Listener, how: str, case: Refused
) -> None:
    listener.seen.clear()
    before = _count(client, mini, COUNT_QUADS)
    answer = _send(client, mini, how, _fill(case.text, listener.url), JSON)
    assert answer.status_code == 400
    assert answer.text == (
        f"refused: {case.keyword} is not allowed; alignkg runs read-only queries only"
    )
    assert listener.seen == []
    assert _count(client, mini, COUNT_QUADS) == before


@pytest.mark.parametrize("case", REFUSED + ACCEPTED, ids=lambda c: c.name)  # type: ignore[operator]
def test_the_endpoint_refuses_every_update_request(
    mini: Running, client: httpx.Client, listener: Listener, case: Refused | Accepted
) -> None:
    """An update request (``application/sparql-update``, or an ``update`` parameter) is
    refused whatever it holds."""
    listener.seen.clear()
    before = _count(client, mini, COUNT_QUADS)
    text = _fill(case.text, listener.url)
    answers = [
        client.post(
            mini.endpoint,
            content=text.encode("utf-8"),
            headers={"Content-Type": "application/sparql-update; charset=utf-8"},
        ),
        client.post(mini.endpoint, data={"update": text}),
        client.get(mini.endpoint, params={"update": text}),
        client.post(mini.endpoint, data={"query": "ASK {}", "using-graph-uri": "http://x/g"}),
    ]
    assert [a.status_code for a in answers] == [400] * 4
    assert {a.text for a in answers} == {"updates are refused: this endpoint is read-only"}
    assert listener.seen == []
    assert _count(client, mini, COUNT_QUADS) == before


@pytest.mark.parametrize("case", ACCEPTED, ids=lambda c: c.name)
def test_the_endpoint_runs_an_accepted_case(
    mini: Running, client: httpx.Client, listener: Listener, case: Accepted
) -> None:
    listener.seen.clear()
    answer = _send(client, mini, "form", _fill(case.text, listener.url), JSON)
    assert answer.status_code == 200, answer.text
    assert "results" in answer.json()
    assert listener.seen == []
