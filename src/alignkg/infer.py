"""OWL-RL inference over the ontology and the typing of data, never over bulk data.

owlrl's closure doubles a 20k-triple graph in tens of seconds, so it runs over the
ontology alone, with one probe instance per class and one probe triple per property.
What the probes receive (superclasses, superproperties) is then applied to the data's
``rdf:type`` and property triples in plain Python. Domain and range axioms are not
applied to data: a misspelt state must stay a validation finding, not become a state.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import owlrl
import pyoxigraph as ox
from rdflib import BNode, Graph, URIRef
from rdflib.namespace import OWL, RDF, RDFS

from alignkg.store import in_order

Triple = tuple[URIRef | BNode, URIRef, object]

_TRIVIAL_TYPES = {OWL.Thing, RDFS.Resource, OWL.NamedIndividual}
_PROBE = "urn:alignkg:probe:"


@dataclass(frozen=True)
class Entailments:
    """What the ontology entails, ready to apply to data. Everything is sorted, so that
    the statements are added to a store in the same order on every run (a store's order
    shows in its dump and in query results that set none)."""

    superclasses: dict[URIRef, tuple[URIRef, ...]]
    superproperties: dict[URIRef, tuple[URIRef, ...]]
    ontology_triples: tuple[tuple[object, object, object], ...]


def entailments(ontology: Graph) -> Entailments:
    """Run the OWL-RL closure over ``ontology`` with probes and collect what it entails."""
    graph = Graph()
    for triple in ontology:
        graph.add(triple)
    classes = {c for c in graph.subjects(RDF.type, OWL.Class) if isinstance(c, URIRef)}
    classes |= {c for c in graph.subjects(RDFS.subClassOf, None) if isinstance(c, URIRef)}
    properties = {
        p
        for kind in (OWL.ObjectProperty, OWL.DatatypeProperty, RDF.Property)
        for p in graph.subjects(RDF.type, kind)
        if isinstance(p, URIRef)
    }
    properties |= {p for p in graph.subjects(RDFS.subPropertyOf, None) if isinstance(p, URIRef)}
    class_probe = {cls: URIRef(f"{_PROBE}c{i}") for i, cls in enumerate(sorted(classes))}
    property_probe = {
        prop: (URIRef(f"{_PROBE}s{i}"), URIRef(f"{_PROBE}o{i}"))
        for i, prop in enumerate(sorted(properties))
    }
    for cls, probe in class_probe.items():
        graph.add((probe, RDF.type, cls))
    for prop, (subject, obj) in property_probe.items():
        graph.add((subject, prop, obj))
    before = set(ontology)
    owlrl.DeductiveClosure(
        owlrl.OWLRL_Semantics, axiomatic_triples=False, datatype_axioms=False
    ).expand(graph)
    superclasses = {
        cls: tuple(
            sorted(
                {
                    t
                    for t in graph.objects(probe, RDF.type)
                    if isinstance(t, URIRef) and t != cls and t not in _TRIVIAL_TYPES
                }
            )
        )
        for cls, probe in class_probe.items()
    }
    superproperties = {
        prop: tuple(
            sorted(
                {
                    p
                    for p in graph.predicates(subject, obj)
                    if isinstance(p, URIRef) and p != prop and p != OWL.sameAs
                }
            )
        )
        for prop, (subject, obj) in property_probe.items()
    }
    entailed = {
        t
        for t in graph
        if t not in before
        and not any(str(term).startswith(_PROBE) for term in t)
        and isinstance(t[0], URIRef)
        and t[0] != t[2]
        and t[1] != OWL.sameAs
        and not (t[1] == RDF.type and t[2] in _TRIVIAL_TYPES)
    }
    ontology_triples = tuple(in_order(entailed))
    return Entailments(superclasses, superproperties, ontology_triples)


def apply(
    entailed: Entailments, data: Iterable[tuple[object, object, object]]
) -> list[tuple[object, object, object]]:
    """The triples entailed for ``data``: inherited types and superproperties."""
    known: dict[object, set[object]] = defaultdict(set)
    inferred: list[tuple[object, object, object]] = []
    data = list(data)
    for s, p, o in data:
        if p == RDF.type:
            known[s].add(o)
    for s, p, o in data:
        if p == RDF.type and isinstance(o, URIRef):
            for sup in entailed.superclasses.get(o, ()):
                if sup not in known[s]:
                    known[s].add(sup)
                    inferred.append((s, RDF.type, sup))
        elif isinstance(p, URIRef):
            for sup in entailed.superproperties.get(p, ()):
                inferred.append((s, sup, o))
    return inferred


def apply_oxigraph(entailed: Entailments, data: Iterable[ox.Triple]) -> list[ox.Triple]:
    """:func:`apply` on pyoxigraph terms, without converting the data to rdflib terms."""

    def node(term: URIRef) -> ox.NamedNode:
        return ox.NamedNode(str(term))

    superclasses = {node(c): [node(s) for s in sups] for c, sups in entailed.superclasses.items()}
    superproperties = {
        node(p): [node(s) for s in sups] for p, sups in entailed.superproperties.items()
    }
    rdf_type = node(RDF.type)
    data = list(data)
    known: dict[object, set[ox.NamedNode]] = defaultdict(set)
    for triple in data:
        if triple.predicate == rdf_type and isinstance(triple.object, ox.NamedNode):
            known[triple.subject].add(triple.object)
    inferred: list[ox.Triple] = []
    for triple in data:
        if triple.predicate == rdf_type:
            if isinstance(triple.object, ox.NamedNode):
                for sup in superclasses.get(triple.object, ()):
                    if sup not in known[triple.subject]:
                        known[triple.subject].add(sup)
                        inferred.append(ox.Triple(triple.subject, rdf_type, sup))
        else:
            for sup in superproperties.get(triple.predicate, ()):
                inferred.append(ox.Triple(triple.subject, sup, triple.object))
    return inferred
