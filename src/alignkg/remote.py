"""A store on any SPARQL 1.1 server, spoken to only through the standard protocols.

Queries go by the SPARQL 1.1 Protocol (POST, URL-encoded, because Virtuoso 7 never
answers a POST whose body is ``application/sparql-query``) with the dataset named
explicitly: every graph of alignkg is both a ``default-graph-uri`` (so the default graph
is their merge, as the embedded store's union default graph) and a ``named-graph-uri``.
The server's own default graph is never read.

Values are bound by ``BIND(term AS ?var)`` first in the query's WHERE group, the terms
serialised as RDF terms (N-Triples syntax, checked by pyoxigraph), never pasted raw;
blank nodes cannot be bound. Writes go by the Graph Store Protocol (``POST ?graph=IRI`` N-Triples, in chunks;
``DELETE ?graph=IRI``), or by SPARQL Update (``INSERT DATA``, ``DROP SILENT GRAPH``)
when only an update endpoint is known.

Blank nodes are skolemised on the way in (``…/.well-known/genid/ID``, RDF 1.1 §3.5) and
turned back into the same blank nodes on the way out, so a blank node keeps its identity
across graphs and requests, as it does in the embedded store.

Credentials come from the environment (``ALIGNKG_ENDPOINT_USER``,
``ALIGNKG_ENDPOINT_PASSWORD``); basic or digest authentication is chosen from the
server's challenge. Every failure (connection refused, a timeout, HTTP 4xx/5xx) raises
:class:`~alignkg.errors.QueryError` naming the URL, the status and the server's message.
Nothing is retried.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import httpx
import pyoxigraph as ox
from rdflib import BNode, URIRef
from rdflib import Literal as RdfLiteral
from rdflib.term import Node

from alignkg.errors import QueryError, UsageError
from alignkg.namespace import (
    BASE,
    CALENDAR_GRAPH,
    DATA_GRAPH,
    DERIVED_GRAPH,
    INFERRED_GRAPH,
    ONTOLOGY_GRAPH,
    RULES_GRAPH,
)
from alignkg.query import _TOKEN  # the project's SPARQL tokenizer
from alignkg.resources import store_query
from alignkg.store import EngineName, Row, Triple, to_oxigraph, to_rdflib

#: Every graph alignkg writes: the dataset of each query, what a rebuild replaces.
GRAPHS: tuple[URIRef, ...] = (
    ONTOLOGY_GRAPH,
    RULES_GRAPH,
    DATA_GRAPH,
    INFERRED_GRAPH,
    CALENDAR_GRAPH,
    DERIVED_GRAPH,
)
SKOLEM = BASE + ".well-known/genid/"
USER_VARIABLE = "ALIGNKG_ENDPOINT_USER"
PASSWORD_VARIABLE = "ALIGNKG_ENDPOINT_PASSWORD"
DEFAULT_TIMEOUT = 60.0
DEFAULT_CHUNK = 20_000
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_RESULTS_JSON = "application/sparql-results+json"
_RDF_FORMATS = {
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "text/plain": ox.RdfFormat.N_TRIPLES,
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/x-turtle": ox.RdfFormat.TURTLE,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}
_MESSAGE_LINES = 3
_FORMS = frozenset({"SELECT", "CONSTRUCT", "ASK", "DESCRIBE"})


# --- where the server listens ------------------------------------------------------------


@dataclass(frozen=True)
class Endpoints:
    """The URLs of one server: queries, and optionally updates and the Graph Store."""

    query: str
    update: str | None = None
    gsp: str | None = None


def _with_path(url: str, path: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def endpoints(query: str, update: str | None = None, gsp: str | None = None) -> Endpoints:
    """The endpoints of a server given its query URL, the others by convention unless given.

    - Oxigraph: ``/query`` -> ``/update`` and ``/store``;
    - Virtuoso: ``/sparql`` -> ``/sparql`` and ``/sparql-graph-crud``, and
      ``/sparql-auth`` -> ``/sparql-auth`` and ``/sparql-graph-crud-auth``;
    - Apache Jena Fuseki: ``/DATASET/query`` or ``/DATASET/sparql`` -> ``/DATASET/update``
      and ``/DATASET/data``.

    Any other path gives no default: reading works, writing needs ``update`` or ``gsp``.
    """
    parts = urlsplit(query)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise UsageError(f"--endpoint {query!r}: expected an http:// or https:// URL")
    for given in (update, gsp):
        if given is not None and urlsplit(given).scheme not in {"http", "https"}:
            raise UsageError(f"{given!r}: expected an http:// or https:// URL")
    path = parts.path.rstrip("/")
    guessed: tuple[str | None, str | None] = (None, None)
    if path == "/query":
        guessed = (_with_path(query, "/update"), _with_path(query, "/store"))
    elif path in {"/sparql", "/sparql-auth"}:
        crud = "/sparql-graph-crud" + ("-auth" if path.endswith("-auth") else "")
        guessed = (_with_path(query, path), _with_path(query, crud))
    elif path.endswith(("/query", "/sparql")) and path.count("/") >= 2:
        dataset = path.rsplit("/", 1)[0]
        guessed = (_with_path(query, dataset + "/update"), _with_path(query, dataset + "/data"))
    return Endpoints(query=query, update=update or guessed[0], gsp=gsp or guessed[1])


# --- credentials ---------------------------------------------------------------------


class ChallengeAuth(httpx.Auth):
    """Basic or digest authentication, whichever the server's first challenge asks for."""

    requires_request_body = True

    def __init__(self, user: str, password: str) -> None:
        self._basic = httpx.BasicAuth(user, password)
        self._digest = httpx.DigestAuth(user, password)
        self._chosen: httpx.Auth | None = None

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._chosen is not None:
            yield from self._chosen.auth_flow(request)
            return
        response = yield request
        if response.status_code != 401:
            return
        challenge = response.headers.get("www-authenticate", "").strip().lower()
        if challenge.startswith("digest"):
            self._chosen = self._digest
            flow = self._digest.auth_flow(request)
            next(flow)  # the unauthenticated request, already sent
            try:
                retried = flow.send(response)
            except StopIteration:
                return
            yield retried
        elif challenge.startswith("basic"):
            self._chosen = self._basic
            yield from self._basic.auth_flow(request)


