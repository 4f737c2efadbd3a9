"""Validation: SHACL shapes and whole-graph rule checks, as one list of findings.

Completeness shapes (SHACL Core, severity Violation) run in pyshacl on the asserted
data with the ontology and what was inferred. The rules (severity Warning: the ladder's
preconditions and the other consistency rules) run by default as whole-graph queries on
the store (``rules/checks/*.rq``); their SHACL-SPARQL shapes (``rules/shapes/`` except
``completeness.ttl``) give the same findings and can be run instead. ``queries/*-violation.rq`` checks must return no
rows on a valid graph: each row is a Violation.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from importlib.resources.abc import Traversable
from typing import Literal

import pyshacl
from rdflib import BNode, Graph, URIRef
from rdflib import Literal as RdfLiteral
from rdflib.namespace import RDF, SH, XSD
from rdflib.term import Node
from rdflib.util import from_n3

from alignkg.build import KnowledgeGraph
from alignkg.namespace import (
    CALENDAR_GRAPH,
    CHECK,
    DATA_GRAPH,
    DERIVED_GRAPH,
    INFERRED_GRAPH,
    ONTOLOGY_GRAPH,
    RULES_GRAPH,
)
from alignkg.resources import check_rules, query_files, query_text, shape_files
from alignkg.shapes import (
    AlternativePath,
    ConstraintQuery,
    InversePath,
    PathError,
    PathExpr,
    RepeatPath,
    Result,
    SequencePath,
    compile_shapes,
    parse_path,
    path_node,
    run,
)
from alignkg.store import Store, graphs_under

Severity = Literal["Violation", "Warning", "Info"]
LadderEngine = Literal["sparql", "shacl"]
CompletenessEngine = Literal["sparql", "shacl"]
_SEVERITY_ORDER = {"Violation": 0, "Warning": 1, "Info": 2}
_HEADER = re.compile(r"^#\s*(shape|severity|code):\s*(\S+)\s*$", re.MULTILINE)
_AKSHAPE_CODE = URIRef("https://w3id.org/alignkg/shapes#code")
#: The code of a finding whose rule has none of its own.
DEFAULT_CODE = "AK400"


@dataclass(frozen=True)
class Finding:
    """One validation result."""

    severity: Severity
    focus: str
    message: str
    rule: str
    value: str = ""
    #: ``path:line:column`` of the focus node (where its statement starts), or "".
    location: str = ""
    #: The rule's stable code (``akshape:code`` of a shape, ``# code:`` of a query).
    code: str = DEFAULT_CODE
    #: The result in the SHACL vocabulary's terms (focus, path, value, shape, component).
    result: Result | None = field(default=None, compare=False, repr=False)

    def line(self) -> str:
        """The finding on one line:
        ``path:line:column: CODE: severity: <focus>: message [rule]``."""
        where = self.location or "-"
        rule = self.rule.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
        return (
            f"{where}: {self.code}: {self.severity.lower()}: <{self.focus}>: "
            f"{self.message} [{rule}]"
        )

    def key(self) -> tuple[str, str, str]:
        """What identifies the finding whatever engine found it: rule, focus node, value."""
        return (self.rule, self.focus, self.value)


@dataclass(frozen=True)
class Report:
    """All findings of a validation run."""

    findings: list[Finding]

    @property
    def violations(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "Violation"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "Warning"]

    @property
    def exit_code(self) -> int:
        """0 clean or warnings only, 2 violations (a violation is bad input)."""
        return 2 if self.violations else 0

    def summary(self) -> str:
        return f"{len(self.violations)} violation(s), {len(self.warnings)} warning(s)"


def _load_shapes(files: Iterable[Traversable]) -> Graph:
    graph = Graph()
    for file in files:
        graph.parse(data=file.read_text(encoding="utf-8"), format="turtle")
    return graph


ShapeKind = Literal["completeness", "rules"]


def shapes_graph(kind: ShapeKind | Literal["all"] = "all") -> Graph:
    """The shapes of ``rules/shapes/``: the completeness shapes (``completeness.ttl``), the
    rule shapes (SHACL-SPARQL: the ladder's and the other consistency rules, every other
    file), or all of them."""
    files = [
        f
        for f in shape_files()
        if kind == "all" or (f.name == "completeness.ttl") == (kind == "completeness")
    ]
    return _load_shapes(files)


#: The graphs the completeness shapes see: what was coded, the ontology and the rules,
#: and what inference added (not the calendar, not what derivation added).
COMPLETENESS_GRAPHS = (ONTOLOGY_GRAPH, RULES_GRAPH, DATA_GRAPH, INFERRED_GRAPH)
RULE_GRAPHS = (*COMPLETENESS_GRAPHS, CALENDAR_GRAPH, DERIVED_GRAPH)


def _rdflib_graph(kg: KnowledgeGraph, graphs: Iterable[URIRef]) -> Graph:
    graph = Graph()
    for name in graphs:
        for triple in kg.store.triples(graph=name):
            graph.add(triple)
    return graph


def _severity(node: Node | None) -> Severity:
    if node == SH.Warning:
        return "Warning"
    if node == SH.Info:
        return "Info"
    return "Violation"


def pyshacl_results(data: Graph, shapes: Graph) -> list[Result]:
    """Validate ``data`` against ``shapes`` in pyshacl; its top-level results.

    Only the report's top-level results: nested shapes (sh:node) add sh:detail results on
    blank nodes, which say the same thing less usefully.
    """
    _conforms, report, _text = pyshacl.validate(
        data,
        shacl_graph=shapes,
        inference="none",
        allow_warnings=True,
        allow_infos=True,
        advanced=False,
        meta_shacl=False,
    )
    results = []
    for top in report.subjects(RDF.type, SH.ValidationReport):
        for result in report.objects(top, SH.result):
            path_at = report.value(result, SH.resultPath)
            try:
                path = parse_path(report, path_at) if path_at is not None else None
            except PathError:
                path = None
            component = report.value(result, SH.sourceConstraintComponent)
            severity = report.value(result, SH.resultSeverity)
            messages = [m for m in report.objects(result, SH.resultMessage)]
            results.append(
                Result(
                    focus=report.value(result, SH.focusNode),
                    shape=report.value(result, SH.sourceShape),
                    component=component if isinstance(component, URIRef) else SH.Violation,
                    severity=severity if isinstance(severity, URIRef) else SH.Violation,
                    path=path,
                    value=report.value(result, SH.value),
                    messages=tuple(
                        sorted((m for m in messages if isinstance(m, RdfLiteral)), key=str)
                    ),
                )
            )
    return results


@cache
def shape_codes() -> dict[str, str]:
    """The code of every shape that has one (``akshape:code`` in ``rules/shapes/``)."""
    graph = shapes_graph("all")
    return {str(s): str(o) for s, o in graph.subject_objects(_AKSHAPE_CODE)}


def _finding(result: Result, *, with_value: bool) -> Finding:
    """A result as a finding: its first message, its shape as the rule."""
    value = result.value
    rule = str(result.shape or "")
    return Finding(
        severity=_severity(result.severity),
        focus=str(result.focus),
        message=result.message,
        rule=rule,
        value=str(value) if value is not None and with_value else "",
        code=shape_codes().get(rule, DEFAULT_CODE),
        result=result,
    )


def shacl_findings(kg: KnowledgeGraph, *, kind: ShapeKind) -> list[Finding]:
    """Run the SHACL shapes of ``kind`` in pyshacl and return their findings."""
    bases = COMPLETENESS_GRAPHS if kind == "completeness" else RULE_GRAPHS
    graphs = _expand(kg, bases)
    results = pyshacl_results(_rdflib_graph(kg, graphs), shapes_graph(kind))
    return _locate(kg, [_finding(r, with_value=kind == "rules") for r in results])


@cache
def completeness_queries() -> tuple[ConstraintQuery, ...]:
    """The completeness shapes compiled to SPARQL (once per process)."""
    return tuple(
        compile_shapes(shapes_graph("completeness"), source="rules/shapes/completeness.ttl")
    )


def sparql_results(
    kg: KnowledgeGraph,
    queries: Sequence[ConstraintQuery],
    graphs: Sequence[URIRef] = COMPLETENESS_GRAPHS,
) -> list[Result]:
    """Run compiled shape ``queries`` on the store over ``graphs`` (and their parts)."""
    return run(kg.store, queries, _expand(kg, graphs))


def _expand(kg: KnowledgeGraph, bases: Sequence[URIRef]) -> list[URIRef]:
    """The graphs ``bases`` name: each one and, in a persistent build, its per-file parts."""
    return [g for base in bases for g in graphs_under(kg.store, base)]


def completeness_findings(
    kg: KnowledgeGraph, *, engine: CompletenessEngine = "sparql"
) -> list[Finding]:
    """The completeness shapes' findings: compiled to SPARQL and run on the store
    (default), or run in pyshacl on a copy of the graphs (``engine="shacl"``)."""
    if engine == "shacl":
        return shacl_findings(kg, kind="completeness")
    results = sparql_results(kg, completeness_queries())
    return _locate(kg, [_finding(r, with_value=False) for r in results])


def _check_metadata(text: str, name: str) -> tuple[str, Severity, str]:
    header = dict(_HEADER.findall(text))
    severity: Severity = "Violation"
    if header.get("severity") == "Warning":
        severity = "Warning"
    elif header.get("severity") == "Info":
        severity = "Info"
    rule = header.get("shape", name)
    code = header.get("code") or shape_codes().get(rule, DEFAULT_CODE)
    return rule, severity, code


def query_findings(kg: KnowledgeGraph, files: Iterable[Traversable]) -> list[Finding]:
    """Run check queries on the store: each row is a finding.

    A check selects ``?focus`` and ``?message`` (and optionally ``?value``). Its header
    comments name the rule it stands for (``# shape: IRI``, default: the file's name) and
    its severity (``# severity: Warning``, default: Violation) and its code
    (``# code: AK450``, default: the shape's).
    """
    findings = []
    for file in files:
        text = file.read_text(encoding="utf-8")
        name = file.name[: -len(".rq")]
        rule, severity, code = _check_metadata(text, name)
        shape = URIRef(rule) if ":" in rule else CHECK[rule]
        for row in kg.store.select(text):
            message = str(row.get("message", name))
            focus = row.get("focus", RdfLiteral(""))
            findings.append(
                Finding(
                    severity=severity,
                    focus=str(row.get("focus", "")),
                    message=message,
                    rule=rule,
                    value=str(row.get("value", "")),
                    code=code,
                    result=Result(
                        focus=focus,
                        shape=shape,
                        component=SH.SPARQLConstraintComponent,
                        severity=SH[severity],
                        value=row.get("value"),
                        messages=(RdfLiteral(message),),
                    ),
                )
            )
    return _locate(kg, findings)


def check_findings(kg: KnowledgeGraph) -> list[Finding]:
    """The whole-graph rule checks of ``rules/checks`` (the rule shapes' fast twins)."""
    return query_findings(kg, check_rules())


def violation_query_findings(kg: KnowledgeGraph) -> list[Finding]:
    """Every ``queries/*-violation.rq``: each row is a Violation."""
    return query_findings(kg, (q for q in query_files() if q.name.endswith("-violation.rq")))


def _locate(kg: KnowledgeGraph, findings: list[Finding]) -> list[Finding]:
    """Add the file and line of each focus node (of the events a derived node rests on)."""
    derived_from: dict[str, list[str]] | None = None
    located = []
    for finding in findings:
        where = kg.location_of(finding.focus)
        if where is None:
            if derived_from is None:
                derived_from = defaultdict(list)
                for row in kg.store.select(query_text("derived-from")):
                    derived_from[str(row["node"])].append(str(row["event"]))
            for event in derived_from.get(finding.focus, []):
                where = kg.location_of(event)
                if where:
                    break
        location = f"{where[0]}:{where[1]}:1" if where else ""
        located.append(replace(finding, location=location))
    return located


@dataclass(frozen=True)
class Partition:
    """What an incremental build changed, so that only that is validated again.

    ``store`` holds the changed dyads' input (their events with everything those read,
    the states and groupings), what it entails and its derivation; ``scope`` names (as
    text) every node whose findings it gives anew: the nodes of the changed files before
    and after the change, and the derived nodes of the changed dyads. ``previous`` are
    the findings of the build before; those outside ``scope`` stand. ``store`` is None
    when no input changed: the previous findings are the findings.
    """

    store: Store | None
    scope: frozenset[str]
    previous: tuple[Finding, ...]


def validate(
    kg: KnowledgeGraph,
    *,
    ladder: LadderEngine = "sparql",
    completeness: CompletenessEngine | None = None,
    partition: Partition | None = None,
) -> Report:
    """Every finding on ``kg``: completeness shapes, rule checks, violation queries.

    ``completeness="sparql"`` runs the completeness shapes compiled to SPARQL on the
    store; ``"shacl"`` runs them in pyshacl on a copy of the graphs. The default is
    SPARQL on the embedded engines and pyshacl on a SPARQL server, where the compiled
    queries meet the server's own SPARQL dialect (Virtuoso 7 answers several of them
    wrongly). ``ladder`` chooses the same for the ladder and consistency rules
    (whole-graph checks or their SHACL-SPARQL shapes). With a ``partition`` (from an
    incremental persistent build, default engines only), only the changed dyads are
    validated again and the earlier findings stand for the rest.
    """
    if completeness is None:
        completeness = "shacl" if kg.store.engine == "remote" else "sparql"
    if partition is not None and ladder == "sparql" and completeness == "sparql":
        return _ordered(_revalidated(kg, partition))
    return _ordered(_all_findings(kg, ladder=ladder, completeness=completeness))


def all_findings(kg: KnowledgeGraph) -> list[Finding]:
    """Every finding on ``kg`` by the default engines (SPARQL on the store), unordered."""
    return _all_findings(kg, ladder="sparql", completeness="sparql")


def _all_findings(
    kg: KnowledgeGraph, *, ladder: LadderEngine, completeness: CompletenessEngine
) -> list[Finding]:
    findings = completeness_findings(kg, engine=completeness)
    findings += violation_query_findings(kg)
    findings += check_findings(kg) if ladder == "sparql" else shacl_findings(kg, kind="rules")
    return findings


def _revalidated(kg: KnowledgeGraph, partition: Partition) -> list[Finding]:
    """The earlier findings outside the partition's scope, and the partition's own
    findings (found on its small store, located in ``kg``'s files) inside it."""
    kept = [f for f in partition.previous if f.focus not in partition.scope]
    if partition.store is None:
        return kept
    local = replace(kg, store=partition.store)
    fresh = _all_findings(local, ladder="sparql", completeness="sparql")
    return kept + [f for f in fresh if f.focus in partition.scope]


def _ordered(findings: Iterable[Finding]) -> Report:
    unique = {(f.key(), f.message): f for f in findings}
    ordered = sorted(
        unique.values(),
        key=lambda f: (_SEVERITY_ORDER[f.severity], f.location, f.focus, f.rule, f.value),
    )
    return Report(ordered)


# --- Findings kept between builds (a persistent build's ``findings.json``) ---------------


def _path_json(path: PathExpr) -> object:
    if isinstance(path, InversePath):
        return {"inverse": _path_json(path.path)}
    if isinstance(path, SequencePath):
        return {"sequence": [_path_json(p) for p in path.steps]}
    if isinstance(path, AlternativePath):
        return {"alternative": [_path_json(p) for p in path.options]}
    if isinstance(path, RepeatPath):
        return {"repeat": _path_json(path.path), "modifier": path.modifier}
    return str(path)


def _path_from_json(data: object) -> PathExpr:
    if isinstance(data, str):
        return URIRef(data)
    if not isinstance(data, dict):
        raise ValueError(f"not a path: {data!r}")
    if "inverse" in data:
        return InversePath(_path_from_json(data["inverse"]))
    if "sequence" in data:
        return SequencePath(tuple(_path_from_json(p) for p in data["sequence"]))
    if "alternative" in data:
        return AlternativePath(tuple(_path_from_json(p) for p in data["alternative"]))
    return RepeatPath(_path_from_json(data["repeat"]), data["modifier"])


def _term_json(term: Node | None) -> str | None:
    return None if term is None else term.n3()


def _term_from_json(text: object) -> Node | None:
    if text is None:
        return None
    node = from_n3(str(text))
    if not isinstance(node, Node):
        raise ValueError(f"not an RDF term: {text!r}")
    return node


def findings_json(findings: Iterable[Finding]) -> list[dict[str, object]]:
    """Findings as JSON values (with their results in the SHACL vocabulary's terms)."""
    documents: list[dict[str, object]] = []
    for f in findings:
        document: dict[str, object] = {
            "severity": f.severity,
            "focus": f.focus,
            "message": f.message,
            "rule": f.rule,
            "value": f.value,
            "location": f.location,
            "code": f.code,
        }
        if f.result is not None:
            r = f.result
            document["result"] = {
                "focus": _term_json(r.focus),
                "shape": _term_json(r.shape),
                "component": _term_json(r.component),
                "severity": _term_json(r.severity),
                "path": None if r.path is None else _path_json(r.path),
                "value": _term_json(r.value),
                "messages": [_term_json(m) for m in r.messages],
            }
        documents.append(document)
    return documents


def findings_from_json(documents: object) -> list[Finding]:
    """Findings written by :func:`findings_json`; ValueError when they are not."""
    if not isinstance(documents, list):
        raise ValueError("findings are not a list")
    findings = []
    for d in documents:
        result = None
        if d.get("result") is not None:
            r = d["result"]
            component, severity = _term_from_json(r["component"]), _term_from_json(r["severity"])
            result = Result(
                focus=_term_from_json(r["focus"]),  # type: ignore[arg-type]
                shape=_term_from_json(r["shape"]),  # type: ignore[arg-type]
                component=component if isinstance(component, URIRef) else SH.Violation,
                severity=severity if isinstance(severity, URIRef) else SH.Violation,
                path=None if r["path"] is None else _path_from_json(r["path"]),
                value=_term_from_json(r["value"]),
                messages=tuple(
                    m for m in map(_term_from_json, r["messages"]) if isinstance(m, RdfLiteral)
                ),
            )
        if d["severity"] not in _SEVERITY_ORDER:
            raise ValueError(f"unknown severity {d['severity']!r}")
        findings.append(
            Finding(
                severity=d["severity"],
                focus=str(d["focus"]),
                message=str(d["message"]),
                rule=str(d["rule"]),
                value=str(d["value"]),
                location=str(d["location"]),
                code=str(d["code"]),
                result=result,
            )
        )
    return findings


def findings_text(findings: Iterable[Finding], *, key: str) -> str:
    """Findings as a JSON document tied to ``key`` (what they were found on)."""
    return json.dumps({"key": key, "findings": findings_json(findings)}, ensure_ascii=False) + "\n"


def findings_for(text: str, *, key: str) -> list[Finding] | None:
    """The findings of a :func:`findings_text` document if it was written for ``key``."""
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("key") != key:
            return None
        return findings_from_json(data["findings"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


# --- The report in the SHACL results vocabulary ------------------------------------------


def _term(text: str) -> Node:
    """A focus or value given only as text: an IRI when it looks like one, else a literal."""
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|^`\\]*$", text):
        return URIRef(text)
    return RdfLiteral(text)


def report_graph(report: Report) -> Graph:
    """The findings as a SHACL validation report: ``sh:conforms`` (false when a finding is
    a Violation) and one ``sh:ValidationResult`` per finding. The results' blank nodes are
    numbered in the findings' order, so that the Turtle (which sorts them by label) lists
    them in that order, the same on every run."""
    graph = Graph()
    graph.bind("sh", SH)
    node = BNode("report")
    width = len(str(len(report.findings)))
    graph.add((node, RDF.type, SH.ValidationReport))
    graph.add((node, SH.conforms, RdfLiteral(not report.violations, datatype=XSD.boolean)))
    for number, finding in enumerate(report.findings, start=1):
        result = finding.result or Result(
            focus=_term(finding.focus),
            shape=_term(finding.rule) if ":" in finding.rule else CHECK[finding.rule],
            component=SH.SPARQLConstraintComponent,
            value=_term(finding.value) if finding.value else None,
        )
        entry = BNode(f"result{number:0{width}d}")
        graph.add((node, SH.result, entry))
        graph.add((entry, RDF.type, SH.ValidationResult))
        graph.add((entry, SH.focusNode, result.focus))
        graph.add((entry, SH.resultSeverity, SH[finding.severity]))
        graph.add((entry, SH.sourceShape, result.shape))
        graph.add((entry, SH.sourceConstraintComponent, result.component))
        graph.add((entry, SH.resultMessage, RdfLiteral(finding.message)))
        if result.path is not None:
            graph.add((entry, SH.resultPath, path_node(result.path, graph)))
        if result.value is not None:
            graph.add((entry, SH.value, result.value))
    return graph


def report_turtle(report: Report) -> str:
    """The SHACL validation report of ``report`` as Turtle."""
    return report_graph(report).serialize(format="turtle")
