"""The SHACL Core shapes compiled to SPARQL give pyshacl's results, on both engines.

Compared result by result: focus node, path, value, severity, source shape, constraint
component and messages, on

- every case of ``tests/cases/shapes/`` (the completeness shapes' fire and quiet cases),
- ``kg/`` itself (no violations; 23 warnings over all checks),
- seeded random mutations of a valid event (a required property dropped, a second value
  for a property with at most one, a value of the wrong datatype, a value outside
  ``sh:in``), derived from the shapes themselves,
- ``tests/cases/shapes-sparql/``: shapes and data in one file for the components
  ``completeness.ttl`` does not use (``# expect-results: N`` says how many results
  pyshacl gives, so a case cannot pass by both engines finding nothing).

The rdflib engine runs the same queries on a copy of the oxigraph store's graphs.
"""

from __future__ import annotations

import dataclasses
import random
from functools import cache
from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, SH
from rdflib.term import Node

from alignkg.build import KnowledgeGraph, assemble
from alignkg.cli import main
from alignkg.errors import InputError
from alignkg.namespace import DATA_GRAPH
from alignkg.shapes import Result, ShapeError, compile_shapes, parse_path, run
from alignkg.store import OxigraphStore, RdflibStore
from alignkg.validate import (
    COMPLETENESS_GRAPHS,
    RULE_GRAPHS,
    _rdflib_graph,
    completeness_findings,
    completeness_queries,
    pyshacl_results,
    report_graph,
    shacl_findings,
    shapes_graph,
    sparql_results,
    validate,
)
from casefiles import read_header

ROOT = Path(__file__).resolve().parent.parent
AKSHAPE = "https://w3id.org/alignkg/shapes#"
_COMPLETENESS_NAMES = {
    str(s)[len(AKSHAPE) :]
    for s in shapes_graph("completeness").subjects()
    if str(s).startswith(AKSHAPE)
}
#: The completeness shapes' fire and quiet cases (the ladder's have tests/test_shapes.py).
CASES = sorted(
    p
    for p in (ROOT / "tests" / "cases" / "shapes").glob("*.ttl")
    if read_header(p).get("shape", [""])[0] in _COMPLETENESS_NAMES
)
OWN_CASES = sorted((ROOT / "tests" / "cases" / "shapes-sparql").glob("*.ttl"))
EXAMPLE = ROOT / "tests" / "cases" / "example" / "mini.ttl"
ENGINES = ["oxigraph", "rdflib"]
AK = Namespace("https://w3id.org/alignkg/ns#")
EX = Namespace("https://example.org/")
XSD_DATE = URIRef("http://www.w3.org/2001/XMLSchema#date")

Key = tuple[Node, object, Node | None, Node, Node, Node, tuple[str, ...]]


def _key(result: Result) -> Key:
    return (
        result.focus,
        result.path,
        result.value,
        result.severity,
        result.shape,
        result.component,
        tuple(sorted(str(m) for m in result.messages)),
    )


def _show(keys: set[Key]) -> str:
    return "\n".join(f"  {k}" for k in sorted(keys, key=str)) or "  (none)"


def _assert_same(shacl: set[Key], sparql: set[Key]) -> None:
    assert sparql == shacl, (
        f"only pyshacl:\n{_show(shacl - sparql)}\nonly SPARQL:\n{_show(sparql - shacl)}"
    )


@cache
def _completeness_shapes() -> Graph:
    """One shapes graph for both engines, so blank shapes have the same identity."""
    return shapes_graph("completeness")


@cache
def _queries() -> tuple[object, ...]:
    return tuple(compile_shapes(_completeness_shapes()))


def _on(kg: KnowledgeGraph, engine: str) -> KnowledgeGraph:
    """``kg`` on ``engine``: the rdflib store gets a copy of every graph."""
    if engine == "oxigraph":
        return kg
    store = RdflibStore.in_memory()
    for graph in RULE_GRAPHS:
        store.add(kg.store.triples(graph=graph), graph=graph)
    return dataclasses.replace(kg, store=store)


def _pyshacl_keys(kg: KnowledgeGraph) -> set[Key]:
    data = _rdflib_graph(kg, COMPLETENESS_GRAPHS)
    return {_key(r) for r in pyshacl_results(data, _completeness_shapes())}


