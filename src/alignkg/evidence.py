"""Explanations: the derivation chain behind a dyad's stage in a year.

stage <- indicator levels <- events <- quotes <- sources (language, kind, URL), with
the ladder's reasons (which lower stage has or has not become high) read from the
precedence graph and the derived milestones.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from alignkg.build import KnowledgeGraph
from alignkg.ladder import Ladder
from alignkg.resources import query_text
from alignkg.stages import StageRow, dyad_code, dyad_iri, stage_rows, year_literal


@dataclass
class SourceRef:
    iri: str
    title: str
    language: str
    kind: str
    url: str
    printed_title: str = ""

    def heading(self) -> str:
        """The title as printed, with its English form in brackets when both exist."""
        if self.printed_title and self.title:
            return f"{self.printed_title} [{self.title}]"
        return self.printed_title or self.title or self.iri


@dataclass
class Decision:
    decision: str
    reason: str


@dataclass
class EventEvidence:
    iri: str
    label: str
    start: str
    level: str
    quotes: set[tuple[str, str]] = field(default_factory=set)
    sources: dict[str, SourceRef] = field(default_factory=dict)
    location: str = ""
    decisions: list[Decision] = field(default_factory=list)


@dataclass
class Explanation:
    """Everything needed to explain one dyad-year."""

    dyad: str
    year: int
    assessments: list[StageRow]
    levels: dict[int, str]
    events: dict[int, list[EventEvidence]]
    first_high: dict[int, int]
    first_seen: dict[int, int]
    stage_high: dict[int, bool] = field(default_factory=dict)


def explain(
    kg: KnowledgeGraph, *, dyad: str, year: int, rows: Sequence[StageRow] | None = None
) -> Explanation:
    """Collect the chain for ``dyad`` in ``year`` from the store. ``rows``: the dyad's stage
    rows when the caller has them already (a report explains many years of one dyad)."""
    code = dyad_code(dyad)
    if rows is None:
        rows = stage_rows(kg.store, dyad=code)
    assessments = [r for r in rows if r.year == year and r.dyad == code]
    bindings = {"dyad": dyad_iri(code), "year": year_literal(year)}
    levels: dict[int, str] = {}
    events: dict[int, dict[str, EventEvidence]] = defaultdict(dict)
    for row in kg.store.select(query_text("evidence"), bindings):
        rung = int(str(row["rung"]))
        levels[rung] = str(row["levelCode"])
        iri = str(row["event"])
        item = events[rung].get(iri)
        if item is None:
            where = kg.location_of(iri)
            item = EventEvidence(
                iri=iri,
                label=str(row["label"]),
                start=str(row["start"]),
                level=str(row["levelCode"]),
                location=f"{where[0]}:{where[1]}" if where else "",
            )
            events[rung][iri] = item
        if "quote" in row:
            item.quotes.add((str(row["quote"]), str(row.get("quoteSource", ""))))
        if "source" in row:
            source = str(row["source"])
            item.sources.setdefault(
                source,
                SourceRef(
                    iri=source,
                    title=str(row.get("title", "")),
                    language=str(row.get("language", "")),
                    kind=str(row.get("kindCode", "")),
                    url=str(row.get("url", "")),
                    printed_title=str(row.get("printedTitle", "")),
                ),
            )
    decisions: dict[str, list[Decision]] = defaultdict(list)
    for row in kg.store.select(query_text("coding-decisions"), {"dyad": dyad_iri(code)}):
        decisions[str(row["event"])].append(
            Decision(decision=str(row["decision"]), reason=str(row.get("reason", "")))
        )
    for found in events.values():
        for iri, item in found.items():
            item.decisions = decisions.get(iri, [])
    first_high: dict[int, int] = {}
    first_seen: dict[int, int] = {}
    for row in kg.store.select(query_text("milestones"), {"dyad": dyad_iri(code)}):
        rung = int(str(row["rung"]))
        first_seen[rung] = int(str(row["firstYear"]))
        if "firstHighYear" in row:
            first_high[rung] = int(str(row["firstHighYear"]))
    stage_high = {
        int(str(row["rank"])): str(row["high"]) in {"true", "1"}
        for row in kg.store.select(query_text("stage-status"), bindings)
    }
    return Explanation(
        dyad=code,
        year=year,
        assessments=assessments,
        levels=levels,
        events={rung: list(found.values()) for rung, found in sorted(events.items())},
        first_high=first_high,
        first_seen=first_seen,
        stage_high=stage_high,
    )


def gate_lines(explanation: Explanation, ladder: Ladder) -> list[str]:
    """For each stage, whether it has become high in the year, and why (one line each)."""
    lines = []
    for stage in sorted(ladder.stages.values(), key=lambda s: s.rank):
        if stage.rank == 0 or not stage.becomes_high_with:
            continue
        parts = []
        for gate in sorted(stage.becomes_high_with, key=lambda g: ladder.indicators[g].rung):
            rung = ladder.indicators[gate].rung
            since = explanation.first_high.get(rung)
            if since is not None and since <= explanation.year:
                parts.append(f"indicator {rung} high since {since}")
            elif since is not None:
                parts.append(f"indicator {rung} not high until {since}")
            else:
                parts.append(f"indicator {rung} never high")
        reached = explanation.stage_high.get(stage.rank, False)
        verdict = "has become high" if reached else "has not become high"
        lines.append(f"{stage.label} {verdict} ({'; '.join(parts)})")
    return lines


def render(explanation: Explanation, ladder: Ladder) -> str:
    """The chain as indented text."""
    out = [f"{explanation.dyad} {explanation.year}"]
    if not explanation.assessments:
        out.append("  no assessment: the dyad has no events active in or before this year")
        return "\n".join(out) + "\n"
    names = {"strict": "strict ladder", "manifested": "highest manifested"}
    for row in sorted(explanation.assessments, key=lambda r: r.reading, reverse=True):
        level = f" ({row.level})" if row.level else ""
        counted = ", ".join(str(r) for r in row.counted) or "none"
        line = (
            f"  {names.get(row.reading, row.reading)}: stage {row.stage}{level}; counts {counted}"
        )
        if row.precursors:
            line += "; precursors " + ", ".join(str(r) for r in row.precursors)
        out.append(line)
    out.append("  the ladder in this year:")
    out.extend(f"    {line}" for line in gate_lines(explanation, ladder))
    out.append("  indicator levels <- events <- quotes <- sources:")
    if not explanation.events:
        out.append("    no indicator is present")
    for rung, found in explanation.events.items():
        indicator = ladder.indicator_by_rung(rung)
        out.append(f"    indicator {rung} {indicator.label}: {explanation.levels[rung]}")
        for event in found:
            where = f"  [{event.location}]" if event.location else ""
            new = "new: " if event.start[:4] == str(explanation.year) else ""
            out.append(f"      <- {new}{event.label} ({event.start}, {event.level}){where}")
            out.append(f"         <{event.iri}>")
            for quote, document in sorted(event.quotes):
                out.append(f"         quote: “{quote}”")
                out.append(f"           in <{document}>")
            for choice in event.decisions:
                out.append(f"         decision: {choice.decision}")
                if choice.reason:
                    out.append(f"           because: {choice.reason}")
            for source in sorted(event.sources.values(), key=lambda s: s.iri):
                detail = ", ".join(x for x in (source.language, source.kind) if x)
                out.append(f"         source: {source.heading()} [{detail}]")
                if source.url:
                    out.append(f"           {source.url}")
    return "\n".join(out) + "\n"
