"""What changed between two versions of the coding: events, and the stages they move.

Each side is a file or folder, or ``REV:PATH`` for a path in a git revision (read with
``git ls-tree`` and ``git cat-file`` from the repository holding the current directory,
PATH relative to the current directory). Both sides are built with
:func:`alignkg.build.assemble`; events are compared by IRI and by content: their own
triples and the blank nodes that hang from them (annotations, coding decisions) are
compared as values, never by blank-node identity. Every dyad-year whose stage or level
changed under either reading is reported with its reason: the indicator levels that
changed that year (``queries/coder-levels.rq``) and the added, removed or changed events
active on them (``queries/active-events.rq``).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rdflib import BNode, Literal, URIRef
from rdflib.namespace import RDF, RDFS, XSD
from rdflib.term import Node

from alignkg.build import KnowledgeGraph, assemble
from alignkg.errors import InputError, Location, UsageError
from alignkg.kg import FORMATS
from alignkg.namespace import AK, DATA_GRAPH, INFERRED_GRAPH, PREFIXES
from alignkg.resources import query_text
from alignkg.stages import StageRow, stage_rows
from alignkg.store import triples_under

LEVEL_NAMES = {0: "absent", 1: "low", 2: "high"}


# --- results -----------------------------------------------------------------------------


@dataclass(frozen=True)
class EventRef:
    iri: str
    label: str


@dataclass(frozen=True)
class PropertyChange:
    """One property (or property path into an annotation or decision) whose values differ."""

    prop: str
    old: tuple[str, ...]
    new: tuple[str, ...]


@dataclass(frozen=True)
class EventChange:
    iri: str
    label: str
    changes: tuple[PropertyChange, ...]


@dataclass(frozen=True)
class CausingEvent:
    iri: str
    label: str
    how: str  # added | removed | changed


@dataclass(frozen=True)
class LevelChange:
    """An indicator whose level in the year differs, and the changed events behind it."""

    rung: int
    indicator: str
    old: str
    new: str
    events: tuple[CausingEvent, ...]


@dataclass(frozen=True)
class MilestoneChange:
    """An indicator whose first high year moved (the "has become high" of a stage)."""

    rung: int
    indicator: str
    old_first_high: int | None
    new_first_high: int | None
    events: tuple[CausingEvent, ...]


@dataclass(frozen=True)
class StageChange:
    dyad: str
    year: int
    #: reading -> (old, new), e.g. {"strict": ("early (low)", "early (high)")}
    readings: dict[str, tuple[str, str]]
    levels: tuple[LevelChange, ...]
    milestones: tuple[MilestoneChange, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class OtherChange:
    """A subject other than an event whose asserted statements differ."""

    subject: str
    status: str  # added (a new subject) | removed (gone) | changed
    removed: tuple[str, ...]
    added: tuple[str, ...]


@dataclass(frozen=True)
class DiffResult:
    old: str
    new: str
    added: tuple[EventRef, ...]
    removed: tuple[EventRef, ...]
    changed: tuple[EventChange, ...]
    stages: tuple[StageChange, ...]
    #: Asserted statements outside the events (sources, coders, states, tables), by
    #: subject: (statements only the old version has, statements only the new one has).
    others: tuple[OtherChange, ...] = ()
    calendar: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def identical(self) -> bool:
        return not (self.added or self.removed or self.changed or self.stages or self.others)


# --- reading a side: a path, or REV:PATH from git ------------------------------------------


def _git(args: Sequence[str], *, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, check=False, timeout=120
        )
    except FileNotFoundError:
        raise UsageError(
            "git is not installed: give a file or folder instead of REV:PATH"
        ) from None


def _git_text(result: subprocess.CompletedProcess[bytes]) -> str:
    return result.stderr.decode("utf-8", "replace").strip()


def materialise_revision(spec: str, rev: str, path: str, target: Path) -> Path:
    """Write the RDF files of ``path`` (relative to the current directory) in the git
    revision ``rev`` under ``target``; return the path to load."""
    top = _git(["rev-parse", "--show-toplevel"])
    if top.returncode != 0:
        raise UsageError(
            f"{spec}: the current directory is not in a git repository "
            f"({_git_text(top) or 'git rev-parse failed'}); give a file or folder instead"
        )
    verified = _git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"])
    if verified.returncode != 0:
        raise UsageError(f"{spec}: no revision {rev!r} in the git repository")
    commit = verified.stdout.decode().strip()
    prefix = _git(["rev-parse", "--show-prefix"]).stdout.decode().strip()
    wanted = os.path.normpath(os.path.join(prefix, path or "."))
    if wanted.startswith(".."):
        raise UsageError(f"{spec}: {path!r} is outside the git repository")
    listing = _git(["ls-tree", "-r", "-z", "--full-name", commit, "--", path or "."])
    if listing.returncode != 0:
        raise UsageError(f"{spec}: cannot list {path!r} in {rev}: {_git_text(listing)}")
    blobs = []
    for entry in listing.stdout.split(b"\0"):
        if not entry:
            continue
        meta, _, name = entry.partition(b"\t")
        parts = meta.split()
        if len(parts) == 3 and parts[1] == b"blob":
            blobs.append((parts[2].decode(), name.decode("utf-8", "surrogateescape")))
    if not blobs:
        raise UsageError(f"{spec}: {path or '.'!r} does not exist in revision {rev}")
    for sha, file_name in blobs:
        if Path(file_name).suffix.lower() not in FORMATS and not (
            len(blobs) == 1 and os.path.normpath(file_name) == wanted
        ):
            continue
        content = _git(["cat-file", "blob", sha])
        if content.returncode != 0:
            raise UsageError(f"{spec}: cannot read {file_name} in {rev}: {_git_text(content)}")
        destination = target / file_name
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(content.stdout)
    loaded = target / wanted if wanted != "." else target
    if not loaded.exists():
        loaded.mkdir(parents=True)  # a folder without RDF files: the loader says so
    return loaded


def _relabel(error: InputError, folder: Path, rev: str) -> InputError:
    shown = error.location.path
    for base in {str(folder), str(folder.resolve())}:
        if shown.startswith(base + os.sep):
            shown = f"{rev}:{shown[len(base) + 1 :]}"
            break
        if shown == base:
            shown = f"{rev}:."
    where = Location(shown, error.location.line, error.location.column)
    return InputError(where, error.code, error.message)


def load_side(spec: str) -> KnowledgeGraph:
    """Build the graph named by ``spec``: an existing file or folder, or ``REV:PATH``."""
    if Path(spec).exists() or ":" not in spec:
        return assemble([Path(spec)])
    rev, _, path = spec.partition(":")
    if not rev:
        raise UsageError(f"{spec}: REV:PATH needs a revision before the colon, e.g. HEAD~1:kg")
    with tempfile.TemporaryDirectory(prefix="alignkg-diff-") as folder:
        root = Path(folder)
        loaded = materialise_revision(spec, rev, path, root)
        try:
            return assemble([loaded])
        except InputError as error:
            raise _relabel(error, root, rev) from None


# --- comparing events by content ------------------------------------------------------------


def curie(iri: str) -> str:
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{prefix}:{iri[len(namespace) :]}"
    return f"<{iri}>"


def _literal(value: Literal) -> str:
    text = json.dumps(str(value), ensure_ascii=False)
    if value.language:
        return f"{text}@{value.language}"
    if value.datatype is not None and value.datatype != XSD.string:
        return f"{text}^^{curie(str(value.datatype))}"
    return text


Index = dict[Node, list[tuple[Node, Node]]]


def _index(triples: Iterable[tuple[Node, Node, Node]]) -> Index:
    index: Index = defaultdict(list)
    for s, p, o in triples:
        index[s].append((p, o))
    return index


def canonical(node: Node, index: Index, seen: frozenset[Node] = frozenset()) -> str:
    """A node as text that does not depend on blank-node identity."""
    if isinstance(node, URIRef):
        return curie(str(node))
    if isinstance(node, Literal):
        return _literal(node)
    if isinstance(node, BNode):
        if node in seen:
            return "[ … ]"
        inner = sorted(
            f"{curie(str(p))} {canonical(o, index, seen | {node})}" for p, o in index.get(node, [])
        )
        return "[ " + " ; ".join(inner) + " ]" if inner else "[]"
    return str(node)


def _leaves(
    node: Node, index: Index, path: str, seen: frozenset[Node] = frozenset()
) -> list[tuple[str, str]]:
    """A blank node's values flattened to (property path, value) pairs."""
    if not isinstance(node, BNode) or node in seen:
        return [(path, canonical(node, index))]
    found: list[tuple[str, str]] = []
    for p, o in index.get(node, []):
        found.extend(_leaves(o, index, f"{path}/{curie(str(p))}", seen | {node}))
    return found or [(path, "[]")]


