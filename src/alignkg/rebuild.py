"""A persistent build: the store under ``build/`` reused between runs.

The folder holds:

- ``oxigraph/``: the pyoxigraph (RocksDB) store, one writer at a time;
- ``manifest.json``: what the store was built from (a key of the bundled ontology,
  rules and derivation, the rule set, the calendar span and each input file's SHA-256);
- ``index/SHA-256.json``: for each input file, its triple count and the line of each
  subject, so that a file unchanged since the last build is not parsed again (its bytes
  are only hashed);
- ``previous/``: a snapshot of the store (hard links, so cheap) and of its manifest,
  taken before a build changes a store that holds an earlier build; :func:`restore`
  brings it back when the new input is refused by validation, :func:`accept` drops it;
- ``BUILDING``: present while the store is being changed. A store found with it (a build
  killed half-way) is rebuilt from scratch, so a crash never leaves a mixed state.

Each input file is a named graph of its own (and so is what it entails), so a changed
file is replaced by dropping its graphs. Derived triples are kept per dyad: the pairs
of states a changed file touches (before and after the change) are re-derived in a
scratch in-memory store holding only their events, and their derived triples swapped
into the store (``rules/partition/``). Nothing else is re-derived.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path

import pyoxigraph as ox
from rdflib import URIRef

from alignkg import partition
from alignkg.build import (
    InputFile,
    KnowledgeGraph,
    assemble,
    bundled_entailments,
    ontology_graph,
    year_span,
)
from alignkg.derive import StepReport, derive
from alignkg.errors import InputWarning, Location, UsageError, path_from
from alignkg.infer import Entailments, apply_oxigraph
from alignkg.kg import IndexedFile, ParsedFile, discover, read_file
from alignkg.ladder import build_ladder
from alignkg.namespace import (
    AK,
    DATA_GRAPH,
    DERIVED_GRAPH,
    INFERRED_GRAPH,
    ONTOLOGY_GRAPH,
    RULES_GRAPH,
)
from alignkg.output import write_atomic
from alignkg.resources import (
    derivation_rules,
    ontology_files,
    partition_query,
    rule_set_files,
    vocabulary_files,
)
from alignkg.store import (
    OxigraphStore,
    Store,
    part_graph,
    to_rdflib,
)
from alignkg.validate import Finding, Partition, findings_for, findings_text

Progress = Callable[[str], None]

MANIFEST_FORMAT = 1
PARTITION_QUERIES = (
    "file-pairs",
    "file-span",
    "pair-events",
    "event-input",
    "reference-input",
    "dyad-derived",
    "file-subjects",
)
_STATIC_GRAPHS = (ONTOLOGY_GRAPH, RULES_GRAPH, INFERRED_GRAPH)


@dataclass(frozen=True)
class Manifest:
    """What a persistent store was built from."""

    key: str
    first_year: int
    last_year: int
    #: Each input file's SHA-256, by the name the store knows it by (see :func:`file_names`).
    files: dict[str, str]
    #: The folder the store names its files from: where it was first built (None in
    #: manifests written before it was recorded).
    root: str | None = None

    def to_json(self) -> str:
        document: dict[str, object] = {
            "format": MANIFEST_FORMAT,
            "key": self.key,
            "first_year": self.first_year,
            "last_year": self.last_year,
            "files": dict(sorted(self.files.items())),
        }
        if self.root is not None:
            document["root"] = self.root
        return json.dumps(document, indent=1) + "\n"


def store_root(manifest: Manifest | None) -> Path:
    """The folder a store names its input files from: the one its manifest records, while
    it exists, else the working directory (a new store, a manifest written before roots
    were recorded, or a project moved away)."""
    if manifest is not None and manifest.root is not None:
        recorded = Path(manifest.root)
        if recorded.is_absolute() and recorded.is_dir():
            return recorded
    return Path.cwd().resolve()


def file_names(found: Sequence[Path], root: Path) -> dict[Path, str]:
    """The name the store knows each input file by: its path from ``root``, or its
    absolute path when it lies outside. The same files named from another working
    directory keep their names, so a rebuild from there reuses the store."""
    return {path: path_from(path.resolve(), root) for path in found}


@dataclass(frozen=True)
class RebuildReport:
    """What a persistent build did."""

    mode: str  # "full", "incremental" or "unchanged"
    reason: str
    changed_files: tuple[str, ...] = ()
    dyads: int = 0
    #: What validation needs to check again (None: everything).
    partition: Partition | None = None

    def describe(self) -> str:
        if self.mode == "incremental":
            checked = (
                "their findings checked again"
                if self.partition is not None
                else "everything validated again (no earlier findings, or a changed file "
                "writes more than its events)"
            )
            return (
                f"{len(self.changed_files)} changed file(s); {self.dyads} dyad(s) derived "
                f"again, {checked}"
            )
        if self.mode == "unchanged":
            return "up to date, reused" + (
                "" if self.partition is not None else "; validated again"
            )
        return f"built from scratch ({self.reason})"


def static_key(rule_set: URIRef, until: int | None) -> str:
    """A digest of everything besides the input files that a build depends on."""
    digest = hashlib.sha256()
    with contextlib.suppress(metadata.PackageNotFoundError):
        digest.update(metadata.version("alignkg").encode())
    digest.update(f"{rule_set}|{until}".encode())
    bundled = ontology_files() + vocabulary_files() + rule_set_files() + derivation_rules()
    for file in bundled:
        digest.update(file.name.encode())
        digest.update(file.read_bytes())
    for name in PARTITION_QUERIES + partition.QUERIES:
        digest.update(partition_query(name).encode())
    return digest.hexdigest()


def file_digest(path: Path) -> str:
    """The SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _index_path(folder: Path, digest: str) -> Path:
    return folder / "index" / f"{digest}.json"


