"""The one accessor for files shipped inside the package (ontology, rules, queries).

Everything goes through :mod:`importlib.resources`, so an installed wheel finds its
files exactly as a checkout does.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

from alignkg.errors import QueryError


def _folder(package: str) -> Traversable:
    return resources.files(package)


def ontology_files() -> list[Traversable]:
    """The alignkg ontology and the reference data that ships with it (states, groupings)."""
    folder = _folder("alignkg.ontology")
    return sorted((f for f in folder.iterdir() if f.name.endswith(".ttl")), key=lambda f: f.name)


def vocabulary_files() -> list[Traversable]:
    """Local copies of the standard vocabularies the ontology imports."""
    folder = _folder("alignkg.ontology.vocab")
    return sorted(
        (f for f in folder.iterdir() if f.name.endswith(".ttl") and f.name != "catalog.ttl"),
        key=lambda f: f.name,
    )


def vocabulary_catalog() -> Traversable:
    """The catalog mapping imported ontology IRIs to the local copies."""
    return _folder("alignkg.ontology.vocab").joinpath("catalog.ttl")


def rule_set_files() -> list[Traversable]:
    """Rule parameters (``rules/*.ttl``)."""
    folder = _folder("alignkg.rules")
    return sorted((f for f in folder.iterdir() if f.name.endswith(".ttl")), key=lambda f: f.name)


def calendar_span_query() -> str:
    """The query that gives the calendar's first and last year (``rules/calendar-span.rq``)."""
    return _folder("alignkg.rules").joinpath("calendar-span.rq").read_text(encoding="utf-8")


def shape_files() -> list[Traversable]:
    """SHACL shapes (``rules/shapes/*.ttl``)."""
    folder = _folder("alignkg.rules.shapes")
    return sorted((f for f in folder.iterdir() if f.name.endswith(".ttl")), key=lambda f: f.name)


def derivation_rules() -> list[Traversable]:
    """Derivation steps (``rules/derive/*.rq``) in the order they run."""
    folder = _folder("alignkg.rules.derive")
    return sorted((f for f in folder.iterdir() if f.name.endswith(".rq")), key=lambda f: f.name)


def partition_query(name: str) -> str:
    """A query of ``rules/partition/`` (how a persistent build is split by file and dyad)."""
    return _folder("alignkg.rules.partition").joinpath(f"{name}.rq").read_text(encoding="utf-8")


def check_rules() -> list[Traversable]:
    """Whole-graph rule checks (``rules/checks/*.rq``)."""
    folder = _folder("alignkg.rules.checks")
    return sorted((f for f in folder.iterdir() if f.name.endswith(".rq")), key=lambda f: f.name)


def query_files() -> list[Traversable]:
    """Named analyst queries and ``*-violation.rq`` checks (``queries/*.rq``)."""
    folder = _folder("alignkg.queries")
    return sorted((f for f in folder.iterdir() if f.name.endswith(".rq")), key=lambda f: f.name)


def query_text(name: str) -> str:
    """The text of the named query ``queries/NAME.rq``."""
    for file in query_files():
        if file.name == f"{name}.rq":
            return file.read_text(encoding="utf-8")
    known = ", ".join(f.name[:-3] for f in query_files())
    raise QueryError(f"unknown query {name!r}; known queries: {known}")


def store_query(name: str) -> str:
    """A query a store runs on itself (``rules/NAME.rq``: e.g. the triples of one graph)."""
    return _folder("alignkg.rules").joinpath(f"{name}.rq").read_text(encoding="utf-8")