Leaves = Counter[tuple[str, str]]


def _content(leaves: Leaves, event: str) -> Leaves:
    """The leaves that carry content: not the types, not the link back to the event."""
    type_path = "/" + curie(str(RDF.type))
    return Counter(
        {k: n for k, n in leaves.items() if not k[0].endswith(type_path) and k[1] != event}
    )


def _leaf_changes(old: Leaves, new: Leaves) -> dict[str, tuple[list[str], list[str]]]:
    """Per property path, the values only the old leaves have and only the new ones have."""
    changes: dict[str, tuple[list[str], list[str]]] = {}
    for path in sorted({k[0] for k in old} | {k[0] for k in new}):
        a = Counter({v: n for (p, v), n in old.items() if p == path})
        b = Counter({v: n for (p, v), n in new.items() if p == path})
        gone, came = sorted((a - b).elements()), sorted((b - a).elements())
        if gone or came:
            changes[path] = (gone, came)
    return changes


def _nested_changes(
    event: str, old: list[tuple[str, Leaves]], new: list[tuple[str, Leaves]]
) -> dict[str, tuple[list[str], list[str]]]:
    """Changes among the values of a property whose values are blank nodes: values equal by
    content cancel; the rest are paired by shared content and compared path by path; an
    unpaired value was added or removed whole."""
    remaining_old = list(old)
    remaining_new = list(new)
    for item in list(remaining_old):
        match = next((n for n in remaining_new if n[0] == item[0]), None)
        if match is not None:
            remaining_old.remove(item)
            remaining_new.remove(match)
    candidates = sorted(
        (
            (-sum((_content(o[1], event) & _content(n[1], event)).values()), i, j)
            for i, o in enumerate(remaining_old)
            for j, n in enumerate(remaining_new)
        ),
    )
    paired: list[tuple[Leaves, Leaves]] = []
    used_old: set[int] = set()
    used_new: set[int] = set()
    for shared, i, j in candidates:
        if shared < 0 and i not in used_old and j not in used_new:
            paired.append((remaining_old[i][1], remaining_new[j][1]))
            used_old.add(i)
            used_new.add(j)
    for i, (_text, leaves) in enumerate(remaining_old):
        if i not in used_old:
            paired.append((_content(leaves, event), Counter()))
    for j, (_text, leaves) in enumerate(remaining_new):
        if j not in used_new:
            paired.append((Counter(), _content(leaves, event)))
    merged: dict[str, tuple[list[str], list[str]]] = {}
    for a, b in paired:
        for path, (gone, came) in _leaf_changes(a, b).items():
            before, after = merged.setdefault(path, ([], []))
            before.extend(gone)
            after.extend(came)
    return {path: (sorted(a), sorted(b)) for path, (a, b) in sorted(merged.items())}


