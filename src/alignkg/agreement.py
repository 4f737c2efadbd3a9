"""Inter-coder reliability: Krippendorff's alpha on the indicator levels coders imply.

Each coder's events (``prov:wasAttributedTo``) are derived on their own, with the same
rules as the whole graph (``rules/derive/``) over the same calendar: a coder's level on
an indicator in a year is whatever the derivation gives from that coder's events alone.
The units are (year, indicator) pairs of one dyad over every year any of the coders
assessed; the values are ordinal (0 absent, 1 low, 2 high, read by
``queries/coder-levels.rq``). A year a coder did not assess at all (before the coder's
first event on the dyad) is a missing value, not 0. Alpha comes from the
``krippendorff`` package (the ``agreement`` extra) at the ordinal level of measurement.
"""

from __future__ import annotations

import csv
import io
import json
import math
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib.namespace import RDF

from alignkg.build import InputFile, KnowledgeGraph, assemble
from alignkg.errors import UsageError
from alignkg.ladder import Ladder
from alignkg.namespace import AK, DATA_GRAPH, INFERRED_GRAPH
from alignkg.output import write_atomic
from alignkg.resources import query_text
from alignkg.stages import dyad_code, dyad_iri, year_literal
from alignkg.store import triples_under

#: The ordinal values of the units, in order (a level's ak:rank; 0 is absent).
VALUE_NAMES: dict[int, str] = {0: "absent", 1: "low", 2: "high"}
CSV_COLUMNS = (
    "scope",
    "rung",
    "indicator",
    "alpha",
    "percent_agreement",
    "units",
    "pairable_units",
    "missing_values",
    "note",
)


@dataclass(frozen=True)
class Coder:
    """A coder named on the command line and the graph's coder it matched."""

    name: str
    iri: str
    label: str
    events: frozenset[str]


@dataclass(frozen=True)
class EventRef:
    """An event behind a coder's level: label, IRI and its quoted passages."""

    iri: str
    label: str
    quotes: tuple[str, ...]


@dataclass(frozen=True)
class CoderLevel:
    """One coder's value on one unit (None: the coder did not assess the year)."""

    coder: str
    value: int | None
    events: tuple[EventRef, ...]

    @property
    def text(self) -> str:
        return "not assessed" if self.value is None else VALUE_NAMES[self.value]


@dataclass(frozen=True)
class Disagreement:
    """A unit on which the coders who assessed it give different levels."""

    year: int
    rung: int
    indicator: str
    levels: tuple[CoderLevel, ...]


@dataclass(frozen=True)
class Score:
    """Agreement on a set of units: one indicator, or all of them ("overall").

    ``alpha`` is None when it is undefined; ``note`` then says why.
    """

    scope: str
    rung: int | None
    indicator: str
    alpha: float | None
    percent_agreement: float | None
    units: int
    pairable_units: int
    missing_values: int
    note: str


@dataclass(frozen=True)
class AgreementResult:
    """Everything ``alignkg agreement`` reports for one dyad."""

    dyad: str
    coders: tuple[str, ...]
    years: tuple[int, ...]
    scores: tuple[Score, ...]
    overall: Score
    disagreements: tuple[Disagreement, ...]
    #: (year, rung) -> each coder's value, in the order of ``coders``.
    units: dict[tuple[int, int], tuple[int | None, ...]]


# --- coders and their graphs --------------------------------------------------------------


def _local_name(iri: str) -> str:
    return iri.rstrip("/#").rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def graph_coders(kg: KnowledgeGraph) -> dict[str, tuple[set[str], set[str]]]:
    """Every coder in the graph: IRI -> (its labels, the IRIs of its events)."""
    found: dict[str, tuple[set[str], set[str]]] = {}
    for row in kg.store.select(query_text("coder-events")):
        labels, events = found.setdefault(str(row["coder"]), (set(), set()))
        if "coderLabel" in row:
            labels.add(str(row["coderLabel"]))
        if "event" in row:
            events.add(str(row["event"]))
    return found


