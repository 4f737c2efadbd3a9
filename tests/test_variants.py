"""Rule variants as data: the shipped rule sets, what each changes, and the sensitivity table.

Each file of ``tests/cases/variants/`` is a case: its header gives the dyad, the years of
the sensitivity table and, for the default and every variant that differs from it on
that file, the strict ``stage/level`` per year; every variant not listed must give the
default's column.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SKOS

from alignkg import variants
from alignkg.build import KnowledgeGraph, assemble
from alignkg.cli import main
from alignkg.errors import UsageError
from alignkg.namespace import AK
from alignkg.resources import rule_set_files
from alignkg.stages import stage_rows
from casefiles import one, read_header

ROOT = Path(__file__).resolve().parent.parent
CASES = sorted((ROOT / "tests" / "cases" / "variants").glob("*.ttl"))
KG = [ROOT / "kg"]
REQUIRED = ["default", "lasting-one-offs", "two-sources", "official-source", "bilateral-only"]
PARAMETERS = (AK.oneOffYears, AK.minimumSources, AK.requiresOfficialSource, AK.groupingProjection)


def _rules_graph() -> Graph:
    graph = Graph()
    for file in rule_set_files():
        graph.parse(data=file.read_text(encoding="utf-8"), format="turtle")
    return graph


# --- The shipped rule sets ------------------------------------------------------------


def test_the_required_variants_are_shipped_default_first() -> None:
    names = variants.names()
    assert names[0] == "default"
    assert set(REQUIRED) <= set(names)
    assert len(names) == len(set(names))


def test_rule_set_gives_the_iri_of_each_name() -> None:
    assert variants.rule_set("default") == AK.DefaultRules
    assert variants.rule_set("lasting-one-offs") == AK.LastingOneOffsRules
    assert variants.rule_set("two-sources") == AK.TwoSourcesRules
    assert variants.rule_set("official-source") == AK.OfficialSourceRules
    assert variants.rule_set("bilateral-only") == AK.BilateralOnlyRules


def test_an_unknown_name_is_a_usage_error_listing_the_names() -> None:
    with pytest.raises(UsageError) as caught:
        variants.rule_set("strictest")
    for name in variants.names():
        assert name in str(caught.value)


def test_the_default_parameters_reproduce_the_original_rules() -> None:
    graph = _rules_graph()
    rules = AK.DefaultRules
    assert graph.value(rules, AK.oneOffYears) == Literal(1)
    assert graph.value(rules, AK.minimumSources) == Literal(0)
    assert graph.value(rules, AK.requiresOfficialSource) == Literal(False)
    assert graph.value(rules, AK.groupingProjection) == AK.AllMemberPairs


@pytest.mark.parametrize("name", variants.names())
def test_every_rule_set_states_every_parameter_once_with_label_and_comment(name: str) -> None:
    graph = _rules_graph()
    rules = variants.rule_set(name)
    assert (rules, RDF.type, AK.RuleSet) in graph
    for parameter in PARAMETERS:
        assert len(list(graph.objects(rules, parameter))) == 1, (name, parameter)
    assert graph.value(rules, SKOS.notation) == Literal(name)
    assert len(str(graph.value(rules, RDFS.label) or "")) > 5
    assert len(str(graph.value(rules, RDFS.comment) or "")) > 80


@pytest.mark.parametrize("name", [n for n in variants.names() if n != "default"])
def test_every_variant_changes_exactly_one_parameter_of_the_default(name: str) -> None:
    graph = _rules_graph()
    changed = [
        p
        for p in PARAMETERS
        if graph.value(variants.rule_set(name), p) != graph.value(AK.DefaultRules, p)
    ]
    assert len(changed) == 1, (name, changed)
    # ... and its comment names the parameter it changes.
    local = str(changed[0]).rsplit("#", 1)[1]
    assert f"ak:{local}" in str(graph.value(variants.rule_set(name), RDFS.comment))


# --- Each variant on its small fixture -------------------------------------------------


def _expected(path: Path) -> tuple[str, list[int], dict[str, list[str]]]:
    header = read_header(path)
    dyad = one(header, "dyad")
    years = one(header, "years")
    assert dyad and years, f"{path.name}: needs dyad and years"
    columns = {
        name: (one(header, name) or "").split()
        for name in variants.names()
        if one(header, name) is not None
    }
    assert "default" in columns, f"{path.name}: needs the default column"
    return dyad, [int(y) for y in years.split()], columns


def test_there_is_a_case_for_each_required_variant() -> None:
    assert {p.stem for p in CASES} >= set(REQUIRED) - {"default"}


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_each_variant_changes_what_it_should(path: Path) -> None:
    dyad, years, expected = _expected(path)
    table = variants.sensitivity([path], dyad=dyad)
    assert [r.year for r in table.rows] == years
    assert path.stem in expected and expected[path.stem] != expected["default"], (
        f"{path.name}: the variant it is named after must change something"
    )
    for name in variants.names():
        want = expected.get(name, expected["default"])
        got = [table.column(name)[y].text() for y in years]
        assert got == want, f"{path.name}: {name}"
    differing = [
        y for i, y in enumerate(years) if len({column[i] for column in expected.values()}) > 1
    ]
    assert table.depending_years() == differing


def test_a_grouping_event_projects_to_no_dyad_under_bilateral_only() -> None:
    path = next(p for p in CASES if p.stem == "bilateral-only")
    default = stage_rows(assemble([path]).store, dyad="KAZ-RUS")
    assert default, "the SCO event counts for Kazakhstan–Russia under the default"
    bilateral = stage_rows(
        assemble([path], rule_set=variants.rule_set("bilateral-only")).store, dyad="KAZ-RUS"
    )
    assert bilateral == []


# --- China and Russia -----------------------------------------------------------------


@pytest.fixture(scope="module")
def table() -> variants.SensitivityTable:
    return variants.sensitivity(KG, dyad="RUS-CHN")


@pytest.fixture(scope="module")
def assembled() -> dict[str, KnowledgeGraph]:
    """kg/ assembled from scratch under every variant (not re-derived on a copy)."""
    return {name: assemble(KG, rule_set=variants.rule_set(name)) for name in variants.names()}


def test_the_default_variant_gives_exactly_todays_stage_rows(
    table: variants.SensitivityTable, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["stages", "--dyad", "CHN-RUS", "--format", "csv", "-q"]) == 0
    today = capsys.readouterr().out
    assert main(["stages", "--dyad", "CHN-RUS", "--format", "csv", "-q", "--variant", "default"]) == 0
    assert capsys.readouterr().out == today
    rows = list(csv.DictReader(io.StringIO(today)))
    assert len(rows) == 26
    assert {int(r["year"]): f"{r['stage']}/{r['level']}" for r in rows} == {
        y: c.text() for y, c in table.column("default").items()
    }


def test_the_sensitivity_table_covers_1992_to_2017_with_a_column_per_variant(
    table: variants.SensitivityTable,
) -> None:
    assert table.dyad == "CHN-RUS"
    assert [r.year for r in table.rows] == list(range(1992, 2018))
    assert [v.name for v in table.variants] == variants.names()
    assert all(len(r.cells) == len(variants.names()) for r in table.rows)


def _text(stage: str, level: str) -> str:
    return "none" if stage == "none" else f"{stage}/{level}"


def test_the_marked_years_are_exactly_where_the_variants_differ(
    table: variants.SensitivityTable, assembled: dict[str, KnowledgeGraph]
) -> None:
    # Each variant's column, derived independently by a full assemble under it; a year
    # a variant does not assess is stage none.
    years = range(1992, 2018)
    columns: dict[str, dict[int, str]] = {}
    for name, kg in assembled.items():
        rows = {r.year: _text(r.stage, r.level) for r in stage_rows(kg.store, dyad="CHN-RUS", reading="strict")}
        columns[name] = {y: rows.get(y, "none") for y in years}
    for name, column in columns.items():
        assert {y: c.text() for y, c in table.column(name).items()} == column, name
    differing = [y for y in years if len({c[y] for c in columns.values()}) > 1]
    assert differing, "some variant changes China–Russia"
    assert table.depending_years() == differing
    rendered = list(csv.DictReader(io.StringIO(variants.render(table, fmt="csv"))))
    assert [int(r["year"]) for r in rendered if r["depends"] == "*"] == differing


def test_every_variant_but_the_default_is_derived_without_reparsing_and_agrees(
    assembled: dict[str, KnowledgeGraph],
) -> None:
    base = assembled["default"]
    for name in variants.names():
        store = variants.rederive(base, variants.rule_set(name), "oxigraph")
        assert stage_rows(store) == stage_rows(assembled[name].store), name


def test_render_formats(table: variants.SensitivityTable) -> None:
    text = variants.render(table, fmt="table")
    lines = text.splitlines()
    assert lines[0].split() == ["year", *variants.names(), "depends"]
    assert len(lines) == 1 + 26
    assert "moderate/low" in text
    document = json.loads(variants.render(table, fmt="json"))
    assert document["dyad"] == "CHN-RUS"
    assert [v["name"] for v in document["variants"]] == variants.names()
    assert [r["year"] for r in document["rows"] if r["depends"]] == table.depending_years()
    assert document["rows"][0]["cells"]["default"] == {"stage": "early", "level": "low"}


def test_the_sensitivity_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sensitivity", "--dyad", "CHN-RUS", "--from", "2003", "--to", "2005", "-q",
                 "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["year"] for r in rows] == ["2003", "2004", "2005"]
    assert rows[1]["default"] == "moderate/low"


def test_an_unknown_variant_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stages", "--dyad", "CHN-RUS", "--variant", "nope", "-q"]) == 2
    error = capsys.readouterr().err
    assert "unknown rule variant 'nope'" in error
    assert "two-sources" in error


def test_an_empty_range_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        variants.sensitivity(KG, dyad="CHN-RUS", first=2010, last=2000)


def test_rule_set_iris_are_in_the_namespace() -> None:
    for name in variants.names():
        assert isinstance(variants.rule_set(name), URIRef)
        assert str(variants.rule_set(name)).startswith(str(AK._NS))


def test_the_documented_sensitivity_table_is_current(table: variants.SensitivityTable) -> None:
    doc = (ROOT / "docs" / "rule-variants.md").read_text(encoding="utf-8")
    assert variants.render(table, fmt="table") in doc
    for name in variants.names():
        assert f"`{name}`" in doc, name


@pytest.mark.filterwarnings("ignore:Dataset.default_context is deprecated:DeprecationWarning")
def test_rdflib_derives_every_variant_alike() -> None:
    """The evidence requirements of the official-source case, on the slow engine too."""
    path = next(p for p in CASES if p.stem == "official-source")
    oxigraph = variants.sensitivity([path], dyad="CHN-RUS")
    rdflib = variants.sensitivity([path], dyad="CHN-RUS", engine="rdflib")
    assert rdflib.rows == oxigraph.rows
