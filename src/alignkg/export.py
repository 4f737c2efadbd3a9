"""Exports for analysts: the events table as CSV."""

from __future__ import annotations

import csv
import io

from alignkg.query import run
from alignkg.resources import query_text
from alignkg.store import OxigraphStore, RdflibStore

EVENT_COLUMNS = (
    "event",
    "dyad",
    "dimension",
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