def graph_events(kg: KnowledgeGraph) -> set[str]:
    """The IRIs of every event in the graph, whoever coded it (or nobody)."""
    typed = triples_under(kg.store, DATA_GRAPH) + triples_under(kg.store, INFERRED_GRAPH)
    return {str(s) for s, p, o in typed if p == RDF.type and o == AK.Event}


def match_coders(kg: KnowledgeGraph, names: Sequence[str]) -> list[Coder]:
    """The graph's coders named by ``names`` (local name of the IRI, or a label)."""
    if len(names) < 2:
        raise UsageError("agreement needs two or more coders, e.g. --coders alice,bob")
    known = graph_coders(kg)
    described = (
        ", ".join(
            sorted(
                f"{_local_name(i)} ({'; '.join(sorted(ls))})" if ls else _local_name(i)
                for i, (ls, _e) in known.items()
            )
        )
        or "none"
    )
    chosen: list[Coder] = []
    for name in names:
        hits = [i for i, (labels, _e) in known.items() if name == _local_name(i) or name in labels]
        if not hits:
            folded = name.casefold()
            hits = [
                i
                for i, (labels, _e) in known.items()
                if folded == _local_name(i).casefold() or folded in {x.casefold() for x in labels}
            ]
        if not hits:
            raise UsageError(f"no coder {name!r} in the graph (coders: {described})")
        if len(hits) > 1:
            raise UsageError(f"coder {name!r} is ambiguous: {', '.join(sorted(hits))}")
        iri = hits[0]
        if any(c.iri == iri for c in chosen):
            raise UsageError(f"coder {name!r} is named twice (both are <{iri}>)")
        labels, events = known[iri]
        chosen.append(Coder(name, iri, min(labels) if labels else name, frozenset(events)))
    return chosen


def coder_triples(files: Sequence[InputFile], dropped: set[str]) -> list[ox.Triple]:
    """The asserted triples without the events in ``dropped`` (and the blank nodes that
    hang from them: annotations, coding decisions)."""
    triples = [t for f in files for t in f.triples]
    by_subject: dict[str, list[ox.Triple]] = defaultdict(list)
    for triple in triples:
        by_subject[str(triple.subject)].append(triple)
    removed = {f"<{iri}>" for iri in dropped}
    stack = list(removed)
    while stack:
        for triple in by_subject.get(stack.pop(), []):
            if isinstance(triple.object, ox.BlankNode) and str(triple.object) not in removed:
                removed.add(str(triple.object))
                stack.append(str(triple.object))
    return [t for t in triples if str(t.subject) not in removed]


def coder_graph(kg: KnowledgeGraph, coder: Coder, every_event: set[str]) -> KnowledgeGraph:
    """The graph built from the coder's events alone (every other event of ``every_event``
    left out, including events attributed to nobody), derived over ``kg``'s calendar."""
    triples = coder_triples(kg.files, every_event - coder.events)
    with tempfile.TemporaryDirectory(prefix="alignkg-coder-") as folder:
        path = Path(folder) / f"{_local_name(coder.iri) or 'coder'}.nt"
        write_atomic(path, ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"")
        return assemble([path], engine=kg.store.engine, until=kg.last_year)


def _values(graph: KnowledgeGraph, dyad: str) -> dict[tuple[int, int], int]:
    rows = graph.store.select(query_text("coder-levels"), {"dyad": dyad_iri(dyad)})
    return {(int(str(r["year"])), int(str(r["rung"]))): int(str(r["value"])) for r in rows}


def _evidence(graph: KnowledgeGraph, dyad: str, year: int, rung: int) -> tuple[EventRef, ...]:
    bindings = {"dyad": dyad_iri(dyad), "year": year_literal(year)}
    found: dict[str, tuple[str, set[str]]] = {}
    for row in graph.store.select(query_text("evidence"), bindings):
        if int(str(row["rung"])) != rung:
            continue
        _label, quotes = found.setdefault(str(row["event"]), (str(row.get("label", "")), set()))
        if "quote" in row:
            quotes.add(str(row["quote"]))
    return tuple(
        EventRef(iri, label, tuple(sorted(q))) for iri, (label, q) in sorted(found.items())
    )


