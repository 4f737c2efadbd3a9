"""Validation: SHACL shapes and whole-graph rule checks, as one list of findings.

Completeness shapes (SHACL Core, severity Violation) run in pyshacl on the asserted
data with the ontology and what was inferred. The rules (severity Warning: the ladder's
preconditions and the other consistency rules) run by default as whole-graph queries on
the store (``rules/checks/*.rq``); their SHACL-SPARQL shapes (``rules/shapes/`` except
``completeness.ttl``) give the same findings and can be run instead. ``queries/*-violation.rq`` checks must return no
rows on a valid graph: each row is a Violation.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from typing import Literal

import pyshacl
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SH
from rdflib.term import Node

from alignkg.build import KnowledgeGraph
from alignkg.namespace import (
    CALENDAR_GRAPH,
    DATA_GRAPH,
    DERIVED_GRAPH,
    INFERRED_GRAPH,
    ONTOLOGY_GRAPH,
    RULES_GRAPH,
)
from alignkg.resources import check_rules, query_files, query_text, shape_files
from alignkg.store import graphs_under

Severity = Literal["Violation", "Warning", "Info"]
LadderEngine = Literal["sparql", "shacl"]
_SEVERITY_ORDER = {"Violation": 0, "Warning": 1, "Info": 2}
_HEADER = re.compile(r"^#\s*(shape|severity):\s*(\S+)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Finding:
    """One validation result."""

    severity: Severity
    focus: str
    message: str
    rule: str
    value: str = ""
    location: str = ""

    def line(self) -> str:
        """The finding on one line: ``location: severity: <focus>: message [rule]``."""
        where = self.location or "-"
        rule = self.rule.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
        return f"{where}: {self.severity.lower()}: <{self.focus}>: {self.message} [{rule}]"

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
        """0 clean or warnings only, 1 violations."""
        return 1 if self.violations else 0

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


def shacl_findings(kg: KnowledgeGraph, *, kind: ShapeKind) -> list[Finding]:
    """Run the SHACL shapes of ``kind`` in pyshacl and return their findings."""
    bases = [ONTOLOGY_GRAPH, RULES_GRAPH, DATA_GRAPH, INFERRED_GRAPH]
    if kind == "rules":
        bases += [CALENDAR_GRAPH, DERIVED_GRAPH]
    graphs = [g for base in bases for g in graphs_under(kg.store, base)]
    data = _rdflib_graph(kg, graphs)
    _conforms, results, _text = pyshacl.validate(
        data,
        shacl_graph=shapes_graph(kind),
        inference="none",
        allow_warnings=True,
        allow_infos=True,
        advanced=False,
        meta_shacl=False,
    )
    findings = []
    # Only the report's top-level results: nested shapes (sh:node) add sh:detail results
    # on blank nodes, which say the same thing less usefully.
    top_level = [
        result
        for report in results.subjects(RDF.type, SH.ValidationReport)
        for result in results.objects(report, SH.result)
    ]
    for result in top_level:
        focus = results.value(result, SH.focusNode)
        value = results.value(result, SH.value)
        messages = sorted(str(m) for m in results.objects(result, SH.resultMessage))
        shape = results.value(result, SH.sourceShape)
        path = results.value(result, SH.resultPath)
        message = messages[0] if messages else "does not conform"
        if path is not None and isinstance(path, URIRef) and not messages:
            message = f"{path}: {message}"
        findings.append(
            Finding(
                severity=_severity(results.value(result, SH.resultSeverity)),
                focus=str(focus),
                message=message,
                rule=str(shape or ""),
                value=str(value) if value is not None and kind == "rules" else "",
            )
        )
    return _locate(kg, findings)


def _check_metadata(text: str, name: str) -> tuple[str, Severity]:
    header = dict(_HEADER.findall(text))
    severity: Severity = "Violation"
    if header.get("severity") == "Warning":
        severity = "Warning"
    elif header.get("severity") == "Info":
        severity = "Info"
    return header.get("shape", name), severity


def query_findings(kg: KnowledgeGraph, files: Iterable[Traversable]) -> list[Finding]:
    """Run check queries on the store: each row is a finding.

    A check selects ``?focus`` and ``?message`` (and optionally ``?value``). Its header
    comments name the rule it stands for (``# shape: IRI``, default: the file's name) and
    its severity (``# severity: Warning``, default: Violation).
    """
    findings = []
    for file in files:
        text = file.read_text(encoding="utf-8")
        name = file.name[: -len(".rq")]
        rule, severity = _check_metadata(text, name)
        for row in kg.store.select(text):
            findings.append(
                Finding(
                    severity=severity,
                    focus=str(row.get("focus", "")),
                    message=str(row.get("message", name)),
                    rule=rule,
                    value=str(row.get("value", "")),
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
        location = f"{where[0]}:{where[1]}" if where else ""
        located.append(
            Finding(
                finding.severity,
                finding.focus,
                finding.message,
                finding.rule,
                finding.value,
                location,
            )
        )
    return located


def validate(kg: KnowledgeGraph, *, ladder: LadderEngine = "sparql") -> Report:
    """Every finding on ``kg``: completeness shapes, rule checks, violation queries."""
    findings = shacl_findings(kg, kind="completeness")
    findings += violation_query_findings(kg)
    findings += check_findings(kg) if ladder == "sparql" else shacl_findings(kg, kind="rules")
    unique = {(f.key(), f.message): f for f in findings}
    ordered = sorted(
        unique.values(),
        key=lambda f: (_SEVERITY_ORDER[f.severity], f.location, f.focus, f.rule, f.value),
    )
    return Report(ordered)