def _property_changes(event: URIRef, old: Index, new: Index) -> list[PropertyChange]:
    """The event's properties whose values differ by content (old -> new)."""

    def values(index: Index) -> dict[Node, list[Node]]:
        grouped: dict[Node, list[Node]] = defaultdict(list)
        for p, o in index.get(event, []):
            grouped[p].append(o)
        return grouped

    before, after = values(old), values(new)
    changes: list[PropertyChange] = []
    for prop in sorted(set(before) | set(after), key=str):
        old_values = sorted(canonical(o, old) for o in before.get(prop, []))
        new_values = sorted(canonical(o, new) for o in after.get(prop, []))
        if old_values == new_values:
            continue
        name = curie(str(prop))
        if not any(isinstance(o, BNode) for o in before.get(prop, []) + after.get(prop, [])):
            gone = [v for v in old_values if v not in new_values]
            came = [v for v in new_values if v not in old_values]
            changes.append(PropertyChange(name, tuple(gone), tuple(came)))
            continue
        nested = _nested_changes(
            curie(str(event)),
            [(canonical(o, old), Counter(_leaves(o, old, name))) for o in before.get(prop, [])],
            [(canonical(o, new), Counter(_leaves(o, new, name))) for o in after.get(prop, [])],
        )
        if nested:
            changes.extend(PropertyChange(p, tuple(a), tuple(b)) for p, (a, b) in nested.items())
        else:  # the same leaves, grouped differently
            changes.append(PropertyChange(name, tuple(old_values), tuple(new_values)))
    return changes