def _sparql_keys(kg: KnowledgeGraph) -> set[Key]:
    return {_key(r) for r in sparql_results(kg, _queries())}  # type: ignore[arg-type]


@cache
def _case(path: Path) -> tuple[KnowledgeGraph, frozenset[Key]]:
    kg = assemble([path])
    return kg, frozenset(_pyshacl_keys(kg))


# --- The shape cases and kg/ ------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_case_gives_pyshacl_results(path: Path, engine: str) -> None:
    kg, shacl = _case(path)
    _assert_same(set(shacl), _sparql_keys(_on(kg, engine)))


def test_cases_are_not_vacuous() -> None:
    """The fire cases give results: the comparison above compares something."""
    fires = [p for p in CASES if "-fires-" in p.name]
    with_results = [p for p in fires if _case(p)[1]]
    assert len(with_results) >= len(fires) // 2


@cache
def _kg_graph() -> KnowledgeGraph:
    return assemble([ROOT / "kg"])


@pytest.mark.parametrize("engine", ENGINES)
def test_kg_gives_pyshacl_results(engine: str) -> None:
    kg = _kg_graph()
    _assert_same(_pyshacl_keys(kg), _sparql_keys(_on(kg, engine)))


def test_kg_findings_and_counts_match_pyshacl() -> None:
    kg = _kg_graph()
    sparql = validate(kg)
    shacl = validate(kg, completeness="shacl")
    assert [f.line() for f in sparql.findings] == [f.line() for f in shacl.findings]
    assert (len(sparql.violations), len(sparql.warnings)) == (0, 23)


@pytest.mark.parametrize(
    "path", [p for p in CASES if "-fires-" in p.name][:12], ids=lambda p: p.stem
)
def test_findings_lines_match_pyshacl(path: Path) -> None:
    """The findings (text, rule, location) are pyshacl's, so reports do not change."""
    kg, _ = _case(path)
    sparql = sorted(f.line() for f in completeness_findings(kg))
    shacl = sorted(f.line() for f in shacl_findings(kg, kind="completeness"))
    assert sparql == shacl


# --- Random mutations of a valid event ---------------------------------------------------


def _event_property_shapes() -> list[tuple[URIRef, Node]]:
    """(path, property shape) of the event shape's property shapes with an IRI path."""
    shapes = _completeness_shapes()
    found = []
    for prop in shapes.objects(URIRef("https://w3id.org/alignkg/shapes#EventShape"), SH.property):
        path = shapes.value(prop, SH.path)
        if isinstance(path, URIRef):
            found.append((path, prop))
    return sorted(found)


def _mutations() -> list[tuple[str, URIRef, Node]]:
    """Every mutation the shapes call for: (kind, path, property shape)."""
    shapes = _completeness_shapes()
    found = []
    for path, prop in _event_property_shapes():
        if shapes.value(prop, SH.minCount) is not None:
            found.append(("drop", path, prop))
        if shapes.value(prop, SH.maxCount) == Literal(1):
            found.append(("duplicate", path, prop))
        if shapes.value(prop, SH.datatype) is not None:
            found.append(("wrong-datatype", path, prop))
        if shapes.value(prop, SH["in"]) is not None:
            found.append(("outside-in", path, prop))
    return found


def _other_value(value: Node) -> Node:
    if isinstance(value, Literal) and value.datatype == XSD_DATE:
        return Literal("1990-01-01", datatype=XSD_DATE)
    if isinstance(value, Literal):
        return Literal(f"{value} (another)", lang=value.language, datatype=value.datatype)
    return EX["another-value"]


def _mutate(graph: Graph, focus: URIRef, kind: str, path: URIRef) -> None:
    values = list(graph.objects(focus, path))
    if kind == "drop":
        graph.remove((focus, path, None))
    elif kind == "duplicate":
        graph.add((focus, path, _other_value(values[0]) if values else EX["v1"]))
        if not values:
            graph.add((focus, path, EX["v2"]))
    elif kind == "wrong-datatype":
        graph.remove((focus, path, None))
        graph.add((focus, path, Literal("1993-10-11")))
    else:
        graph.remove((focus, path, None))
        graph.add((focus, path, AK["NotAnAllowedValue"]))


