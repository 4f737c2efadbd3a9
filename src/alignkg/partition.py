"""A whole build split into groups of dyads, for inputs larger than memory.

The in-memory build holds every statement, and every derived one, in one store: at a
million events that is tens of gigabytes. A partitioned build instead:

1. parses each input file strictly, one at a time, and splits its statements and what
   they entail by event (:func:`spool`): an event's own statements, with those of the
   blank nodes only it reaches by evidence, target and selector, go to ``events.nq``
   event by event; everything else (sources, coders, states, tables) goes to
   ``shared.nq`` (appended to ``events.nq`` once all have parsed) and stays in memory
   too, with each event's parties and groupings (the predicates of the evidence path
   and of an event's parties are read from ``remainder-input.rq``, ``chunk-input.rq`` and
   ``all-pair-events.rq`` by rdflib's SPARQL parser, so the split follows the queries);
2. bulk-loads ``events.nq`` into the on-disk store (nothing of the events is held in Python);
3. lists the events that concern each dyad (``rules/partition/all-pair-events.rq``, on
   the shared statements) and cuts the dyads into groups of about ``group_events``
   events, then copies each event's statements from ``events.nq`` into the spool of each
   group that holds it;
4. for each group, loads its spool into an in-memory store with what the evidence path
   reaches from it in the shared statements (``chunk-input.rq``, with the states and
   groupings), derives there, keeps what was derived for the group's own dyads
   (``chunk-derived.rq``) and validates it: the findings on the group's nodes are kept
   (``jobs`` groups at a time, each in a forked worker: :func:`_run_groups`);
5. validates the statements no group covers (``remainder-input.rq``: sources, coders,
   states, tables, an event that concerns no dyad) in one more in-memory store;
6. bulk-loads what the groups derived into the store.

Each group sees the same statements as the whole build would for its dyads, so the
derived triples and the findings are those of the in-memory build (checked by
``tests/test_partition.py``); peak memory is that of one group (of ``jobs`` groups)
and the shared statements. When an event's evidence path leads to another event (which another group
may hold), every group reads its input from the on-disk store instead (step 4 with
``chunk-input.rq`` on the whole store): slower, and just as exact.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from functools import cache
from itertools import islice
from pathlib import Path
from typing import BinaryIO

import pyoxigraph as ox
from rdflib import URIRef, Variable
from rdflib.paths import AlternativePath, InvPath, MulPath, SequencePath
from rdflib.paths import Path as PropertyPath
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.algebra import traverse
from rdflib.plugins.sparql.parserutils import CompValue

from alignkg.build import KnowledgeGraph, load_static, year_span
from alignkg.derive import calendar_triples, derive
from alignkg.errors import UsageError
from alignkg.infer import Entailments, apply_oxigraph
from alignkg.kg import PRECEDENCE, IndexedFile, ParsedFile, check_precedence, read_file
from alignkg.memory import give_back
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
#: Where the spool's in-memory store keeps each event's parties and groupings.
INDEX_GRAPH = ox.NamedNode("https://w3id.org/alignkg/graph/partition-index")


def _event_patterns(query: str) -> list[tuple[object, object, object]]:
    """The triple patterns of a SPARQL ``query`` whose subject is ``?event``, as rdflib's
    SPARQL parser reads them (a property path stays one pattern)."""
    found: list[tuple[object, object, object]] = []

    def collect(node: object) -> None:
        if isinstance(node, CompValue) and node.name == "BGP":
            found.extend(t for t in node["triples"] if t[0] == Variable("event"))

    traverse(prepareQuery(query).algebra, visitPre=collect, complete=True)
    return found


def _iris(path: object) -> set[ox.NamedNode]:
    """Every IRI a property path follows (a negated path follows any other IRI, which a
    split by predicate cannot tell apart, so it is refused)."""
    match path:
        case URIRef():
            return {ox.NamedNode(str(path))}
        case AlternativePath() | SequencePath():
            return set().union(*(_iris(part) for part in path.args))
        case MulPath():
            return _iris(path.path)
        case InvPath():
            return _iris(path.arg)
    raise ValueError(f"a split by event cannot follow the property path {path}")


def path_from_event(query: str) -> frozenset[ox.NamedNode]:
    """The predicates of the one property path by which ``query`` walks from ``?event``
    to ``?node``."""
    paths = [
        p
        for _s, p, o in _event_patterns(query)
        if isinstance(p, PropertyPath) and o == Variable("node")
    ]
    if len(paths) != 1:
        raise ValueError(f"expected one property path from ?event to ?node, found {len(paths)}")
    return frozenset(_iris(paths[0]))


def event_predicates(query: str) -> frozenset[ox.NamedNode]:
    """The plain predicates of ``query``'s patterns about ``?event``."""
    return frozenset(
        ox.NamedNode(str(p)) for _s, p, _o in _event_patterns(query) if isinstance(p, URIRef)
    )