def _events(kg: KnowledgeGraph) -> tuple[Index, dict[str, str]]:
    """The asserted triples by subject, and every event's IRI with its label."""
    data = triples_under(kg.store, DATA_GRAPH)
    index = _index(data)
    typed = data + triples_under(kg.store, INFERRED_GRAPH)
    events = {str(s) for s, p, o in typed if p == RDF.type and o == AK.Event}
    labels: dict[str, str] = {}
    for iri in events:
        names = sorted(str(o) for p, o in index.get(URIRef(iri), []) if p == RDFS.label)
        labels[iri] = names[0] if names else ""
    return index, labels


def _other_statements(index: Index, events: Iterable[str]) -> dict[str, Counter[str]]:
    """Every asserted statement outside the events, by subject, as text that does not
    depend on blank-node identity (a blank node is written out where it is used)."""
    skip = {URIRef(e) for e in events}
    used = {o for values in index.values() for _p, o in values if isinstance(o, BNode)}
    found: dict[str, Counter[str]] = defaultdict(Counter)
    for subject, values in index.items():
        if subject in skip or subject in used:
            continue
        if isinstance(subject, BNode):  # a blank node no statement points to
            found["[]"][canonical(subject, index)] += 1
            continue
        for p, o in values:
            found[canonical(subject, index)][f"{curie(str(p))} {canonical(o, index)}"] += 1
    return found


def _other_changes(
    old: Index, new: Index, old_events: Iterable[str], new_events: Iterable[str]
) -> tuple[OtherChange, ...]:
    before = _other_statements(old, old_events)
    after = _other_statements(new, new_events)
    changes = []
    for subject in sorted(set(before) | set(after)):
        a, b = before.get(subject, Counter()), after.get(subject, Counter())
        gone, came = sorted((a - b).elements()), sorted((b - a).elements())
        if gone or came:
            status = "added" if not a else "removed" if not b else "changed"
            changes.append(OtherChange(subject, status, tuple(gone), tuple(came)))
    return tuple(changes)


# --- what the changes did to the stages ------------------------------------------------------


def _stage_text(row: StageRow | None) -> str:
    if row is None:
        return "not assessed"
    return f"{row.stage} ({row.level})" if row.level else row.stage


def _levels(kg: KnowledgeGraph) -> dict[tuple[str, int, int], int]:
    """Every assessed (dyad, year, rung) and its value: 0 absent, 1 low, 2 high."""
    return {
        (str(r["dyadLabel"]), int(str(r["year"])), int(str(r["rung"]))): int(str(r["value"]))
        for r in kg.store.select(query_text("coder-levels"))
    }


def _active(kg: KnowledgeGraph) -> dict[tuple[str, int, int], set[str]]:
    active: dict[tuple[str, int, int], set[str]] = defaultdict(set)
    for r in kg.store.select(query_text("active-events")):
        active[(str(r["dyadLabel"]), int(str(r["year"])), int(str(r["rung"])))].add(str(r["event"]))
    return active


