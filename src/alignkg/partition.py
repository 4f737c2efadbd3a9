"""A whole build split into groups of dyads, for inputs larger than memory.

The in-memory build holds every statement, and every derived one, in one store: at a
million events that is tens of gigabytes. A partitioned build instead:

1. parses each input file strictly, one at a time, and spools its statements and what
   they entail as N-Quads next to the store; once every file has parsed, the spool is
   bulk-loaded into the on-disk store (nothing is held in Python);
2. lists the events that concern each dyad (``rules/partition/all-pair-events.rq``) and
   cuts the dyads into groups of about ``group_events`` events;
3. for each group, marks its events in a scratch graph of the store, copies what they
   read into an in-memory store (``chunk-input.rq``, with the states and groupings),
   derives there, keeps what was derived for the group's own dyads (``chunk-derived.rq``)
   and validates it: the findings on the group's nodes are kept;
4. validates the statements no group covers (``remainder-input.rq``: sources, coders,
   states, tables, an event that concerns no dyad) in one more in-memory store;
5. bulk-loads what the groups derived into the store.

Each group sees the same statements as the whole build would for its dyads, so the
derived triples and the findings are those of the in-memory build (checked by
``tests/test_partition.py``); peak memory is that of one group.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import pyoxigraph as ox
from rdflib import URIRef

from alignkg.build import KnowledgeGraph, load_static, year_span
from alignkg.derive import calendar_triples, derive
from alignkg.errors import UsageError
from alignkg.infer import Entailments, apply_oxigraph
from alignkg.kg import PRECEDENCE, IndexedFile, ParsedFile, check_precedence, read_file
from alignkg.namespace import (
    AK,
    CALENDAR_GRAPH,
    DATA_GRAPH,
    DERIVED_GRAPH,
    INFERRED_GRAPH,
    ONTOLOGY_GRAPH,
    RULES_GRAPH,
)
from alignkg.resources import partition_query
from alignkg.store import OxigraphStore, part_graph, to_rdflib
from alignkg.validate import Finding, all_findings

Progress = Callable[[str], None]
KeepIndex = Callable[[ParsedFile], None]

#: The scratch graph where a group's events and dyads are marked (dropped at the end).
PARTITION_GRAPH = ox.NamedNode("https://w3id.org/alignkg/graph/partition")
_PART = "https://w3id.org/alignkg/partition#"
_MEMBER = ox.NamedNode(_PART + "member")
_GROUP = ox.NamedNode(_PART + "group")
_ANY = ox.NamedNode(_PART + "any")
_STATIC_GRAPHS = (ONTOLOGY_GRAPH, RULES_GRAPH, INFERRED_GRAPH)

#: The queries of ``rules/partition/`` a partitioned build runs (part of the store's key).
QUERIES = (
    "all-pair-events",
    "chunk-input",
    "chunk-derived",
    "remainder-input",
    "remainder-derived",
)

#: Events per group: ``ALIGNKG_GROUP_EVENTS`` sets another number.
GROUP_EVENTS = 50_000


def group_events() -> int:
    """Events per group of dyads: ``ALIGNKG_GROUP_EVENTS`` or :data:`GROUP_EVENTS`."""
    text = os.environ.get("ALIGNKG_GROUP_EVENTS", "").strip()
    if not text:
        return GROUP_EVENTS
    if not text.isdigit() or int(text) <= 0:
        raise UsageError(f"ALIGNKG_GROUP_EVENTS: {text!r} is not a positive integer")
    return int(text)


@dataclass(frozen=True)
class Built:
    """A partitioned build: the knowledge graph in the on-disk store, and its findings."""

    kg: KnowledgeGraph
    findings: list[Finding]


def spool(
    found: Sequence[Path],
    folder: Path,
    entailed: Entailments,
    keep_index: KeepIndex,
    say: Progress,
) -> tuple[Path, list[IndexedFile]]:
    """Parse every file strictly, one at a time, into an N-Quads spool of their statements
    and what they entail; the files as the build knows them (without their statements).
    A bad file stops here, before the store is touched, and leaves no spool behind."""
    try:
        return _spool(found, folder, entailed, keep_index, say)
    except BaseException:
        (folder / "spool.nq").unlink(missing_ok=True)
        raise


def _spool(
    found: Sequence[Path],
    folder: Path,
    entailed: Entailments,
    keep_index: KeepIndex,
    say: Progress,
) -> tuple[Path, list[IndexedFile]]:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "spool.nq"
    files: list[IndexedFile] = []
    precedence: list[ParsedFile] = []
    with target.open("wb") as out:
        for source in found:
            parsed = read_file(source)
            keep_index(parsed)
            data = ox.NamedNode(str(part_graph(DATA_GRAPH, parsed.path)))
            inferred = ox.NamedNode(str(part_graph(INFERRED_GRAPH, parsed.path)))
            ox.serialize(
                [ox.Quad(t.subject, t.predicate, t.object, data) for t in parsed.triples]
                + [
                    ox.Quad(t.subject, t.predicate, t.object, inferred)
                    for t in apply_oxigraph(entailed, parsed.triples)
                ],
                out,
                ox.RdfFormat.N_QUADS,
            )
            precedence.append(
                ParsedFile(
                    parsed.path,
                    [t for t in parsed.triples if t.predicate.value in PRECEDENCE],
                )
            )
            files.append(
                IndexedFile(
                    source,
                    parsed.path,
                    parsed.triple_count,
                    parsed.subject_lines,
                    list(parsed.warnings),
                )
            )
            say(f"parsed {parsed.path}: {parsed.triple_count} triples")
    check_precedence(precedence, found)
    return target, files


def _groups(store: OxigraphStore, size: int) -> list[tuple[list[str], set[str]]]:
    """The dyads cut into groups of about ``size`` events: each group's dyads and events."""
    events: dict[str, set[str]] = defaultdict(set)
    for row in store.select_lexical(partition_query("all-pair-events")):
        events[row["dyad"]].add(row["event"])
    groups: list[tuple[list[str], set[str]]] = []
    dyads: list[str] = []
    members: set[str] = set()
    for dyad in sorted(events):
        dyads.append(dyad)
        members |= events[dyad]
        if len(members) >= size:
            groups.append((dyads, members))
            dyads, members = [], set()
    if dyads:
        groups.append((dyads, members))
    return groups


