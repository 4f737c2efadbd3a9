"""SHACL Core shapes compiled to SPARQL and run on the store.

The shapes graph is data: each (shape, constraint component) it declares becomes one
SELECT query over the graphs the SHACL engine would see, with the shape, component,
path, severity and messages carried alongside. Nested shapes (``sh:node``, ``sh:not``,
``sh:and``, ``sh:or``, ``sh:xone``, ``sh:property``) compile to ``EXISTS`` expressions
anchored on the focus node, so the work grows linearly with the focus nodes.

IRIs of the shapes graph are written into the query text (property paths need them
there) once checked to be plain IRIs; every other value (classes, ``sh:in`` members,
``sh:hasValue``, patterns, bounds, lengths) is bound at run time. A shape using anything
the compiler does not know is an error naming the shape and the component: no check is
ever lost silently.

Values of ``sh:datatype`` are matched by datatype, and their lexical forms checked for the
datatypes SPARQL casts (``xsd:integer``, ``decimal``, ``float``, ``double``, ``boolean``,
``dateTime``): lexical forms of the other datatypes alignkg knows are checked when the
data is loaded (``alignkg.literals``).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal as Kind

from rdflib import BNode, Graph, URIRef
from rdflib import Literal as RdfLiteral
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, SH
from rdflib.term import Node

from alignkg.errors import InputError, Location
from alignkg.store import RdflibStore, Store

# --- Paths ----------------------------------------------------------------------------


@dataclass(frozen=True)
class InversePath:
    path: PathExpr


@dataclass(frozen=True)
class SequencePath:
    steps: tuple[PathExpr, ...]


@dataclass(frozen=True)
class AlternativePath:
    options: tuple[PathExpr, ...]


@dataclass(frozen=True)
class RepeatPath:
    path: PathExpr
    modifier: Kind["*", "+", "?"]


PathExpr = URIRef | InversePath | SequencePath | AlternativePath | RepeatPath

_REPEATS: dict[URIRef, Kind["*", "+", "?"]] = {
    SH.zeroOrMorePath: "*",
    SH.oneOrMorePath: "+",
    SH.zeroOrOnePath: "?",
}
_IRI_FORBIDDEN = re.compile(r'[\x00-\x20<>"{}|^`\\]')


class PathError(ValueError):
    """A SHACL path node that is not a well-formed path."""


def parse_path(graph: Graph, node: Node) -> PathExpr:
    """The SHACL property path at ``node`` of ``graph``."""
    if isinstance(node, URIRef):
        return node
    if not isinstance(node, BNode):
        raise PathError(f"a path is an IRI or a blank node, not {node!r}")
    first = graph.value(node, RDF.first)
    if first is not None:
        steps = tuple(parse_path(graph, step) for step in Collection(graph, node))
        if len(steps) < 2:
            raise PathError("a sequence path needs at least two steps")
        return SequencePath(steps)
    inverse = graph.value(node, SH.inversePath)
    if inverse is not None:
        return InversePath(parse_path(graph, inverse))
    alternative = graph.value(node, SH.alternativePath)
    if alternative is not None:
        options = tuple(parse_path(graph, o) for o in Collection(graph, alternative))
        if len(options) < 2:
            raise PathError("an alternative path needs at least two options")
        return AlternativePath(options)
    for predicate, modifier in _REPEATS.items():
        inner = graph.value(node, predicate)
        if inner is not None:
            return RepeatPath(parse_path(graph, inner), modifier)
    raise PathError("a blank node path needs sh:inversePath, sh:alternativePath, a list, …")


def iri_text(iri: URIRef) -> str:
    """``<iri>`` for query text, refusing anything that could break out of the brackets."""
    if _IRI_FORBIDDEN.search(str(iri)) or ":" not in str(iri):
        raise PathError(f"not an absolute IRI usable in a query: {str(iri)!r}")
    return f"<{iri}>"


def path_sparql(path: PathExpr) -> str:
    """The SPARQL 1.1 property path of ``path``."""
    if isinstance(path, URIRef):
        return iri_text(path)
    if isinstance(path, InversePath):
        return f"^({path_sparql(path.path)})"
    if isinstance(path, SequencePath):
        return "(" + "/".join(path_sparql(s) for s in path.steps) + ")"
    if isinstance(path, AlternativePath):
        return "(" + "|".join(path_sparql(o) for o in path.options) + ")"
    return f"({path_sparql(path.path)}){path.modifier}"


def path_node(path: PathExpr, graph: Graph) -> Node:
    """Write ``path`` into ``graph`` as a SHACL path; return its node."""
    if isinstance(path, URIRef):
        return path
    node = BNode()
    if isinstance(path, SequencePath):
        Collection(graph, node, [path_node(s, graph) for s in path.steps])
    elif isinstance(path, InversePath):
        graph.add((node, SH.inversePath, path_node(path.path, graph)))
    elif isinstance(path, AlternativePath):
        options = BNode()
        Collection(graph, options, [path_node(o, graph) for o in path.options])
        graph.add((node, SH.alternativePath, options))
    else:
        predicate = next(p for p, m in _REPEATS.items() if m == path.modifier)
        graph.add((node, predicate, path_node(path.path, graph)))
    return node


# --- Results ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """One validation result, as the SHACL results vocabulary describes it."""

    focus: Node
    shape: Node
    component: URIRef
    severity: URIRef = SH.Violation
    path: PathExpr | None = None
    value: Node | None = None
    messages: tuple[RdfLiteral, ...] = ()

    @property
    def message(self) -> str:
        """The first message (sorted), or a generic one naming the component."""
        if self.messages:
            return sorted(str(m) for m in self.messages)[0]
        component = str(self.component).rsplit("#", 1)[-1]
        where = f"{self.path}: " if isinstance(self.path, URIRef) else ""
        return f"{where}does not conform ({component})"


# --- Components -------------------------------------------------------------------------

#: Constraint parameters and the component each belongs to.
COMPONENTS: dict[URIRef, URIRef] = {
    SH["class"]: SH.ClassConstraintComponent,
    SH.datatype: SH.DatatypeConstraintComponent,
    SH.nodeKind: SH.NodeKindConstraintComponent,
    SH.minCount: SH.MinCountConstraintComponent,
    SH.maxCount: SH.MaxCountConstraintComponent,
    SH.minInclusive: SH.MinInclusiveConstraintComponent,
    SH.maxInclusive: SH.MaxInclusiveConstraintComponent,
    SH.minExclusive: SH.MinExclusiveConstraintComponent,
    SH.maxExclusive: SH.MaxExclusiveConstraintComponent,
    SH.minLength: SH.MinLengthConstraintComponent,
    SH.maxLength: SH.MaxLengthConstraintComponent,
    SH.pattern: SH.PatternConstraintComponent,
    SH["in"]: SH.InConstraintComponent,
    SH.hasValue: SH.HasValueConstraintComponent,
    SH.node: SH.NodeConstraintComponent,
    SH["not"]: SH.NotConstraintComponent,
    SH["and"]: SH.AndConstraintComponent,
    SH["or"]: SH.OrConstraintComponent,
    SH.xone: SH.XoneConstraintComponent,
    SH.equals: SH.EqualsConstraintComponent,
    SH.disjoint: SH.DisjointConstraintComponent,
    SH.lessThan: SH.LessThanConstraintComponent,
    SH.lessThanOrEquals: SH.LessThanOrEqualsConstraintComponent,
}
#: Components about the set of values of a path, reported once per focus node.
_PER_FOCUS = {SH.minCount, SH.maxCount, SH.equals, SH.disjoint, SH.lessThan, SH.lessThanOrEquals}
#: Components of property shapes only (sh:equals and sh:disjoint also apply to node
#: shapes, where the focus node is the one value node).
_PROPERTY_ONLY = _PER_FOCUS - {SH.equals, SH.disjoint}
#: Datatypes whose lexical forms SPARQL checks by a cast (an ill-formed literal fails it).
_CASTS = {
    URIRef(f"http://www.w3.org/2001/XMLSchema#{name}")
    for name in ("integer", "decimal", "float", "double", "boolean", "dateTime")
}
#: SHACL predicates that are not constraints of their own.
_NOT_CONSTRAINTS = {
    SH.path,
    SH.property,
    SH.targetClass,
    SH.targetNode,
    SH.targetSubjectsOf,
    SH.targetObjectsOf,
    SH.severity,
    SH.message,
    SH.deactivated,
    SH.name,
    SH.description,
    SH.order,
    SH.group,
    SH.defaultValue,
    SH.flags,
}
_TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
_LISTS = (SH["and"], SH["or"], SH.xone)
_COMPARISONS = {
    SH.minInclusive: "{bound} <= {v}",
    SH.maxInclusive: "{v} <= {bound}",
    SH.minExclusive: "{bound} < {v}",
    SH.maxExclusive: "{v} < {bound}",
}
_NODE_KINDS = {
    SH.IRI: "!isIRI({v})",
    SH.BlankNode: "!isBlank({v})",
    SH.Literal: "!isLiteral({v})",
    SH.BlankNodeOrIRI: "isLiteral({v})",
    SH.BlankNodeOrLiteral: "isIRI({v})",
    SH.IRIOrLiteral: "isBlank({v})",
}
#: Most distinct values sh:minCount / sh:maxCount compare against (pairwise patterns).
MAX_COUNT_BOUND = 4
XSD_STRING = URIRef("http://www.w3.org/2001/XMLSchema#string")
_RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
_SUBCLASS = "<http://www.w3.org/2000/01/rdf-schema#subClassOf>"
_TYPE = f"{_RDF_TYPE}/{_SUBCLASS}*"


Focus = Callable[["_Query", str], str]
"""Writes the pattern that binds a variable to the focus nodes of a shape."""


def _any(parts: Sequence[str]) -> str:
    """True when one of ``parts`` is (no brackets around a single part: rdflib's parser
    recurses once per level of brackets)."""
    if not parts:
        return "false"
    return parts[0] if len(parts) == 1 else "(" + " || ".join(parts) + ")"


def _all(parts: Sequence[str]) -> str:
    if not parts:
        return "true"
    return parts[0] if len(parts) == 1 else "(" + " && ".join(parts) + ")"


def _same(v: str, name: str, term: Node) -> str:
    """``v`` is ``term``: the same IRI or blank node, or a literal of the same datatype and
    value (``"01"^^xsd:integer`` is 1, as rdflib normalises it on parsing)."""
    if not isinstance(term, RdfLiteral):
        return f"sameTerm({v}, {name})"
    return (
        f"(sameTerm({v}, {name}) || (isLiteral({v}) && sameTerm(datatype({v}), datatype({name}))"
        f" && COALESCE({v} = {name}, false)))"
    )


def _comparable(a: str, b: str) -> str:
    """True when SPARQL orders ``a`` and ``b``: both numbers, or literals of one datatype.
    (rdflib also orders some pairs SPARQL calls an error, e.g. a date and a year-month.)"""
    return (
        f"((isNumeric({a}) && isNumeric({b})) || "
        f"(isLiteral({a}) && isLiteral({b}) && sameTerm(datatype({a}), datatype({b}))))"
    )


class ShapeError(InputError):
    """A shape the SPARQL compiler cannot compile (names the shape and the component)."""


@dataclass(frozen=True)
class ConstraintQuery:
    """The SELECT query of one constraint component of one shape.

    Each row binds ``?this`` (the focus node) and, for components reported per value,
    ``?value``; the rest of the result is the same for every row.
    """

    shape: Node
    component: URIRef
    severity: URIRef
    messages: tuple[RdfLiteral, ...]
    path: PathExpr | None
    text: str
    bindings: Mapping[str, Node] = field(default_factory=dict)
    value_is_focus: bool = False

    def results(self, rows: Iterable[Mapping[str, Node]]) -> Iterator[Result]:
        for row in rows:
            focus = row["this"]
            value = focus if self.value_is_focus else row.get("value")
            yield Result(
                focus=focus,
                shape=self.shape,
                component=self.component,
                severity=self.severity,
                path=self.path,
                value=value,
                messages=self.messages,
            )


class _Query:
    """Fresh variables and the constants of one query being compiled."""

    def __init__(self) -> None:
        self.constants: dict[Node, str] = {}
        self.counter = 0

    def fresh(self) -> str:
        self.counter += 1
        return f"?v{self.counter}"

    def const(self, term: Node) -> str:
        """How the query names the shape's constant ``term``. An IRI is written into the
        text, as the shape's paths are (Oxigraph plans a written IRI better than a
        substituted variable: the completeness shapes run 2.4x faster); a literal or a
        blank node is a variable bound when the query runs."""
        if isinstance(term, URIRef):
            try:
                return iri_text(term)
            except PathError:
                pass  # an IRI that cannot be written safely is bound instead
        if term not in self.constants:
            self.constants[term] = f"?k{len(self.constants)}"
        return self.constants[term]

    def select(self, variables: str, body: str) -> tuple[str, dict[str, Node]]:
        # pyoxigraph substitutes only projected variables: project every constant.
        projected = " ".join([variables, *self.constants.values()])
        text = f"SELECT DISTINCT {projected} WHERE {{\n{body}\n}}"
        return text, {name[1:]: term for term, name in self.constants.items()}


class Compiler:
    """Compile the shapes of a shapes graph to SPARQL."""

    def __init__(self, shapes: Graph, *, source: str = "shapes") -> None:
        self.graph = shapes
        self.source = source

    # --- errors and reading the shapes graph --------------------------------------------

    def _error(self, shape: Node, message: str) -> ShapeError:
        name = (
            shape.n3(self.graph.namespace_manager) if isinstance(shape, URIRef) else "a blank shape"
        )
        return ShapeError(Location(self.source), "AK300", f"shape {name}: {message}")

    def _one(self, shape: Node, predicate: URIRef) -> Node | None:
        values = list(self.graph.objects(shape, predicate))
        if len(values) > 1:
            raise self._error(
                shape, f"{predicate.n3(self.graph.namespace_manager)} given {len(values)} times"
            )
        return values[0] if values else None

    def _int(self, shape: Node, predicate: URIRef, value: Node) -> int:
        if not isinstance(value, RdfLiteral) or not isinstance(value.toPython(), int):
            raise self._error(
                shape, f"{predicate.n3(self.graph.namespace_manager)} must be an integer"
            )
        return int(value.toPython())

    def _iri(self, shape: Node, iri: Node) -> str:
        if not isinstance(iri, URIRef):
            raise self._error(shape, f"expected an IRI, got {iri!r}")
        try:
            return iri_text(iri)
        except PathError as error:
            raise self._error(shape, str(error)) from None

    def _list(self, shape: Node, node: Node) -> list[Node]:
        if node != RDF.nil and self.graph.value(node, RDF.first) is None:
            raise self._error(shape, "expected an RDF list")
        return list(Collection(self.graph, node))

    def _path(self, shape: Node) -> PathExpr | None:
        node = self._one(shape, SH.path)
        if node is None:
            return None
        try:
            path = parse_path(self.graph, node)
            path_sparql(path)
        except PathError as error:
            raise self._error(shape, f"sh:path: {error}") from None
        return path

    def _deactivated(self, shape: Node) -> bool:
        value = self._one(shape, SH.deactivated)
        return isinstance(value, RdfLiteral) and value.toPython() is True

    def _constraints(self, shape: Node) -> list[tuple[URIRef, Node]]:
        """The constraint parameters of ``shape``; an unknown SHACL one is an error."""
        found = []
        for predicate, value in sorted(self.graph.predicate_objects(shape)):
            if not isinstance(predicate, URIRef) or not str(predicate).startswith(str(SH)):
                continue
            if predicate in _NOT_CONSTRAINTS:
                continue
            if predicate not in COMPONENTS:
                raise self._error(
                    shape,
                    f"{predicate.n3(self.graph.namespace_manager)} is not supported by the "
                    "SPARQL validation of SHACL Core shapes (run it with --completeness shacl, "
                    "or rewrite the shape)",
                )
            found.append((predicate, value))
        return found

    def shapes(self) -> list[Node]:
        """Every shape of the graph: declared, targeted or referred to."""
        found: set[Node] = set()
        for kind in (SH.NodeShape, SH.PropertyShape):
            found.update(self.graph.subjects(RDF.type, kind))
        for predicate in (*_TARGETS, SH.path):
            found.update(self.graph.subjects(predicate, None))
        todo = list(found)
        while todo:
            shape = todo.pop()
            referred: list[Node] = []
            referred += self.graph.objects(shape, SH.property)
            referred += self.graph.objects(shape, SH.node)
            referred += self.graph.objects(shape, SH["not"])
            for predicate in _LISTS:
                for members in self.graph.objects(shape, predicate):
                    referred += self._list(shape, members)
            for node in referred:
                if node not in found:
                    found.add(node)
                    todo.append(node)
        return sorted(found, key=str)

    def _targeted(self, shape: Node) -> bool:
        if any(self.graph.value(shape, t) is not None for t in _TARGETS):
            return True
        return (shape, RDF.type, RDFS.Class) in self.graph or (
            shape,
            RDF.type,
            OWL.Class,
        ) in self.graph

    # --- expressions: does a node fail a shape? ----------------------------------------

    def _value_condition(
        self,
        q: _Query,
        shape: Node,
        predicate: URIRef,
        param: Node,
        v: str,
        stack: tuple[Node, ...],
    ) -> str:
        """True when the value node ``v`` violates one per-value constraint."""
        if predicate == SH["class"]:
            return f"NOT EXISTS {{ {v} {_TYPE} {q.const(param)} }}"
        if predicate == SH.datatype:
            if param == RDFS.Literal:
                return f"!isLiteral({v})"
            cast = self._iri(shape, param)
            well_formed = f" && COALESCE(isLiteral({cast}({v})), false)" if param in _CASTS else ""
            return f"!(isLiteral({v}) && sameTerm(datatype({v}), {q.const(param)}){well_formed})"
        if predicate == SH.nodeKind:
            if param not in _NODE_KINDS:
                raise self._error(shape, f"unknown sh:nodeKind {param!r}")
            return _NODE_KINDS[param].format(v=v)  # type: ignore[index]
        if predicate in _COMPARISONS:
            bound = q.const(param)
            test = _COMPARISONS[predicate].format(bound=bound, v=v)
            return f"!COALESCE({test} && {_comparable(bound, v)}, false)"
        if predicate in (SH.minLength, SH.maxLength):
            length = self._int(shape, predicate, param)
            op = ">=" if predicate == SH.minLength else "<="
            literal = RdfLiteral(length)
            return f"(isBlank({v}) || !COALESCE(STRLEN(STR({v})) {op} {q.const(literal)}, false))"
        if predicate == SH.pattern:
            flags = self._one(shape, SH.flags)
            flags_text = RdfLiteral(str(flags) if flags is not None else "")
            return f"(isBlank({v}) || !REGEX(STR({v}), {q.const(RdfLiteral(str(param)))}, {q.const(flags_text)}))"
        if predicate == SH["in"]:
            allowed = self._list(shape, param)
            if not allowed:
                return "true"
            return "!(" + " || ".join(_same(v, q.const(m), m) for m in allowed) + ")"
        if predicate == SH.hasValue:
            return f"!{_same(v, q.const(param), param)}"
        if predicate in (SH.equals, SH.disjoint):  # node shapes: the value is the focus
            other, a = self._iri(shape, param), q.fresh()
            if predicate == SH.disjoint:
                return f"EXISTS {{ {v} {other} {v} }}"
            return (
                f"(NOT EXISTS {{ {v} {other} {v} }} || "
                f"EXISTS {{ {v} {other} {a} FILTER(!sameTerm({a}, {v})) }})"
            )
        if predicate == SH.node:
            return self._fails(q, param, v, stack)
        if predicate == SH["not"]:
            return f"!({self._fails(q, param, v, stack)})"
        members = [self._fails(q, m, v, stack) for m in self._list(shape, param)]
        if predicate == SH["and"]:
            return _any(members)
        if predicate == SH["or"]:
            return _all(members)
        if predicate == SH.xone:
            # Not exactly one member conforms. Written with && and || only (no IF over
            # EXISTS, which Virtuoso 7 cannot compile): member i alone conforms when it
            # does not fail and every other member fails.
            alone = [
                "("
                + " && ".join([f"!({m})"] + [f"({o})" for j, o in enumerate(members) if j != i])
                + ")"
                for i, m in enumerate(members)
            ]
            return f"!({' || '.join(alone)})" if alone else "true"
        raise self._error(shape, f"{predicate} is not a per-value constraint")

    def _distinct(self, q: _Query, x: str, path: str, n: int) -> str:
        """A pattern with ``n`` pairwise distinct values of ``path`` from ``x``."""
        names = [q.fresh() for _ in range(n)]
        triples = " . ".join(f"{x} {path} {name}" for name in names)
        pairs = [f"!sameTerm({a}, {b})" for i, a in enumerate(names) for b in names[i + 1 :]]
        test = f" FILTER({' && '.join(pairs)})" if pairs else ""
        return f"{{ {triples}{test} }}"

    def _count(self, shape: Node, predicate: URIRef, param: Node) -> int:
        n = self._int(shape, predicate, param)
        if n < 0 or n + (predicate == SH.maxCount) > MAX_COUNT_BOUND:
            raise self._error(
                shape,
                f"{predicate.n3(self.graph.namespace_manager)} {n}: the SPARQL validation "
                f"compares at most {MAX_COUNT_BOUND} values",
            )
        return n

    def _focus_condition(
        self, q: _Query, shape: Node, predicate: URIRef, param: Node, x: str, path: str
    ) -> str:
        """True when focus ``x`` violates a constraint on the whole set of path values."""
        if predicate == SH.minCount:
            n = self._count(shape, predicate, param)
            return f"NOT EXISTS {self._distinct(q, x, path, n)}" if n else "false"
        if predicate == SH.maxCount:
            n = self._count(shape, predicate, param)
            return f"EXISTS {self._distinct(q, x, path, n + 1)}"
        if predicate == SH.hasValue:
            return f"NOT EXISTS {{ {x} {path} {q.const(param)} }}"
        other = self._iri(shape, param)
        a, b = q.fresh(), q.fresh()
        if predicate == SH.equals:
            return (
                f"(EXISTS {{ {x} {path} {a} FILTER NOT EXISTS {{ {x} {other} {a} }} }} || "
                f"EXISTS {{ {x} {other} {a} FILTER NOT EXISTS {{ {x} {path} {a} }} }})"
            )
        if predicate == SH.disjoint:
            return f"EXISTS {{ {x} {path} {a} . {x} {other} {a} }}"
        op = "<" if predicate == SH.lessThan else "<="
        return (
            f"EXISTS {{ {x} {path} {a} . {x} {other} {b} FILTER(!COALESCE({a} {op} {b}, false)) }}"
        )

    def _fails(self, q: _Query, shape: Node, x: str, stack: tuple[Node, ...]) -> str:
        """True when the node ``x`` does not conform to ``shape`` (any result, any severity)."""
        if shape in stack:
            raise self._error(shape, "recursive shapes are not supported")
        stack = (*stack, shape)
        if self._deactivated(shape):
            return "false"
        path = self._path(shape)
        constraints = self._constraints(shape)
        nested = list(self.graph.objects(shape, SH.property))
        if path is None:
            for predicate, _ in constraints:
                if predicate in _PROPERTY_ONLY:
                    raise self._error(shape, f"{predicate} needs a property shape (sh:path)")
            parts = [self._value_condition(q, shape, p, o, x, stack) for p, o in constraints]
            parts += [self._fails(q, p, x, stack) for p in nested]
            return _any(parts)
        text = path_sparql(path)
        parts = []
        value = q.fresh()
        per_value = [
            self._value_condition(q, shape, p, o, value, stack)
            for p, o in constraints
            if p not in _PER_FOCUS and p != SH.hasValue
        ]
        per_value += [self._fails(q, p, value, stack) for p in nested]
        if per_value:
            parts.append(f"EXISTS {{ {x} {text} {value} FILTER({' || '.join(per_value)}) }}")
        for predicate, param in constraints:
            if predicate in _PER_FOCUS or predicate == SH.hasValue:
                parts.append(self._focus_condition(q, shape, predicate, param, x, text))
        return _any(parts)

    # --- top-level queries --------------------------------------------------------------

    def _target_patterns(self, q: _Query, shape: Node, var: str) -> list[str]:
        patterns = []
        classes = list(self.graph.objects(shape, SH.targetClass))
        if (shape, RDF.type, RDFS.Class) in self.graph or (
            shape,
            RDF.type,
            OWL.Class,
        ) in self.graph:
            classes.append(shape)
        for cls in classes:
            # From the class down its subclasses, then to their instances: the same
            # nodes as rdf:type/rdfs:subClassOf*, without walking up from every node.
            subclass = q.fresh()
            patterns.append(
                f"{subclass} {_SUBCLASS}* {q.const(cls)} . {var} {_RDF_TYPE} {subclass} ."
            )
        for node in self.graph.objects(shape, SH.targetNode):
            if not isinstance(node, RdfLiteral):  # literals: see _focuses
                patterns.append(f"VALUES {var} {{ {self._iri(shape, node)} }}")
        for predicate in self.graph.objects(shape, SH.targetSubjectsOf):
            patterns.append(f"{var} {self._iri(shape, predicate)} [] .")
        for predicate in self.graph.objects(shape, SH.targetObjectsOf):
            patterns.append(f"[] {self._iri(shape, predicate)} {var} .")
        return patterns

    def _severity(self, shape: Node) -> URIRef:
        value = self._one(shape, SH.severity)
        if value is None:
            return SH.Violation
        if not isinstance(value, URIRef):
            raise self._error(shape, "sh:severity must be an IRI")
        return value

    def _messages(self, shape: Node) -> tuple[RdfLiteral, ...]:
        found = [m for m in self.graph.objects(shape, SH.message) if isinstance(m, RdfLiteral)]
        return tuple(sorted(found, key=str))

    def _shape_queries(
        self, shape: Node, focus: Focus, seen: tuple[Node, ...]
    ) -> list[ConstraintQuery]:
        """The queries of ``shape`` on the focus nodes ``focus`` binds."""
        if shape in seen:
            raise self._error(shape, "recursive shapes are not supported")
        if self._deactivated(shape):
            return []
        seen = (*seen, shape)
        path = self._path(shape)
        severity, messages = self._severity(shape), self._messages(shape)
        queries = []
        for predicate, param in self._constraints(shape):
            if path is None and predicate in _PROPERTY_ONLY:
                raise self._error(shape, f"{predicate} needs a property shape (sh:path)")
            q = _Query()
            focus_text = focus(q, "?this")
            if path is None and predicate == SH.equals:
                # Two kinds of result: the focus node is not a value of the other
                # property (reported with the focus as value), or that property has
                # other values (reported with each of them).
                other = self._iri(shape, param)
                q2 = _Query()
                text, bindings = q2.select(
                    "?this ?value",
                    f"{focus(q2, '?this')}\n?this {other} ?value FILTER(!sameTerm(?value, ?this))",
                )
                queries.append(
                    ConstraintQuery(
                        shape, COMPONENTS[predicate], severity, messages, None, text, bindings
                    )
                )
                body, variables = f"FILTER NOT EXISTS {{ ?this {other} ?this }}", "?this"
            elif path is None:
                test = self._value_condition(q, shape, predicate, param, "?this", ())
                body, variables = f"FILTER({test})", "?this"
            else:
                body, variables = self._property_body(q, shape, predicate, param, path)
            if body == "FILTER(false)":
                # Never fails (sh:minCount 0, a deactivated sh:node...): no query. rdflib
                # would keep every row of FILTER(false), a bare constant.
                continue
            text, bindings = q.select(variables, f"{focus_text}\n{body}")
            queries.append(
                ConstraintQuery(
                    shape,
                    COMPONENTS[predicate],
                    severity,
                    messages,
                    path,
                    text,
                    bindings,
                    # sh:hasValue reports no value (the value it looked for is the shape's)
                    value_is_focus=path is None and predicate != SH.hasValue,
                )
            )
        for nested in self.graph.objects(shape, SH.property):
            queries += self._shape_queries(nested, self._step(focus, path), seen)
        return queries

    @staticmethod
    def _step(focus: Focus, path: PathExpr | None) -> Focus:
        """The focus nodes of a property shape nested in a shape with ``path``: the
        values of the path (the same nodes when the outer shape is a node shape)."""
        if path is None:
            return focus

        def values(q: _Query, var: str) -> str:
            outer = q.fresh()
            return f"{focus(q, outer)}\n{outer} {path_sparql(path)} {var} ."

        return values

    def _focuses(self, shape: Node) -> list[Focus]:
        """The focus patterns of a targeted shape: one for its IRI and class targets, one
        for each literal ``sh:targetNode`` (bound at run time, by a BIND first in the
        query's group: in a UNION branch a bound constant is out of scope on a server)."""
        focuses = [self._targets(shape)] if self._target_patterns(_Query(), shape, "?x") else []
        literals = [
            n for n in self.graph.objects(shape, SH.targetNode) if isinstance(n, RdfLiteral)
        ]
        for node in sorted(literals):
            focuses.append(self._literal_target(node))
        return focuses

    @staticmethod
    def _literal_target(node: RdfLiteral) -> Focus:
        def literal(q: _Query, var: str) -> str:
            # Rebuilt from its parts: pyoxigraph 0.5 leaves the variable unbound in
            # BIND(?k AS ?x) (or COALESCE(?k)) when ?k comes by substitution.
            k = q.const(node)
            if node.language:
                return f"BIND(STRLANG(STR({k}), LANG({k})) AS {var})"
            if node.datatype in (None, XSD_STRING):
                return f"BIND(STR({k}) AS {var})"
            return f"BIND(STRDT(STR({k}), DATATYPE({k})) AS {var})"

        return literal

    def _targets(self, shape: Node) -> Focus:
        def targets(q: _Query, var: str) -> str:
            patterns = self._target_patterns(q, shape, var)
            return " UNION ".join(f"{{ {p} }}" for p in patterns)

        return targets

    def _property_body(
        self, q: _Query, shape: Node, predicate: URIRef, param: Node, path: PathExpr
    ) -> tuple[str, str]:
        text = path_sparql(path)
        if predicate in (SH.minCount, SH.maxCount, SH.hasValue):
            return (
                f"FILTER({self._focus_condition(q, shape, predicate, param, '?this', text)})",
                "?this",
            )
        if predicate in (SH.equals, SH.disjoint, SH.lessThan, SH.lessThanOrEquals):
            other = self._iri(shape, param)
            if predicate == SH.equals:
                body = (
                    f"{{ ?this {text} ?value FILTER NOT EXISTS {{ ?this {other} ?value }} }} UNION "
                    f"{{ ?this {other} ?value FILTER NOT EXISTS {{ ?this {text} ?value }} }}"
                )
            elif predicate == SH.disjoint:
                body = f"?this {text} ?value . ?this {other} ?value ."
            else:
                op = "<" if predicate == SH.lessThan else "<="
                comparable = _comparable("?value", "?bound")
                body = (
                    f"?this {text} ?value . ?this {other} ?bound "
                    f"FILTER(!COALESCE(?value {op} ?bound && {comparable}, false))"
                )
            return body, "?this ?value"
        test = self._value_condition(q, shape, predicate, param, "?value", ())
        return f"?this {text} ?value .\nFILTER({test})", "?this ?value"

    def compile(self) -> list[ConstraintQuery]:
        """One query per (shape, constraint component) of every targeted shape; every
        shape of the graph is checked for what the compiler supports."""
        queries: list[ConstraintQuery] = []
        shapes = self.shapes()
        for shape in shapes:
            # Check every shape (also those no target reaches) for unsupported parts.
            self._constraints(shape)
            self._path(shape)
            self._fails(_Query(), shape, "?x", ())
        for shape in shapes:
            if self._targeted(shape):
                for focus in self._focuses(shape):
                    queries += self._shape_queries(shape, focus, ())
        return queries


def compile_shapes(shapes: Graph, *, source: str = "shapes") -> list[ConstraintQuery]:
    """The SPARQL queries of the SHACL Core shapes in ``shapes``."""
    return Compiler(shapes, source=source).compile()


#: Python frames rdflib may use parsing and evaluating nested shapes: its parser and its
#: evaluator recurse per level of nesting, and pyparsing's packrat mode (which other
#: libraries switch on) doubles the depth.
RDFLIB_RECURSION_LIMIT = 20_000


@contextmanager
def _deep_recursion(needed: bool) -> Iterator[None]:
    previous = sys.getrecursionlimit()
    if needed and previous < RDFLIB_RECURSION_LIMIT:
        sys.setrecursionlimit(RDFLIB_RECURSION_LIMIT)
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)


def run(
    store: Store,
    queries: Sequence[ConstraintQuery],
    graphs: Sequence[URIRef],
) -> list[Result]:
    """Run compiled ``queries`` on ``store`` over the union of the named ``graphs``."""
    results: list[Result] = []
    with _deep_recursion(isinstance(store, RdflibStore)):
        for query in queries:
            rows = store.select(query.text, query.bindings, default_graph=graphs)
            results.extend(query.results(rows))
    return sorted(set(results), key=lambda r: (str(r.shape), str(r.focus), str(r.value)))
