"""Properties of the derivation (rules/derive/*.rq) on generated graphs.

The SPARQL rules are checked against an independent plain-Python statement of the
same semantics (``reference.py``), and against properties any correct derivation has:
monotonicity of the highest manifested stage, no stage without military events,
independence from input order and file split, and isolation between dyads.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from alignkg.build import assemble
from alignkg.namespace import DERIVED_GRAPH
from alignkg.stages import stage_rows
from reference import (
    FIRST_YEAR,
    LAST_YEAR,
    PAIRS,
    PRECISIONS,
    Event,
    RefRow,
    dyads_of,
    make_event,
    reference_stages,
    stage_rank,
    to_turtle,
)

SETTINGS = settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# --- Strategies ------------------------------------------------------------------------

LAST_DAY = dt.date(LAST_YEAR, 12, 31)
#: Days around the SCO's founding (membership since 2001-06-15).
GROUPING_BOUNDARIES = (dt.date(2001, 6, 14), dt.date(2001, 6, 15), dt.date(2001, 6, 16))


@st.composite
def dates(draw: st.DrawFn, first: int = FIRST_YEAR, last: int = LAST_YEAR) -> dt.date:
    return dt.date(
        draw(st.integers(first, last)), draw(st.integers(1, 12)), draw(st.integers(1, 28))
    )


@st.composite
def events(
    draw: st.DrawFn,
    event_id: str,
    *,
    pairs: tuple[tuple[str, str], ...] | None = None,
    grouping: str | None = None,
    military: bool | None = None,
) -> Event:
    """One event: a bilateral one on one of ``pairs``, or one of ``grouping``."""
    parties = None
    if grouping is None:
        assert pairs
        pair = draw(st.sampled_from(pairs))
        parties = pair if draw(st.booleans()) else (pair[1], pair[0])
    if military is None:
        dimension = draw(st.sampled_from(["military"] * 4 + ["diplomatic", "economic"]))
    elif military:
        dimension = "military"
    else:
        dimension = draw(st.sampled_from(["diplomatic", "economic"]))
    if grouping is None:
        start = draw(dates())
    else:
        start = draw(dates(first=1998) | st.sampled_from(GROUPING_BOUNDARIES))
    end = draw(
        st.none()
        | st.integers(0, (LAST_DAY - start).days).map(lambda d: start + dt.timedelta(days=d))
        | st.integers(0, (dt.date(start.year, 12, 31) - start).days).map(
            lambda d: start + dt.timedelta(days=d)
        )
    )
    is_military = dimension == "military"
    return make_event(
        event_id,
        parties=parties,
        grouping=grouping,
        dimension=dimension,
        indicator=draw(st.integers(1, 7)) if is_military else None,
        level=draw(st.sampled_from(["low", "high"])) if is_military else None,
        start=start,
        end=end,
        persistence=draw(st.sampled_from(["one-off", "persistent"])),
        precision=draw(st.sampled_from(sorted(PRECISIONS))),
    )


@st.composite
def event_lists(
    draw: st.DrawFn,
    *,
    min_events: int = 1,
    max_events: int = 8,
    pairs: tuple[tuple[str, str], ...] | None = None,
    allow_sco: bool = True,
    military: bool | None = None,
    prefix: str = "e",
) -> list[Event]:
    """1-8 bilateral events on 2-3 pairs (or ``pairs``), and optionally one SCO event."""
    if pairs is None:
        pairs = tuple(draw(st.lists(st.sampled_from(PAIRS), min_size=2, max_size=3, unique=True)))
    count = draw(st.integers(min_events, max_events))
    drawn = [
        draw(events(f"{prefix}{i}", pairs=pairs, military=military)) for i in range(count)
    ]
    if allow_sco and draw(st.booleans()):
        drawn.append(draw(events(f"{prefix}{count}", grouping="SCO", military=military)))
    return drawn


# --- Helpers ---------------------------------------------------------------------------


def build(
    folder: Path, files: list[list[Event]], *, until: int | None = None, name: str = "data"
) -> object:
    """Write each list of events to its own Turtle file and assemble them (oxigraph)."""
    folder = folder / name
    folder.mkdir(parents=True, exist_ok=False)
    paths = []
    for i, chunk in enumerate(files):
        path = folder / f"part-{i}.ttl"
        path.write_text(to_turtle(chunk, header=i == 0), encoding="utf-8")
        paths.append(path)
    return assemble(paths, engine="oxigraph", until=until)


def rows_of(kg: object) -> set[RefRow]:
    return {RefRow(*dataclasses.astuple(r)) for r in stage_rows(kg.store)}  # type: ignore[attr-defined]


def derived_triples(kg: object) -> set[tuple[object, object, object]]:
    return set(kg.store.triples(graph=DERIVED_GRAPH))  # type: ignore[attr-defined]


_counter = itertools.count()


def fresh(tmp_path: Path) -> Path:
    """A new empty folder per hypothesis example (tmp_path is shared by all examples)."""
    folder = tmp_path / f"ex{next(_counter)}"
    folder.mkdir()
    return folder


def explain(expected: set[RefRow], actual: set[RefRow]) -> str:
    missing = sorted(expected - actual, key=str)[:8]
    extra = sorted(actual - expected, key=str)[:8]
    return f"\nexpected but not derived: {missing}\nderived but not expected: {extra}"


# --- Properties ------------------------------------------------------------------------

SCO_2018 = [
    make_event("e0", parties=("RUS", "CHN"), indicator=2, level="high",
               start=dt.date(1996, 4, 26), persistence="persistent"),
    make_event("e1", grouping="SCO", indicator=4, level="low",
               start=dt.date(2018, 8, 22), end=dt.date(2018, 8, 29)),
    make_event("e2", grouping="SCO", dimension="diplomatic",
               start=dt.date(2017, 6, 8)),
]
STRICT_LADDER = [
    # Consultations high from 1995 open the moderate stage; MTC and exercises high by
    # 2003 open the advanced stage; a command precursor before that stays a precursor.
    make_event("e0", parties=("CHN", "RUS"), indicator=2, level="low",
               start=dt.date(1992, 3, 1), persistence="persistent"),
    make_event("e1", parties=("CHN", "RUS"), indicator=2, level="high",
               start=dt.date(1995, 3, 1), end=dt.date(1996, 3, 1), persistence="persistent"),
    make_event("e2", parties=("CHN", "RUS"), indicator=5, level="low",
               start=dt.date(1994, 3, 1), end=dt.date(1995, 1, 1)),
    make_event("e3", parties=("RUS", "CHN"), indicator=3, level="high",
               start=dt.date(2000, 3, 1)),
    make_event("e4", parties=("RUS", "CHN"), indicator=4, level="high",
               start=dt.date(2003, 3, 1), persistence="persistent"),
    make_event("e5", parties=("RUS", "CHN"), indicator=6, level="high",
               start=dt.date(2004, 3, 1)),
    make_event("e6", parties=("JPN", "USA"), dimension="economic",
               start=dt.date(1993, 3, 1), end=dt.date(1994, 3, 1)),
]

MODERATE_HIGH_EARLY_LOW = [
    # The moderate stage has become high but the early one never has: the advanced
    # stage stays closed (every lower stage must be high, not just the one below).
    make_event("e0", parties=("CHN", "RUS"), indicator=2, level="low",
               start=dt.date(1992, 5, 1), persistence="persistent"),
    make_event("e1", parties=("CHN", "RUS"), indicator=3, level="high",
               start=dt.date(1995, 5, 1)),
    make_event("e2", parties=("CHN", "RUS"), indicator=4, level="high",
               start=dt.date(1996, 5, 1), persistence="persistent"),
    make_event("e3", parties=("CHN", "RUS"), indicator=5, level="low",
               start=dt.date(1997, 5, 1)),
]
SCO_ON_FOUNDING_DAY = [
    make_event("e0", grouping="SCO", indicator=2, level="low", start=dt.date(2001, 6, 15)),
    make_event("e1", grouping="SCO", indicator=1, level="high", start=dt.date(2001, 6, 14),
               persistence="persistent"),
    make_event("e2", parties=("CHN", "IND"), indicator=3, level="high",
               start=dt.date(1999, 1, 1), end=dt.date(2000, 12, 31)),
]


@SETTINGS
@given(generated=event_lists())
@example(generated=SCO_2018)
@example(generated=STRICT_LADDER)
@example(generated=MODERATE_HIGH_EARLY_LOW)
@example(generated=SCO_ON_FOUNDING_DAY)
def test_sparql_derivation_equals_reference(tmp_path: Path, generated: list[Event]) -> None:
    kg = build(fresh(tmp_path), [generated])
    expected = reference_stages(generated)
    actual = rows_of(kg)
    assert actual == expected, explain(expected, actual)


@SETTINGS
@given(generated=event_lists(), until=st.integers(LAST_YEAR, LAST_YEAR + 5))
def test_sparql_derivation_equals_reference_with_until(
    tmp_path: Path, generated: list[Event], until: int
) -> None:
    kg = build(fresh(tmp_path), [generated], until=until)
    expected = reference_stages(generated, until=until)
    actual = rows_of(kg)
    assert actual == expected, explain(expected, actual)


@SETTINGS
@given(data=st.data())
def test_adding_an_event_never_lowers_the_highest_manifested_stage(
    tmp_path: Path, data: st.DataObject
) -> None:
    pairs = tuple(data.draw(st.lists(st.sampled_from(PAIRS), min_size=2, max_size=3, unique=True)))
    before_events = data.draw(event_lists(pairs=pairs))
    grouping = data.draw(st.sampled_from([None, None, None, "SCO"]))
    added = data.draw(events("added", pairs=pairs, grouping=grouping))
    folder = fresh(tmp_path)
    before = build(folder, [before_events], name="before")
    after = build(folder, [[*before_events, added]], name="after")
    stage_after = {
        (r.dyad, r.year): stage_rank(r.stage) for r in rows_of(after) if r.reading == "manifested"
    }
    for row in rows_of(before):
        if row.reading != "manifested":
            continue
        key = (row.dyad, row.year)
        assert key in stage_after, f"dyad-year {key} disappeared after adding {added}"
        assert stage_after[key] >= stage_rank(row.stage), (
            f"{key}: {row.stage} before, rank {stage_after[key]} after adding {added}"
        )


@SETTINGS
@given(generated=event_lists(military=False))
def test_no_military_events_gives_stage_none(tmp_path: Path, generated: list[Event]) -> None:
    rows = stage_rows(build(fresh(tmp_path), [generated]).store)  # type: ignore[attr-defined]
    bilateral = {"-".join(sorted(e["parties"])) for e in generated if e["parties"]}
    assert bilateral <= {r.dyad for r in rows}, "every dyad with events has dyad-years"
    for row in rows:
        assert (row.stage, row.level, row.highest_indicator, row.counted, row.precursors) == (
            "none", "", None, (), ()
        ), row
    assert {RefRow(*dataclasses.astuple(r)) for r in rows} == reference_stages(generated)


@SETTINGS
@given(generated=event_lists(min_events=2), data=st.data())
def test_input_order_and_file_split_do_not_matter(
    tmp_path: Path, generated: list[Event], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(generated))
    parts = data.draw(st.integers(2, 3))
    cuts = sorted(
        data.draw(st.lists(st.integers(0, len(shuffled)), min_size=parts - 1, max_size=parts - 1))
    )
    bounds = [0, *cuts, len(shuffled)]
    chunks = [shuffled[a:b] for a, b in itertools.pairwise(bounds)]
    folder = fresh(tmp_path)
    whole = build(folder, [generated], name="whole")
    split = build(folder, chunks, name="split")
    assert rows_of(split) == rows_of(whole)
    assert derived_triples(split) == derived_triples(whole)


@SETTINGS
@given(data=st.data())
def test_a_dyads_events_never_change_another_dyads_stage(
    tmp_path: Path, data: st.DataObject
) -> None:
    first_pair = data.draw(st.sampled_from(PAIRS))
    others = tuple(p for p in PAIRS if p != first_pair)
    mine = data.draw(event_lists(pairs=(first_pair,), allow_sco=False, prefix="a"))
    dyad = "-".join(sorted(first_pair))
    # Another dyad's events: an SCO event that projects to this dyad too is not one.
    theirs = [
        e for e in data.draw(event_lists(pairs=others, prefix="b")) if dyad not in dyads_of(e)
    ]
    # The calendar ends at the same year in both graphs, so persistent events without an
    # end run equally long; only the other dyads' events differ.
    folder = fresh(tmp_path)
    alone = build(folder, [mine], until=LAST_YEAR, name="alone")
    together = build(folder, [mine, theirs], until=LAST_YEAR, name="together")
    alone_rows = {r for r in rows_of(alone) if r.dyad == dyad}
    together_rows = {r for r in rows_of(together) if r.dyad == dyad}
    assert alone_rows, "the first dyad has dyad-years"
    assert together_rows == alone_rows, explain(alone_rows, together_rows)


def test_reference_agrees_on_a_hand_checked_case() -> None:
    """The reference itself, on STRICT_LADDER, against values worked out by hand."""
    rows = {(r.year, r.reading): r for r in reference_stages(STRICT_LADDER) if r.dyad == "CHN-RUS"}
    assert rows[1994, "strict"][3:] == ("early", "low", 5, (2,), (5,))
    assert rows[1994, "manifested"][3:] == ("advanced", "low", 5, (2, 5), ())
    assert rows[1995, "strict"][3:] == ("early", "high", 5, (2,), (5,))
    assert rows[1997, "strict"][3:] == ("early", "high", 2, (2,), ())
    assert rows[2000, "strict"][3:] == ("moderate", "low", 3, (2, 3), ())
    assert rows[2003, "strict"][3:] == ("moderate", "high", 4, (2, 4), ())
    assert rows[2004, "strict"][3:] == ("advanced", "low", 6, (2, 4, 6), ())
    assert rows[2004, "manifested"][3:] == ("advanced", "low", 6, (2, 4, 6), ())
    assert rows[1993, "manifested"][3:] == ("early", "low", 2, (2,), ())
    assert rows[2004, "strict"].year == 2004 and max(y for y, _ in rows) == 2004
    jpn = [r for r in reference_stages(STRICT_LADDER) if r.dyad == "JPN-USA"]
    assert {(r.year, r.stage, r.level) for r in jpn} == {
        (y, "none", "") for y in range(1993, 2005)
    }


def test_reference_keeps_advanced_closed_until_early_is_high() -> None:
    rows = {(r.year, r.reading): r for r in reference_stages(MODERATE_HIGH_EARLY_LOW)}
    assert rows[1997, "strict"][3:] == ("early", "low", 5, (2,), (4, 5))
    assert rows[1997, "manifested"][3:] == ("advanced", "low", 5, (2, 4, 5), ())


@pytest.mark.parametrize(
    ("day", "expected"),
    [(dt.date(2017, 6, 8), 15), (dt.date(2017, 6, 9), 28), (dt.date(2018, 6, 8), 28)],
)
def test_sco_projects_to_members_on_the_event_date(
    tmp_path: Path, day: dt.date, expected: int
) -> None:
    """IND and PAK joined on 2017-06-09: an SCO event before that day excludes them."""
    generated = [make_event("e0", grouping="SCO", indicator=4, level="high", start=day)]
    kg = build(tmp_path, [generated])
    dyads = {r.dyad for r in rows_of(kg)}
    assert ("IND-PAK" in dyads) == (expected == 28)
    assert len(dyads) == expected
    assert rows_of(kg) == reference_stages(generated)
