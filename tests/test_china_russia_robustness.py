"""The China–Russia diplomatic and economic coding (kg/china-russia-diplomatic-economic.ttl)."""

from __future__ import annotations

from datetime import date
from itertools import pairwise
from pathlib import Path

import pytest
from rdflib import Graph, Literal, Namespace, URIRef

from alignkg.build import ontology_graph
from alignkg.namespace import AK

ROOT = Path(__file__).resolve().parent.parent
FILE = ROOT / "kg" / "china-russia-diplomatic-economic.ttl"

EV = Namespace("https://w3id.org/alignkg/event/china-russia/")
SRC = Namespace("https://w3id.org/alignkg/source/")
STATE = Namespace("https://w3id.org/alignkg/state/")
GROUPING = Namespace("https://w3id.org/alignkg/grouping/")
PROV = Namespace("http://www.w3.org/ns/prov#")
OA = Namespace("http://www.w3.org/ns/oa#")
CODER = Namespace("https://w3id.org/alignkg/coder/")
RDF_TYPE = URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
XSD_DATE = URIRef("http://www.w3.org/2001/XMLSchema#date")

PAPER = SRC["korolev-2019"]

#: The source each footnote the file cites stands for (footnote 103 only cross-references
#: the paper itself, so it adds no source).
FOOTNOTE_SOURCES = {
    29: SRC["fn29-treaty-2001"],
    33: SRC["fn33-mfa-press-conference-2016"],
    91: SRC["fn91-un-veto-list"],
    92: SRC["fn92-guardian-2012"],
    93: SRC["fn93-voltaire-network-syria"],
    94: SRC["fn94-rt-clinton-2012"],
    95: SRC["fn95-charbonneau-2011"],
    96: SRC["fn11-cox-2016"],
    97: SRC["fn97-wu-fengshi"],
    98: SRC["fn98-mod-prc-2016"],
    99: SRC["fn99-ufa-declaration-2015"],
    100: SRC["fn100-mfa-neasd-2016"],
    101: SRC["fn101-china-statistical-yearbook"],
    102: SRC["fn102-kommersant-2016"],
    103: None,
    104: SRC["fn104-korolev-2016"],
    105: SRC["fn105-reuters-2011"],
    106: SRC["fn106-roseth"],
    107: SRC["fn107-novatek-2013"],
    108: SRC["fn108-portyakov-2015"],
    109: SRC["fn109-rbk-2015"],
    110: SRC["fn65-lavrov-2014"],
    111: SRC["fn111-iea-2015"],
}


@pytest.fixture(scope="module")
def graph() -> Graph:
    g = Graph()
    g.parse(FILE, format="turtle")
    return g


@pytest.fixture(scope="module")
def events(graph: Graph) -> list[URIRef]:
    return sorted(s for s in graph.subjects(RDF_TYPE, AK.Event) if isinstance(s, URIRef))


def _date(graph: Graph, node: URIRef, prop: URIRef) -> date | None:
    value = graph.value(node, prop)
    return value.toPython() if isinstance(value, Literal) else None


def test_every_diplomatic_and_economic_event_is_coded(events: list[URIRef]) -> None:
    assert 35 <= len(events) <= 60


def test_the_starter_events_keep_their_iris(events: list[URIRef]) -> None:
    for name in (
        "1996-strategic-partnership",
        "2007-unsc-joint-veto-myanmar",
        "2011-10-unsc-joint-veto-syria",
        "2011-01-espo-oil-shipments",
        "2014-gas-megadeal",
    ):
        assert EV[name] in events, name


def test_dimension_and_aspect_agree_and_no_ladder_codes(graph: Graph, events: list[URIRef]) -> None:
    ontology = ontology_graph()
    for event in events:
        dimensions = set(graph.objects(event, AK.dimension))
        aspects = set(graph.objects(event, AK.aspect))
        assert dimensions in ({AK.Diplomatic}, {AK.Economic}), event
        assert len(aspects) == 1, event
        [aspect] = aspects
        assert ontology.value(aspect, AK.aspectOf) in dimensions, event
        assert graph.value(event, AK.indicator) is None, event
        assert graph.value(event, AK.level) is None, event


