"""Quotes are verbatim passages of the paper, at most 40 words."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rdflib import Graph
from rdflib.namespace import Namespace

from alignkg.build import ontology_graph
from alignkg.namespace import AK

OA = Namespace("http://www.w3.org/ns/oa#")
ROOT = Path(__file__).resolve().parent.parent


def normalise(text: str) -> str:
    """Join words hyphenated across line ends, collapse whitespace, unify quotes and dashes."""
    text = re.sub(r"(\w)-\s*\n\s*(\w)", r"\1\2", text)
    text = text.replace("\u00ad", "")
    return re.sub(r"\s+", " ", text).strip()


def _loose(text: str) -> str:
    return normalise(text).replace("- ", "-")


def occurs(quote: str, paper: str) -> bool:
    """The quote occurs in the paper, whether a line-end hyphen was a real hyphen or not."""
    flat = normalise(paper)
    kept = re.sub(r"\s+", " ", re.sub(r"-\s*\n\s*", "-", paper))
    return normalise(quote) in flat or normalise(quote) in kept


def _ontology_quotes() -> list[tuple[str, str]]:
    graph = ontology_graph()
    return sorted(
        (f"{str(s).rsplit('#', 1)[-1]}-{str(p).rsplit('#', 1)[-1]}", str(o))
        for p in (AK.lowLevelQuote, AK.highLevelQuote)
        for s, o in graph.subject_objects(p)
    )


def _kg_quotes() -> list[tuple[str, str]]:
    graph = Graph()
    for path in sorted((ROOT / "kg").rglob("*.ttl")):
        graph.parse(path, format="turtle")
    return sorted((str(s), str(o)) for s, o in graph.subject_objects(OA.exact))


QUOTES = _ontology_quotes() + _kg_quotes()


@pytest.mark.parametrize(("where", "quote"), QUOTES, ids=[w for w, _ in QUOTES])
def test_quote_is_verbatim(where: str, quote: str, paper_text: str) -> None:
    assert occurs(quote, paper_text), f"{where}: not found in the paper: {quote!r}"


@pytest.mark.parametrize(("where", "quote"), QUOTES, ids=[w for w, _ in QUOTES])
def test_quote_is_short(where: str, quote: str) -> None:
    assert len(quote.split()) <= 40, where


def test_every_indicator_has_both_quotes() -> None:
    names = {w.split("-")[0] for w, _ in _ontology_quotes()}
    assert len(names) == 7