@pytest.mark.parametrize("seed", range(10))
def test_random_mutations_give_pyshacl_results(seed: int, tmp_path: Path) -> None:
    rng = random.Random(seed)
    data = Graph().parse(EXAMPLE)
    events = sorted(s for s in data.subjects(RDF.type, AK.Event) if isinstance(s, URIRef))
    focus = rng.choice(events)
    chosen = rng.sample(_mutations(), k=rng.randint(1, 3))
    for kind, path, _ in chosen:
        _mutate(data, focus, kind, path)
    mutated = tmp_path / "mutated.ttl"
    mutated.write_text(data.serialize(format="turtle"), encoding="utf-8")
    kg = assemble([mutated])
    shacl = _pyshacl_keys(kg)
    wanted = {prop for _, _, prop in chosen}
    assert {k[4] for k in shacl if k[0] == focus} & wanted, (
        f"the mutations {[(k, str(p)) for k, p, _ in chosen]} of {focus} fire no shape"
    )
    for engine in ENGINES:
        _assert_same(shacl, _sparql_keys(_on(kg, engine)))


# --- Shapes and data in one file: the other components -----------------------------------


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("path", OWN_CASES, ids=lambda p: p.stem)
def test_other_components_give_pyshacl_results(path: Path, engine: str) -> None:
    graph = Graph().parse(path)
    expected = int(read_header(path)["expect-results"][0])
    shacl = {_key(r) for r in pyshacl_results(graph, graph)}
    assert len(shacl) == expected, f"pyshacl gives {len(shacl)} results:\n{_show(shacl)}"
    store = OxigraphStore.in_memory() if engine == "oxigraph" else RdflibStore.in_memory()
    store.add(graph, graph=DATA_GRAPH)
    sparql = {_key(r) for r in run(store, compile_shapes(graph), [DATA_GRAPH])}
    # pyshacl words a shape without sh:message its own way: compare those without it.
    bare = {k[4] for k in shacl if not graph.value(k[4], SH.message)}  # type: ignore[arg-type]
    _assert_same(
        {(*k[:6], ()) if k[4] in bare else k for k in shacl},
        {(*k[:6], ()) if k[4] in bare else k for k in sparql},
    )


# --- What the compiler refuses -----------------------------------------------------------

_UNSUPPORTED = [
    ("closed", "sh:closed true", "sh:closed"),
    ("unique-lang", "sh:property [ sh:path ex:p ; sh:uniqueLang true ]", "sh:uniqueLang"),
    ("language-in", 'sh:property [ sh:path ex:p ; sh:languageIn ( "en" ) ]', "sh:languageIn"),
    (
        "qualified",
        "sh:property [ sh:path ex:p ; sh:qualifiedValueShape [ sh:class ex:C ] ; "
        "sh:qualifiedMinCount 1 ]",
        "sh:qualified",
    ),
    ("sparql", 'sh:sparql [ sh:select "SELECT $this WHERE { }" ]', "sh:sparql"),
    ("recursive", "sh:node ex:S", "recursive"),
    ("nested-unknown", "sh:or ( [ sh:closed true ] [ sh:class ex:C ] )", "sh:closed"),
    ("big-count", "sh:property [ sh:path ex:p ; sh:maxCount 9 ]", "sh:maxCount 9"),
    ("min-count-on-node", "sh:minCount 1", "needs a property shape"),
]


@pytest.mark.parametrize(
    ("what", "turtle", "named"), _UNSUPPORTED, ids=[u[0] for u in _UNSUPPORTED]
)
def test_unsupported_component_is_an_error_naming_shape_and_component(
    what: str, turtle: str, named: str
) -> None:
    shapes = Graph().parse(
        data="@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <https://example.org/> .\n"
        f"ex:S a sh:NodeShape ; sh:targetClass ex:C ; {turtle} .",
        format="turtle",
    )
    with pytest.raises(ShapeError) as raised:
        compile_shapes(shapes, source="my-shapes.ttl")
    error = raised.value
    assert isinstance(error, InputError) and error.code == "AK300"
    text = str(error)
    assert text.startswith("my-shapes.ttl: AK300: ")
    assert named in text
    if what in {"closed", "recursive", "sparql"}:
        assert "shape ex:S" in text


