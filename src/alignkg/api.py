"""The data behind the JSON API of ``alignkg serve``: pure functions over a built graph.

Each function answers one route of the web evidence browser from the store, through
named queries with values bound, and returns plain JSON-ready dictionaries whose field
names are the API's contract (the page depends on them):

- ``prefixes()``: ``/api/prefixes``
- ``named_queries()``: ``/api/queries``
- ``dyads(kg)``: ``/api/dyads``
- ``grid(kg, report, dyad)``: ``/api/grid?dyad=``
- ``cell(kg, report, dyad, year, rung)``: ``/api/cell?dyad=&year=&rung=``
- ``findings(report)``: ``/api/findings``

Bad values raise :class:`~alignkg.errors.UsageError` (HTTP 400); a dyad without events
or an indicator absent from a dyad-year raises :class:`NotFound` (HTTP 404).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from typing import TypedDict

from rdflib import Literal as RdfLiteral
from rdflib.namespace import XSD

from alignkg import evidence
from alignkg.build import KnowledgeGraph
from alignkg.errors import AlignkgError, UsageError
from alignkg.namespace import PREFIXES
from alignkg.resources import query_files, query_text
from alignkg.stages import dyad_code, dyad_iri, stage_rows, year_literal
from alignkg.validate import Finding, Report


class NotFound(AlignkgError):
    """A well-formed request for something the graph does not hold."""


# --- the contract --------------------------------------------------------------------


class NamedQuery(TypedDict):
    name: str
    description: str
    text: str


class DyadSummary(TypedDict):
    dyad: str
    first: int
    last: int
    events: int


class IndicatorRow(TypedDict):
    rung: int
    label: str
    stage: str


class GridCell(TypedDict):
    year: int
    rung: int
    level: str
    events: int
    findings: int


class StageEntry(TypedDict):
    year: int
    stage: str
    level: str
    counted: list[int]
    precursors: list[int]


class Grid(TypedDict):
    dyad: str
    years: list[int]
    indicators: list[IndicatorRow]
    cells: list[GridCell]
    stages: dict[str, list[StageEntry]]


class FindingJSON(TypedDict):
    severity: str
    focus: str
    message: str
    rule: str
    location: str
    code: str


class DecisionJSON(TypedDict):
    decision: str
    reason: str


class SourceJSON(TypedDict):
    iri: str
    title: str
    printed_title: str
    language: str
    kind: str
    url: str


class EventJSON(TypedDict):
    iri: str
    label: str
    start: str
    precision: str
    level: str
    location: str
    quotes: list[str]
    decisions: list[DecisionJSON]
    sources: list[SourceJSON]
    findings: list[FindingJSON]


class CellEvidence(TypedDict):
    dyad: str
    year: int
    rung: int
    indicator: str
    level: str
    node: str
    events: list[EventJSON]
    findings: list[FindingJSON]


class FindingsReport(TypedDict):
    summary: str
    findings: list[FindingJSON]


# --- helpers -------------------------------------------------------------------------

_INTEGER = re.compile(r"^[+-]?\d{1,9}$")


def parse_int(name: str, text: str | None) -> int:
    """A request parameter that must be an integer (``year``, ``rung``)."""
    if text is None or not _INTEGER.match(text.strip()):
        raise UsageError(f"{name}={text!r}: expected an integer, e.g. {name}=2015")
    return int(text.strip())


def _finding(finding: Finding) -> FindingJSON:
    return {
        "severity": finding.severity,
        "focus": finding.focus,
        "message": finding.message,
        "rule": finding.rule,
        "location": finding.location,
        "code": finding.code,
    }


def _by_focus(report: Report) -> dict[str, list[Finding]]:
    found: dict[str, list[Finding]] = defaultdict(list)
    for finding in report.findings:
        found[finding.focus].append(finding)
    return found


def _description(text: str) -> str:
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("#").strip())
    return " ".join(part for part in lines if part)


def _rung_literal(rung: int) -> RdfLiteral:
    return RdfLiteral(str(rung), datatype=XSD.integer)


def _known_states(kg: KnowledgeGraph) -> set[str]:
    return {str(row["code"]) for row in kg.store.select(query_text("states"))}


def _dyad_summary(kg: KnowledgeGraph, dyad: str) -> DyadSummary:
    """The summary of an existing dyad; UsageError for a bad code, NotFound if no events."""
    code = dyad_code(dyad)
    summary = next((d for d in dyads(kg) if d["dyad"] == code), None)
    if summary is not None:
        return summary
    unknown = [c for c in code.split("-") if c not in _known_states(kg)]
    if unknown:
        raise UsageError(
            f"dyad {code}: unknown state code {', '.join(unknown)} "
            "(the states are listed in ontology/states.ttl)"
        )
    raise NotFound(f"dyad {code} has no events in the graph")


# --- the routes ----------------------------------------------------------------------


def prefixes() -> dict[str, str]:
    """The prefixes the named queries and the page use."""
    return dict(PREFIXES)


def named_queries() -> list[NamedQuery]:
    """Every named query of ``queries/``, with its leading comment as description."""
    found: list[NamedQuery] = []
    for file in query_files():
        text = file.read_text(encoding="utf-8")
        found.append(
            {"name": file.name[: -len(".rq")], "description": _description(text), "text": text}
        )
    return sorted(found, key=lambda q: q["name"])


def dyads(kg: KnowledgeGraph) -> list[DyadSummary]:
    """Every dyad with events: its code, first and last assessed year and event count."""
    found: list[DyadSummary] = [
        {
            "dyad": str(row["dyadLabel"]),
            "first": int(str(row["first"])),
            "last": int(str(row["last"])),
            "events": int(str(row["events"])),
        }
        for row in kg.store.select(query_text("dyad-span"))
    ]
    return sorted(found, key=lambda d: d["dyad"])


def grid(kg: KnowledgeGraph, report: Report, dyad: str) -> Grid:
    """A dyad's indicators by year: the level of each present indicator, how many events
    carry it and how many findings concern it, with the stage per year of both readings."""
    summary = _dyad_summary(kg, dyad)
    code = summary["dyad"]
    by_focus = _by_focus(report)
    cells: dict[tuple[int, int], GridCell] = {}
    concerned: dict[tuple[int, int], set[str]] = defaultdict(set)
    for row in kg.store.select(query_text("cell-events"), {"dyad": dyad_iri(code)}):
        key = (int(str(row["year"])), int(str(row["rung"])))
        cell = cells.setdefault(
            key,
            {
                "year": key[0],
                "rung": key[1],
                "level": str(row["levelCode"]),
                "events": 0,
                "findings": 0,
            },
        )
        if str(row["event"]) not in concerned[key]:
            cell["events"] += 1
        concerned[key].update((str(row["obs"]), str(row["event"])))
    for key, cell in cells.items():
        cell["findings"] = sum(len(by_focus.get(node, [])) for node in concerned[key])
    readings: dict[str, list[StageEntry]] = {"strict": [], "manifested": []}
    for stage in stage_rows(kg.store, dyad=code):
        readings.setdefault(stage.reading, []).append(
            {
                "year": stage.year,
                "stage": stage.stage,
                "level": stage.level,
                "counted": list(stage.counted),
                "precursors": list(stage.precursors),
            }
        )
    indicators: list[IndicatorRow] = [
        {"rung": i.rung, "label": i.label, "stage": kg.ladder.stage_of(i.iri).notation}
        for i in kg.ladder.ordered_indicators()
    ]
    return {
        "dyad": code,
        "years": list(range(summary["first"], summary["last"] + 1)),
        "indicators": indicators,
        "cells": [cells[key] for key in sorted(cells)],
        "stages": readings,
    }


def _sources(found: Iterable[evidence.SourceRef]) -> list[SourceJSON]:
    return [
        {
            "iri": s.iri,
            "title": s.title,
            "printed_title": s.printed_title,
            "language": s.language,
            "kind": s.kind,
            "url": s.url,
        }
        for s in sorted(found, key=lambda s: s.iri)
    ]


def cell(kg: KnowledgeGraph, report: Report, dyad: str, year: int, rung: int) -> CellEvidence:
    """The evidence for one indicator of a dyad in a year: each event that carries its
    level, with date precision, quotes, coding decisions, sources and findings.

    ``findings`` at the top are those on the derived node itself (the dyad-year-indicator,
    e.g. a ladder precondition); each event lists its own.
    """
    code = _dyad_summary(kg, dyad)["dyad"]
    rungs = sorted(i.rung for i in kg.ladder.ordered_indicators())
    if rung not in rungs:
        raise UsageError(
            f"rung={rung}: the ladder's indicators are rungs {rungs[0]} to {rungs[-1]}"
        )
    indicator = kg.ladder.indicator_by_rung(rung)
    found = evidence.explain(kg, dyad=code, year=year)
    events = found.events.get(rung)
    if not events:
        raise NotFound(f"{code} {year}: indicator {rung} ({indicator.label}) is not present")
    bindings = {"dyad": dyad_iri(code), "year": year_literal(year), "rung": _rung_literal(rung)}
    precision: dict[str, str] = {}
    node = ""
    for row in kg.store.select(query_text("cell-events"), bindings):
        node = str(row["obs"])
        precision[str(row["event"])] = str(row.get("precisionCode", ""))
    by_focus = _by_focus(report)
    return {
        "dyad": code,
        "year": year,
        "rung": rung,
        "indicator": indicator.label,
        "level": found.levels[rung],
        "node": node,
        "events": [
            {
                "iri": event.iri,
                "label": event.label,
                "start": event.start,
                "precision": precision.get(event.iri, ""),
                "level": event.level,
                "location": event.location,
                "quotes": sorted({quote for quote, _document in event.quotes}),
                "decisions": [
                    {"decision": d.decision, "reason": d.reason} for d in event.decisions
                ],
                "sources": _sources(event.sources.values()),
                "findings": [_finding(f) for f in by_focus.get(event.iri, [])],
            }
            for event in events
        ],
        "findings": [_finding(f) for f in by_focus.get(node, [])],
    }


def findings(report: Report) -> FindingsReport:
    """Every validation finding, with the summary line."""
    return {"summary": report.summary(), "findings": [_finding(f) for f in report.findings]}
