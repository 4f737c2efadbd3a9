"""Exports for analysts: the events and the sources tables as CSV."""

from __future__ import annotations

import csv
import io

from alignkg.build import KnowledgeGraph
from alignkg.errors import UsageError
from alignkg.query import run
from alignkg.resources import query_text
from alignkg.store import OxigraphStore, RdflibStore

EVENT_COLUMNS = (
    "event",
    "dyad",
    "dimension",
    "aspect",
    "indicator",
    "level",
    "start",
    "end",
    "precision",
    "persistence",
    "label",
    "quote",
    "sources",
    "footnotes",
    "languages",
)
_FROM_QUERY = {
    "event": "event",
    "dyad": "dyadLabel",
    "dimension": "dimensionCode",
    "aspect": "aspectCode",
    "indicator": "rung",
    "level": "levelCode",
    "start": "start",
    "end": "end",
    "precision": "precisionCode",
    "persistence": "persistenceCode",
    "label": "label",
    "quote": "quote",
    "sources": "sources",
    "footnotes": "footnotes",
    "languages": "languages",
}


def _sorted_values(text: str, separator: str) -> str:
    parts = text.split(separator.strip()) if separator.strip() else text.split()
    values = sorted({v.strip() for v in parts if v.strip()}, key=_natural)
    return separator.join(values)


def _natural(value: str) -> tuple[int, str]:
    return (int(value), "") if value.isdigit() else (0, value)


def events_csv(store: OxigraphStore | RdflibStore) -> str:
    """One row per event and dyad, columns ``EVENT_COLUMNS``."""
    _names, rows = run(store, query_text("events"))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EVENT_COLUMNS)
    for row in rows:
        cells = {c: str(row.get(q, "")) for c, q in _FROM_QUERY.items()}
        cells["sources"] = _sorted_values(cells["sources"], " | ")
        cells["languages"] = _sorted_values(cells["languages"], " | ")
        cells["footnotes"] = _sorted_values(cells["footnotes"], " ")
        writer.writerow([cells[c] for c in EVENT_COLUMNS])
    return out.getvalue()


SOURCE_COLUMNS = (
    "source",
    "footnotes",
    "author",
    "title",
    "title_en",
    "language",
    "kind",
    "publisher",
    "url",
    "date",
    "events",
)
_SOURCE_FROM_QUERY = {
    "source": "source",
    "footnotes": "footnotes",
    "author": "authors",
    "title": "title",
    "title_en": "titleEn",
    "language": "language",
    "kind": "kindCode",
    "publisher": "publisher",
    "url": "url",
    "date": "date",
    "events": "events",
}


def _first_footnote(row: dict[str, str]) -> tuple[int, str]:
    footnotes = row["footnotes"].split()
    return (int(footnotes[0]) if footnotes else 0, row["source"])


def sources_csv(store: OxigraphStore | RdflibStore) -> str:
    """One row per source, columns ``SOURCE_COLUMNS``, in the order the paper first cites
    them (sources no footnote cites, such as the paper itself, first)."""
    _names, rows = run(store, query_text("sources"))
    table = []
    for row in rows:
        cells = {c: str(row.get(q, "")) for c, q in _SOURCE_FROM_QUERY.items()}
        cells["footnotes"] = _sorted_values(cells["footnotes"], " ")
        # RDF keeps no order among a source's creators: sorted, so the export is stable.
        cells["author"] = _sorted_values(cells["author"], " | ")
        if not cells["title"]:
            cells["title"], cells["title_en"] = cells["title_en"], ""
        table.append(cells)
    table.sort(key=_first_footnote)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SOURCE_COLUMNS)
    for cells in table:
        writer.writerow([cells[c] for c in SOURCE_COLUMNS])
    return out.getvalue()


#: What ``alignkg export`` can write, in which formats (the first is the default).
FORMATS: dict[str, tuple[str, ...]] = {
    "events": ("csv",),
    "sources": ("csv",),
}


def render(kg: KnowledgeGraph, what: str, fmt: str) -> str | bytes:
    """The export ``what`` of ``kg`` in format ``fmt`` (one of ``FORMATS[what]``)."""
    if what == "events":
        return events_csv(kg.store)
    if what == "sources":
        return sources_csv(kg.store)
    raise UsageError(f"export: unknown table {what!r}")
