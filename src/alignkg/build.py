"""Assemble the knowledge graph: load, infer, derive.

The store holds named graphs: the ontology (with the standard vocabularies), the rule
sets, the coded data, what OWL-RL and the precedence graph infer, the calendar and
what the derivation rules produce. Queries see their union.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Protocol

import pyoxigraph as ox
from rdflib import Graph, URIRef
from rdflib.namespace import OWL

from alignkg.derive import StepReport, derive
from alignkg.errors import InputWarning, LadderError, UsageError
from alignkg.infer import Entailments, apply, apply_oxigraph, entailments
from alignkg.kg import ParsedFile, parse_bytes, read_all
from alignkg.ladder import Ladder, build_ladder
from alignkg.namespace import (
    AK,
    DATA_GRAPH,
    INFERRED_GRAPH,
    ONTOLOGY_GRAPH,
    RULES_GRAPH,
)
from alignkg.remote import RemoteStore
from alignkg.resources import (
    calendar_span_query,
    ontology_files,
    rule_set_files,
    vocabulary_catalog,
    vocabulary_files,
)
from alignkg.store import (
    EngineName,
    OxigraphStore,
    Store,
    in_order,
    new_store,
    part_graph,
    to_rdflib,
)

Progress = Callable[[str], None]


class InputFile(Protocol):
    """An input file as a built graph knows it: its name, its triples and where each
    subject is written (:class:`~alignkg.kg.ParsedFile`, or a file a persistent build
    did not need to parse again, :class:`~alignkg.rebuild.IndexedFile`)."""

    @property
    def path(self) -> str: ...

    @property
    def triples(self) -> Sequence[ox.Triple]: ...

    @property
    def triple_count(self) -> int: ...

    @property
    def subject_lines(self) -> Mapping[str, int]: ...

    @property
    def warnings(self) -> Sequence[InputWarning]: ...


@dataclass
class KnowledgeGraph:
    """A built knowledge graph: the store and what was learnt building it."""

    store: Store
    files: Sequence[InputFile]
    ladder: Ladder
    ontology: Graph
    first_year: int
    last_year: int
    steps: list[StepReport] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def location_of(self, iri: str) -> tuple[str, int] | None:
        """The file and line where ``iri`` is written as a subject, when known."""
        for parsed in self.files:
            line = parsed.subject_lines.get(iri)
            if line:
                return parsed.path, line
        return None


def _bundled(files: Sequence[object]) -> list[ParsedFile]:
    parsed = []
    for file in files:
        data = file.read_bytes()  # type: ignore[attr-defined]
        parsed.append(parse_bytes(data, path=f"alignkg/{file.name}"))  # type: ignore[attr-defined]
    return parsed


def ontology_graph(*, with_vocabularies: bool = False) -> Graph:
    """The alignkg ontology (and optionally the imported vocabularies) as an rdflib Graph."""
    graph = Graph()
    sources = ontology_files() + (vocabulary_files() if with_vocabularies else [])
    for parsed in _bundled(sources):
        for triple in parsed.triples:
            graph.add(tuple(to_rdflib(t) for t in triple))  # type: ignore[arg-type]
    return graph


@cache
def bundled_entailments() -> Entailments:
    """What the bundled ontology entails (computed once per process; immutable)."""
    return entailments(ontology_graph())


CATALOG = "https://w3id.org/alignkg/catalog#"


def resolve_imports(ontology: Graph) -> list[Traversable]:
    """The local copies of every vocabulary the ontology ``owl:imports``.

    Nothing is ever fetched: an import without a local copy in the catalog is an error.
    """
    catalog = Graph().parse(data=vocabulary_catalog().read_text(encoding="utf-8"), format="turtle")
    files = {f.name: f for f in vocabulary_files()}
    local: dict[str, str] = {}
    for entry in catalog.subjects(URIRef(CATALOG + "ontology"), None):
        file_name = str(catalog.value(entry, URIRef(CATALOG + "file")))
        for iri in catalog.objects(entry, URIRef(CATALOG + "ontology")):
            local[str(iri)] = file_name
    chosen: dict[str, Traversable] = {}
    for imported in sorted(str(o) for o in ontology.objects(None, OWL.imports)):
        wanted = local.get(imported)
        if wanted is None or wanted not in files:
            raise LadderError(
                f"the ontology imports <{imported}>, which has no local copy in "
                "ontology/vocab/catalog.ttl (alignkg never fetches vocabularies)"
            )
        chosen[wanted] = files[wanted]
    return [chosen[n] for n in sorted(chosen)]


def load_static(store: OxigraphStore) -> tuple[Graph, Ladder]:
    """Add what every build holds besides the data: the ontology with the vocabularies it
    imports, the rule sets, what the ontology entails and the ladder's precedence closure;
    the ontology and its ladder."""
    ontology = ontology_graph()
    store.add(in_order(ontology), graph=ONTOLOGY_GRAPH)
    for graph, group in (
        (ONTOLOGY_GRAPH, _bundled(resolve_imports(ontology))),
        (RULES_GRAPH, _bundled(rule_set_files())),
    ):
        for parsed in group:
            store.add_oxigraph(parsed.triples, graph=graph)
    ladder = build_ladder(ontology)
    store.add(bundled_entailments().ontology_triples, graph=INFERRED_GRAPH)  # type: ignore[arg-type]
    store.add(ladder.closure_triples(), graph=INFERRED_GRAPH)
    return ontology, ladder


def year_span(store: Store) -> tuple[int, int] | None:
    """The first and last year the data's events need assessed (``calendar-span.rq``)."""
    rows = store.select(calendar_span_query())
    if not rows or "first" not in rows[0] or "last" not in rows[0]:
        return None
    return int(str(rows[0]["first"])), int(str(rows[0]["last"]))