def _first_high(kg: KnowledgeGraph) -> dict[tuple[str, int], int]:
    """(dyad, rung) -> the first year the indicator is at the high level."""
    return {
        (str(r["dyadLabel"]), int(str(r["rung"]))): int(str(r["firstHighYear"]))
        for r in kg.store.select(query_text("milestones"))
        if r.get("firstHighYear") is not None
    }


def _rows(kg: KnowledgeGraph) -> dict[tuple[str, int], dict[str, StageRow]]:
    by_year: dict[tuple[str, int], dict[str, StageRow]] = defaultdict(dict)
    for row in stage_rows(kg.store):
        by_year[(row.dyad, row.year)][row.reading] = row
    return by_year


def compare(
    old: KnowledgeGraph, new: KnowledgeGraph, *, old_name: str, new_name: str
) -> DiffResult:
    """Compare two built graphs (see the module docstring)."""
    old_index, old_events = _events(old)
    new_index, new_events = _events(new)
    added = tuple(EventRef(i, new_events[i]) for i in sorted(set(new_events) - set(old_events)))
    removed = tuple(EventRef(i, old_events[i]) for i in sorted(set(old_events) - set(new_events)))
    changed = []
    for iri in sorted(set(old_events) & set(new_events)):
        changes = _property_changes(URIRef(iri), old_index, new_index)
        if changes:
            changed.append(EventChange(iri, new_events[iri] or old_events[iri], tuple(changes)))
    how: dict[str, str] = {e.iri: "added" for e in added}
    how.update({e.iri: "removed" for e in removed})
    how.update({e.iri: "changed" for e in changed})
    labels = {**old_events, **new_events}

    old_rows, new_rows = _rows(old), _rows(new)
    stage_changes: list[StageChange] = []
    keys = sorted(set(old_rows) | set(new_rows))
    moved = []
    for key in keys:
        readings = {}
        for reading in ("strict", "manifested"):
            a = _stage_text(old_rows.get(key, {}).get(reading))
            b = _stage_text(new_rows.get(key, {}).get(reading))
            if a != b:
                readings[reading] = (a, b)
        if readings:
            moved.append((key, readings))
    if moved:
        old_levels, new_levels = _levels(old), _levels(new)
        old_active, new_active = _active(old), _active(new)
        old_high, new_high = _first_high(old), _first_high(new)

        def causes(dyad: str, years: Iterable[int], rung: int) -> tuple[CausingEvent, ...]:
            found: set[str] = set()
            for year in years:
                key3 = (dyad, year, rung)
                found |= (old_active.get(key3, set()) | new_active.get(key3, set())) & set(how)
            return tuple(CausingEvent(e, labels.get(e, ""), how[e]) for e in sorted(found))

        for (dyad, year), readings in moved:
            level_changes = []
            for indicator in new.ladder.ordered_indicators():
                rung = indicator.rung
                a_value = old_levels.get((dyad, year, rung), 0)
                b_value = new_levels.get((dyad, year, rung), 0)
                if a_value != b_value:
                    level_changes.append(
                        LevelChange(
                            rung,
                            indicator.notation,
                            LEVEL_NAMES[a_value],
                            LEVEL_NAMES[b_value],
                            causes(dyad, [year], rung),
                        )
                    )
            milestones = []
            for indicator in new.ladder.ordered_indicators():
                rung = indicator.rung
                a_high = old_high.get((dyad, rung))
                b_high = new_high.get((dyad, rung))
                reached = [y for y in (a_high, b_high) if y is not None]
                explained = any(level.rung == rung for level in level_changes)
                if a_high != b_high and reached and min(reached) <= year and not explained:
                    milestones.append(
                        MilestoneChange(
                            rung, indicator.notation, a_high, b_high, causes(dyad, reached, rung)
                        )
                    )
            note = ""
            if not old.first_year <= year <= old.last_year:
                note = f"the old version's calendar runs {old.first_year}-{old.last_year}"
            elif not new.first_year <= year <= new.last_year:
                note = f"the new version's calendar runs {new.first_year}-{new.last_year}"
            stage_changes.append(
                StageChange(dyad, year, readings, tuple(level_changes), tuple(milestones), note)
            )
    return DiffResult(
        old=old_name,
        new=new_name,
        added=added,
        removed=removed,
        changed=tuple(changed),
        stages=tuple(stage_changes),
        others=_other_changes(old_index, new_index, old_events, new_events),
        calendar={
            "old": (old.first_year, old.last_year),
            "new": (new.first_year, new.last_year),
        },
    )


