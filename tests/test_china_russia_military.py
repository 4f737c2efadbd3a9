"""The military coding of China–Russia (kg/china-russia.ttl) keeps its conventions.

Every event is a bilateral or SCO military event on indicators 1–5, cites the paper and
exactly the sources of the footnotes it records, and carries a coding decision wherever
the paper gives its date only to the year or the code sets an end date.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import RDF

AK = Namespace("https://w3id.org/alignkg/ns#")
PROV = Namespace("http://www.w3.org/ns/prov#")
OA = Namespace("http://www.w3.org/ns/oa#")
KG = Path(__file__).resolve().parent.parent / "kg"
MILITARY = KG / "china-russia.ttl"
PAPER = URIRef("https://w3id.org/alignkg/source/korolev-2019")
STATE = "https://w3id.org/alignkg/state/"
SCO = URIRef("https://w3id.org/alignkg/grouping/SCO")


@cache
def _military() -> Graph:
    return Graph().parse(MILITARY, format="turtle")


@cache
def _all() -> Graph:
    graph = Graph()
    for path in sorted(KG.glob("*.ttl")):
        graph.parse(path, format="turtle")
    return graph


def _events() -> list[URIRef]:
    return sorted(_military().subjects(RDF.type, AK.Event))  # type: ignore[arg-type]


EVENTS = _events()


def test_every_military_event_of_the_paper_is_coded() -> None:
    assert 75 <= len(EVENTS) <= 95
    names = {str(_military().value(e, AK.indicator)).rsplit("#", 1)[-1] for e in EVENTS}
    assert names == {
        "ConfidenceBuilding",
        "MilitaryConsultation",
        "MilitaryTechnicalCooperation",
        "JointExercises",
        "IntegratedCommand",
    }


@pytest.mark.parametrize("event", EVENTS, ids=[str(e).rsplit("/", 1)[-1] for e in EVENTS])
def test_event_shape(event: URIRef) -> None:
    g = _military()
    assert g.value(event, AK.dimension) == AK.Military
    assert g.value(event, AK.level) in {AK.Low, AK.High}
    parties = {str(p) for p in g.objects(event, AK.party)}
    grouping = set(g.objects(event, AK.grouping))
    assert parties == {STATE + "CHN", STATE + "RUS"} or (not parties and grouping == {SCO})
    assert PAPER in set(g.objects(event, PROV.wasDerivedFrom))
    assert g.value(event, AK.evidence) is not None
    # a date known only to the year is a judgement call, and so is an end date
    if g.value(event, AK.datePrecision) == AK.YearPrecision or g.value(event, AK.endDate):
        assert g.value(event, AK.codingDecision) is not None


@pytest.mark.parametrize("event", EVENTS, ids=[str(e).rsplit("/", 1)[-1] for e in EVENTS])
def test_footnotes_and_sources_agree(event: URIRef) -> None:
    """An event cites the sources of exactly the footnotes it records, and the paper."""
    g, everything = _military(), _all()
    footnotes = {int(f) for f in g.objects(event, AK.footnote)}
    cited = set(g.objects(event, PROV.wasDerivedFrom)) - {PAPER}
    if not any(everything.objects(None, AK.footnote)):
        pytest.skip("no source descriptions in kg/")
    expected = {
        source
        for source in everything.subjects(RDF.type, AK.Source)
        if footnotes & {int(f) for f in everything.objects(source, AK.footnote)}
    }
    assert cited == expected


def test_no_evidence_for_indicators_6_and_7() -> None:
    g = _military()
    assert not set(g.subjects(AK.indicator, AK.JointDeployment))
    assert not set(g.subjects(AK.indicator, AK.CommonDefencePolicy))


def test_only_the_sco_s_own_bodies_are_multilateral() -> None:
    g = _military()
    multilateral = {str(e).rsplit("/", 1)[-1] for e in g.subjects(AK.grouping, SCO)}
    assert multilateral == {
        "2001-06-sco-consultation-mechanism",
        "2001-06-sco-heads-of-ministries-meetings",
        "2004-06-sco-rats",
    }
