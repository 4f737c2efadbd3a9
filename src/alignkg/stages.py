"""Stage per dyad-year: reading the derived assessments and presenting them.

The derivation itself lives in ``rules/derive/*.rq``; this module reads its results
through ``queries/stage-per-dyad-year.rq`` with values bound, never formatted in.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Literal

from rdflib import Literal as RdfLiteral
from rdflib import URIRef
from rdflib.namespace import XSD
from rdflib.term import Node

from alignkg.errors import UsageError
from alignkg.namespace import AK, DYAD
from alignkg.resources import query_text
from alignkg.store import OxigraphStore, Store

Reading = Literal["strict", "manifested"]
Format = Literal["table", "csv", "json"]
READINGS: dict[str, URIRef] = {"strict": AK.StrictLadder, "manifested": AK.HighestManifested}
CSV_COLUMNS = ("dyad", "year", "stage", "level", "highest_indicator", "counted", "precursors")
_DYAD = re.compile(r"^([A-Za-z]{3})[-–/]([A-Za-z]{3})$")


@dataclass(frozen=True, order=True)
class StageRow:
    """A dyad's stage in one year under one reading."""

    dyad: str
    year: int
    reading: str
    stage: str
    level: str
    highest_indicator: int | None
    counted: tuple[int, ...]
    precursors: tuple[int, ...]


def dyad_code(text: str) -> str:
    """The canonical code of a dyad: both ISO codes, upper case, in alphabetical order.

    >>> dyad_code("rus-chn")
    'CHN-RUS'
    """
    match = _DYAD.match(text.strip())
    if not match:
        raise UsageError(f"dyad {text!r} is not two ISO 3166 alpha-3 codes such as CHN-RUS")
    a, b = sorted((match.group(1).upper(), match.group(2).upper()))
    if a == b:
        raise UsageError(f"dyad {text!r} names the same state twice")
    return f"{a}-{b}"


def dyad_iri(text: str) -> URIRef:
    """The IRI of a dyad given as ``CHN-RUS`` or ``RUS-CHN``."""
    return DYAD[dyad_code(text)]


def _rungs(value: object | None) -> tuple[int, ...]:
    if value is None or not str(value).strip():
        return ()
    return tuple(sorted(int(v) for v in str(value).split()))


def stage_rows(
    store: Store,
    *,
    dyad: str | None = None,
    reading: Reading | None = None,
    first: int | None = None,
    last: int | None = None,
) -> list[StageRow]:
    """Every derived stage assessment, narrowed by dyad, reading and year range."""
    bindings: dict[str, Node] = {}
    if dyad is not None:
        bindings["dyad"] = dyad_iri(dyad)
    if reading is not None:
        bindings["reading"] = READINGS[reading]
    rows = []
    text = query_text("stage-per-dyad-year")
    found: Iterable[Mapping[str, object]] = (
        store.select_lexical(text, bindings)
        if isinstance(store, OxigraphStore)
        else store.select(text, bindings)
    )
    for row in found:
        year = int(str(row["year"]))
        if (first is not None and year < first) or (last is not None and year > last):
            continue
        highest = row.get("highestRung")
        rows.append(
            StageRow(
                dyad=str(row["dyadLabel"]),
                year=year,
                reading=str(row["readingCode"]),
                stage=str(row["stageCode"]),
                level=str(row.get("levelCode", "")),
                highest_indicator=int(str(highest)) if highest is not None else None,
                counted=_rungs(row.get("counted")),
                precursors=_rungs(row.get("precursors")),
            )
        )
    return sorted(rows, key=lambda r: (r.dyad, r.reading, r.year))


def year_literal(year: int) -> RdfLiteral:
    return RdfLiteral(str(year), datatype=XSD.integer)


def _cells(row: StageRow) -> dict[str, str]:
    return {
        "dyad": row.dyad,
        "year": str(row.year),
        "stage": row.stage,
        "level": row.level,
        "highest_indicator": "" if row.highest_indicator is None else str(row.highest_indicator),
        "counted": ";".join(str(r) for r in row.counted),
        "precursors": ";".join(str(r) for r in row.precursors),
    }


def render(rows: Sequence[StageRow], *, fmt: Format = "table") -> str:
    """Stage rows as an aligned table, CSV (``CSV_COLUMNS``) or JSON."""
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(_cells(row))
        return out.getvalue()
    if fmt == "json":
        return json.dumps([asdict(r) for r in rows], indent=2, ensure_ascii=False) + "\n"
    cells = [_cells(r) for r in rows]
    widths = {c: max([len(c)] + [len(x[c]) for x in cells]) for c in CSV_COLUMNS}
    lines = ["  ".join(c.ljust(widths[c]) for c in CSV_COLUMNS).rstrip()]
    lines += ["  ".join(x[c].ljust(widths[c]) for c in CSV_COLUMNS).rstrip() for x in cells]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Transition:
    """A year in which a dyad's stage or its level changed under one reading."""

    year: int
    before: StageRow | None
    after: StageRow

    def describe(self) -> str:
        """``early (high) -> moderate (low)``, or ``none -> early (low)`` for the first year."""
        return f"{_stage_text(self.before)} -> {_stage_text(self.after)}"


def _stage_text(row: StageRow | None) -> str:
    if row is None:
        return "not assessed"
    return f"{row.stage} ({row.level})" if row.level else row.stage


def transitions(rows: list[StageRow]) -> list[Transition]:
    """The years where the stage or its level differs from the year before, for rows of
    one dyad under one reading (the first assessed year is a transition from nothing)."""
    found = []
    previous: StageRow | None = None
    for row in sorted(rows, key=lambda r: r.year):
        if previous is None or (row.stage, row.level) != (previous.stage, previous.level):
            found.append(Transition(year=row.year, before=previous, after=row))
        previous = row
    return found
