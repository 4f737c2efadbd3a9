"""The SHACL shapes, case by case: each shape fires on a broken example and keeps quiet on a
near miss.

Every case is one Turtle file under ``tests/cases/shapes/``, named
``<ShapeName>-fires-<what>.ttl`` or ``<ShapeName>-quiet-<what>.ttl``, whose first comment
lines state the expected result::

    # shape: EventCoder                        the shape the case is about
    # reported-as: EventEvidence               (nested shapes only) the shape that reports it
    # expect: fires                            or: quiet
    # focus: https://example.org/e1            (fires) the focus node of the finding
    # value: https://w3id.org/alignkg/ns#...   (optional, repeatable) a finding per value
    # count: 2                                 (optional) the number of findings of the shape
    # absent: <focus IRI>                      (optional, repeatable) a node it must not flag

Completeness cases are validated with the completeness shapes; ladder cases with the
SHACL-SPARQL shapes and with the whole-graph checks (``rules/checks``), which must give
the same findings.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
from rdflib import BNode, Graph, URIRef
from rdflib.namespace import RDF, SH

from alignkg.build import KnowledgeGraph, assemble
from alignkg.validate import Finding, check_findings, shacl_findings, shapes_graph
from casefiles import one, read_header, show

AKSHAPE = "https://w3id.org/alignkg/shapes#"
CASES_DIR = Path(__file__).parent / "cases" / "shapes"
CASES = sorted(CASES_DIR.glob("*.ttl"))
_NAME = re.compile(r"^(?P<shape>[A-Za-z0-9]+)-(?P<expect>fires|quiet)-(?P<what>[a-z0-9-]+)$")
_KEYS = {"shape", "reported-as", "expect", "focus", "value", "count", "absent"}

#: SHACL predicates that carry no constraint of their own: a shape whose only SHACL
#: predicates are these reports nothing under its own IRI (its property shapes do).
_NOT_CONSTRAINTS = {
    SH.property,
    SH.targetClass,
    SH.targetNode,
    SH.targetSubjectsOf,
    SH.targetObjectsOf,
    SH.severity,
    SH.message,
    SH.path,
    SH.name,
    SH.description,
    SH.order,
    SH.group,
    SH.deactivated,
}


# --- Case files ------------------------------------------------------------------------


# --- The shapes ------------------------------------------------------------------------


@cache
def _shapes(kind: str) -> Graph:
    return shapes_graph(kind)  # type: ignore[arg-type]


def _named_shapes(graph: Graph) -> set[str]:
    """Local names of the shapes with an IRI and a constraint of their own."""
    shapes = set(graph.subjects(RDF.type, SH.NodeShape)) | set(
        graph.subjects(RDF.type, SH.PropertyShape)
    )
    return {
        str(shape)[len(AKSHAPE) :]
        for shape in shapes
        if isinstance(shape, URIRef)
        and str(shape).startswith(AKSHAPE)
        and any(
            str(p).startswith(str(SH)) and p not in _NOT_CONSTRAINTS
            for p in graph.predicates(shape, None)
        )
    }


def _nested_shapes(graph: Graph) -> set[str]:
    """Local names of the shapes reached through sh:node: their results are reported by the
    property shape whose sh:node leads to them."""
    nested: set[URIRef | BNode] = set()
    todo = list(graph.objects(None, SH.node))
    while todo:
        shape = todo.pop()
        if shape in nested:
            continue
        nested.add(shape)  # type: ignore[arg-type]
        todo += graph.objects(shape, SH.property)
        todo += graph.objects(shape, SH.node)
    return {str(s)[len(AKSHAPE) :] for s in nested if str(s).startswith(AKSHAPE)}


COMPLETENESS_SHAPES = _named_shapes(_shapes("completeness"))
LADDER_SHAPES = _named_shapes(_shapes("rules"))
NESTED_SHAPES = _nested_shapes(_shapes("completeness"))


def _kind(shape: str) -> str:
    return "rules" if shape in LADDER_SHAPES else "completeness"


def _shape_of(path: Path) -> str:
    return one(read_header(path), "shape") or ""


LADDER_CASES = [p for p in CASES if _shape_of(p) in LADDER_SHAPES]
ENGINE_CASES = [(p, "shacl") for p in CASES] + [(p, "sparql") for p in LADDER_CASES]


# --- Building and validating (cached: a ladder case is validated by three tests) -------


@cache
def _kg(path: Path) -> KnowledgeGraph:
    return assemble([path])


@cache
def _findings(path: Path, engine: str) -> tuple[Finding, ...]:
    kg = _kg(path)
    if engine == "sparql":
        return tuple(check_findings(kg))
    return tuple(shacl_findings(kg, kind=_kind(_shape_of(path))))  # type: ignore[arg-type]


# --- Tests -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_case_header(path: Path) -> None:
    """The header is well formed and agrees with the file name and the shape files."""
    header = read_header(path)
    assert set(header) <= _KEYS, f"unknown header lines: {set(header) - _KEYS}"
    name = _NAME.match(path.stem)
    assert name, (
        f"{path.name}: name it <ShapeName>-fires-<what>.ttl or <ShapeName>-quiet-<what>.ttl"
    )
    shape, expect = one(header, "shape"), one(header, "expect")
    assert shape == name.group("shape"), "the '# shape:' line must match the file name"
    assert expect == name.group("expect"), "the '# expect:' line must match the file name"
    assert shape in COMPLETENESS_SHAPES | LADDER_SHAPES, (
        f"no shape {AKSHAPE}{shape} in rules/shapes"
    )
    reported_as = one(header, "reported-as")
    if shape in NESTED_SHAPES:
        assert reported_as, (
            f"{shape} is nested through sh:node: say '# reported-as:' which shape reports it"
        )
        assert reported_as in COMPLETENESS_SHAPES and reported_as not in NESTED_SHAPES
    else:
        assert reported_as is None, f"{shape} reports its own findings: drop '# reported-as:'"
    if expect == "fires":
        assert one(header, "focus"), "a fires case names the focus node it expects ('# focus:')"
    else:
        assert not {"focus", "value", "count", "absent"} & set(header), (
            "a quiet case expects nothing"
        )
    count = one(header, "count")
    assert count is None or count.isdigit()


@pytest.mark.parametrize(
    ("path", "engine"), ENGINE_CASES, ids=lambda v: v.stem if isinstance(v, Path) else v
)
def test_case(path: Path, engine: str) -> None:
    """A fires case gets the expected findings of its shape, a quiet case none."""
    header = read_header(path)
    shape = one(header, "shape")
    reported_as = one(header, "reported-as")
    rule = AKSHAPE + (reported_as or shape or "")
    findings = _findings(path, engine)
    of_rule = [f for f in findings if f.rule == rule]
    if one(header, "expect") == "quiet":
        # A nested shape must not be reported either by the shape that refers to it or,
        # should the engine report nested results too, under its own IRI.
        rules = {rule, AKSHAPE + (shape or "")}
        flagged = [f for f in findings if f.rule in rules]
        assert not flagged, (
            f"expected no finding of {' or '.join(sorted(rules))}, got:\n{show(flagged)}"
        )
        return
    focus = one(header, "focus")
    at_focus = [f for f in of_rule if f.focus == focus]
    assert at_focus, f"expected a finding of {rule} on {focus}, got:\n{show(list(findings))}"
    for value in header.get("value", []):
        assert any(f.value == value for f in at_focus), (
            f"expected a finding of {rule} on {focus} with value {value}, got:\n{show(at_focus)}"
        )
    for absent in header.get("absent", []):
        flagged = [f for f in of_rule if f.focus == absent]
        assert not flagged, f"expected no finding of {rule} on {absent}, got:\n{show(flagged)}"
    count = one(header, "count")
    if count is not None:
        assert len(of_rule) == int(count), (
            f"expected {count} finding(s) of {rule}, got {len(of_rule)}:\n{show(of_rule)}"
        )


@pytest.mark.parametrize("path", LADDER_CASES, ids=lambda p: p.stem)
def test_ladder_engines_agree(path: Path) -> None:
    """The SHACL-SPARQL shapes and the whole-graph checks give the same findings."""
    shacl = {f.key() for f in _findings(path, "shacl")}
    sparql = {f.key() for f in _findings(path, "sparql")}
    assert shacl == sparql, (
        f"only SHACL: {sorted(shacl - sparql)}\nonly whole-graph SPARQL: {sorted(sparql - shacl)}"
    )


@pytest.mark.parametrize("expect", ["fires", "quiet"])
@pytest.mark.parametrize("shape", sorted(COMPLETENESS_SHAPES | LADDER_SHAPES))
def test_every_shape_has_cases(shape: str, expect: str) -> None:
    """Every named shape of rules/shapes has a case that fires it and one that keeps it quiet."""
    cases = [p.name for p in CASES if p.stem.startswith(f"{shape}-{expect}-")]
    assert cases, f"no case tests/cases/shapes/{shape}-{expect}-<what>.ttl"