def save_index(folder: Path, parsed: ParsedFile, digest: str) -> None:
    """Keep what a later build needs to know of ``parsed`` without parsing it."""
    document = {
        "triples": parsed.triple_count,
        "subject_lines": parsed.subject_lines,
        "warnings": [
            [w.location.line, w.location.column, w.code, w.message] for w in parsed.warnings
        ],
    }
    write_atomic(_index_path(folder, digest), json.dumps(document, separators=(",", ":")))


def _indexed(folder: Path, source: Path, path: str, digest: str) -> IndexedFile | None:
    try:
        data = json.loads(_index_path(folder, digest).read_text(encoding="utf-8"))
        lines = {str(k): int(v) for k, v in data["subject_lines"].items()}
        warnings = [
            InputWarning(Location(path, int(line), int(column)), str(code), str(message))
            for line, column, code, message in data["warnings"]
        ]
        return IndexedFile(source, path, int(data["triples"]), lines, warnings)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _prune_index(folder: Path, digests: Sequence[str]) -> None:
    """Drop the index entries of files in neither this build nor the one before it (which
    :func:`restore` may bring back)."""
    keep = {f"{d}.json" for d in digests}
    for entry in (folder / "index").glob("*.json"):
        if entry.name not in keep:
            entry.unlink(missing_ok=True)


def _inputs(
    names: dict[Path, str], digests: dict[str, str], folder: Path, manifest: Manifest | None
) -> list[InputFile]:
    """Every input file: those the store was built from as they were (same SHA-256) from
    the index, the others parsed now (a bad file stops here, before the store is opened)."""
    known = manifest.files if manifest is not None else {}
    files: list[InputFile] = []
    for source, path in names.items():
        digest = digests[path]
        indexed = _indexed(folder, source, path, digest) if known.get(path) == digest else None
        files.append(indexed or read_file(source, name=path))
    return files