# --- the statistics ------------------------------------------------------------------------


def _krippendorff() -> Any:
    try:
        import krippendorff
    except ImportError:
        raise UsageError(
            "alignkg agreement needs the krippendorff package: pip install 'alignkg[agreement]'"
        ) from None
    return krippendorff


def score(
    scope: str,
    rung: int | None,
    indicator: str,
    units: Sequence[tuple[int | None, ...]],
) -> Score:
    """Krippendorff's alpha (ordinal) and percent agreement over ``units`` (each a tuple of
    the coders' values, None where missing)."""
    missing = sum(v is None for unit in units for v in unit)
    pairable = [[v for v in unit if v is not None] for unit in units]
    pairable = [values for values in pairable if len(values) >= 2]
    agreeing = sum(len(set(values)) == 1 for values in pairable)
    percent = 100.0 * agreeing / len(pairable) if pairable else None
    alpha: float | None = None
    if not pairable:
        note = "undefined: no unit was assessed by two coders"
    elif len({v for values in pairable for v in values}) < 2:
        only = VALUE_NAMES[pairable[0][0]]
        note = f"undefined: no variation (every pairable value is {only})"
    else:
        matrix = [
            [math.nan if unit[c] is None else float(unit[c]) for unit in units]  # type: ignore[arg-type]
            for c in range(len(units[0]))
        ]
        alpha = float(
            _krippendorff().alpha(
                reliability_data=matrix,
                level_of_measurement="ordinal",
                value_domain=sorted(VALUE_NAMES),
            )
        )
        note = ""
    return Score(scope, rung, indicator, alpha, percent, len(units), len(pairable), missing, note)


def compute(kg: KnowledgeGraph, dyad: str, coders: Sequence[str]) -> AgreementResult:
    """Compare ``coders`` on the indicator levels of ``dyad`` (see the module docstring)."""
    code = dyad_code(dyad)
    _krippendorff()  # fail before building anything when the extra is not installed
    chosen = match_coders(kg, coders)
    every_event = graph_events(kg)
    graphs: list[KnowledgeGraph | None] = []
    values: list[dict[tuple[int, int], int]] = []
    for coder in chosen:
        graph = coder_graph(kg, coder, every_event) if coder.events else None
        graphs.append(graph)
        values.append(_values(graph, code) if graph is not None else {})
    assessed = [c.name for c, v in zip(chosen, values, strict=True) if v]
    if len(assessed) < 2:
        who = ", ".join(assessed) or "none of them"
        raise UsageError(f"{code}: fewer than two of the coders have events on this dyad ({who})")
    ladder: Ladder = kg.ladder
    years = sorted({year for v in values for (year, _rung) in v})
    keys = [(year, i.rung) for year in years for i in ladder.ordered_indicators()]
    units = {key: tuple(v.get(key) for v in values) for key in keys}
    names = {i.rung: i.notation for i in ladder.ordered_indicators()}
    scores = tuple(
        score("indicator", i.rung, i.notation, [units[k] for k in keys if k[1] == i.rung])
        for i in ladder.ordered_indicators()
    )
    overall = score("overall", None, "all indicators", [units[k] for k in keys])
    disagreements = []
    for (year, rung), unit in units.items():
        if len({v for v in unit if v is not None}) < 2:
            continue
        levels = tuple(
            CoderLevel(
                coder.name,
                value,
                _evidence(graph, code, year, rung) if graph is not None and value else (),
            )
            for coder, value, graph in zip(chosen, unit, graphs, strict=True)
        )
        disagreements.append(Disagreement(year, rung, names[rung], levels))
    return AgreementResult(
        dyad=code,
        coders=tuple(c.name for c in chosen),
        years=tuple(years),
        scores=scores,
        overall=overall,
        disagreements=tuple(disagreements),
        units=units,
    )


# --- presentation ----------------------------------------------------------------------------


def _alpha_text(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.3f}"


