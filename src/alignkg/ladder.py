"""The ladder's precedence graph, built from the ontology with networkx.

Nothing here is hand-written: indicators, stages, ranks, rungs and prerequisites are
read from ``ontology/alignkg.ttl``. The graph is checked to be acyclic and consistent
(rungs 1..n, stage ranks along the precedence chain, prerequisites only downwards);
it gives ranks and prerequisites, and its transitive closure is what the ladder rules
and explanations read (as ``ak:prerequisite`` triples).
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SKOS

from alignkg.errors import LadderError
from alignkg.namespace import AK

Triple = tuple[URIRef, URIRef, URIRef]


@dataclass(frozen=True)
class Indicator:
    """One rung of the ladder."""

    iri: URIRef
    rung: int
    stage: URIRef
    notation: str
    label: str


@dataclass(frozen=True)
class Stage:
    """A stage of the ladder (rank 0 is 'none')."""

    iri: URIRef
    rank: int
    notation: str
    label: str
    becomes_high_with: frozenset[URIRef]


@dataclass(frozen=True)
class Ladder:
    """The precedence graph and what it tells.

    ``graph`` has an edge A -> B when A must come before B: a prerequisite indicator
    before the indicator that requires it, a stage before the next stage, and each
    stage before its indicators.
    """

    graph: nx.DiGraph
    indicators: dict[URIRef, Indicator]
    stages: dict[URIRef, Stage]

    def indicator_by_rung(self, rung: int) -> Indicator:
        for indicator in self.indicators.values():
            if indicator.rung == rung:
                return indicator
        raise LadderError(f"the ladder has no rung {rung}")

    def prerequisites(self, indicator: URIRef) -> set[URIRef]:
        """Every indicator that ``indicator`` requires, directly or through others."""
        return {node for node in nx.ancestors(self.graph, indicator) if node in self.indicators}

    def stage_of(self, indicator: URIRef) -> Stage:
        return self.stages[self.indicators[indicator].stage]

    def stage_by_rank(self, rank: int) -> Stage:
        for stage in self.stages.values():
            if stage.rank == rank:
                return stage
        raise LadderError(f"the ladder has no stage of rank {rank}")

    def ordered_indicators(self) -> list[Indicator]:
        return sorted(self.indicators.values(), key=lambda i: i.rung)

    def closure_triples(self) -> list[Triple]:
        """``ak:prerequisite`` triples: the transitive closure of ``ak:requires``."""
        return sorted(
            (indicator, AK.prerequisite, prerequisite)
            for indicator in self.indicators
            for prerequisite in self.prerequisites(indicator)
        )


def _label(graph: Graph, node: URIRef) -> str:
    for value in graph.objects(node, SKOS.prefLabel):
        if isinstance(value, Literal) and value.language == "en":
            return str(value)
    return str(node).rsplit("#", 1)[-1]


def _int(graph: Graph, node: URIRef, prop: URIRef) -> int:
    values = [v for v in graph.objects(node, prop) if isinstance(v, Literal)]
    if len(values) != 1:
        raise LadderError(
            f"<{node}> needs exactly one {prop.n3(graph.namespace_manager)}; found {len(values)}"
        )
    return int(values[0].toPython())


def build_ladder(ontology: Graph) -> Ladder:
    """Read the ladder from ``ontology`` and check it; raise :class:`LadderError` if malformed."""
    stages: dict[URIRef, Stage] = {}
    for node in ontology.subjects(RDF.type, AK.Stage):
        if not isinstance(node, URIRef):
            continue
        stages[node] = Stage(
            iri=node,
            rank=_int(ontology, node, AK.rank),
            notation=str(ontology.value(node, SKOS.notation) or ""),
            label=_label(ontology, node),
            becomes_high_with=frozenset(
                o for o in ontology.objects(node, AK.becomesHighWith) if isinstance(o, URIRef)
            ),
        )
    indicators: dict[URIRef, Indicator] = {}
    for node in ontology.subjects(AK.rung, None):
        if not isinstance(node, URIRef):
            continue
        stage_iri = ontology.value(node, AK.stage)
        if not isinstance(stage_iri, URIRef) or stage_iri not in stages:
            raise LadderError(
                f"indicator <{node}> has no stage (ak:stage) among the ladder's stages"
            )
        indicators[node] = Indicator(
            iri=node,
            rung=_int(ontology, node, AK.rung),
            stage=stage_iri,
            notation=str(ontology.value(node, SKOS.notation) or ""),
            label=_label(ontology, node),
        )
    graph: nx.DiGraph = nx.DiGraph()
    for stage in stages.values():
        graph.add_node(stage.iri, kind="stage", rank=stage.rank)
    for indicator in indicators.values():
        graph.add_node(indicator.iri, kind="indicator", rung=indicator.rung)
        graph.add_edge(indicator.stage, indicator.iri, relation="contains")
        for prerequisite in ontology.objects(indicator.iri, AK.requires):
            if prerequisite not in indicators:
                raise LadderError(
                    f"<{indicator.iri}> requires <{prerequisite}>, which is not an indicator"
                )
            graph.add_edge(prerequisite, indicator.iri, relation="requires")
    for stage in stages.values():
        for following in ontology.objects(stage.iri, AK.precedes):
            if following not in stages:
                raise LadderError(
                    f"stage <{stage.iri}> precedes <{following}>, which is not a stage"
                )
            graph.add_edge(stage.iri, following, relation="precedes")
    ladder = Ladder(graph=graph, indicators=indicators, stages=stages)
    _check(ladder)
    return ladder


def _check(ladder: Ladder) -> None:
    graph = ladder.graph
    if not nx.is_directed_acyclic_graph(graph):
        cycle = nx.find_cycle(graph)
        path = " -> ".join(f"<{a}>" for a, _ in cycle) + f" -> <{cycle[0][0]}>"
        raise LadderError(f"the ladder's precedence has a cycle: {path}")
    rungs = sorted(i.rung for i in ladder.indicators.values())
    if rungs != list(range(1, len(rungs) + 1)):
        raise LadderError(
            f"indicator rungs must be 1..{len(rungs)} without gaps or repeats; found {rungs}"
        )
    chain = [s for s in ladder.stages.values() if s.rank > 0]
    precedence = graph.subgraph(s.iri for s in chain)
    for link in chain:
        depth = len(nx.ancestors(precedence, link.iri)) + 1
        if depth != link.rank:
            raise LadderError(
                f"stage <{link.iri}> has rank {link.rank} but is number {depth} in the precedence chain"
            )
    for indicator in ladder.indicators.values():
        for prerequisite in ladder.prerequisites(indicator.iri):
            if ladder.indicators[prerequisite].rung >= indicator.rung:
                raise LadderError(
                    f"<{indicator.iri}> (rung {indicator.rung}) requires <{prerequisite}> "
                    f"(rung {ladder.indicators[prerequisite].rung}): prerequisites must be lower rungs"
                )
        own = ladder.stage_of(indicator.iri)
        for gate in own.becomes_high_with:
            if gate not in ladder.indicators:
                raise LadderError(
                    f"stage <{own.iri}> becomes high with <{gate}>, which is not an indicator"
                )