def read_manifest(folder: Path) -> Manifest | None:
    """The manifest of the store in ``folder``, or None when absent or unreadable."""
    try:
        data = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        if data.get("format") != MANIFEST_FORMAT:
            return None
        return Manifest(
            key=str(data["key"]),
            first_year=int(data["first_year"]),
            last_year=int(data["last_year"]),
            files={str(k): str(v) for k, v in data["files"].items()},
            root=None if data.get("root") is None else str(data["root"]),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def open_store(folder: Path) -> ox.Store:
    """Open (or create) the store in ``folder``; a clear message when another build holds it."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        return ox.Store(str(folder / "oxigraph"))
    except OSError as error:
        text = str(error)
        if "lock" in text.lower():
            raise UsageError(
                f"{folder}: the store is locked by another alignkg process "
                "(wait for it to finish, or build with --cache another folder)"
            ) from None
        raise UsageError(f"{folder}: cannot open the store: {text}") from None


def _keep_previous(raw: ox.Store, folder: Path) -> None:
    """Snapshot the store and its manifest before a build changes them."""
    target = folder / "previous"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir()
    raw.flush()
    raw.backup(str(target / "oxigraph"))
    shutil.copy2(folder / "manifest.json", target / "manifest.json")


def accept(folder: Path, findings: Sequence[Finding] | None = None) -> None:
    """The build in ``folder`` passed validation: its snapshot of the earlier build goes,
    and its ``findings`` are kept (tied to its manifest) for the next build to start from."""
    shutil.rmtree(folder / "previous", ignore_errors=True)
    if findings is not None:
        key = _manifest_key(folder)
        if key is not None:
            write_atomic(folder / "findings.json", findings_text(findings, key=key))


def _manifest_key(folder: Path) -> str | None:
    """The SHA-256 of the store's manifest (findings are kept for exactly that build)."""
    try:
        return hashlib.sha256((folder / "manifest.json").read_bytes()).hexdigest()
    except OSError:
        return None


def previous_findings(folder: Path) -> list[Finding] | None:
    """The findings kept for the build the store holds, or None (none kept, or kept for
    another build: a build that was refused, or killed before they were written)."""
    key = _manifest_key(folder)
    try:
        text = (folder / "findings.json").read_text(encoding="utf-8")
    except OSError:
        return None
    return None if key is None else findings_for(text, key=key)


def restore(folder: Path) -> bool:
    """Bring back the build ``folder`` held before the last one (whose input validation
    refused); False when there was none. The store must be closed. A crash half-way
    leaves ``BUILDING``, so the next build starts from scratch."""
    previous = folder / "previous"
    if not (previous / "oxigraph").is_dir() or not (previous / "manifest.json").is_file():
        return False
    building = folder / "BUILDING"
    building.write_text("a refused build is being undone\n", encoding="utf-8")
    refused = folder / "refused"
    shutil.rmtree(refused, ignore_errors=True)
    (folder / "oxigraph").rename(refused)
    (previous / "oxigraph").rename(folder / "oxigraph")
    write_atomic(folder / "manifest.json", (previous / "manifest.json").read_bytes())
    building.unlink()
    shutil.rmtree(refused, ignore_errors=True)
    shutil.rmtree(previous, ignore_errors=True)
    return True


def _pairs(store: OxigraphStore, paths: Sequence[str]) -> set[tuple[URIRef, URIRef, URIRef]]:
    """The pairs of states (with the dyad IRI) whose events the files ``paths`` hold."""
    found: set[tuple[URIRef, URIRef, URIRef]] = set()
    query = partition_query("file-pairs")
    for path in paths:
        for row in store.select(query, {"file": part_graph(DATA_GRAPH, path)}):
            found.add((URIRef(str(row["a"])), URIRef(str(row["b"])), URIRef(str(row["dyad"]))))
    return found


def cached_entailments(folder: Path, key: str) -> Entailments:
    """The ontology's class and property entailments, kept in ``folder`` for builds with
    the same static ``key`` (computing them runs OWL-RL over the ontology: seconds)."""
    path = folder / "entailments.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("key") == key:
            return Entailments(
                superclasses=_uri_map(data["superclasses"]),
                superproperties=_uri_map(data["superproperties"]),
                ontology_triples=(),
            )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    entailed = bundled_entailments()
    document = {
        "key": key,
        "superclasses": {str(k): sorted(map(str, v)) for k, v in entailed.superclasses.items()},
        "superproperties": {
            str(k): sorted(map(str, v)) for k, v in entailed.superproperties.items()
        },
    }
    write_atomic(path, json.dumps(document, indent=1, sort_keys=True) + "\n")
    return entailed


def _uri_map(data: dict[str, list[str]]) -> dict[URIRef, tuple[URIRef, ...]]:
    return {URIRef(k): tuple(sorted(URIRef(v) for v in values)) for k, values in data.items()}


def _replace_files(
    store: OxigraphStore, files: Sequence[ParsedFile], removed: Sequence[str], entailed: Entailments
) -> None:
    for path in [*removed, *(f.path for f in files)]:
        for base in (DATA_GRAPH, INFERRED_GRAPH):
            store.store.remove_graph(ox.NamedNode(str(part_graph(base, path))))
    for parsed in files:
        store.add_oxigraph(parsed.triples, graph=part_graph(DATA_GRAPH, parsed.path))
        inferred = apply_oxigraph(entailed, parsed.triples)
        store.add_oxigraph(inferred, graph=part_graph(INFERRED_GRAPH, parsed.path))


def _scratch(
    store: OxigraphStore,
    pairs: set[tuple[URIRef, URIRef, URIRef]],
    first: int,
    last: int,
    rule_set: URIRef,
    entailed: Entailments,
) -> tuple[OxigraphStore, list[StepReport]]:
    """An in-memory store with the static graphs and only the events of ``pairs``, derived."""
    scratch = OxigraphStore.in_memory()
    for graph in _STATIC_GRAPHS:
        quads = store.store.quads_for_pattern(None, None, None, ox.NamedNode(str(graph)))
        scratch.store.extend(quads)
    data = part_graph(DATA_GRAPH, "partition")
    # Only what was coded and what it entails (the queries choose the graphs): the
    # derived graph still holds the changed events' old derivation (their old years),
    # which must not come back as input.
    scratch.construct_into_from(store, partition_query("reference-input"), None, graph=data)
    events: set[URIRef] = set()
    for a, b, _dyad in sorted(pairs):
        rows = store.select(partition_query("pair-events"), {"a": a, "b": b})
        events.update(URIRef(str(row["event"])) for row in rows)
    event_query = partition_query("event-input")
    for event in sorted(events):
        scratch.construct_into_from(store, event_query, {"event": event}, graph=data)
    triples = [
        ox.Triple(q.subject, q.predicate, q.object)
        for q in scratch.store.quads_for_pattern(None, None, None, ox.NamedNode(str(data)))
    ]
    scratch.add_oxigraph(
        apply_oxigraph(entailed, triples), graph=part_graph(INFERRED_GRAPH, "partition")
    )
    steps = derive(scratch, first_year=first, last_year=last, rule_set=rule_set)
    return scratch, steps


def _swap_derived(
    store: OxigraphStore, scratch: OxigraphStore, pairs: set[tuple[URIRef, URIRef, URIRef]]
) -> set[str]:
    """Replace each pair's derived triples in ``store`` by those derived in ``scratch``;
    the subjects of the triples replaced."""
    query = partition_query("dyad-derived")
    derived = ox.NamedNode(str(DERIVED_GRAPH))
    subjects: set[str] = set()
    for _a, _b, dyad_iri in sorted(pairs):
        dyad = {"dyad": dyad_iri}
        old = store.construct_oxigraph(query, dyad)
        for triple in old:
            subjects.add(str(to_rdflib(triple.subject)))
            store.store.remove(ox.Quad(triple.subject, triple.predicate, triple.object, derived))
        store.construct_into_from(scratch, query, dyad, graph=DERIVED_GRAPH)
    return subjects


def _file_subjects(store: OxigraphStore, paths: Sequence[str]) -> tuple[set[str], bool]:
    """The subjects the files ``paths`` write in ``store``, and whether every one belongs
    to an event of its file (``rules/partition/file-subjects.rq``)."""
    subjects: set[str] = set()
    local = True
    query = partition_query("file-subjects")
    for path in paths:
        for row in store.select(query, {"file": part_graph(DATA_GRAPH, path)}):
            subjects.add(str(row["node"]))
            local = local and str(row.get("local", "")).lower() == "true"
    return subjects, local


def _touched_span(store: OxigraphStore, paths: Sequence[str]) -> list[tuple[int, int]]:
    """The first and last years of the events the files ``paths`` date or type, graph by
    graph (``rules/partition/file-span.rq``); none for a graph that touches no event."""
    query = partition_query("file-span")
    spans: list[tuple[int, int]] = []
    for path in paths:
        for graph in (part_graph(DATA_GRAPH, path), part_graph(INFERRED_GRAPH, path)):
            for row in store.select(query, {"graph": graph}):
                if "first" in row and "last" in row:
                    spans.append((int(str(row["first"])), int(str(row["last"]))))
    return spans


def _span_holds(
    before: Sequence[tuple[int, int]], after: Sequence[tuple[int, int]], first: int, last: int
) -> bool:
    """Whether the calendar's span ``first``..``last`` holds after a change, from the
    years of the events the changed files touched before it and touch after it: nothing
    touched after it lies outside, and each edge the touched events held before is still
    held by them, or was held by an event no changed file touches (the edge lay beyond
    what they touched)."""
    if not before and not after:
        return True
    if any(start < first or end > last for start, end in after):
        return False
    low = min((start for start, _ in after), default=None)
    high = max((end for _, end in after), default=None)
    first_held = all(start > first for start, _ in before) or low == first
    last_held = all(end < last for _, end in before) or high == last
    return first_held and last_held


def _scratch_subjects(scratch: OxigraphStore) -> set[str]:
    """Every subject of the scratch store's input and derivation."""
    graphs = {ox.NamedNode(str(g)) for g in (part_graph(DATA_GRAPH, "partition"), DERIVED_GRAPH)}
    return {
        str(to_rdflib(q.subject))
        for graph in graphs
        for q in scratch.store.quads_for_pattern(None, None, None, graph)
    }


def build(
    paths: Sequence[Path],
    *,
    folder: Path,
    rule_set: URIRef = AK.DefaultRules,
    until: int | None = None,
    progress: Progress | None = None,
    partitioned: bool | None = None,
    jobs: int = 1,
) -> tuple[KnowledgeGraph, RebuildReport]:
    """Build the knowledge graph of ``paths`` in the persistent store in ``folder``.

    A build from scratch is done in memory and copied to the store, or, ``partitioned``
    (by default when the input files are larger than :func:`partition_bytes`), group of
    dyads by group in the store itself (:mod:`alignkg.partition`, ``jobs`` groups at a
    time): then it is validated too, and the report's partition holds the findings."""
    say = progress or (lambda _message: None)
    started = time.perf_counter()
    found = discover(paths)
    manifest = read_manifest(folder)
    root = store_root(manifest)
    names = file_names(found, root)
    digests = {names[path]: file_digest(path) for path in found}
    key = static_key(rule_set, until)
    building = folder / "BUILDING"
    reason = _full_reason(manifest, key, building)
    if partitioned is None:
        partitioned = sum(path.stat().st_size for path in found) > partition_bytes()
    # Every changed file parses before the store is touched.
    spooled: partition.Spool | None = None
    files: list[InputFile]
    if reason is not None and partitioned:
        partition.group_events()  # a bad setting stops here, before anything is touched
        spooled, indexed = partition.spool(
            names,
            folder,
            bundled_entailments(),
            lambda parsed: save_index(folder, parsed, digests[parsed.path]),
            say,
        )
        files = list(indexed)
    else:
        files = _inputs(names, digests, folder, manifest if reason is None else None)
        for parsed in files:
            if isinstance(parsed, ParsedFile):
                save_index(folder, parsed, digests[parsed.path])
    parse_seconds = time.perf_counter() - started
    previous = previous_findings(folder) if reason is None else None
    raw = open_store(folder)
    store = OxigraphStore(raw)
    try:
        if reason is None and manifest is not None:
            changed = [f for f in files if isinstance(f, ParsedFile)]
            removed = sorted(set(manifest.files) - set(digests))
            if not changed and not removed:
                say(f"store {folder} is up to date: nothing to rebuild")
                if manifest.root != str(root):  # recorded, or moved with the project
                    recorded = replace(manifest, root=str(root))
                    write_atomic(folder / "manifest.json", recorded.to_json())
                kg = _reopened(store, files, manifest)
                kg.timings["parse"] = parse_seconds
                reused = None if previous is None else Partition(None, frozenset(), tuple(previous))
                return kg, RebuildReport("unchanged", "no input changed", partition=reused)
            _keep_previous(raw, folder)
            building.write_text("a build is changing this store\n", encoding="utf-8")
            entailed = cached_entailments(folder, key)
            report = _incremental(
                store, changed, removed, manifest, rule_set, until, entailed, say, previous
            )
            if report is not None:
                kg = _reopened(store, files, manifest)
                kg.timings["parse"] = parse_seconds
                kg.timings["rebuild"] = time.perf_counter() - started
                write_atomic(
                    folder / "manifest.json",
                    Manifest(
                        key, manifest.first_year, manifest.last_year, digests, str(root)
                    ).to_json(),
                )
                building.unlink()
                _prune_index(
                    folder, [*digests.values(), *(manifest.files.values() if manifest else ())]
                )
                return kg, report
            reason = "the calendar span changed"
        reason = reason or "no earlier build"
        say(f"full build into {folder}: {reason}")
        if not building.exists():
            if manifest is not None:
                _keep_previous(raw, folder)  # an earlier build whole: kept to restore
            else:
                accept(folder)  # no earlier build to go back to
        building.write_text("a build is changing this store\n", encoding="utf-8")
        found_findings: Partition | None = None
        if spooled is not None:
            built = partition.build(
                spooled,
                [f for f in files if isinstance(f, IndexedFile)],
                folder=folder,
                raw=raw,
                entailed=bundled_entailments(),
                rule_set=rule_set,
                until=until,
                progress=say,
                jobs=jobs,
            )
            kg = built.kg
            kg.timings["parse"] = parse_seconds
            found_findings = Partition(None, frozenset(), tuple(built.findings))
        else:
            kg = assemble(
                paths, rule_set=rule_set, until=until, progress=say, files=files, per_file=True
            )
            _copy_into(kg.store, raw, folder)
        cached_entailments(folder, key)  # computed by the build: kept for the next one
        write_atomic(
            folder / "manifest.json",
            Manifest(key, kg.first_year, kg.last_year, digests, str(root)).to_json(),
        )
        building.unlink()
        _prune_index(folder, [*digests.values(), *(manifest.files.values() if manifest else ())])
        return kg, RebuildReport("full", reason, partition=found_findings)
    finally:
        raw.flush()


#: Input size from which a build from scratch is partitioned (``ALIGNKG_PARTITION_BYTES``).
PARTITION_BYTES = 512 * 1024 * 1024


def partition_bytes() -> int:
    """``ALIGNKG_PARTITION_BYTES`` or :data:`PARTITION_BYTES`."""
    text = os.environ.get("ALIGNKG_PARTITION_BYTES", "").strip()
    if not text:
        return PARTITION_BYTES
    if not text.isdigit():
        raise UsageError(f"ALIGNKG_PARTITION_BYTES: {text!r} is not a whole number of bytes")
    return int(text)


def _copy_into(built: Store, raw: ox.Store, folder: Path) -> None:
    """Replace the content of the on-disk store by that of ``built`` (built in memory,
    several times faster than deriving on disk), through a bulk load of its N-Quads."""
    if not isinstance(built, OxigraphStore):
        raise UsageError("a persistent build needs the oxigraph engine")
    raw.clear()
    dump = folder / "load.nq"
    try:
        built.store.dump(str(dump), format=ox.RdfFormat.N_QUADS)
        raw.bulk_load(path=str(dump), format=ox.RdfFormat.N_QUADS)
    finally:
        dump.unlink(missing_ok=True)


def _full_reason(manifest: Manifest | None, key: str, building: Path) -> str | None:
    if building.exists():
        return "an earlier build of this store did not finish"
    if manifest is None:
        return "no earlier build"
    if manifest.key != key:
        return "alignkg, its ontology, its rules or the rule set changed"
    return None


def _incremental(
    store: OxigraphStore,
    changed: Sequence[ParsedFile],
    removed: Sequence[str],
    manifest: Manifest,
    rule_set: URIRef,
    until: int | None,
    entailed: Entailments,
    say: Progress,
    previous: Sequence[Finding] | None,
) -> RebuildReport | None:
    """Replace the changed files and re-derive their dyads; None when a full build is
    needed. The report's partition says what validation must check again: only the
    changed dyads, when the changed files hold nothing but their events (and the
    findings of the build before were kept); else everything."""
    old_paths = [f.path for f in changed if f.path in manifest.files] + list(removed)
    pairs = _pairs(store, old_paths)
    scope, local = _file_subjects(store, old_paths)
    before = _touched_span(store, old_paths)
    _replace_files(store, changed, removed, entailed)
    new_paths = [f.path for f in changed]
    pairs |= _pairs(store, new_paths)
    new_subjects, new_local = _file_subjects(store, new_paths)
    scope |= new_subjects
    after = _touched_span(store, new_paths)
    span = (
        (manifest.first_year, manifest.last_year)
        if _span_holds(before, after, manifest.first_year, manifest.last_year)
        else year_span(store)
    )
    if span is None:
        return None
    if (span[0], max(span[1], until or span[1])) != (manifest.first_year, manifest.last_year):
        return None
    names = tuple(sorted([f.path for f in changed] + list(removed)))
    say(f"{len(names)} file(s) changed: re-deriving {len(pairs)} dyad(s)")
    scratch, _steps = _scratch(
        store, pairs, manifest.first_year, manifest.last_year, rule_set, entailed
    )
    scope |= _swap_derived(store, scratch, pairs)
    scope |= _scratch_subjects(scratch)
    partition = None
    if local and new_local and previous is not None:
        partition = Partition(scratch, frozenset(scope), tuple(previous))
    return RebuildReport("incremental", "input files changed", names, len(pairs), partition)


def _reopened(
    store: OxigraphStore, files: Sequence[InputFile], manifest: Manifest
) -> KnowledgeGraph:
    ontology = ontology_graph()
    return KnowledgeGraph(
        store=store,
        files=files,
        ladder=build_ladder(ontology),
        ontology=ontology,
        first_year=manifest.first_year,
        last_year=manifest.last_year,
    )


def remove(folder: Path) -> None:
    """Delete a persistent store (``alignkg build --no-cache`` never needs one)."""
    shutil.rmtree(folder, ignore_errors=True)