def _percent_text(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}%"


def _score_cells(s: Score) -> dict[str, str]:
    return {
        "scope": s.scope,
        "rung": "" if s.rung is None else str(s.rung),
        "indicator": s.indicator,
        "alpha": "" if s.alpha is None else repr(round(s.alpha, 6)),
        "percent_agreement": "" if s.percent_agreement is None else f"{s.percent_agreement:.2f}",
        "units": str(s.units),
        "pairable_units": str(s.pairable_units),
        "missing_values": str(s.missing_values),
        "note": s.note,
    }


def _json(result: AgreementResult) -> str:
    data = {
        "dyad": result.dyad,
        "coders": list(result.coders),
        "years": list(result.years),
        "level_of_measurement": "ordinal",
        "values": VALUE_NAMES,
        "indicators": [asdict(s) for s in result.scores],
        "overall": asdict(result.overall),
        "disagreements": [asdict(d) for d in result.disagreements],
        "units": [
            {"year": year, "rung": rung, "values": dict(zip(result.coders, unit, strict=True))}
            for (year, rung), unit in result.units.items()
        ],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _table(result: AgreementResult) -> str:
    span = f"{result.years[0]}-{result.years[-1]}" if result.years else "no years"
    lines = [
        f"Inter-coder agreement on {result.dyad}, {span}: {', '.join(result.coders)}",
        "Krippendorff's alpha, ordinal (absent 0 < low 1 < high 2); units are (year, indicator);",
        "a year a coder did not assess is a missing value, not 0.",
        "",
    ]
    header = ("indicator", "alpha", "agreement", "units", "pairable", "missing")
    rows = [
        (
            f"{s.rung} {s.indicator}" if s.rung is not None else s.indicator,
            _alpha_text(s.alpha),
            _percent_text(s.percent_agreement),
            str(s.units),
            str(s.pairable_units),
            str(s.missing_values),
        )
        for s in (*result.scores, result.overall)
    ]
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join([first, *rest]).rstrip()

    lines.append(line(header))
    lines.extend(line(r) for r in rows)
    notes = [s for s in (*result.scores, result.overall) if s.note]
    if notes:
        lines.append("")
        lines.extend(
            f"{f'indicator {s.rung} ({s.indicator})' if s.rung is not None else 'overall'}: "
            f"alpha {s.note}"
            for s in notes
        )
    lines.append("")
    lines.append(f"Disagreements ({len(result.disagreements)}):")
    if not result.disagreements:
        lines.append("  none")
    for d in result.disagreements:
        summary = ", ".join(f"{c.coder} {c.text}" for c in d.levels)
        lines.append(f"  {d.year}  indicator {d.rung} ({d.indicator}): {summary}")
        for level in d.levels:
            for event in level.events:
                lines.append(f"      {level.coder} ({level.text}): {event.label} <{event.iri}>")
                lines.extend(f'          "{q}"' for q in event.quotes)
    return "\n".join(lines) + "\n"


def render_result(result: AgreementResult, *, fmt: str) -> str:
    """An agreement result as a table, CSV (one row per indicator and overall) or JSON."""
    if fmt == "json":
        return _json(result)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for s in (*result.scores, result.overall):
            writer.writerow(_score_cells(s))
        return out.getvalue()
    if fmt == "table":
        return _table(result)
    raise UsageError(f"agreement: unknown format {fmt!r} (table, csv or json)")


def render(kg: KnowledgeGraph, *, dyad: str, coders: list[str], fmt: str) -> str:
    """``alignkg agreement``: compute and present the agreement of ``coders`` on ``dyad``."""
    if fmt not in {"table", "csv", "json"}:
        raise UsageError(f"agreement: unknown format {fmt!r} (table, csv or json)")
    return render_result(compute(kg, dyad, coders), fmt=fmt)


__all__ = [
    "AgreementResult",
    "Coder",
    "CoderLevel",
    "Disagreement",
    "EventRef",
    "Score",
    "compute",
    "render",
    "render_result",
    "score",
]
