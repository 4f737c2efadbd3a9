"""Evidence strength: independent sources, their languages and kinds, and the four flags.

Each file of ``tests/cases/strength/`` is a case with one event: its header gives the
event, the flags it must raise (none for a near miss), its number of independent
sources, their languages and their kinds. All cases are loaded into one graph.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from alignkg import strength, variants
from alignkg.build import KnowledgeGraph, assemble
from alignkg.cli import main
from alignkg.errors import UsageError
from alignkg.namespace import AK, DERIVED_GRAPH
from alignkg.strength import StrengthRow, flag_counts, strength_rows
from casefiles import one, read_header

ROOT = Path(__file__).resolve().parent.parent
CASES = sorted((ROOT / "tests" / "cases" / "strength").glob("*.ttl"))
KG = [ROOT / "kg"]


@pytest.fixture(scope="module")
def cases_kg() -> KnowledgeGraph:
    return assemble(CASES)


@pytest.fixture(scope="module")
def real_kg() -> KnowledgeGraph:
    return assemble(KG)


def _row(kg: KnowledgeGraph, event: str) -> StrengthRow:
    curie = "ex:" + event.rsplit("/", 1)[1] if event.startswith("https://example.org/") else event
    found = [r for r in strength_rows(kg.store) if r.event in (event, curie)]
    assert len(found) == 1, event
    return found[0]


def test_every_flag_fires_on_a_case_and_has_a_near_miss() -> None:
    stems = {p.stem for p in CASES}
    for flag in strength.FLAGS:
        assert any(s.startswith(f"{flag}-fires") for s in stems), flag
        assert f"{flag}-quiet" in stems, flag


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_case(cases_kg: KnowledgeGraph, path: Path) -> None:
    header = read_header(path)
    event = one(header, "event")
    assert event, f"{path.name}: no event"
    row = _row(cases_kg, event)
    assert row.flags == tuple((one(header, "flags") or "").split())
    assert row.sources == int(one(header, "sources") or "-1")
    assert row.languages == tuple((one(header, "languages") or "").split())
    assert row.kinds == tuple((one(header, "kinds") or "").split())
    flag = path.stem.split("-fires")[0].split("-quiet")[0]
    assert (flag in row.flags) == ("-fires" in path.stem), path.stem


def test_flagged_only_and_formats(cases_kg: KnowledgeGraph) -> None:
    flagged = strength.render(cases_kg, dyad="RUS-CHN", fmt="csv", flagged_only=True)
    rows = list(csv.DictReader(io.StringIO(flagged)))
    assert len(rows) == sum("-fires" in p.stem for p in CASES)
    assert all(any(r[f] == "true" for f in strength.FLAGS) for r in rows)
    everything = json.loads(strength.render(cases_kg, dyad=None, fmt="json", flagged_only=False))
    assert len(everything) == len(CASES)
    table = strength.render(cases_kg, dyad="CHN-RUS", fmt="table", flagged_only=False)
    assert table.splitlines()[-1] == (
        f"{len(CASES)} code(s) shown: only-paper 2, only-russian 1, only-chinese 1, only-interviews 1"
    )


def test_a_dyad_without_events_is_a_usage_error(cases_kg: KnowledgeGraph) -> None:
    with pytest.raises(UsageError, match="IND-PAK"):
        strength.render(cases_kg, dyad="PAK-IND", fmt="table", flagged_only=False)


# --- China and Russia -----------------------------------------------------------------


def test_china_russia_counts(real_kg: KnowledgeGraph) -> None:
    rows = strength_rows(real_kg.store, dyad="CHN-RUS")
    assert len({r.event for r in rows}) == len(rows), "one row per event for one dyad"
    counts = flag_counts(rows)
    assert counts["only-paper"] == sum(r.sources == 0 for r in rows)
    for flag, n in counts.items():
        assert 0 < n < len(rows), flag
    # A code rests on the paper alone, or on one side's sources alone, never both.
    assert all(len(r.flags) <= 2 for r in rows)
    assert not any({"only-russian", "only-chinese"} <= set(r.flags) for r in rows)
    assert not any("only-paper" in r.flags and len(r.flags) > 1 for r in rows)


def test_only_paper_is_what_the_one_source_variant_drops(real_kg: KnowledgeGraph) -> None:
    """The query's independence and the rule's agree: under one-source, exactly the
    codes flagged only-paper count in no year."""
    store = variants.rederive(real_kg, variants.rule_set("one-source"), "oxigraph")
    active = {str(s) for s, p, _ in store.triples(graph=DERIVED_GRAPH) if p == AK.activeIn}
    rows = strength_rows(real_kg.store)
    prefix = "event:"
    base = "https://w3id.org/alignkg/event/"
    for row in rows:
        iri = base + row.event[len(prefix):] if row.event.startswith(prefix) else row.event
        assert (iri in active) != ("only-paper" in row.flags), row.event


def test_the_strength_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["strength", "--dyad", "CHN-RUS", "--flagged", "--format", "json", "-q"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and all(r["flags"] for r in rows)
    assert {r["dyad"] for r in rows} == {"CHN-RUS"}