def credentials(environ: Mapping[str, str] | None = None) -> ChallengeAuth | None:
    """The credentials of ``ALIGNKG_ENDPOINT_USER`` and ``ALIGNKG_ENDPOINT_PASSWORD``."""
    env = os.environ if environ is None else environ
    user, password = env.get(USER_VARIABLE), env.get(PASSWORD_VARIABLE)
    if not user and not password:
        return None
    if not user or password is None:
        missing = USER_VARIABLE if not user else PASSWORD_VARIABLE
        raise UsageError(f"{missing} is not set; set both or neither")
    return ChallengeAuth(user, password)


# --- terms on the wire -------------------------------------------------------------------


def skolemise(term: Node) -> Node:
    """A blank node as its skolem IRI (every other term unchanged)."""
    if isinstance(term, BNode):
        return URIRef(SKOLEM + quote(str(term), safe=""))
    return term


def unskolemise(term: Node) -> Node:
    """A skolem IRI of :data:`SKOLEM` back as the blank node it stands for."""
    if isinstance(term, URIRef) and str(term).startswith(SKOLEM):
        return BNode(unquote(str(term)[len(SKOLEM) :]))
    return term


def serialise(term: Node) -> str:
    """An RDF term in N-Triples syntax (valid IRIs only, strings escaped); no blank nodes."""
    if isinstance(term, BNode):
        raise QueryError(f"a blank node ({term.n3()}) cannot be bound in a remote query")
    if not isinstance(term, URIRef | RdfLiteral):
        raise QueryError(f"unsupported RDF term: {term!r}")
    try:
        return str(to_oxigraph(term))
    except ValueError as error:
        raise QueryError(f"cannot serialise {term!r} as an RDF term: {error}") from None


