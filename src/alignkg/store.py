"""The triple stores alignkg runs SPARQL on: pyoxigraph (default) and rdflib.

Both engines load the same named graphs and run the same ``.rq`` files with values
bound at call time (``substitutions=`` in pyoxigraph, ``initBindings`` in rdflib),
never formatted into the query text. The default graph of a query is the union of
all named graphs. Results come back as rdflib terms, whatever the engine.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import pyoxigraph as ox
from rdflib import BNode, Dataset, Graph, URIRef
from rdflib import Literal as RdfLiteral
from rdflib.term import Node

from alignkg.errors import QueryError

EngineName = Literal["oxigraph", "rdflib", "remote"]  # remote: alignkg.remote.RemoteStore
Row = dict[str, Node]
Triple = tuple[Node, Node, Node]


def to_rdflib(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | ox.DefaultGraph) -> Node:
    """Convert a pyoxigraph term to the equivalent rdflib term."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return RdfLiteral(term.value, lang=term.language)
        datatype = term.datatype.value
        if datatype == "http://www.w3.org/2001/XMLSchema#string":
            return RdfLiteral(term.value)
        return RdfLiteral(term.value, datatype=URIRef(datatype))
    raise QueryError(f"unsupported RDF term in a result: {term!r}")


def to_oxigraph(term: Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """Convert an rdflib term to the equivalent pyoxigraph term."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, RdfLiteral):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise QueryError(f"unsupported RDF term: {term!r}")


class Store(Protocol):
    """What alignkg needs from a triple store."""

    engine: EngineName

    def add(self, triples: Iterable[Triple], *, graph: URIRef) -> int:
        """Add ``triples`` to the named graph ``graph``; return how many were given."""

    def select(self, query: str, bindings: Mapping[str, Node] | None = None) -> list[Row]:
        """Run a SELECT query; each row maps variable names to bound terms."""

    def select_table(
        self, query: str, bindings: Mapping[str, Node] | None = None
    ) -> tuple[list[str], list[Row]]:
        """Run a SELECT query; return its projected variable names and its rows."""

    def construct(self, query: str, bindings: Mapping[str, Node] | None = None) -> list[Triple]:
        """Run a CONSTRUCT query and return its triples."""

    def ask(self, query: str, bindings: Mapping[str, Node] | None = None) -> bool:
        """Run an ASK query."""

    def triples(self, *, graph: URIRef | None = None) -> list[Triple]:
        """All triples of one named graph, or of every graph."""

    def __len__(self) -> int:
        """Number of quads in the store."""


@dataclass
class OxigraphStore:
    """An in-memory (or on-disk) pyoxigraph store."""

    store: ox.Store
    engine: EngineName = "oxigraph"

    @classmethod
    def in_memory(cls) -> OxigraphStore:
        return cls(ox.Store())

    def add(self, triples: Iterable[Triple], *, graph: URIRef) -> int:
        graph_node = ox.NamedNode(str(graph))
        quads = [
            ox.Quad(to_oxigraph(s), to_oxigraph(p), to_oxigraph(o), graph_node)  # type: ignore[arg-type]
            for s, p, o in triples
        ]
        self.store.extend(quads)
        return len(quads)

    def add_oxigraph(self, triples: Sequence[ox.Triple], *, graph: URIRef) -> int:
        """Add pyoxigraph triples without converting them (the fast path for loading)."""
        graph_node = ox.NamedNode(str(graph))
        self.store.extend(ox.Quad(t.subject, t.predicate, t.object, graph_node) for t in triples)
        return len(triples)

    def _run(self, query: str, bindings: Mapping[str, Node] | None) -> object:
        substitutions: dict[ox.Variable, ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple] = {
            ox.Variable(k): to_oxigraph(v) for k, v in (bindings or {}).items()
        }
        try:
            return self.store.query(
                query, use_default_graph_as_union=True, substitutions=substitutions or None
            )
        except SyntaxError as error:
            raise QueryError(f"query does not parse: {error}") from None
        except (RuntimeError, ValueError, OSError) as error:
            raise QueryError(f"query failed: {error}") from None

    def select(self, query: str, bindings: Mapping[str, Node] | None = None) -> list[Row]:
        return self.select_table(query, bindings)[1]

    def select_table(
        self, query: str, bindings: Mapping[str, Node] | None = None
    ) -> tuple[list[str], list[Row]]:
        result = self._run(query, bindings)
        if not isinstance(result, ox.QuerySolutions):
            raise QueryError("expected a SELECT query")
        names = [v.value for v in result.variables]
        rows: list[Row] = []
        for solution in result:
            row: Row = {}
            for name in names:
                value = solution[name]
                if value is not None:
                    row[name] = to_rdflib(value)
            rows.append(row)
        return names, rows

    def construct(self, query: str, bindings: Mapping[str, Node] | None = None) -> list[Triple]:
        result = self._run(query, bindings)
        if not isinstance(result, ox.QueryTriples):
            raise QueryError("expected a CONSTRUCT or DESCRIBE query")
        return [(to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)) for t in result]

    def ask(self, query: str, bindings: Mapping[str, Node] | None = None) -> bool:
        result = self._run(query, bindings)
        if not isinstance(result, ox.QueryBoolean):
            raise QueryError("expected an ASK query")
        return bool(result)

    def triples(self, *, graph: URIRef | None = None) -> list[Triple]:
        graph_node = ox.NamedNode(str(graph)) if graph is not None else None
        return [
            (to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object))
            for q in self.store.quads_for_pattern(None, None, None, graph_node)
        ]

    def __len__(self) -> int:
        return len(self.store)


@dataclass
class RdflibStore:
    """An rdflib Dataset whose default graph is the union of its named graphs."""

    dataset: Dataset
    engine: EngineName = "rdflib"

    @classmethod
    def in_memory(cls) -> RdflibStore:
        return cls(Dataset(default_union=True))

    def add(self, triples: Iterable[Triple], *, graph: URIRef) -> int:
        target = self.dataset.graph(graph)
        count = 0
        for triple in triples:
            target.add(triple)
            count += 1
        return count

    def _run(self, query: str, bindings: Mapping[str, Node] | None) -> object:
        try:
            return self.dataset.query(query, initBindings=dict(bindings or {}))  # type: ignore[arg-type]
        except Exception as error:  # rdflib raises pyparsing errors and plain Exceptions
            raise QueryError(f"query failed on rdflib: {error}") from None

    def select(self, query: str, bindings: Mapping[str, Node] | None = None) -> list[Row]:
        return self.select_table(query, bindings)[1]

    def select_table(
        self, query: str, bindings: Mapping[str, Node] | None = None
    ) -> tuple[list[str], list[Row]]:
        result = self._run(query, bindings)
        if getattr(result, "type", None) != "SELECT":
            raise QueryError("expected a SELECT query")
        names = [str(v) for v in result.vars]  # type: ignore[attr-defined]
        rows: list[Row] = []
        for solution in result:  # type: ignore[attr-defined]
            row: Row = {}
            for name in names:
                value = solution[name]
                if value is not None:
                    row[name] = value
            rows.append(row)
        return names, rows

    def construct(self, query: str, bindings: Mapping[str, Node] | None = None) -> list[Triple]:
        result = self._run(query, bindings)
        if getattr(result, "type", None) not in {"CONSTRUCT", "DESCRIBE"}:
            raise QueryError("expected a CONSTRUCT or DESCRIBE query")
        graph: Graph = result.graph  # type: ignore[attr-defined]
        return list(graph)

    def ask(self, query: str, bindings: Mapping[str, Node] | None = None) -> bool:
        result = self._run(query, bindings)
        if getattr(result, "type", None) != "ASK":
            raise QueryError("expected an ASK query")
        return bool(result.askAnswer)  # type: ignore[attr-defined]

    def triples(self, *, graph: URIRef | None = None) -> list[Triple]:
        if graph is not None:
            return list(self.dataset.graph(graph))
        return [(s, p, o) for s, p, o, _ in self.dataset.quads((None, None, None, None))]

    def __len__(self) -> int:
        return sum(1 for _ in self.dataset.quads((None, None, None, None)))


def new_store(engine: EngineName = "oxigraph") -> OxigraphStore | RdflibStore:
    """An empty in-memory store of the given engine."""
    if engine == "oxigraph":
        return OxigraphStore.in_memory()
    if engine == "rdflib":
        return RdflibStore.in_memory()
    raise QueryError(f"unknown engine {engine!r}; use oxigraph or rdflib")
