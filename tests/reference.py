"""An independent, plain-Python statement of the derivation, for checking the SPARQL rules.

Nothing here is read from the ``alignkg`` package: the ladder, the SCO membership and
the rules are re-declared by hand from the documented semantics, so that the tests
compare two independent implementations (``rules/derive/*.rq`` against this file).

Events are plain dicts::

    {
        "id": "e0",                       # local name of the event IRI (ex:e0)
        "parties": ("RUS", "CHN"),        # two ISO codes, any order; or None
        "grouping": "SCO",                # a grouping code; or None
        "dimension": "military",          # or "diplomatic" / "economic"
        "indicator": 3,                   # rung 1..7; None for non-military events
        "level": "low",                   # "low" / "high"; None for non-military events
        "start": datetime.date(1993, 10, 11),
        "end": None,                      # a date >= start, or None
        "persistence": "one-off",         # or "persistent"
        "precision": "day",               # "day" / "month" / "year"
    }

:func:`generate_events` draws such events deterministically from a seed,
:func:`to_turtle` writes them as a coded-event file, and :func:`reference_stages`
computes every stage row of both readings.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from itertools import combinations
from typing import Any, NamedTuple

Event = dict[str, Any]

# --- The ladder, re-declared (ontology/alignkg.ttl) -----------------------------------

#: Rung -> local name of the indicator in the ak: namespace.
INDICATOR_NAMES: dict[int, str] = {
    1: "ConfidenceBuilding",
    2: "MilitaryConsultation",
    3: "MilitaryTechnicalCooperation",
    4: "JointExercises",
    5: "IntegratedCommand",
    6: "JointDeployment",
    7: "CommonDefencePolicy",
}
#: Rung -> rank of the stage the indicator belongs to.
STAGE_OF_RUNG: dict[int, int] = {1: 1, 2: 1, 3: 2, 4: 2, 5: 3, 6: 3, 7: 3}
#: Stage rank -> its notation.
STAGE_NAMES: dict[int, str] = {0: "none", 1: "early", 2: "moderate", 3: "advanced"}
#: Stage rank -> the rungs that must all have been high for the stage to have become high.
BECOMES_HIGH_WITH: dict[int, frozenset[int]] = {
    1: frozenset({2}),
    2: frozenset({3, 4}),
    3: frozenset({5, 6, 7}),
}
LEVEL_RANK: dict[str, int] = {"low": 1, "high": 2}
#: ak:oneOffYears of ak:DefaultRules.
ONE_OFF_YEARS = 1

# --- Groupings, re-declared (ontology/states.ttl) --------------------------------------

#: Grouping code -> {member ISO code: member since}.
GROUPING_MEMBERS: dict[str, dict[str, dt.date]] = {
    "SCO": {
        **{code: dt.date(2001, 6, 15) for code in ("CHN", "RUS", "KAZ", "KGZ", "TJK", "UZB")},
        **{code: dt.date(2017, 6, 9) for code in ("IND", "PAK")},
    },
}

# --- Turtle vocabulary -----------------------------------------------------------------

DIMENSIONS = {"military": "Military", "diplomatic": "Diplomatic", "economic": "Economic"}
LEVELS = {"low": "Low", "high": "High"}
PERSISTENCES = {"one-off": "OneOff", "persistent": "Persistent"}
PRECISIONS = {"day": "DayPrecision", "month": "MonthPrecision", "year": "YearPrecision"}

PREFIXES = """\
@prefix ak: <https://w3id.org/alignkg/ns#> .
@prefix state: <https://w3id.org/alignkg/state/> .
@prefix grouping: <https://w3id.org/alignkg/grouping/> .
@prefix ex: <https://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix oa: <http://www.w3.org/ns/oa#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
"""

HEADER = """\
ex:src a ak:Source ; dcterms:title "A source"@en ; dcterms:language "en" ; ak:sourceKind ak:News .
ex:coder a ak:Coder ; rdfs:label "tester" .
"""


class RefRow(NamedTuple):
    """One stage row, field for field as ``alignkg.stages.StageRow``."""

    dyad: str
    year: int
    reading: str
    stage: str
    level: str
    highest_indicator: int | None
    counted: tuple[int, ...]
    precursors: tuple[int, ...]


# --- Generating events -----------------------------------------------------------------

#: Bilateral pairs the generator draws from.
PAIRS: tuple[tuple[str, str], ...] = (
    ("CHN", "RUS"),
    ("IND", "PAK"),
    ("JPN", "USA"),
    ("FRA", "KAZ"),
    ("RUS", "USA"),
    ("CHN", "IND"),
)
FIRST_YEAR = 1992
LAST_YEAR = 2010


def _random_date(rng: random.Random, first: int = FIRST_YEAR, last: int = LAST_YEAR) -> dt.date:
    return dt.date(rng.randint(first, last), rng.randint(1, 12), rng.randint(1, 28))


def generate_events(
    seed: int,
    *,
    count: int | None = None,
    pairs: Sequence[tuple[str, str]] | None = None,
    with_sco: bool | None = None,
    military_share: float = 0.8,
) -> list[Event]:
    """Between 1 and 8 events (or ``count``) drawn deterministically from ``seed``."""
    rng = random.Random(seed)
    if pairs is None:
        pairs = rng.sample(PAIRS, rng.randint(2, 3))
    count = rng.randint(1, 8) if count is None else count
    if with_sco is None:
        with_sco = rng.random() < 0.3
    events = []
    for i in range(count):
        pair = rng.choice(list(pairs))
        if rng.random() < 0.5:
            pair = (pair[1], pair[0])
        events.append(_random_event(rng, f"e{i}", pair, None, military_share))
    if with_sco:
        events.append(_random_event(rng, f"e{count}", None, "SCO", military_share))
    return events


def _random_event(
    rng: random.Random,
    event_id: str,
    parties: tuple[str, str] | None,
    grouping: str | None,
    military_share: float,
) -> Event:
    military = rng.random() < military_share
    start = _random_date(rng)
    end = None
    if rng.random() < 0.4:
        end = start + dt.timedelta(days=rng.randint(0, (dt.date(LAST_YEAR, 12, 31) - start).days))
    return make_event(
        event_id,
        parties=parties,
        grouping=grouping,
        dimension="military" if military else rng.choice(["diplomatic", "economic"]),
        indicator=rng.randint(1, 7) if military else None,
        level=rng.choice(["low", "high"]) if military else None,
        start=start,
        end=end,
        persistence=rng.choice(["one-off", "persistent"]),
        precision=rng.choice(list(PRECISIONS)),
    )


def make_event(
    event_id: str,
    *,
    parties: tuple[str, str] | None = None,
    grouping: str | None = None,
    dimension: str = "military",
    indicator: int | None = None,
    level: str | None = None,
    start: dt.date,
    end: dt.date | None = None,
    persistence: str = "one-off",
    precision: str = "day",
) -> Event:
    """An event dict, checked for the shape the generator promises."""
    if (parties is None) == (grouping is None):
        raise ValueError("an event has either two parties or a grouping")
    if dimension == "military" and (indicator is None or level is None):
        raise ValueError("a military event has an indicator and a level")
    if end is not None and end < start:
        raise ValueError("end before start")
    return {
        "id": event_id,
        "parties": tuple(parties) if parties is not None else None,
        "grouping": grouping,
        "dimension": dimension,
        "indicator": indicator,
        "level": level,
        "start": start,
        "end": end,
        "persistence": persistence,
        "precision": precision,
    }


# --- Writing Turtle --------------------------------------------------------------------


def event_turtle(event: Event) -> str:
    """The Turtle statements of one event (deterministic)."""
    lines = [f'ex:{event["id"]} a ak:Event ; rdfs:label "event {event["id"]}" ;']
    if event["parties"] is not None:
        a, b = event["parties"]
        lines.append(f"  ak:party state:{a} , state:{b} ;")
    else:
        lines.append(f'  ak:grouping grouping:{event["grouping"]} ;')
    lines.append(f'  ak:dimension ak:{DIMENSIONS[event["dimension"]]} ;')
    if event["indicator"] is not None:
        lines.append(f'  ak:indicator ak:{INDICATOR_NAMES[event["indicator"]]} ;')
    if event["level"] is not None:
        lines.append(f'  ak:level ak:{LEVELS[event["level"]]} ;')
    lines.append(f'  ak:startDate "{event["start"].isoformat()}"^^xsd:date ;')
    if event["end"] is not None:
        lines.append(f'  ak:endDate "{event["end"].isoformat()}"^^xsd:date ;')
    lines.append(f'  ak:datePrecision ak:{PRECISIONS[event["precision"]]} ;')
    lines.append(f'  ak:persistence ak:{PERSISTENCES[event["persistence"]]} ;')
    lines.append("  prov:wasDerivedFrom ex:src ; prov:wasAttributedTo ex:coder ;")
    lines.append(
        "  ak:evidence [ a oa:Annotation ; oa:hasTarget [ oa:hasSource ex:src ;"
        ' oa:hasSelector [ a oa:TextQuoteSelector ; oa:exact "quoted passage" ] ] ] .'
    )
    return "\n".join(lines) + "\n"


def to_turtle(events: Iterable[Event], *, header: bool = True) -> str:
    """A coded-event Turtle file: prefixes, (optionally) the source and coder, the events."""
    parts = [PREFIXES, HEADER if header else ""]
    parts += [event_turtle(e) for e in events]
    return "\n".join(parts)


# --- The reference derivation ----------------------------------------------------------


def calendar(events: Sequence[Event], until: int | None = None) -> tuple[int, int] | None:
    """First and last calendar year: every start and end year (and ``until``)."""
    years = [e["start"].year for e in events] + [e["end"].year for e in events if e["end"]]
    if not years:
        return None
    first, last = min(years), max(years)
    if until is not None:
        last = max(last, until)
    return first, last


def dyads_of(event: Event) -> list[str]:
    """The dyads (``AAA-BBB``) an event counts for."""
    if event["parties"] is not None:
        a, b = sorted(event["parties"])
        return [f"{a}-{b}"]
    members = GROUPING_MEMBERS[event["grouping"]]
    present = sorted(code for code, since in members.items() if since <= event["start"])
    return [f"{a}-{b}" for a, b in combinations(present, 2)]


def active_years(event: Event, first: int, last: int) -> range:
    """The calendar years in which an event counts."""
    start = event["start"].year
    end = event["end"].year if event["end"] is not None else None
    if event["persistence"] == "persistent":
        stop = end if end is not None else last
    else:
        stop = start + ONE_OFF_YEARS - 1
        if end is not None and end > stop:
            stop = end
    return range(max(start, first), min(stop, last) + 1)


def reference_stages(events: Sequence[Event], until: int | None = None) -> set[RefRow]:
    """Every stage row, both readings, every dyad-year, computed in plain Python."""
    span = calendar(events, until)
    if span is None:
        return set()
    first, last = span
    first_active: dict[str, int] = {}
    # dyad -> year -> rung -> level rank
    levels: dict[str, dict[int, dict[int, int]]] = defaultdict(lambda: defaultdict(dict))
    for event in events:
        years = active_years(event, first, last)
        for dyad in dyads_of(event):
            for year in years:
                first_active[dyad] = min(first_active.get(dyad, year), year)
                if event["indicator"] is None:
                    continue
                rank = LEVEL_RANK[event["level"]]
                present = levels[dyad][year]
                present[event["indicator"]] = max(present.get(event["indicator"], 0), rank)

    rows: set[RefRow] = set()
    for dyad, start in first_active.items():
        first_high: dict[int, int] = {}
        for year in sorted(levels[dyad]):
            for rung, rank in levels[dyad][year].items():
                if rank == LEVEL_RANK["high"] and rung not in first_high:
                    first_high[rung] = year

        def became_high(stage: int, year: int, first_high: dict[int, int] = first_high) -> bool:
            return all(r in first_high and first_high[r] <= year for r in BECOMES_HIGH_WITH[stage])

        for year in range(start, last + 1):
            present = sorted(levels[dyad].get(year, {}))
            highest = max(present) if present else None

            manifested = max((STAGE_OF_RUNG[r] for r in present), default=0)
            rows.add(
                RefRow(
                    dyad, year, "manifested", STAGE_NAMES[manifested],
                    _level(manifested, year, became_high), highest, tuple(present), (),
                )
            )

            counted_stages = [
                rank
                for rank in (1, 2, 3)
                if any(STAGE_OF_RUNG[r] == rank for r in present)
                and all(became_high(lower, year) for lower in range(1, rank))
            ]
            strict = max(counted_stages, default=0)
            rows.add(
                RefRow(
                    dyad, year, "strict", STAGE_NAMES[strict],
                    _level(strict, year, became_high), highest,
                    tuple(r for r in present if STAGE_OF_RUNG[r] <= strict),
                    tuple(r for r in present if STAGE_OF_RUNG[r] > strict),
                )
            )
    return rows


def _level(stage: int, year: int, became_high: Any) -> str:
    if stage == 0:
        return ""
    return "high" if became_high(stage, year) else "low"


def stage_rank(stage: str) -> int:
    """The rank of a stage notation ("none" is 0)."""
    return {name: rank for rank, name in STAGE_NAMES.items()}[stage]