def _mark(raw: ox.Store, nodes: Sequence[str] | set[str], mark: ox.NamedNode) -> None:
    """Mark ``nodes`` (and only them) as members of ``mark`` in the partition graph."""
    if any(g == PARTITION_GRAPH for g in raw.named_graphs()):
        raw.remove_graph(PARTITION_GRAPH)
    raw.extend(ox.Quad(ox.NamedNode(n), _MEMBER, mark, PARTITION_GRAPH) for n in sorted(nodes))


def _scratch(store: OxigraphStore, query: str) -> OxigraphStore:
    """An in-memory store with the static graphs, the states and groupings, and what
    ``query`` constructs. The queries run over the union of the store's graphs (nothing
    is derived in it yet): naming every file's graphs as the default graph would make
    each lookup visit them one by one."""
    scratch = OxigraphStore.in_memory()
    for graph in _STATIC_GRAPHS:
        scratch.store.extend(
            store.store.quads_for_pattern(None, None, None, ox.NamedNode(str(graph)))
        )
    data = part_graph(DATA_GRAPH, "partition")
    scratch.construct_into_from(store, partition_query("reference-input"), None, graph=data)
    scratch.construct_into_from(store, query, None, graph=data)
    return scratch


def _infer(scratch: OxigraphStore, entailed: Entailments) -> None:
    data = ox.NamedNode(str(part_graph(DATA_GRAPH, "partition")))
    triples = [
        ox.Triple(q.subject, q.predicate, q.object)
        for q in scratch.store.quads_for_pattern(None, None, None, data)
    ]
    scratch.add_oxigraph(
        apply_oxigraph(entailed, triples), graph=part_graph(INFERRED_GRAPH, "partition")
    )


def _subjects(store: OxigraphStore, graph: URIRef) -> set[str]:
    return {
        str(to_rdflib(q.subject))
        for q in store.store.quads_for_pattern(None, None, None, ox.NamedNode(str(graph)))
    }