def test_bundled_completeness_shapes_compile_one_query_per_component() -> None:
    queries = completeness_queries()
    components = {(q.shape, q.component) for q in queries}
    assert len(components) == len(queries) > 40
    assert all("SELECT DISTINCT ?this" in q.text for q in queries)


def test_values_from_the_shapes_are_bound_not_written_into_the_query() -> None:
    shapes = _completeness_shapes()
    pattern = str(shapes.value(URIRef("https://w3id.org/alignkg/shapes#StateIso3"), SH.pattern))
    queries = completeness_queries()
    assert not any(pattern in q.text for q in queries)
    assert any(Literal(pattern) in q.bindings.values() for q in queries)


# --- The report in the SHACL results vocabulary ------------------------------------------

REPORT_CASES = [
    next(p for p in CASES if p.name.startswith("EventAspectShape-fires-aspect-of-other")),
    next(p for p in CASES if p.name.startswith("EventStartDate-fires-end-before-start")),
    ROOT / "tests" / "cases" / "shapes" / "LadderPrerequisiteShape-fires-prerequisite-later.ttl",
    EXAMPLE,
]


@pytest.mark.parametrize("path", REPORT_CASES, ids=lambda p: p.stem)
def test_turtle_report_has_one_result_per_finding(path: Path) -> None:
    report = validate(assemble([path]))
    graph = Graph().parse(data=report_graph(report).serialize(format="turtle"), format="turtle")
    top = graph.value(None, RDF.type, SH.ValidationReport, any=False)
    assert top is not None
    assert graph.value(top, SH.conforms) == Literal(not report.violations)
    results = list(graph.objects(top, SH.result))
    assert len(results) == len(report.findings) > 0
    for result in results:
        for predicate in (
            SH.focusNode,
            SH.resultSeverity,
            SH.sourceShape,
            SH.sourceConstraintComponent,
            SH.resultMessage,
        ):
            assert graph.value(result, predicate) is not None, predicate
    described = {
        (str(graph.value(r, SH.focusNode)), str(graph.value(r, SH.resultMessage))) for r in results
    }
    assert described == {(f.focus, f.message) for f in report.findings}
    for result in results:
        path_node = graph.value(result, SH.resultPath)
        if path_node is not None:
            assert parse_path(graph, path_node) is not None
    with_path = [f for f in report.findings if f.result and f.result.path is not None]
    assert sum(graph.value(r, SH.resultPath) is not None for r in results) == len(with_path)
    if path.name.startswith("EventStartDate"):
        assert with_path


def test_cli_turtle_report(capsys: pytest.CaptureFixture[str]) -> None:
    path = REPORT_CASES[1]
    code = main(["validate", str(path), "--format", "turtle", "-q"])
    out, err = capsys.readouterr()
    assert code == 2
    graph = Graph().parse(data=out, format="turtle")
    assert (None, SH.conforms, Literal(False)) in graph
    assert (
        None,
        SH.sourceConstraintComponent,
        SH.LessThanOrEqualsConstraintComponent,
    ) in graph
    assert "violation(s)" in err


def test_cli_completeness_engines_print_the_same(capsys: pytest.CaptureFixture[str]) -> None:
    path = REPORT_CASES[0]
    code_sparql = main(["validate", str(path), "-q"])
    sparql, _ = capsys.readouterr()
    code_shacl = main(["validate", str(path), "--completeness", "shacl", "-q"])
    shacl, _ = capsys.readouterr()
    assert code_sparql == code_shacl == 2
    assert sparql == shacl and ": violation: <" in sparql


def test_blank_focus_nodes_stay_blank_in_the_report() -> None:
    """A blank focus node (an annotation's target) is written as a blank node."""
    path = next(p for p in CASES if p.name.startswith("EventEvidence-fires-no-evidence"))
    report = validate(assemble([path]))
    graph = report_graph(report)
    foci = set(graph.objects(None, SH.focusNode))
    assert foci and all(isinstance(f, URIRef | BNode) for f in foci)