def test_parties_are_china_and_russia_or_the_sco(graph: Graph, events: list[URIRef]) -> None:
    for event in events:
        parties = set(graph.objects(event, AK.party))
        groupings = set(graph.objects(event, AK.grouping))
        assert (parties, groupings) in (
            ({STATE.CHN, STATE.RUS}, set()),
            (set(), {GROUPING.SCO}),
        ), event


def test_every_event_is_complete(graph: Graph, events: list[URIRef]) -> None:
    for event in events:
        start = graph.value(event, AK.startDate)
        assert isinstance(start, Literal) and start.datatype == XSD_DATE, event
        assert graph.value(event, AK.datePrecision) is not None, event
        assert graph.value(event, AK.persistence) in (AK.OneOff, AK.Persistent), event
        end = _date(graph, event, AK.endDate)
        assert end is None or end >= start.toPython(), event
        assert (event, PROV.wasAttributedTo, CODER["alignkg-team"]) in graph, event
        quotes = list(graph.objects(event, AK.evidence))
        assert len(quotes) == 1, f"{event}: one quote per event (one row per event in exports)"


def test_footnotes_and_sources_match(graph: Graph, events: list[URIRef]) -> None:
    for event in events:
        footnotes = {int(str(n)) for n in graph.objects(event, AK.footnote)}
        sources = set(graph.objects(event, PROV.wasDerivedFrom))
        assert PAPER in sources, event
        assert footnotes <= FOOTNOTE_SOURCES.keys(), event
        expected = {FOOTNOTE_SOURCES[n] for n in footnotes} - {None}
        assert sources - {PAPER} == expected, event


def test_official_names_follow_each_other(graph: Graph, events: list[URIRef]) -> None:
    starts = {
        e: _date(graph, e, AK.startDate)
        for e in events
        if graph.value(e, AK.aspect) == AK.RelationshipStatus
        and (e, PROV.wasDerivedFrom, SRC["fn33-mfa-press-conference-2016"]) in graph
    }
    names = sorted((start, e) for e, start in starts.items() if start is not None)
    assert len(names) == len(starts)
    assert [start.year for start, _ in names] == [1992, 1994, 1996, 2001, 2012, 2016]
    for (_, current), (next_start, _) in pairwise(names):
        assert graph.value(current, AK.persistence) == AK.Persistent, current
        assert _date(graph, current, AK.endDate) == next_start, current
    last = names[-1][1]
    assert graph.value(last, AK.persistence) == AK.Persistent
    assert graph.value(last, AK.endDate) is None


@pytest.mark.parametrize(
    ("name", "day", "precision"),
    [
        ("2007-unsc-joint-veto-myanmar", date(2007, 1, 1), AK.YearPrecision),
        ("2008-unsc-joint-veto-zimbabwe", date(2008, 1, 1), AK.YearPrecision),
        ("2011-10-unsc-joint-veto-syria", date(2011, 10, 4), AK.DayPrecision),
        ("2012-02-unsc-joint-veto-syria", date(2012, 2, 4), AK.DayPrecision),
        ("2012-07-unsc-joint-veto-syria", date(2012, 7, 19), AK.DayPrecision),
        ("2014-05-unsc-joint-veto-syria", date(2014, 5, 22), AK.DayPrecision),
    ],
)
def test_each_named_joint_veto_is_one_one_off_event(
    graph: Graph, name: str, day: date, precision: URIRef
) -> None:
    event = EV[name]
    assert graph.value(event, AK.aspect) == AK.JointVeto
    assert _date(graph, event, AK.startDate) == day
    assert graph.value(event, AK.datePrecision) == precision
    assert graph.value(event, AK.persistence) == AK.OneOff


def test_the_treaty_and_the_pipeline_persist(graph: Graph) -> None:
    for name in (
        "2001-treaty-good-neighborliness",
        "2011-01-espo-oil-shipments",
        "2014-gas-megadeal",
    ):
        assert graph.value(EV[name], AK.persistence) == AK.Persistent, name
        assert graph.value(EV[name], AK.endDate) is None, name
