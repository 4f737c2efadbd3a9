"""The precedence graph is built from the ontology, checked, and gives ranks and prerequisites."""

from __future__ import annotations

import pytest
from rdflib import Graph, Literal

from alignkg.build import ontology_graph
from alignkg.errors import LadderError
from alignkg.ladder import Ladder, build_ladder
from alignkg.namespace import AK
from alignkg.stages import StageRow, transitions


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return ontology_graph()


@pytest.fixture(scope="module")
def ladder(ontology: Graph) -> Ladder:
    return build_ladder(ontology)


def _rungs(ladder: Ladder, iris: set) -> set[int]:  # type: ignore[type-arg]
    return {ladder.indicators[i].rung for i in iris}


def test_seven_indicators_in_three_stages(ladder: Ladder) -> None:
    assert [i.rung for i in ladder.ordered_indicators()] == [1, 2, 3, 4, 5, 6, 7]
    by_stage = {
        s.notation: sorted(i.rung for i in ladder.indicators.values() if i.stage == s.iri)
        for s in ladder.stages.values()
    }
    assert by_stage == {"none": [], "early": [1, 2], "moderate": [3, 4], "advanced": [5, 6, 7]}


@pytest.mark.parametrize(
    ("rung", "prerequisites"),
    [(1, set()), (2, set()), (3, {2}), (4, {2}), (5, {2, 3, 4}), (6, {2, 3, 4}), (7, {2, 3, 4})],
)
def test_prerequisites_follow_the_paper(ladder: Ladder, rung: int, prerequisites: set[int]) -> None:
    assert _rungs(ladder, ladder.prerequisites(ladder.indicator_by_rung(rung).iri)) == prerequisites


def test_stage_gates(ladder: Ladder) -> None:
    gates = {s.notation: _rungs(ladder, set(s.becomes_high_with)) for s in ladder.stages.values()}
    assert gates == {"none": set(), "early": {2}, "moderate": {3, 4}, "advanced": {5, 6, 7}}


def test_closure_triples_are_the_transitive_closure(ladder: Ladder) -> None:
    closure = ladder.closure_triples()
    assert len(closure) == 2 + 3 * 3
    assert all(p == AK.prerequisite for _, p, _ in closure)


def test_a_cycle_is_refused(ontology: Graph) -> None:
    broken = Graph()
    for triple in ontology:
        broken.add(triple)
    broken.add((AK.MilitaryConsultation, AK.requires, AK.JointExercises))
    with pytest.raises(LadderError, match="cycle"):
        build_ladder(broken)


def test_a_prerequisite_above_its_indicator_is_refused(ontology: Graph) -> None:
    broken = Graph()
    for triple in ontology:
        broken.add(triple)
    broken.add((AK.ConfidenceBuilding, AK.requires, AK.CommonDefencePolicy))
    with pytest.raises(LadderError, match="lower rungs"):
        build_ladder(broken)


def test_a_rank_out_of_chain_is_refused(ontology: Graph) -> None:
    broken = Graph()
    for triple in ontology:
        if triple[:2] != (AK.AdvancedStage, AK.rank):
            broken.add(triple)
    broken.add((AK.AdvancedStage, AK.rank, Literal(5)))
    with pytest.raises(LadderError, match="rank 5"):
        build_ladder(broken)


# --- Transitions: the years a stage or its level changes ------------------------------


def _row(year: int, stage: str, level: str) -> StageRow:
    return StageRow("CHN-RUS", year, "strict", stage, level, None, (), ())


TRANSITION_CASES = {
    "first year is a transition": ([(1992, "early", "low")], [1992]),
    "steady years are not": ([(1992, "early", "low"), (1993, "early", "low")], [1992]),
    "a level change is one": ([(1992, "early", "low"), (1993, "early", "high")], [1992, 1993]),
    "a fall back is one": (
        [(2014, "moderate", "high"), (2015, "advanced", "low"), (2016, "moderate", "high")],
        [2014, 2015, 2016],
    ),
    "rows in any order": ([(1994, "moderate", "low"), (1993, "early", "low")], [1993, 1994]),
    "no rows, no transitions": ([], []),
}


@pytest.mark.parametrize(("rows", "years"), TRANSITION_CASES.values(), ids=list(TRANSITION_CASES))
def test_transitions(rows: list[tuple[int, str, str]], years: list[int]) -> None:
    found = transitions([_row(*row) for row in rows])
    assert [t.year for t in found] == years
    assert all(
        t.before is None or (t.before.stage, t.before.level) != (t.after.stage, t.after.level)
        for t in found
    )


def test_transition_text() -> None:
    first, second = transitions([_row(2015, "advanced", "low"), _row(2016, "moderate", "high")])
    assert first.describe() == "not assessed -> advanced (low)"
    assert second.describe() == "advanced (low) -> moderate (high)"