def build(
    spooled: Path,
    files: Sequence[IndexedFile],
    *,
    folder: Path,
    raw: ox.Store,
    entailed: Entailments,
    rule_set: URIRef = AK.DefaultRules,
    until: int | None = None,
    progress: Progress | None = None,
) -> Built:
    """Build the ``spooled`` statements of ``files`` (see :func:`spool`) into the on-disk
    store ``raw`` group by group (see the module's description); the knowledge graph and
    its validation findings."""
    say = progress or (lambda _message: None)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    raw.clear()
    store = OxigraphStore(raw)
    try:
        raw.bulk_load(path=str(spooled), format=ox.RdfFormat.N_QUADS)
    finally:
        spooled.unlink(missing_ok=True)
    ontology, ladder = load_static(store)
    timings["load"] = time.perf_counter() - started
    say(f"loaded {len(raw)} quads into {folder}")

    first, last = year_span(store) or (1991, 1991)
    if until is not None:
        if until < first:
            raise UsageError(f"--to {until} is before the first year in the data ({first})")
        last = max(last, until)
    store.add(calendar_triples(first, last), graph=CALENDAR_GRAPH)

    started = time.perf_counter()
    groups = _groups(store, group_events())
    derived = folder / "derived.nt"
    findings: list[Finding] = []
    kg = KnowledgeGraph(
        store=store,
        files=list(files),
        ladder=ladder,
        ontology=ontology,
        first_year=first,
        last_year=last,
        timings=timings,
    )
    validate_seconds = 0.0
    try:
        with derived.open("wb") as out:
            for number, (dyads, events) in enumerate(groups, start=1):
                _mark(raw, events, _GROUP)
                scratch = _scratch(store, partition_query("chunk-input"))
                _infer(scratch, entailed)
                derive(scratch, first_year=first, last_year=last, rule_set=rule_set)
                scratch.store.extend(
                    ox.Quad(ox.NamedNode(d), _MEMBER, _GROUP, PARTITION_GRAPH) for d in dyads
                )
                kept = scratch.construct_oxigraph(partition_query("chunk-derived"))
                ox.serialize(kept, out, ox.RdfFormat.N_TRIPLES)
                checking = time.perf_counter()
                scope = _subjects(scratch, part_graph(DATA_GRAPH, "partition")) | {
                    str(to_rdflib(t.subject)) for t in kept
                }
                found = all_findings(replace(kg, store=scratch))
                findings += [f for f in found if f.focus in scope]
                validate_seconds += time.perf_counter() - checking
                say(
                    f"group {number}/{len(groups)}: {len(dyads)} dyad(s), {len(events)} "
                    f"event(s), {len(kept)} derived triples"
                )
                del scratch

            # What no group covers: derived (an event that concerns no dyad still has its
            # years and source counts) and validated as a whole.
            _mark(raw, set().union(*(events for _d, events in groups)), _ANY)
            rest = _scratch(store, partition_query("remainder-input"))
            _infer(rest, entailed)
            derive(rest, first_year=first, last_year=last, rule_set=rule_set)
            own = _subjects(rest, part_graph(DATA_GRAPH, "partition"))
            ox.serialize(
                (
                    t
                    for t in rest.construct_oxigraph(partition_query("remainder-derived"))
                    if str(to_rdflib(t.subject)) in own
                ),
                out,
                ox.RdfFormat.N_TRIPLES,
            )
            checking = time.perf_counter()
            findings += all_findings(replace(kg, store=rest))
            validate_seconds += time.perf_counter() - checking
            del rest
        raw.remove_graph(PARTITION_GRAPH)
        timings["validate"] = validate_seconds
        timings["derive"] = time.perf_counter() - started - validate_seconds

        started = time.perf_counter()
        raw.bulk_load(
            path=str(derived),
            format=ox.RdfFormat.N_TRIPLES,
            to_graph=ox.NamedNode(str(DERIVED_GRAPH)),
        )
        timings["load derived"] = time.perf_counter() - started
    finally:
        derived.unlink(missing_ok=True)
    return Built(kg, findings)