def _pattern_start(query: str) -> int:
    """Where the query's WHERE group opens: the offset just after its ``{``.

    Read with the SPARQL tokenizer of :mod:`alignkg.query`, so braces in strings, IRIs and
    comments do not count; a CONSTRUCT template is skipped.
    """
    tokens = [
        t
        for t in _TOKEN.finditer(query)
        if t.lastgroup in {"word", "other"} and (t.lastgroup == "word" or t.group() in "{}()")
    ]
    forms = [i for i, t in enumerate(tokens) if t.group().upper() in _FORMS]
    if not forms:
        raise QueryError("cannot bind values: no SELECT, CONSTRUCT, ASK or DESCRIBE form")
    index = forms[0] + 1
    if tokens[forms[0]].group().upper() == "CONSTRUCT":
        if index < len(tokens) and tokens[index].group().upper() == "WHERE":
            raise QueryError("cannot bind values in a CONSTRUCT WHERE short form")
        depth = 0
        while index < len(tokens):  # skip the template
            depth += {"{": 1, "}": -1}.get(tokens[index].group(), 0)
            index += 1
            if depth == 0:
                break
    parens = 0
    for token in tokens[index:]:
        text = token.group()
        parens += {"(": 1, ")": -1}.get(text, 0)
        if text == "{" and parens == 0:
            return token.end()
    raise QueryError("cannot bind values: the query has no WHERE group")


def with_values(query: str, bindings: Mapping[str, Node] | None) -> str:
    """``query`` with each bound variable set first in its WHERE group, by
    ``BIND(term AS ?var)`` with the term serialised as an RDF term.

    The bindings then hold inside the whole pattern (and so before any aggregate), as
    pyoxigraph's substitutions and rdflib's initBindings do. A trailing ``VALUES`` clause
    would join only after grouping, and Virtuoso 7 refuses it outside SELECT; a ``VALUES``
    block first in the group makes Virtuoso drop the rows of a UNION branch that does not
    mention the variable. ``BIND`` as the first element of a group is the same join in
    SPARQL's algebra and both servers read it so.
    """
    if not bindings:
        return query
    names = sorted(bindings)
    for name in names:
        if not name.isidentifier():
            raise QueryError(f"{name!r} is not a SPARQL variable name")
    binds = "".join(f"\n  BIND({serialise(bindings[n])} AS ?{n})" for n in names)
    at = _pattern_start(query)
    return f"{query[:at]}{binds}\n{query[at:]}"


def _json_term(value: Mapping[str, str]) -> Node:
    kind = value.get("type")
    text = value.get("value", "")
    if kind == "uri":
        return unskolemise(URIRef(text))
    if kind == "bnode":
        return BNode(text)
    if kind in {"literal", "typed-literal"}:
        language = value.get("xml:lang")
        if language:
            return RdfLiteral(text, lang=language.lower())
        datatype = value.get("datatype")
        if datatype and datatype != _XSD_STRING:
            return RdfLiteral(text, datatype=URIRef(datatype))
        return RdfLiteral(text)
    raise QueryError(f"unsupported term in a SPARQL JSON result: {value!r}")


def _triple(triple: ox.Triple) -> Triple:
    return (
        unskolemise(to_rdflib(triple.subject)),
        unskolemise(to_rdflib(triple.predicate)),
        unskolemise(to_rdflib(triple.object)),
    )


def ntriples(triples: Iterable[Triple]) -> bytes:
    """Triples as N-Triples, blank nodes skolemised."""
    converted = [
        ox.Triple(*(to_oxigraph(skolemise(t)) for t in triple))  # type: ignore[arg-type]
        for triple in triples
    ]
    return ox.serialize(converted, format=ox.RdfFormat.N_TRIPLES) or b""


# --- the store -----------------------------------------------------------------------------


def _message(response: httpx.Response) -> str:
    text = response.text.strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()][:_MESSAGE_LINES]
    return " / ".join(lines)[:400]


Method = Literal["GET", "POST", "PUT", "DELETE"]


