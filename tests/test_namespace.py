"""The typed namespace and the ontology declare the same terms."""

from __future__ import annotations

import pytest
from rdflib import URIRef

from alignkg.build import ontology_graph
from alignkg.namespace import AK
from alignkg.resources import rule_set_files

NS = str(AK._NS)


def _declared() -> set[str]:
    graph = ontology_graph()
    for file in rule_set_files():
        graph.parse(data=file.read_text(encoding="utf-8"), format="turtle")
    return {str(s)[len(NS):] for s in graph.subjects() if isinstance(s, URIRef) and str(s).startswith(NS)}


def _in_class() -> set[str]:
    return {name for name in AK.__annotations__ if not name.startswith("_")}


def test_class_and_ontology_declare_the_same_terms() -> None:
    assert _in_class() == _declared()


def test_misspelt_term_fails() -> None:
    with pytest.raises(AttributeError):
        AK.Evnt  # noqa: B018


def test_every_used_term_in_rules_and_queries_is_declared() -> None:
    import re

    from alignkg.resources import check_rules, derivation_rules, query_files, shape_files

    used: set[str] = set()
    for file in [*derivation_rules(), *check_rules(), *query_files(), *shape_files()]:
        used |= set(re.findall(r"\bak:([A-Za-z]\w*)", file.read_text(encoding="utf-8")))
    assert used - _declared() == set()


def test_every_import_resolves_to_a_local_copy() -> None:
    from rdflib.namespace import OWL

    from alignkg.build import resolve_imports

    graph = ontology_graph()
    files = {f.name for f in resolve_imports(graph)}
    assert len(list(graph.objects(None, OWL.imports))) == 5
    assert files == {"dcterms.ttl", "oa.ttl", "prov-o.ttl", "qb.ttl", "skos.ttl"}


def test_an_import_without_a_local_copy_is_an_error() -> None:
    from rdflib.namespace import OWL

    from alignkg.build import resolve_imports
    from alignkg.errors import LadderError

    graph = ontology_graph()
    graph.add((URIRef("https://w3id.org/alignkg/ns"), OWL.imports, URIRef("http://example.org/remote")))
    with pytest.raises(LadderError, match="no local copy"):
        resolve_imports(graph)