def assemble(
    paths: Sequence[Path],
    *,
    engine: EngineName = "oxigraph",
    rule_set: URIRef = AK.DefaultRules,
    until: int | None = None,
    progress: Progress | None = None,
    store: Store | None = None,
    files: Sequence[InputFile] | None = None,
    per_file: bool = False,
) -> KnowledgeGraph:
    """Load the files under ``paths``, infer, and derive every dyad-year assessment.

    ``store`` is the store to build in, a new in-memory one by default (a store on a
    SPARQL server, :class:`~alignkg.remote.RemoteStore`, has alignkg's graphs cleared
    first, so that a rebuild replaces them); ``files``
    are the already parsed files, when the caller has them. With ``per_file`` each file's
    data and what it entails go to graphs of their own (:func:`part_graph`), so that a
    persistent build can replace one file (see :mod:`alignkg.rebuild`).
    """
    say = progress or (lambda _message: None)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    if files is None:
        files = read_all(paths)
    timings["parse"] = time.perf_counter() - started
    say(f"parsed {len(files)} file(s), {sum(f.triple_count for f in files)} triples")

    started = time.perf_counter()
    if store is None:
        store = new_store(engine)
    elif isinstance(store, RemoteStore):
        store.clear()
    ontology = ontology_graph()
    store.add(in_order(ontology), graph=ONTOLOGY_GRAPH)
    vocabularies = _bundled(resolve_imports(ontology))
    rules = _bundled(rule_set_files())
    for group, graph in ((vocabularies, ONTOLOGY_GRAPH), (rules, RULES_GRAPH), (files, DATA_GRAPH)):
        for parsed in group:
            target = part_graph(graph, parsed.path) if per_file and graph == DATA_GRAPH else graph
            if isinstance(store, OxigraphStore):
                store.add_oxigraph(parsed.triples, graph=target)
            else:
                store.add((tuple(to_rdflib(t) for t in tr) for tr in parsed.triples), graph=target)  # type: ignore[misc]
    timings["load"] = time.perf_counter() - started

    started = time.perf_counter()
    ladder = build_ladder(ontology)
    entailed = bundled_entailments()
    store.add(entailed.ontology_triples, graph=INFERRED_GRAPH)  # type: ignore[arg-type]
    if isinstance(store, OxigraphStore):
        inferred_count = 0
        for parsed in files:
            target = part_graph(INFERRED_GRAPH, parsed.path) if per_file else INFERRED_GRAPH
            fast = apply_oxigraph(entailed, parsed.triples)
            inferred_count += store.add_oxigraph(fast, graph=target)
    else:
        data_triples: list[tuple[object, object, object]] = [
            (to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object))
            for parsed in files
            for t in parsed.triples
        ]
        inferred_count = store.add(apply(entailed, data_triples), graph=INFERRED_GRAPH)  # type: ignore[arg-type]
    inferred_count += len(entailed.ontology_triples)
    store.add(ladder.closure_triples(), graph=INFERRED_GRAPH)
    timings["infer"] = time.perf_counter() - started
    say(f"inferred {inferred_count} triples; ladder of {len(ladder.indicators)} indicators checked")

    span = year_span(store)
    first, last = span if span else (1991, 1991)
    if until is not None:
        if until < first:
            raise UsageError(f"--to {until} is before the first year in the data ({first})")
        last = max(last, until)
    started = time.perf_counter()
    steps = derive(store, first_year=first, last_year=last, rule_set=rule_set, progress=say)
    timings["derive"] = time.perf_counter() - started
    return KnowledgeGraph(
        store=store,
        files=files,
        ladder=ladder,
        ontology=ontology,
        first_year=first,
        last_year=last,
        steps=steps,
        timings=timings,
    )
