"""Rule variants: the rule sets of ``rules/*.ttl``, and a dyad's stages under each.

A rule variant is an ``ak:RuleSet`` node named by its ``skos:notation``; its parameters
(``ak:oneOffYears``, ``ak:minimumSources``, ``ak:requiresOfficialSource``,
``ak:groupingProjection``) are read by the derivation rules through ``?rules``. Nothing
here interprets them: :func:`sensitivity` only runs the same rules once per rule set.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from rdflib import Graph, URIRef
from rdflib.namespace import RDF, RDFS, SKOS

from alignkg.build import KnowledgeGraph, assemble
from alignkg.derive import derive
from alignkg.errors import UsageError
from alignkg.namespace import (
    AK,
    CALENDAR_GRAPH,
    DATA_GRAPH,
    INFERRED_GRAPH,
    ONTOLOGY_GRAPH,
    RULES_GRAPH,
)
from alignkg.resources import rule_set_files
from alignkg.stages import StageRow, dyad_code, stage_rows
from alignkg.store import EngineName, Store, graphs_under, new_store

Format = Literal["table", "csv", "json"]
DEFAULT = "default"
#: The graphs a derivation reads; the derived graph is what it writes.
_INPUT_GRAPHS = (ONTOLOGY_GRAPH, RULES_GRAPH, DATA_GRAPH, INFERRED_GRAPH, CALENDAR_GRAPH)


@dataclass(frozen=True)
class Variant:
    """A rule set of ``rules/``: its name (``skos:notation``), IRI, label and comment."""

    name: str
    iri: URIRef
    label: str
    comment: str


@cache
def variants() -> tuple[Variant, ...]:
    """Every rule set shipped in ``rules/*.ttl``: the default first, then by name."""
    graph = Graph()
    for file in rule_set_files():
        graph.parse(data=file.read_text(encoding="utf-8"), format="turtle")
    found: dict[str, Variant] = {}
    for node in sorted(graph.subjects(RDF.type, AK.RuleSet), key=str):
        if not isinstance(node, URIRef):
            continue
        notation = graph.value(node, SKOS.notation)
        if notation is None:
            continue
        name = str(notation)
        if name in found:
            raise UsageError(f"rules/: two rule sets are named {name!r}")
        found[name] = Variant(
            name=name,
            iri=node,
            label=str(graph.value(node, RDFS.label) or name),
            comment=str(graph.value(node, RDFS.comment) or ""),
        )
    ordered = sorted(found.values(), key=lambda v: (v.name != DEFAULT, v.name))
    return tuple(ordered)


def names() -> list[str]:
    """The names of the shipped rule variants (``default`` first)."""
    return [v.name for v in variants()]


def variant(name: str) -> Variant:
    """The shipped rule variant called ``name``; a UsageError lists the names otherwise."""
    for candidate in variants():
        if candidate.name == name:
            return candidate
    raise UsageError(f"unknown rule variant {name!r}; the variants are: {', '.join(names())}")


def rule_set(name: str) -> URIRef:
    """The IRI of the rule set called ``name`` (its ``skos:notation``)."""
    return variant(name).iri


# --- Sensitivity --------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """A dyad's strict stage and level in one year under one variant."""

    stage: str
    level: str

    def text(self) -> str:
        """``moderate/low``; ``none`` when no stage counts or the year is not assessed."""
        return f"{self.stage}/{self.level}" if self.level and self.stage != "none" else self.stage


NOT_ASSESSED = Cell("none", "")


@dataclass(frozen=True)
class SensitivityRow:
    """One year: the cell of each variant, and whether the variants disagree."""

    year: int
    cells: tuple[Cell, ...]

    @property
    def depends(self) -> bool:
        return len({c.text() for c in self.cells}) > 1


@dataclass(frozen=True)
class SensitivityTable:
    """A dyad's strict stage per year (rows) under every rule variant (columns)."""

    dyad: str
    variants: tuple[Variant, ...]
    rows: tuple[SensitivityRow, ...]

    def column(self, name: str) -> dict[int, Cell]:
        """The cells of one variant by year."""
        index = [v.name for v in self.variants].index(name)
        return {r.year: r.cells[index] for r in self.rows}

    def depending_years(self) -> list[int]:
        """The years whose stage or level depends on the variant."""
        return [r.year for r in self.rows if r.depends]


def rederive(kg: KnowledgeGraph, rule_set: URIRef, engine: EngineName) -> Store:
    """A new store with what ``kg`` parsed and inferred, derived again under ``rule_set``."""
    store = new_store(engine)
    for base in _INPUT_GRAPHS:
        for graph in graphs_under(kg.store, base):
            store.add(kg.store.triples(graph=graph), graph=graph)
    derive(store, first_year=kg.first_year, last_year=kg.last_year, rule_set=rule_set)
    return store


def _strict_cells(store: Store, dyad: str) -> dict[int, Cell]:
    rows: list[StageRow] = stage_rows(store, dyad=dyad, reading="strict")
    return {r.year: Cell(r.stage, r.level) for r in rows}


def sensitivity(
    paths: Sequence[Path],
    *,
    dyad: str,
    first: int | None = None,
    last: int | None = None,
    engine: EngineName = "oxigraph",
) -> SensitivityTable:
    """Derive ``dyad`` under every shipped rule variant; its strict stage per year.

    The files are parsed and inferred once; each variant re-runs only the derivation
    rules on a copy of that graph. A year a variant does not assess (no event of the
    dyad counts in or before it) is shown as stage none.
    """
    code = dyad_code(dyad)
    if first is not None and last is not None and first > last:
        raise UsageError(f"--from {first} is after --to {last}")
    shipped = variants()
    kg = assemble(paths, engine=engine, rule_set=rule_set(DEFAULT), until=last)
    columns: list[dict[int, Cell]] = []
    for chosen in shipped:
        store = kg.store if chosen.name == DEFAULT else rederive(kg, chosen.iri, engine)
        columns.append(_strict_cells(store, code))
    assessed = sorted({year for column in columns for year in column})
    if not assessed:
        raise UsageError(f"dyad {code} has no assessed years under any rule variant")
    start = first if first is not None else assessed[0]
    end = last if last is not None else assessed[-1]
    if start > end:
        raise UsageError(f"dyad {code} has no assessed years from {start} on")
    rows = tuple(
        SensitivityRow(year, tuple(column.get(year, NOT_ASSESSED) for column in columns))
        for year in range(start, end + 1)
    )
    return SensitivityTable(dyad=code, variants=shipped, rows=rows)


def _records(table: SensitivityTable) -> list[dict[str, str]]:
    records = []
    for row in table.rows:
        record = {"year": str(row.year)}
        record.update({v.name: c.text() for v, c in zip(table.variants, row.cells, strict=True)})
        record["depends"] = "*" if row.depends else ""
        records.append(record)
    return records


def render(table: SensitivityTable, fmt: Format = "table") -> str:
    """Years × variants (strict ``stage/level``), with ``depends`` marking the years
    whose stage differs between variants: an aligned table, CSV or JSON."""
    columns = ["year", *(v.name for v in table.variants), "depends"]
    records = _records(table)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
        return out.getvalue()
    if fmt == "json":
        document = {
            "dyad": table.dyad,
            "reading": "strict",
            "variants": [
                {"name": v.name, "rule_set": str(v.iri), "label": v.label} for v in table.variants
            ],
            "rows": [
                {
                    "year": r.year,
                    "depends": r.depends,
                    "cells": {
                        v.name: {"stage": c.stage, "level": c.level}
                        for v, c in zip(table.variants, r.cells, strict=True)
                    },
                }
                for r in table.rows
            ],
        }
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if fmt != "table":
        raise UsageError(f"unknown format {fmt!r}; use table, csv or json")
    widths = {c: max([len(c)] + [len(r[c]) for r in records]) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns).rstrip()]
    lines += ["  ".join(r[c].ljust(widths[c]) for c in columns).rstrip() for r in records]
    return "\n".join(lines) + "\n"