@dataclass
class RemoteStore:
    """A SPARQL 1.1 server holding alignkg's named graphs."""

    endpoints: Endpoints
    client: httpx.Client
    timeout: float = DEFAULT_TIMEOUT
    chunk: int = DEFAULT_CHUNK
    engine: EngineName = "remote"
    graphs: tuple[URIRef, ...] = GRAPHS
    timings: dict[str, float] = field(default_factory=dict)

    @classmethod
    def connect(
        cls,
        query: str,
        *,
        update: str | None = None,
        gsp: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        environ: Mapping[str, str] | None = None,
    ) -> RemoteStore:
        """A store on the server whose query endpoint is ``query``."""
        if timeout <= 0:
            raise UsageError(f"--endpoint-timeout {timeout}: must be a positive number of seconds")
        client = httpx.Client(
            auth=credentials(environ), timeout=httpx.Timeout(timeout), follow_redirects=False
        )
        return cls(endpoints(query, update, gsp), client, timeout=timeout)

    def close(self) -> None:
        self.client.close()

    # -- HTTP ------------------------------------------------------------------------

    def _send(
        self,
        method: Method,
        url: str,
        *,
        params: Sequence[tuple[str, str]] = (),
        data: Sequence[tuple[str, str]] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        allow: Iterable[int] = (),
    ) -> httpx.Response:
        started = time.perf_counter()
        try:
            response = self.client.request(
                method,
                url,
                params=list(params),
                data=_pairs(data) if data is not None else None,
                content=content,
                headers=dict(headers or {}),
            )
        except httpx.TimeoutException:
            raise QueryError(f"{url}: no answer within {self.timeout:g} s ({method})") from None
        except httpx.ConnectError as error:
            raise QueryError(f"{url}: cannot connect ({error})") from None
        except httpx.HTTPError as error:
            raise QueryError(f"{url}: {method} failed ({error})") from None
        finally:
            self.timings[method] = self.timings.get(method, 0.0) + time.perf_counter() - started
        if response.status_code >= 400 and response.status_code not in set(allow):
            hint = ""
            if response.status_code in {401, 403}:
                hint = f" (check {USER_VARIABLE} and {PASSWORD_VARIABLE})"
            raise QueryError(
                f"{url}: HTTP {response.status_code} {response.reason_phrase}{hint}: "
                f"{_message(response) or 'no message'}"
            )
        limit = response.headers.get("x-sparql-maxrows")
        if limit:
            raise QueryError(
                f"{url}: the server cut the result at {limit} rows (Virtuoso's "
                "[SPARQL] ResultSetMaxRows); raise that limit to read the whole result"
            )
        return response

    def _query(
        self,
        text: str,
        bindings: Mapping[str, Node] | None,
        accept: str,
        default_graph: Sequence[URIRef] | None = None,
    ) -> httpx.Response:
        body = [("query", with_values(text, bindings))]
        chosen = self.graphs if default_graph is None else tuple(default_graph)
        body += [("default-graph-uri", str(g)) for g in chosen]
        body += [("named-graph-uri", str(g)) for g in self.graphs]
        return self._send(
            "POST",
            self.endpoints.query,
            data=body,
            headers={"Accept": accept},
        )

    def _results(self, response: httpx.Response) -> dict[str, object]:
        try:
            parsed = json.loads(response.content)
        except ValueError:
            raise QueryError(
                f"{self.endpoints.query}: expected SPARQL JSON results, got "
                f"{response.headers.get('content-type', 'no content type')}: {_message(response)}"
            ) from None
        if not isinstance(parsed, dict):
            raise QueryError(f"{self.endpoints.query}: not a SPARQL JSON result")
        return parsed

    # -- reading ---------------------------------------------------------------------

    def select(
        self,
        query: str,
        bindings: Mapping[str, Node] | None = None,
        *,
        default_graph: Sequence[URIRef] | None = None,
    ) -> list[Row]:
        return self.select_table(query, bindings, default_graph=default_graph)[1]

    def select_table(
        self,
        query: str,
        bindings: Mapping[str, Node] | None = None,
        *,
        default_graph: Sequence[URIRef] | None = None,
    ) -> tuple[list[str], list[Row]]:
        result = self._results(self._query(query, bindings, _RESULTS_JSON, default_graph))
        head = result.get("head")
        body = result.get("results")
        if not isinstance(head, dict) or not isinstance(body, dict):
            raise QueryError(f"{self.endpoints.query}: expected a SELECT result")
        names = [str(v) for v in head.get("vars", [])]
        rows: list[Row] = []
        for solution in body.get("bindings", []):
            rows.append({name: _json_term(value) for name, value in solution.items()})
        return names, rows

    def ask(self, query: str, bindings: Mapping[str, Node] | None = None) -> bool:
        result = self._results(self._query(query, bindings, _RESULTS_JSON))
        answer = result.get("boolean")
        if not isinstance(answer, bool):
            raise QueryError(f"{self.endpoints.query}: expected an ASK result")
        return answer

    def construct(self, query: str, bindings: Mapping[str, Node] | None = None) -> list[Triple]:
        response = self._query(
            query, bindings, "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.5"
        )
        kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
        fmt = _RDF_FORMATS.get(kind)
        if fmt is None:
            raise QueryError(
                f"{self.endpoints.query}: expected RDF from a CONSTRUCT query, got "
                f"{kind or 'no content type'}: {_message(response)}"
            )
        try:
            return [_triple(t) for t in ox.parse(response.content, format=fmt)]
        except SyntaxError as error:
            raise QueryError(f"{self.endpoints.query}: unreadable {kind}: {error}") from None

    def triples(self, *, graph: URIRef | None = None) -> list[Triple]:
        chosen = self.graphs if graph is None else (graph,)
        text = store_query("remote-graph-triples")
        found: list[Triple] = []
        for name in chosen:
            found.extend(self.construct(text, {"graph": name}))
        return found

    def graph_names(self) -> list[URIRef]:
        """alignkg's graphs: a server's other graphs are never read."""
        return sorted(self.graphs)

    def __len__(self) -> int:
        rows = self.select(store_query("remote-quad-count"))
        return int(str(rows[0]["quads"])) if rows and "quads" in rows[0] else 0

    def nquads(self) -> bytes:
        """Every graph of alignkg as N-Quads."""
        quads = [
            ox.Quad(to_oxigraph(s), to_oxigraph(p), to_oxigraph(o), ox.NamedNode(str(name)))  # type: ignore[arg-type]
            for name in self.graphs
            for s, p, o in self.triples(graph=name)
        ]
        return ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b""

    # -- writing ---------------------------------------------------------------------

    def _writable(self) -> None:
        if self.endpoints.gsp is None and self.endpoints.update is None:
            raise UsageError(
                f"{self.endpoints.query}: no Graph Store Protocol or update endpoint is known "
                "for this server; give --gsp-endpoint URL or --update-endpoint URL"
            )

    def add(self, triples: Iterable[Triple], *, graph: URIRef) -> int:
        """Add ``triples`` to ``graph`` on the server, in chunks; return how many were given."""
        self._writable()
        batch: list[Triple] = []
        count = 0
        for triple in triples:
            batch.append(triple)
            count += 1
            if len(batch) >= self.chunk:
                self._post(batch, graph)
                batch = []
        if batch:
            self._post(batch, graph)
        return count

    def _post(self, batch: list[Triple], graph: URIRef) -> None:
        data = ntriples(batch)
        if self.endpoints.gsp is not None:
            self._send(
                "POST",
                self.endpoints.gsp,
                params=[("graph", str(graph))],
                content=data,
                headers={"Content-Type": "application/n-triples"},
            )
            return
        assert self.endpoints.update is not None
        update = f"INSERT DATA {{ GRAPH {serialise(graph)} {{\n{data.decode('utf-8')}}} }}"
        self._update(update)

    def _update(self, text: str) -> None:
        assert self.endpoints.update is not None
        self._send("POST", self.endpoints.update, data=[("update", text)])

    def clear(self) -> None:
        """Remove every graph of alignkg from the server (a rebuild replaces, never adds)."""
        self._writable()
        for graph in self.graphs:
            if self.endpoints.gsp is not None:
                self._send("DELETE", self.endpoints.gsp, params=[("graph", str(graph))], allow={404})
            else:
                self._update(f"DROP SILENT GRAPH {serialise(graph)}")


def _pairs(data: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for key, value in data:
        grouped.setdefault(key, []).append(value)
    return grouped
