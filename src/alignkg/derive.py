"""Run the derivation rules of ``rules/derive/`` on a store.

Each rule is a SPARQL CONSTRUCT; rules run in file-name order and each one's triples
are added to the derived graph before the next runs. Rule parameters are data: the
variable ``?rules`` is bound to a rule set of ``rules/*.ttl``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from rdflib import Literal, URIRef
from rdflib.namespace import XSD

from alignkg.namespace import AK, CALENDAR, CALENDAR_GRAPH, DERIVED_GRAPH
from alignkg.resources import derivation_rules
from alignkg.store import OxigraphStore, Store

Progress = Callable[[str], None]


@dataclass(frozen=True)
class StepReport:
    """What one derivation rule produced."""

    rule: str
    triples: int
    seconds: float


def calendar_triples(first: int, last: int) -> list[tuple[URIRef, URIRef, Literal]]:
    """The years the derivation may assess, as ``ak:calendarYear`` triples."""
    return [
        (CALENDAR[str(year)], AK.calendarYear, Literal(str(year), datatype=XSD.integer))
        for year in range(first, last + 1)
    ]


def derive(
    store: Store,
    *,
    first_year: int,
    last_year: int,
    rule_set: URIRef = AK.DefaultRules,
    progress: Progress | None = None,
) -> list[StepReport]:
    """Add the calendar and run every derivation rule; return what each step produced."""
    store.add(calendar_triples(first_year, last_year), graph=CALENDAR_GRAPH)
    reports: list[StepReport] = []
    for rule in derivation_rules():
        started = time.perf_counter()
        text = rule.read_text(encoding="utf-8")
        bindings = {"rules": rule_set} if "?rules" in text else None
        if isinstance(store, OxigraphStore):
            count = store.construct_into(text, bindings, graph=DERIVED_GRAPH)
        else:
            count = store.add(store.construct(text, bindings), graph=DERIVED_GRAPH)
        reports.append(StepReport(rule.name, count, time.perf_counter() - started))
        if progress:
            progress(f"derive {rule.name}: {count} triples")
    return reports