# --- presentation ------------------------------------------------------------------------------


def _values(values: Sequence[str]) -> str:
    if not values:
        return "(none)"
    return " | ".join(values)


def _table(result: DiffResult) -> str:
    lines = [f"alignkg diff {result.old} -> {result.new}"]
    if result.identical:
        lines.append(
            "No differences: no event added, removed or changed; no stage changed; "
            "no other statement changed."
        )
        return "\n".join(lines) + "\n"
    lines.append(
        f"Events: {len(result.added)} added, {len(result.removed)} removed, "
        f"{len(result.changed)} changed. Dyad-years whose stage changed: {len(result.stages)}."
    )
    if result.others:
        lines.append(
            f"Other statements (sources, coders, states, tables): {len(result.others)} "
            "subject(s) changed."
        )
    for title, events, mark in (("Added", result.added, "+"), ("Removed", result.removed, "-")):
        if events:
            lines += ["", f"{title} events:"]
            lines += [f"  {mark} {curie(e.iri)}  {e.label}" for e in events]
    if result.changed:
        lines += ["", "Changed events:"]
        for change in result.changed:
            lines.append(f"  ~ {curie(change.iri)}  {change.label}")
            for prop in change.changes:
                lines.append(f"      {prop.prop}: {_values(prop.old)} -> {_values(prop.new)}")
    if result.others:
        lines += ["", "Other statements changed:"]
        for other in result.others:
            if other.status == "added":
                lines.append(f"  + {other.subject}  (new: {len(other.added)} statement(s))")
                continue
            if other.status == "removed":
                lines.append(f"  - {other.subject}  (gone: {len(other.removed)} statement(s))")
                continue
            lines.append(f"  ~ {other.subject}")
            lines += [f"      - {text}" for text in other.removed]
            lines += [f"      + {text}" for text in other.added]
    if result.stages:
        lines += ["", "Stage changes (old -> new):"]
        for stage in result.stages:
            shown = "; ".join(f"{r} {a} -> {b}" for r, (a, b) in stage.readings.items())
            lines.append(f"  {stage.dyad} {stage.year}: {shown}")
            for level in stage.levels:
                lines.append(
                    f"      indicator {level.rung} ({level.indicator}): {level.old} -> {level.new}"
                )
                lines += [f"          {e.how}: {curie(e.iri)}  {e.label}" for e in level.events]
            for milestone in stage.milestones:
                lines.append(
                    f"      indicator {milestone.rung} ({milestone.indicator}) first high: "
                    f"{milestone.old_first_high or 'never'} -> {milestone.new_first_high or 'never'}"
                )
                lines += [f"          {e.how}: {curie(e.iri)}  {e.label}" for e in milestone.events]
            if stage.note:
                lines.append(f"      ({stage.note})")
    return "\n".join(lines) + "\n"


def render_result(result: DiffResult, *, fmt: str) -> str:
    if fmt == "json":
        data = asdict(result)
        data["identical"] = result.identical
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if fmt == "table":
        return _table(result)
    raise UsageError(f"diff: unknown format {fmt!r} (table or json)")


def render(old: str, new: str, *, fmt: str) -> str:
    """``alignkg diff OLD NEW``: build both versions and report what changed."""
    if fmt not in {"table", "json"}:
        raise UsageError(f"diff: unknown format {fmt!r} (table or json)")
    before = load_side(old)
    after = load_side(new)
    return render_result(compare(before, after, old_name=old, new_name=new), fmt=fmt)
