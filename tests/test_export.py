"""The analysts' exports: dyad-years for R and Stata, their codebook, and the graph.

The dyad-years are checked three ways: against the stage rows the rest of alignkg
derives, against the plain-Python reference derivation of ``reference.py`` on generated
events, and against the paper's story on ``kg/``. The codebook is checked against the
ontology read independently of alignkg (rdflib on ``ontology/alignkg.ttl``), and the
graph exports by parsing them back.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections import defaultdict
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import pandas as pd
import pytest
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, SKOS

from alignkg import export
from alignkg.build import KnowledgeGraph, assemble, ontology_graph
from alignkg.cli import main
from alignkg.errors import LadderError, UsageError
from alignkg.namespace import AK, DATA_GRAPH, DERIVED_GRAPH, ONTOLOGY_GRAPH
from alignkg.stages import stage_rows
from reference import (
    Event,
    active_years,
    calendar,
    dyads_of,
    generate_events,
    make_event,
    reference_stages,
    to_turtle,
)

# rdflib's TriG, N-Quads and JSON-LD plugins use its own deprecated Dataset API.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Dataset.contexts is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning"),
]

ROOT = Path(__file__).resolve().parent.parent
KG = ROOT / "kg"
MINI = ROOT / "tests" / "cases" / "example" / "mini.ttl"
ONTOLOGY = ROOT / "ontology" / "alignkg.ttl"
NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")

FIXED_COLUMNS = [
    "dyad",
    "iso3_a",
    "iso3_b",
    "cow_a",
    "cow_b",
    "year",
    "stage_strict",
    "stage_strict_rank",
    "level_strict",
    "level_strict_rank",
    "stage_manifested",
    "stage_manifested_rank",
    "level_manifested",
    "level_manifested_rank",
    "highest_indicator",
    "precursors_strict",
]
TAIL_COLUMNS = ["n_events", "n_events_new"]


@cache
def _kg() -> KnowledgeGraph:
    return assemble([KG])


@cache
def _mini() -> KnowledgeGraph:
    return assemble([MINI])


@cache
def _csv_text() -> str:
    return export.dyad_years_csv(_kg())


def _read(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@cache
def _ontology() -> Graph:
    """The ontology as rdflib reads the file: no alignkg code involved."""
    return Graph().parse(ONTOLOGY, format="turtle")


def _en(graph: Graph, node: URIRef, prop: URIRef) -> str:
    values = [v for v in graph.objects(node, prop) if isinstance(v, Literal)]
    chosen = [v for v in values if v.language == "en"] or values
    return " ".join(str(chosen[0]).split())


def _ontology_indicators() -> list[tuple[int, str, URIRef]]:
    """(rung, expected column, IRI) of every indicator the ontology file declares."""
    graph = _ontology()
    found = []
    for node in graph.subjects(RDF.type, AK.Indicator):
        assert isinstance(node, URIRef)
        rung = int(str(graph.value(node, AK.rung)))
        notation = str(graph.value(node, SKOS.notation)).lower()
        found.append((rung, f"ind{rung}_{notation}", node))
    return sorted(found)


# --- The dyad-year CSV: its shape -------------------------------------------------------


def test_columns_are_the_fixed_ones_then_one_per_indicator_of_the_ontology() -> None:
    header = _csv_text().split("\n", 1)[0].split(",")
    indicators = [name for _rung, name, _iri in _ontology_indicators()]
    assert len(indicators) == 7
    assert header == FIXED_COLUMNS + indicators + TAIL_COLUMNS
    assert indicators[:2] == ["ind1_cbm", "ind2_consult"]


def test_column_names_suit_stata_and_r() -> None:
    header = _csv_text().split("\n", 1)[0].split(",")
    assert len(header) == len(set(header))
    for name in header:
        assert NAME.match(name), name
        assert name.isascii() and len(name) <= 32


def test_file_is_utf8_without_bom_with_unix_line_ends_sorted_by_dyad_and_year() -> None:
    text = _csv_text()
    data = text.encode("utf-8")
    assert not data.startswith(b"\xef\xbb\xbf")
    assert b"\r" not in data
    assert text.endswith("\n") and not text.endswith("\n\n")
    rows = _read(text)
    keys = [(r["dyad"], int(r["year"])) for r in rows]
    assert keys == sorted(keys)
    assert len(keys) == len(set(keys))


def test_one_row_per_assessed_dyad_year_of_every_dyad() -> None:
    rows = _read(_csv_text())
    strict = stage_rows(_kg().store, reading="strict")
    assert {(r["dyad"], int(r["year"])) for r in rows} == {(s.dyad, s.year) for s in strict}
    dyads = {r["dyad"] for r in rows}
    assert "CHN-RUS" in dyads and len(dyads) == 15
    years = [int(r["year"]) for r in rows if r["dyad"] == "CHN-RUS"]
    assert years == list(range(1992, 2018))


def test_state_codes_come_from_the_ontology_in_the_dyad_codes_order() -> None:
    states = Graph().parse(ROOT / "ontology" / "states.ttl", format="turtle")
    cow = {
        str(states.value(s, AK.iso3)): str(states.value(s, AK.cowCode))
        for s in states.subjects(RDF.type, AK.State)
    }
    for row in _read(_csv_text()):
        assert row["dyad"] == f"{row['iso3_a']}-{row['iso3_b']}"
        assert row["cow_a"] == cow[row["iso3_a"]]
        assert row["cow_b"] == cow[row["iso3_b"]]
    chn_rus = next(r for r in _read(_csv_text()) if r["dyad"] == "CHN-RUS")
    assert (chn_rus["cow_a"], chn_rus["cow_b"]) == ("710", "365")


def test_stages_levels_highest_and_precursors_agree_with_the_stage_rows() -> None:
    rows = {(r["dyad"], int(r["year"])): r for r in _read(_csv_text())}
    ranks = {"none": "0", "early": "1", "moderate": "2", "advanced": "3"}
    levels = {"": "", "low": "1", "high": "2"}
    for stage in stage_rows(_kg().store):
        row = rows[(stage.dyad, stage.year)]
        reading = stage.reading
        assert row[f"stage_{reading}"] == stage.stage
        assert row[f"stage_{reading}_rank"] == ranks[stage.stage]
        assert row[f"level_{reading}"] == stage.level
        assert row[f"level_{reading}_rank"] == levels[stage.level]
        highest = "" if stage.highest_indicator is None else str(stage.highest_indicator)
        assert row["highest_indicator"] == highest
        if reading == "strict":
            assert row["precursors_strict"] == ";".join(map(str, stage.precursors))


# The paper's story on kg/ (README, docs/china-russia.md): year -> expected cells.
CHN_RUS = [
    (
        1992,
        {
            "stage_strict": "early",
            "level_strict": "low",
            "stage_manifested": "moderate",
            "ind3_mtc": "1",
            "precursors_strict": "3",
        },
    ),
    (
        2004,
        {
            "stage_strict": "moderate",
            "stage_strict_rank": "2",
            "precursors_strict": "",
            "ind3_mtc": "1",
            "ind4_exercise": "1",
        },
    ),
    (
        2005,
        {
            "stage_strict": "moderate",
            "stage_manifested": "advanced",
            "ind5_command": "1",
            "precursors_strict": "5",
            "highest_indicator": "5",
        },
    ),
    (
        2014,
        {
            "stage_strict": "advanced",
            "stage_strict_rank": "3",
            "level_strict": "low",
            "level_strict_rank": "1",
            "ind3_mtc": "2",
            "ind4_exercise": "2",
            "ind5_command": "1",
            "ind6_bases": "0",
            "ind7_policy": "0",
        },
    ),
    (2017, {"stage_strict": "advanced", "ind6_bases": "0", "ind7_policy": "0"}),
]


@pytest.mark.parametrize(("year", "expected"), CHN_RUS, ids=[str(y) for y, _ in CHN_RUS])
def test_china_russia_cells(year: int, expected: dict[str, str]) -> None:
    row = next(r for r in _read(_csv_text()) if r["dyad"] == "CHN-RUS" and r["year"] == str(year))
    assert {k: row[k] for k in expected} == expected


def test_event_counts_agree_with_the_events_export() -> None:
    """n_events / n_events_new recomputed from the events CSV (dates and persistence)."""
    kg = _kg()
    events = _read(export.events_csv(kg.store))
    assert len({(e["event"], e["dyad"]) for e in events}) == len(events)  # one row each
    active: dict[tuple[str, int], int] = defaultdict(int)
    new: dict[tuple[str, int], int] = defaultdict(int)
    for event in events:
        start = int(event["start"][:4])
        end = int(event["end"][:4]) if event["end"] else None
        if event["persistence"] == "persistent":
            last = end if end is not None else kg.last_year
        else:
            last = max(start, end or start)
        for year in range(start, last + 1):
            active[(event["dyad"], year)] += 1
        new[(event["dyad"], start)] += 1
    rows = _read(_csv_text())
    assert sum(int(r["n_events_new"]) for r in rows) == len(events)
    for row in rows:
        key = (row["dyad"], int(row["year"]))
        assert int(row["n_events"]) == active[key], key
        assert int(row["n_events_new"]) == new[key], key


def test_pandas_reads_it_back_with_the_codebook_types() -> None:
    columns = export.dyad_year_columns(_kg().ontology, _kg().ladder)
    strings = {c.name: "string" for c in columns if c.type == "string"}
    frame = pd.read_csv(
        io.StringIO(_csv_text()),
        dtype=strings,
        keep_default_na=False,
        na_values={c.name: [""] for c in columns},
    )
    rows = _read(_csv_text())
    assert frame.shape == (len(rows), len(columns)) == (264, 25)
    assert list(frame.columns) == [c.name for c in columns]
    for column in columns:
        values = frame[column.name]
        if column.type == "integer":
            assert pd.api.types.is_numeric_dtype(values), column.name
        for cell, value in zip((r[column.name] for r in rows), values, strict=True):
            if cell == "":
                assert pd.isna(value), column.name
            elif column.type == "integer":
                assert value == int(cell), column.name
            else:
                assert value == cell, column.name


# --- Generated events against the reference derivation ---------------------------------

D = dt.date
GAPS = [
    # CHN-RUS: early (high) in 1995, nothing active in 1996-1997 and 1999-2001 (stage
    # none, levels missing), moderate in 1998; the SCO's exercises in 2002-2003.
    make_event("g1", parties=("RUS", "CHN"), indicator=2, level="high", start=D(1995, 3, 1)),
    make_event("g2", parties=("CHN", "RUS"), indicator=3, level="low", start=D(1998, 5, 1)),
    make_event("g3", parties=("CHN", "RUS"), dimension="economic", start=D(1998, 6, 1)),
    make_event(
        "g4",
        grouping="SCO",
        indicator=4,
        level="high",
        start=D(2002, 1, 1),
        end=D(2003, 12, 31),
        persistence="persistent",
    ),
]
SEEDS = [3, 11, 29]


def _reference_table(events: list[Event]) -> dict[tuple[str, int], dict[str, str]]:
    """The dyad-year cells the reference derivation implies (stages, indicators, counts)."""
    span = calendar(events)
    assert span is not None
    first, last = span
    table: dict[tuple[str, int], dict[str, str]] = defaultdict(dict)
    for row in reference_stages(events):
        cells = table[(row.dyad, row.year)]
        cells[f"stage_{row.reading}"] = row.stage
        cells[f"level_{row.reading}"] = row.level
        cells["highest_indicator"] = (
            "" if row.highest_indicator is None else str(row.highest_indicator)
        )
        if row.reading == "strict":
            cells["precursors_strict"] = ";".join(map(str, row.precursors))
    names = {rung: name for rung, name, _iri in _ontology_indicators()}
    for cells in table.values():
        cells.update({name: "0" for name in names.values()})
        cells.update(n_events="0", n_events_new="0")
    for event in events:
        for dyad in dyads_of(event):
            if (dyad, event["start"].year) in table:
                cells = table[(dyad, event["start"].year)]
                cells["n_events_new"] = str(int(cells["n_events_new"]) + 1)
            for year in active_years(event, first, last):
                cells = table[(dyad, year)]
                cells["n_events"] = str(int(cells["n_events"]) + 1)
                if event["indicator"] is not None:
                    name = names[event["indicator"]]
                    rank = {"low": 1, "high": 2}[event["level"]]
                    cells[name] = str(max(int(cells[name]), rank))
    return table


def _built(tmp_path: Path, events: list[Event]) -> KnowledgeGraph:
    path = tmp_path / "events.ttl"
    path.write_text(to_turtle(events), encoding="utf-8")
    return assemble([path])


@pytest.mark.parametrize("case", ["gaps", *(f"seed-{s}" for s in SEEDS)])
def test_dyad_years_agree_with_the_reference_derivation(tmp_path: Path, case: str) -> None:
    if case == "gaps":
        events = GAPS
    else:
        events = generate_events(int(case.split("-")[1]), count=10, with_sco=True)
    rows = _read(export.dyad_years_csv(_built(tmp_path, events)))
    expected = _reference_table(events)
    assert {(r["dyad"], int(r["year"])) for r in rows} == set(expected)
    for row in rows:
        wanted = expected[(row["dyad"], int(row["year"]))]
        assert {k: row[k] for k in wanted} == wanted, (row["dyad"], row["year"])
    if case == "gaps":
        none_years = [r for r in rows if r["dyad"] == "CHN-RUS" and r["stage_strict"] == "none"]
        assert [r["year"] for r in none_years] == ["1996", "1997", "1999", "2000", "2001"]
        for row in none_years:
            assert row["stage_strict_rank"] == "0"
            assert row["level_strict"] == row["level_strict_rank"] == ""
            assert row["highest_indicator"] == ""
        assert len({r["dyad"] for r in rows}) == 15  # the SCO's 15 pairs, CHN-RUS among them


# --- Generated from the ontology --------------------------------------------------------


def _with_new_indicator(notation: str = "SPACE", rung: int = 8) -> Graph:
    graph = ontology_graph()
    node = URIRef(f"{AK._NS}Test{rung}")
    graph.add((node, RDF.type, AK.Indicator))
    graph.add((node, AK.rung, Literal(rung)))
    graph.add((node, AK.stage, AK.AdvancedStage))
    graph.add((node, SKOS.notation, Literal(notation)))
    graph.add((node, SKOS.prefLabel, Literal("Joint space operations", lang="en")))
    graph.add((node, SKOS.definition, Literal("Operating satellites together.", lang="en")))
    graph.add((node, AK.lowLevel, Literal("Shared launch data.", lang="en")))
    graph.add((node, AK.highLevel, Literal("A joint constellation.", lang="en")))
    return graph


def test_a_new_indicator_in_the_ontology_is_a_new_column() -> None:
    graph = _with_new_indicator()
    names = [c.name for c in export.dyad_year_columns(graph)]
    assert names[names.index("ind7_policy") + 1] == "ind8_space"
    rows = export.dyad_year_rows(_mini().store, graph, dyad="CHN-RUS")
    assert rows and all(r["ind8_space"] == 0 for r in rows)
    assert list(rows[0]) == names
    book = export.render_codebook(export.dyad_year_columns(graph), graph)
    section = _sections(book)["ind8_space"]
    assert "- **definition**: Operating satellites together." in section
    assert "  - `2` (high): A joint constellation." in section


@pytest.mark.parametrize(
    ("notation", "rung", "expected"),
    [
        ("SPACE", 8, "ind8_space"),
        ("Space & Cyber", 8, "ind8_space_cyber"),
        ("x" * 40, 8, "ind8_" + "x" * 27),
        ("", 8, "ind8"),
    ],
)
def test_indicator_column_names_are_slugged_and_cut_to_32(
    notation: str, rung: int, expected: str
) -> None:
    graph = _with_new_indicator(notation, rung)
    names = [c.name for c in export.dyad_year_columns(graph)]
    assert expected in names
    assert all(NAME.match(n) for n in names)


def test_column_names_are_checked_before_anything_is_written() -> None:
    column = export.Column("ind7_policy", "integer", "x", "x", "x")
    with pytest.raises(LadderError, match="two columns"):
        export._check_columns([column, column])
    with pytest.raises(LadderError, match="not a Stata name"):
        export._check_columns([export.Column("7up", "integer", "x", "x", "x")])


# --- The codebook -----------------------------------------------------------------------


def _sections(book: str) -> dict[str, str]:
    parts = re.split(r"^## \d+\. `([a-z0-9_]+)`$", book, flags=re.M)
    return {parts[i]: parts[i + 1].split("\n## ")[0] for i in range(1, len(parts), 2)}


@cache
def _codebook(fmt: str) -> str:
    return str(export.render(_kg(), "codebook", fmt))


def test_every_csv_column_has_a_codebook_entry_in_order() -> None:
    header = _csv_text().split("\n", 1)[0].split(",")
    sections = _sections(_codebook("md"))
    assert list(sections) == header
    for name, section in sections.items():
        assert re.search(r"^- \*\*type\*\*: (string|integer)$", section, re.M), name
        assert re.search(r"^- \*\*label\*\*: .+$", section, re.M), name
        assert re.search(r"^- \*\*definition\*\*: .+$", section, re.M), name
        assert re.search(r"^- \*\*source\*\*: .+$", section, re.M), name
    txt = _codebook("txt")
    numbered = re.findall(r"^\d+\. ([a-z0-9_]+)$", txt, re.M)
    assert numbered == header


def test_codebook_types_match_the_csv() -> None:
    sections = _sections(_codebook("md"))
    rows = _read(_csv_text())
    for name, section in sections.items():
        found = re.search(r"^- \*\*type\*\*: (\w+)$", section, re.M)
        assert found, name
        kind = found.group(1)
        cells = [r[name] for r in rows if r[name] != ""]
        assert cells, name
        if kind == "integer":
            assert all(re.fullmatch(r"-?\d+", c) for c in cells), name


def test_codebook_indicator_entries_are_the_ontologys_definitions() -> None:
    graph = _ontology()
    sections = _sections(_codebook("md"))
    txt = " ".join(_codebook("txt").split())
    for _rung, name, iri in _ontology_indicators():
        section = sections[name]
        definition = _en(graph, iri, SKOS.definition)
        assert f"- **definition**: {definition}\n" in section
        assert f"  - `1` (low): {_en(graph, iri, AK.lowLevel)}\n" in section
        assert f"  - `2` (high): {_en(graph, iri, AK.highLevel)}\n" in section
        assert "  - `0` (absent): " in section
        assert definition in txt


def test_codebook_stage_ranks_carry_the_ontologys_stage_labels_and_reading_definitions() -> None:
    graph = _ontology()
    sections = _sections(_codebook("md"))
    for reading, iri in (("strict", AK.StrictLadder), ("manifested", AK.HighestManifested)):
        stage = sections[f"stage_{reading}"]
        assert _en(graph, iri, SKOS.definition) in stage
        rank = sections[f"stage_{reading}_rank"]
        for node in (AK.NoStage, AK.EarlyStage, AK.ModerateStage, AK.AdvancedStage):
            code = str(graph.value(node, AK.rank))
            notation = str(graph.value(node, SKOS.notation))
            line = f"  - `{code}` ({notation}): {_en(graph, node, SKOS.definition)}"
            assert line in rank


def test_codebook_labels_fit_stata_and_the_stata_block_labels_every_column() -> None:
    columns = export.dyad_year_columns(_kg().ontology, _kg().ladder)
    assert all(0 < len(c.label) <= 80 for c in columns)
    block = _codebook("md").split("```stata\n", 1)[1].split("```", 1)[0]
    labelled = re.findall(r"^label variable (\w+) \"", block, re.M)
    assert labelled == [c.name for c in columns]
    assert 'label define ind1_cbm 0 "absent" 1 "low" 2 "high", replace' in block
    assert 'label define stage_strict_rank 0 "none" 1 "early" 2 "moderate" 3 "advanced"' in block


def test_codebook_loading_commands_name_the_string_columns() -> None:
    columns = export.dyad_year_columns(_kg().ontology, _kg().ladder)
    strings = [i for i, c in enumerate(columns, start=1) if c.type == "string"]
    stata = re.search(r"stringcols\(([\d ]+)\)", _codebook("md"))
    assert stata is not None and [int(x) for x in stata.group(1).split()] == strings
    assert 'precursors_strict = "character"' in _codebook("md")


# --- The graph --------------------------------------------------------------------------


def _norm(term: object) -> object:
    """A term compared by value for numbers (the Turtle writer may spell 5 as 5.0)."""
    if isinstance(term, Literal) and term.datatype is not None:
        value = term.toPython()
        if isinstance(value, (int, float)) or type(value).__name__ == "Decimal":
            return ("number", str(term.datatype), value)
    return term


def _ground(triples: Iterable[tuple[object, object, object]]) -> set[tuple[object, ...]]:
    return {
        tuple(_norm(t) for t in triple)
        for triple in triples
        if not any(isinstance(t, BNode) for t in triple)
    }


def _bnode_shape(triples: Iterable[tuple[object, object, object]]) -> list[tuple[object, ...]]:
    """Each triple touching a blank node, with blank nodes blanked out (a multiset)."""
    shape = [
        tuple("_" if isinstance(t, BNode) else _norm(t) for t in triple)
        for triple in triples
        if any(isinstance(t, BNode) for t in triple)
    ]
    return sorted(shape, key=repr)


def _union(kg: KnowledgeGraph) -> Graph:
    union = Graph()
    for triples in export.exported_graphs(kg).values():
        for triple in triples:
            union.add(triple)
    return union


@cache
def _graph_text(fmt: str) -> str:
    return str(export.render(_kg(), "graph", fmt))


def test_turtle_is_the_union_of_ontology_data_and_derived() -> None:
    back = Graph().parse(data=_graph_text("turtle"), format="turtle")
    union = _union(_kg())
    assert len(back) == len(union) > 15000
    assert _ground(back) == _ground(union)
    assert _bnode_shape(back) == _bnode_shape(union)
    # the ontology's own terms, the coded data and the derived assessments are all there
    assert (AK.ConfidenceBuilding, AK.rung, Literal(1)) in back
    assert any(back.triples((None, RDF.type, AK.StageAssessment)))
    assert any(back.triples((None, RDF.type, AK.Event)))


def test_turtle_of_a_small_graph_is_isomorphic() -> None:
    kg = _mini()
    back = Graph().parse(data=str(export.render(kg, "graph", "turtle")), format="turtle")
    assert isomorphic(back, _union(kg))


@pytest.mark.parametrize("fmt", ["jsonld", "trig", "nquads"])
def test_named_graph_formats_keep_each_graph(fmt: str) -> None:
    parsers = {"jsonld": "json-ld", "trig": "trig", "nquads": "nquads"}
    dataset = Dataset()
    dataset.parse(data=_graph_text(fmt), format=parsers[fmt])
    parts = export.exported_graphs(_kg())
    names = {g.identifier for g in dataset.graphs() if len(g)}
    assert names == {ONTOLOGY_GRAPH, DATA_GRAPH, DERIVED_GRAPH} == set(parts)
    for name, triples in parts.items():
        back = dataset.graph(name)
        assert len(back) == len(set(triples)), name
        assert _ground(back) == _ground(triples), name
        assert _bnode_shape(back) == _bnode_shape(triples), name


def test_jsonld_has_an_inline_context_of_alignkg_prefixes() -> None:
    document = json.loads(_graph_text("jsonld"))
    context = document["@context"]
    assert isinstance(context, dict)
    assert context["ak"] == "https://w3id.org/alignkg/ns#"
    assert context["dyad"] == "https://w3id.org/alignkg/dyad/"
    assert all(isinstance(v, str) for v in context.values())
    assert {g["@id"] for g in document["@graph"]} == {
        str(ONTOLOGY_GRAPH),
        str(DATA_GRAPH),
        str(DERIVED_GRAPH),
    }


def test_named_graphs_of_a_small_graph_are_isomorphic() -> None:
    kg = _mini()
    dataset = Dataset()
    dataset.parse(data=str(export.render(kg, "graph", "jsonld")), format="json-ld")
    for name, triples in export.exported_graphs(kg).items():
        source = Graph()
        for triple in triples:
            source.add(triple)
        assert isomorphic(dataset.graph(name), source), name


def test_the_ontology_graph_leaves_out_the_imported_vocabularies() -> None:
    ontology = export.exported_graphs(_mini())[ONTOLOGY_GRAPH]
    subjects = {str(s) for s, _p, _o in ontology}
    assert "https://w3id.org/alignkg/ns#Indicator" in subjects
    assert not any(s.startswith("http://www.w3.org/ns/prov#") for s in subjects)


# --- render() and the command line -------------------------------------------------------


def test_formats_offer_the_new_exports_with_their_defaults() -> None:
    assert export.FORMATS["dyad-years"][0] == "csv"
    assert export.FORMATS["codebook"][0] == "md"
    assert export.FORMATS["graph"][0] == "turtle"
    assert "jsonld" in export.FORMATS["graph"]
    assert export.FORMATS["sources"] == ("csv",)
    assert export.FORMATS["events"] == ("csv", "sheet", "xlsx")  # csv first: the analysis table


@pytest.mark.parametrize(
    ("what", "fmt", "message"),
    [("tables", "csv", "unknown table"), ("dyad-years", "md", "must be one of csv")],
)
def test_render_refuses_what_it_cannot_write(what: str, fmt: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        export.render(_mini(), what, fmt)


def test_events_and_sources_csv_are_their_records() -> None:
    store = _mini().store
    assert _read(export.events_csv(store)) == export.event_records(store)
    assert _read(export.sources_csv(store)) == export.source_records(store)


def test_cli_writes_dyad_years_and_codebook(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "dyad-years.csv"
    assert main(["export", "dyad-years", "--kg", str(MINI), "--output", str(output), "-q"]) == 0
    rows = _read(output.read_text(encoding="utf-8"))
    assert {r["dyad"] for r in rows} >= {"CHN-RUS", "KAZ-RUS"}
    assert main(["export", "codebook", "--format", "txt", "--kg", str(MINI), "-q"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("CODEBOOK: alignkg dyad-years")
    assert main(["export", "dyad-years", "--format", "md", "--kg", str(MINI), "-q"]) == 2
