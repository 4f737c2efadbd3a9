"""Evidence strength of each code: its independent sources, their languages and kinds.

The rows come from ``queries/evidence-strength.rq`` (one per event and dyad); this
module only narrows, formats and counts them. A source is independent of an event when
the event cites it and it is not the document the event's quoted passage is taken from
(the coded document: the paper itself).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Literal, cast

from rdflib.term import Node

from alignkg.build import KnowledgeGraph
from alignkg.errors import UsageError
from alignkg.namespace import PREFIXES
from alignkg.resources import query_text
from alignkg.stages import dyad_code, dyad_iri
from alignkg.store import Store

Format = Literal["table", "csv", "json"]
#: Flag name -> the query variable that carries it.
FLAGS: dict[str, str] = {
    "only-paper": "onlyPaper",
    "only-russian": "onlyRussian",
    "only-chinese": "onlyChinese",
    "only-interviews": "onlyInterviews",
}
COLUMNS = (
    "dyad",
    "event",
    "dimension",
    "indicator",
    "level",
    "start",
    "sources",
    "languages",
    "kinds",
    "flags",
)


@dataclass(frozen=True)
class StrengthRow:
    """One code (event) as evidence for one dyad."""

    dyad: str
    event: str
    dimension: str
    indicator: int | None
    level: str
    start: str
    sources: int
    languages: tuple[str, ...]
    kinds: tuple[str, ...]
    flags: tuple[str, ...]


def _curie(iri: str) -> str:
    for prefix, namespace in sorted(PREFIXES.items(), key=lambda p: -len(p[1])):
        if iri.startswith(namespace):
            return f"{prefix}:{iri[len(namespace):]}"
    return iri


def _true(value: Node | None) -> bool:
    return value is not None and str(value).lower() in ("true", "1")


def _words(value: Node | None) -> tuple[str, ...]:
    return tuple(sorted(set(str(value).split()))) if value is not None else ()


def strength_rows(
    store: Store, *, dyad: str | None = None
) -> list[StrengthRow]:
    """Every (event, dyad) with its independent sources and flags, optionally for one dyad."""
    bindings: dict[str, Node] = {"dyad": dyad_iri(dyad)} if dyad else {}
    rows = []
    for row in store.select(query_text("evidence-strength"), bindings):
        rung = row.get("rung")
        rows.append(
            StrengthRow(
                dyad=str(row["dyadLabel"]),
                event=_curie(str(row["event"])),
                dimension=str(row.get("dimensionCode", "")),
                indicator=int(str(rung)) if rung is not None else None,
                level=str(row.get("levelCode", "")),
                start=str(row["start"]),
                sources=int(str(row["sourceCount"])),
                languages=_words(row.get("languages")),
                kinds=_words(row.get("kinds")),
                flags=tuple(name for name, var in FLAGS.items() if _true(row.get(var))),
            )
        )
    return sorted(rows, key=lambda r: (r.dyad, r.start, r.event))


def flag_counts(rows: Sequence[StrengthRow]) -> dict[str, int]:
    """How many rows carry each flag."""
    return {name: sum(name in r.flags for r in rows) for name in FLAGS}


def _cells(row: StrengthRow) -> dict[str, str]:
    return {
        "dyad": row.dyad,
        "event": row.event,
        "dimension": row.dimension,
        "indicator": "" if row.indicator is None else str(row.indicator),
        "level": row.level,
        "start": row.start,
        "sources": str(row.sources),
        "languages": " ".join(row.languages),
        "kinds": " ".join(row.kinds),
        "flags": " ".join(row.flags),
    }


def summary(rows: Sequence[StrengthRow]) -> str:
    """``N codes: only-paper A, only-russian B, ...``"""
    counts = ", ".join(f"{name} {n}" for name, n in flag_counts(rows).items())
    return f"{len(rows)} code(s) shown: {counts}"


def render_rows(rows: Sequence[StrengthRow], *, fmt: Format = "table") -> str:
    """Strength rows as an aligned table (with a count of each flag), CSV or JSON."""
    if fmt == "csv":
        out = io.StringIO()
        columns = [*COLUMNS[:-1], *FLAGS]
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            record = _cells(row)
            del record["flags"]
            record.update({name: "true" if name in row.flags else "false" for name in FLAGS})
            writer.writerow(record)
        return out.getvalue()
    if fmt == "json":
        return json.dumps([asdict(r) for r in rows], indent=2, ensure_ascii=False) + "\n"
    if fmt != "table":
        raise UsageError(f"unknown format {fmt!r}; use table, csv or json")
    cells = [_cells(r) for r in rows]
    widths = {c: max([len(c)] + [len(x[c]) for x in cells]) for c in COLUMNS}
    lines = ["  ".join(c.ljust(widths[c]) for c in COLUMNS).rstrip()]
    lines += ["  ".join(x[c].ljust(widths[c]) for c in COLUMNS).rstrip() for x in cells]
    lines.append(summary(rows))
    return "\n".join(lines) + "\n"


def render(kg: KnowledgeGraph, *, dyad: str | None, fmt: str, flagged_only: bool) -> str:
    """The evidence strength of every code (of ``dyad``), or only of the flagged ones."""
    if fmt not in ("table", "csv", "json"):
        raise UsageError(f"unknown format {fmt!r}; use table, csv or json")
    code = dyad_code(dyad) if dyad else None
    rows = strength_rows(kg.store, dyad=code)
    if code is not None and not rows:
        raise UsageError(f"dyad {code} has no coded events in the graph")
    if flagged_only:
        rows = [r for r in rows if r.flags]
    return render_rows(rows, fmt=cast(Format, fmt))