@cache
def _path(name: str) -> frozenset[ox.NamedNode]:
    """The path from an event in ``rules/partition/<name>.rq``: the split by event
    follows exactly the path the queries follow."""
    try:
        return path_from_event(partition_query(name))
    except ValueError as error:
        raise ValueError(f"rules/partition/{name}.rq: {error}") from None


@cache
def _indexed() -> frozenset[ox.NamedNode]:
    """What makes a subject an event some dyad may concern (``all-pair-events.rq``)."""
    return event_predicates(partition_query("all-pair-events"))


#: Groups whose spools are written in one pass over the events (open files at once).
_OPEN_GROUPS = 256
#: Statements given to the entailment rules at a time (see :func:`_infer`).
_INFER_BATCH = 200_000
_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")

#: The queries of ``rules/partition/`` a partitioned build runs (part of the store's key).
QUERIES = (
    "all-pair-events",
    "chunk-input",
    "chunk-derived",
    "derived-nodes",
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


Node = ox.NamedNode | ox.BlankNode


@dataclass
class Spool:
    """What :func:`spool` wrote into ``folder``: ``events.nq``, each event's statements
    block by block (its own statements and those of the blank nodes only it reaches by
    evidence, target and selector) followed by every other statement, which also stays in
    memory in ``shared`` (with each event's parties and groupings in
    :data:`INDEX_GRAPH`); and how many statements each event's block holds, in order."""

    folder: Path
    shared: ox.Store
    blocks: list[tuple[Node, int]]
    #: The nodes the evidence path leads to (an event among them links two events).
    targets: set[ox.NamedNode]
    #: An event of a file reaches another event of it by the evidence path.
    linked_in_file: bool

    @property
    def events(self) -> Path:
        return self.folder / "events.nq"

    @property
    def statements(self) -> Path:
        return self.folder / "shared.nq"

    def linked(self) -> bool:
        """Whether an event's evidence path leads to another event: its group would
        then need statements of another group's events."""
        if self.linked_in_file:
            return True
        return any(target in self.targets for target, _count in self.blocks)


def spool(
    found: Mapping[Path, str],
    folder: Path,
    entailed: Entailments,
    keep_index: KeepIndex,
    say: Progress,
) -> tuple[Spool, list[IndexedFile]]:
    """Parse every file of ``found`` (each with the name the store knows it by) strictly,
    one at a time, and spool their statements and what they entail (see :class:`Spool`);
    the files as the build knows them (without their
    statements). A bad file stops here, before the store is touched, and leaves no spool
    behind."""
    folder = folder / "spool"
    try:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        spooled = Spool(folder, ox.Store(), [], set(), False)
        files: list[IndexedFile] = []
        precedence: list[ParsedFile] = []
        with spooled.events.open("wb") as events, spooled.statements.open("wb") as shared:
            for source, name in found.items():
                parsed = read_file(source, name=name)
                keep_index(parsed)
                data = ox.NamedNode(str(part_graph(DATA_GRAPH, parsed.path)))
                inferred = ox.NamedNode(str(part_graph(INFERRED_GRAPH, parsed.path)))
                quads = [ox.Quad(t.subject, t.predicate, t.object, data) for t in parsed.triples]
                quads += [
                    ox.Quad(t.subject, t.predicate, t.object, inferred)
                    for t in apply_oxigraph(entailed, parsed.triples)
                ]
                split = _split(quads)
                ox.serialize(split.own, events, ox.RdfFormat.N_QUADS)
                spooled.blocks += split.blocks
                ox.serialize(split.shared, shared, ox.RdfFormat.N_QUADS)
                spooled.shared.extend(split.shared)
                spooled.shared.extend(split.index)
                spooled.targets |= split.targets
                spooled.linked_in_file |= split.linked
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
                # the file's statements as Python objects: freed, and their pages given
                # back before the next file's are made
                del parsed, quads, split
                give_back()
        check_precedence(precedence, list(found))
        # one file to bulk-load (one load: a blank node named in both parts stays one
        # node, each load renaming them): the shared statements after the events' blocks
        with spooled.events.open("ab") as out, spooled.statements.open("rb") as shared:
            shutil.copyfileobj(shared, out)
        spooled.statements.unlink()
        return spooled, files
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


@dataclass
class _Split:
    own: list[ox.Quad]
    blocks: list[tuple[Node, int]]
    shared: list[ox.Quad]
    index: list[ox.Quad]
    targets: set[ox.NamedNode]
    linked: bool


def _split(quads: list[ox.Quad]) -> _Split:
    """One file's statements split by event: an event's own (its statements, and those
    of the blank nodes only it reaches by evidence, target and selector, as
    ``remainder-input.rq`` counts them covered) and the rest."""
    indexed = _indexed()
    path = _path("chunk-input")
    events = list(
        dict.fromkeys(
            q.subject
            for q in quads
            if q.predicate in indexed and not isinstance(q.subject, ox.Triple)
        )
    )
    known = set(events)
    owner = _owners(quads, known)
    own: dict[Node, list[ox.Quad]] = {event: [] for event in events}
    shared: list[ox.Quad] = []
    targets: set[ox.NamedNode] = set()
    linked = False
    for quad in quads:
        subject = quad.subject
        if quad.predicate in path:
            if isinstance(quad.object, ox.NamedNode):
                targets.add(quad.object)
            elif quad.object in known:
                linked = True
        if isinstance(subject, ox.Triple):
            event = None
        else:
            event = subject if subject in known else owner.get(subject)  # type: ignore[arg-type]
        if event is None:
            shared.append(quad)
        else:
            own[event].append(quad)
    index = [
        ox.Quad(q.subject, q.predicate, q.object, INDEX_GRAPH)
        for q in quads
        if q.predicate in indexed
    ]
    return _Split(
        [q for event in events for q in own[event]],
        [(event, len(own[event])) for event in events],
        shared,
        index,
        targets,
        linked,
    )


def _owners(quads: list[ox.Quad], events: set[Node]) -> dict[ox.BlankNode, Node]:
    """The blank nodes of one file that belong to a single event: reached from it alone
    by evidence, target and selector, and pointed at by nothing but its own nodes."""
    cover = _path("remainder-input")
    children: dict[object, list[ox.BlankNode]] = defaultdict(list)
    incoming: dict[ox.BlankNode, set[object]] = defaultdict(set)
    for quad in quads:
        if isinstance(quad.object, ox.BlankNode):
            incoming[quad.object].add(quad.subject)
            if quad.predicate in cover:
                children[quad.subject].append(quad.object)
    reached: dict[ox.BlankNode, Node | None] = {}
    for event in events:
        seen: set[object] = {event}
        stack: list[object] = [event]
        while stack:
            for child in children.get(stack.pop(), ()):
                if child in seen or child in events:
                    continue
                seen.add(child)
                stack.append(child)
                reached[child] = event if child not in reached else None
    owner = {node: event for node, event in reached.items() if event is not None}
    changed = True
    while changed:
        changed = False
        for node in list(owner):
            event = owner[node]
            if any(s != event and owner.get(s) != event for s in incoming[node]):  # type: ignore[call-overload]
                del owner[node]
                changed = True
    return owner


def _groups(store: OxigraphStore | ox.Store, size: int) -> list[tuple[list[str], set[Node]]]:
    """The dyads cut into groups of about ``size`` events: each group's dyads and events."""
    raw = store.store if isinstance(store, OxigraphStore) else store
    events: dict[str, set[Node]] = defaultdict(set)
    rows = raw.query(partition_query("all-pair-events"), use_default_graph_as_union=True)
    assert isinstance(rows, ox.QuerySolutions)
    for row in rows:
        dyad, event = row["dyad"], row["event"]
        assert isinstance(dyad, ox.NamedNode) and isinstance(event, ox.NamedNode | ox.BlankNode)
        events[dyad.value].add(event)
    groups: list[tuple[list[str], set[Node]]] = []
    dyads: list[str] = []
    members: set[Node] = set()
    for dyad in sorted(events):
        dyads.append(dyad)
        members |= events[dyad]
        if len(members) >= size:
            groups.append((dyads, members))
            dyads, members = [], set()
    if dyads:
        groups.append((dyads, members))
    return groups


def _mark(raw: ox.Store, nodes: Iterable[Node], mark: ox.NamedNode) -> None:
    """Mark ``nodes`` (and only them) as members of ``mark`` in the partition graph."""
    if any(g == PARTITION_GRAPH for g in raw.named_graphs()):
        raw.remove_graph(PARTITION_GRAPH)
    raw.extend(ox.Quad(n, _MEMBER, mark, PARTITION_GRAPH) for n in nodes)


def _scratch(
    static: Sequence[ox.Quad], reference: OxigraphStore, store: OxigraphStore, query: str
) -> OxigraphStore:
    """An in-memory store with the static graphs, the states and groupings of
    ``reference``, and what ``query`` constructs from ``store``. The queries run over
    the union of the store's graphs (nothing is derived in it yet): naming every file's
    graphs as the default graph would make each lookup visit them one by one."""
    scratch = OxigraphStore.in_memory()
    scratch.store.extend(static)
    _copy(reference, partition_query("reference-input"), scratch)
    _copy(store, query, scratch)
    return scratch


def _copy(source: OxigraphStore, query: str, scratch: OxigraphStore) -> None:
    """Add what ``query`` constructs from ``source`` to the scratch store's data graph,
    blank nodes as they are (loading them as text would rename them apart from the
    same nodes already in the scratch store)."""
    data = ox.NamedNode(str(part_graph(DATA_GRAPH, "partition")))
    scratch.store.extend(
        ox.Quad(t.subject, t.predicate, t.object, data) for t in source.construct_oxigraph(query)
    )


def _infer(scratch: OxigraphStore, entailed: Entailments) -> None:
    """What the scratch store's data entail, into its inferred graph: the typing
    statements at once (a class's superclasses are added where the subject does not have
    them already), the others a slice at a time (so that a large group's statements are
    never all Python objects at once)."""
    data = ox.NamedNode(str(part_graph(DATA_GRAPH, "partition")))
    graph = part_graph(INFERRED_GRAPH, "partition")
    typed = [
        ox.Triple(q.subject, q.predicate, q.object)
        for q in scratch.store.quads_for_pattern(None, _TYPE, None, data)
    ]
    scratch.add_oxigraph(apply_oxigraph(entailed, typed), graph=graph)
    del typed
    batch: list[ox.Triple] = []
    for quad in scratch.store.quads_for_pattern(None, None, None, data):
        if quad.predicate != _TYPE:
            batch.append(ox.Triple(quad.subject, quad.predicate, quad.object))
        if len(batch) >= _INFER_BATCH:
            scratch.add_oxigraph(apply_oxigraph(entailed, batch), graph=graph)
            batch = []
    scratch.add_oxigraph(apply_oxigraph(entailed, batch), graph=graph)


def _subjects(store: OxigraphStore, graph: URIRef) -> set[str]:
    nodes = {
        q.subject for q in store.store.quads_for_pattern(None, None, None, ox.NamedNode(str(graph)))
    }
    return {str(to_rdflib(node)) for node in nodes}


def _nodes(store: OxigraphStore, query: str) -> set[Node]:
    """The nodes a ``SELECT ?node`` query lists."""
    rows = store.store.query(query, use_default_graph_as_union=True)
    assert isinstance(rows, ox.QuerySolutions)
    nodes: set[Node] = set()
    for row in rows:
        node = row[0]
        assert isinstance(node, ox.NamedNode | ox.BlankNode)
        nodes.add(node)
    return nodes


def _keep(scratch: OxigraphStore, ours: set[Node], out: BinaryIO) -> int:
    """Write the scratch store's derived graph to ``out`` without the nodes that are not
    ``ours`` (dumped by the store, not made into Python objects); how many nodes."""
    derived = ox.NamedNode(str(DERIVED_GRAPH))
    described = _nodes(scratch, partition_query("derived-nodes"))
    for node in described - ours:
        for quad in list(scratch.store.quads_for_pattern(node, None, None, derived)):
            scratch.store.remove(quad)
    scratch.store.dump(out, ox.RdfFormat.N_TRIPLES, from_graph=derived)
    return len(described & ours)


def _distribute(
    spooled: Spool, groups: Sequence[tuple[list[str], set[Node]]]
) -> tuple[list[Path], Path]:
    """Copy each event's block of ``events.nq`` into the spool of every group that holds
    it, and the blocks of the events no group holds into one more spool: the groups'
    spools and that one."""
    member_of: dict[Node, list[int]] = defaultdict(list)
    for number, (_dyads, events) in enumerate(groups):
        for event in events:
            member_of[event].append(number)
    paths = [spooled.folder / f"group-{number}.nq" for number in range(len(groups))]
    rest = spooled.folder / "ungrouped.nq"
    for first in range(0, max(len(groups), 1), _OPEN_GROUPS):
        batch = range(first, min(first + _OPEN_GROUPS, len(groups)))
        with ExitStack() as files:
            outs = {n: files.enter_context(paths[n].open("wb")) for n in batch}
            out_rest = files.enter_context(rest.open("wb")) if first == 0 else None
            source = files.enter_context(spooled.events.open("rb"))
            for event, count in spooled.blocks:
                lines = list(islice(source, count))
                if len(lines) != count:
                    raise RuntimeError(f"{spooled.events}: ends inside the block of {event}")
                numbers = member_of.get(event)
                if numbers is None:
                    if out_rest is not None:
                        out_rest.writelines(lines)
                    continue
                for number in numbers:
                    if number in outs:
                        outs[number].writelines(lines)
    return paths, rest


def _described(store: OxigraphStore, node: Node, graph: ox.NamedNode) -> bool:
    """Whether ``node`` is the subject of a statement in ``graph``."""
    return next(iter(store.store.quads_for_pattern(node, None, None, graph)), None) is not None


def _group_scratch(
    static: Sequence[ox.Quad], spooled: Spool, path: Path, events: set[Node]
) -> tuple[OxigraphStore, set[Node]]:
    """A group's scratch store from its spool (its events' own statements) and what the
    evidence path reaches from them in the shared statements (``chunk-input.rq``): the
    same statements ``chunk-input.rq`` reads from the whole store. Also the nodes the
    group's events cover outside their own statements."""
    scratch = OxigraphStore.in_memory()
    data = ox.NamedNode(str(part_graph(DATA_GRAPH, "partition")))
    # parsed, not loaded (loading would rename the blank nodes the shared statements
    # share with them), and streamed into the store rather than held as a list
    scratch.store.extend(
        ox.Quad(q.subject, q.predicate, q.object, data)
        for q in ox.parse(path=str(path), format=ox.RdfFormat.N_QUADS)
    )
    cover = _path("remainder-input")
    reached: set[Node] = set(events)
    covered: set[Node] = set()
    for predicate in _path("chunk-input"):
        for quad in scratch.store.quads_for_pattern(None, predicate, None, data):
            node = quad.object
            if isinstance(node, ox.NamedNode | ox.BlankNode) and not _described(
                scratch, node, data
            ):
                reached.add(node)
                if predicate in cover:
                    covered.add(node)
    scratch.store.extend(static)
    shared = OxigraphStore(spooled.shared)
    _copy(shared, partition_query("reference-input"), scratch)
    _mark(spooled.shared, reached, _GROUP)
    _copy(shared, partition_query("chunk-input"), scratch)
    spooled.shared.remove_graph(PARTITION_GRAPH)
    return scratch, covered


@dataclass(frozen=True)
class _Work:
    """What every group of a build reads (inherited, not copied, by forked workers)."""

    static: list[ox.Quad]
    spooled: Spool
    store: OxigraphStore
    #: Each group's spool; empty when an event's evidence leads to another event and
    #: every group reads its input from the on-disk ``store``.
    spools: list[Path]
    groups: list[tuple[list[str], set[Node]]]
    kg: KnowledgeGraph
    entailed: Entailments
    rule_set: URIRef


@dataclass(frozen=True)
class _GroupResult:
    """What one group gave: its findings, the nodes its events cover beyond their own
    statements, how many derived nodes it kept, and its seconds in all and in validation."""

    findings: list[Finding]
    reached: set[Node]
    kept: int
    seconds: float
    validate_seconds: float


def _group(work: _Work, number: int, out: BinaryIO) -> _GroupResult:
    """Derive and validate group ``number`` (from 1) in a scratch store of its own; write
    the derived statements of its dyads and events to ``out``."""
    started = time.perf_counter()
    dyads, events = work.groups[number - 1]
    kg = work.kg
    if work.spools:
        scratch, reached = _group_scratch(
            work.static, work.spooled, work.spools[number - 1], events
        )
        work.spools[number - 1].unlink()
    else:
        _mark(work.store.store, events, _GROUP)
        scratch = _scratch(work.static, work.store, work.store, partition_query("chunk-input"))
        reached = set()
    _infer(scratch, work.entailed)
    derive(scratch, first_year=kg.first_year, last_year=kg.last_year, rule_set=work.rule_set)
    scratch.store.extend(ox.Quad(ox.NamedNode(d), _MEMBER, _GROUP, PARTITION_GRAPH) for d in dyads)
    ours = _nodes(scratch, partition_query("chunk-derived"))
    checking = time.perf_counter()
    scope = _subjects(scratch, part_graph(DATA_GRAPH, "partition")) | {
        str(to_rdflib(node)) for node in ours
    }
    found = all_findings(replace(kg, store=scratch))
    findings = [f for f in found if f.focus in scope]
    validating = time.perf_counter() - checking
    kept = _keep(scratch, ours, out)
    del scratch
    give_back()  # each group starts from what the shared statements take
    return _GroupResult(findings, reached, kept, time.perf_counter() - started, validating)


#: The work of the groups a pool of forked workers runs (see :func:`_run_groups`).
_FORKED: _Work | None = None


def _forked_group(number: int) -> _GroupResult:
    """Group ``number`` in a forked worker: its derived statements go to a file of their
    own, which the parent appends to the build's in group order."""
    assert _FORKED is not None, "set before the workers are forked"
    with _derived_part(_FORKED, number).open("wb") as out:
        return _group(_FORKED, number, out)


def _derived_part(work: _Work, number: int) -> Path:
    return work.spooled.folder / f"derived-{number}.nt"


def _workers(jobs: int, linked: bool, groups: int) -> int:
    """How many groups run at once: one when an event's evidence leads to another event
    (each group then marks its events in the on-disk store), or processes cannot be
    forked here (Windows); else ``jobs``, at most one per group."""
    if linked or not can_fork():
        return 1
    return max(1, min(jobs, groups))


def _run_groups(
    work: _Work, out: BinaryIO, workers: int
) -> Iterator[tuple[int, _GroupResult]]:
    """Each group's number and result, in group order: one after the other, or
    ``workers`` at a time, each group in a worker forked from this process (so it shares
    the spooled statements instead of copying them, and gives all its memory back when it
    ends)."""
    numbers = range(1, len(work.groups) + 1)
    if workers <= 1:
        for number in numbers:
            yield number, _group(work, number, out)
        return
    global _FORKED
    _FORKED = work
    try:
        context = multiprocessing.get_context("fork")
        with context.Pool(workers, initializer=_quiet, maxtasksperchild=1) as pool:
            for number, result in zip(numbers, pool.imap(_forked_group, numbers), strict=True):
                part = _derived_part(work, number)
                with part.open("rb") as derived:
                    shutil.copyfileobj(derived, out)
                part.unlink()
                yield number, result
    finally:
        _FORKED = None


def _quiet() -> None:
    """A forked worker writes nothing to the terminal: it would also flush what the
    parent had buffered when it was forked. Its errors reach the parent, which raises
    them."""
    sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115 (the worker's own)


def can_fork() -> bool:
    """Whether worker processes can be forked here (not on Windows)."""
    return "fork" in multiprocessing.get_all_start_methods()


def build(
    spooled: Spool,
    files: Sequence[IndexedFile],
    *,
    folder: Path,
    raw: ox.Store,
    entailed: Entailments,
    rule_set: URIRef = AK.DefaultRules,
    until: int | None = None,
    progress: Progress | None = None,
    jobs: int = 1,
) -> Built:
    """Build the ``spooled`` statements of ``files`` (see :func:`spool`) into the on-disk
    store ``raw`` group by group (see the module's description); the knowledge graph and
    its validation findings. With ``jobs`` above 1, that many groups are derived and
    validated at once, each in a process of its own (see :func:`_run_groups`)."""
    try:
        say = progress or (lambda _message: None)
        timings: dict[str, float] = {}
        started = time.perf_counter()
        raw.clear()
        store = OxigraphStore(raw)
        raw.bulk_load(path=str(spooled.events), format=ox.RdfFormat.N_QUADS, lenient=True)
        give_back()
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
        static = [
            quad
            for graph in _STATIC_GRAPHS
            for quad in raw.quads_for_pattern(None, None, None, ox.NamedNode(str(graph)))
        ]
        # An event whose evidence path leads to another event needs that event's statements
        # too: then every group reads its input from the whole store.
        linked = spooled.linked()
        if linked:
            say("an event's evidence leads to another event: each group reads from the store")
        # the states and groupings that ship with the ontology: in the static graphs
        spooled.shared.extend(static)
        groups = _groups(store if linked else spooled.shared, group_events())
        spooled.shared.remove_graph(INDEX_GRAPH)
        if not linked:
            spools, ungrouped = _distribute(spooled, groups)
            spooled.events.unlink()
        # what only the spool needed (a million events' worth at a million events)
        spooled.blocks, spooled.targets = [], set()
        give_back()
        derived = spooled.folder / "derived.nt"
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
        work = _Work(
            static, spooled, store, [] if linked else spools, groups, kg, entailed, rule_set
        )
        covered: set[Node] = set()
        looping = time.perf_counter()
        group_seconds = validate_seconds = 0.0
        workers = _workers(jobs, linked, len(groups))
        if workers > 1:
            say(f"{len(groups)} groups, {workers} at a time in worker processes")
        with derived.open("wb") as out:
            for number, result in _run_groups(work, out, workers):
                covered |= result.reached
                findings += result.findings
                group_seconds += result.seconds
                validate_seconds += result.validate_seconds
                dyads, events = groups[number - 1]
                say(
                    f"group {number}/{len(groups)}: {len(dyads)} dyad(s), {len(events)} "
                    f"event(s), {result.kept} derived nodes"
                )
            # groups run side by side: validation's share of the time they took together
            if group_seconds > 0:
                validate_seconds *= (time.perf_counter() - looping) / group_seconds

            # What no group covers: derived (an event that concerns no dyad still has its
            # years and source counts) and validated as a whole.
            grouped = set().union(*(events for _d, events in groups))
            if linked:
                _mark(raw, grouped, _ANY)
                rest = _scratch(static, store, store, partition_query("remainder-input"))
            else:
                # the shared statements and the events no group holds, with the grouped
                # events and the nodes they cover beyond their own statements marked
                # (parsed, not loaded: loading would rename their blank nodes)
                spooled.shared.extend(ox.parse(path=str(ungrouped), format=ox.RdfFormat.N_QUADS))
                _mark(spooled.shared, grouped | covered, _ANY)
                left = OxigraphStore(spooled.shared)
                rest = _scratch(static, left, left, partition_query("remainder-input"))
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
            give_back()
        if any(g == PARTITION_GRAPH for g in raw.named_graphs()):
            raw.remove_graph(PARTITION_GRAPH)
        timings["validate"] = validate_seconds
        timings["derive"] = time.perf_counter() - started - validate_seconds

        started = time.perf_counter()
        raw.bulk_load(
            path=str(derived),
            format=ox.RdfFormat.N_TRIPLES,
            to_graph=ox.NamedNode(str(DERIVED_GRAPH)),
            lenient=True,
        )
        timings["load derived"] = time.perf_counter() - started
        return Built(kg, findings)
    finally:
        shutil.rmtree(spooled.folder, ignore_errors=True)
