"""Fig. 1 and Fig. 2 from the graph: what they draw (the data) and the files they become."""

from __future__ import annotations

import html
import itertools
import re
import struct
from functools import cache
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, SKOS

from alignkg import figures
from alignkg.build import KnowledgeGraph, assemble, ontology_graph
from alignkg.cli import main
from alignkg.errors import UsageError
from alignkg.ladder import build_ladder
from alignkg.namespace import AK

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "tests" / "cases" / "example" / "mini.ttl"
REDUCED_EDGES = {(2, 3), (2, 4), (3, 5), (4, 5), (3, 6), (4, 6), (3, 7), (4, 7)}


@cache
def real_kg() -> KnowledgeGraph:
    return assemble([ROOT / "kg"])


@cache
def chn_rus() -> figures.DyadFigure:
    return figures.dyad_grid(real_kg(), "CHN-RUS")


def svg_texts(svg: bytes) -> list[str]:
    """The text of every <text> element (SVG keeps text as text)."""
    return [html.unescape(t) for t in re.findall(r"<text\b[^>]*>([^<]*)</text>", svg.decode())]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


# --- Fig. 1 -------------------------------------------------------------------------------


def test_the_ladder_has_seven_boxes_in_three_stages() -> None:
    ontology = ontology_graph()
    data = figures.ladder_layout(build_ladder(ontology), ontology)
    assert [b.rung for b in data.boxes] == [1, 2, 3, 4, 5, 6, 7]
    assert [(band.stage, band.rungs) for band in data.bands] == [
        ("early", (1, 2)),
        ("moderate", (3, 4)),
        ("advanced", (5, 6, 7)),
    ]
    assert {b.rung: b.stage for b in data.boxes} == {
        1: "early",
        2: "early",
        3: "moderate",
        4: "moderate",
        5: "advanced",
        6: "advanced",
        7: "advanced",
    }
    assert data.title == "Ladder of military cooperation"
    assert data.stage_edges == (("early", "moderate"), ("moderate", "advanced"))
    # The gates of each stage (ak:becomesHighWith) are marked.
    assert [band.gates for band in data.bands] == [(2,), (3, 4), (5, 6, 7)]
    assert [b.rung for b in data.boxes if b.gate] == [2, 3, 4, 5, 6, 7]


def test_the_ladder_draws_the_transitive_reduction_of_requires() -> None:
    ontology = ontology_graph()
    data = figures.ladder_layout(build_ladder(ontology), ontology)
    assert {(e.prerequisite, e.rung) for e in data.edges} == REDUCED_EDGES
    # The closure edges the ontology also asserts (5 requires 2) are not drawn.
    assert (2, 5) not in {(e.prerequisite, e.rung) for e in data.edges}
    # Arrows go up, from the top of the prerequisite to the bottom of the requirer.
    for edge in data.edges:
        assert edge.start[1] == pytest.approx(data.box(edge.prerequisite).box.top)
        assert edge.end[1] == pytest.approx(data.box(edge.rung).box.y)


def test_the_ladder_boxes_carry_the_level_summaries_of_the_ontology() -> None:
    ontology = ontology_graph()
    data = figures.ladder_layout(build_ladder(ontology), ontology)
    box = data.box(4)
    assert box.label == "Regular joint military exercises"
    assert box.low == "Simple joint manoeuvres in the parties' immediate geopolitical environment."
    assert box.high.startswith("Exercises in distant seas")
    assert " ".join(box.low_lines) == f"low: {box.low}"
    # Boxes do not overlap and sit inside their band.
    for band in data.bands:
        inside = [data.box(r).box for r in band.rungs]
        for a, b in itertools.pairwise(inside):
            assert a.right < b.x
        for b in inside:
            assert band.box.y < b.y and b.top < band.box.top


def test_the_ladder_svg_keeps_every_name_as_text() -> None:
    ontology = ontology_graph()
    ladder = build_ladder(ontology)
    svg = figures.render(figures.draw_ladder(figures.ladder_layout(ladder, ontology)), "svg")
    texts = svg_texts(svg)
    for indicator in ladder.ordered_indicators():
        assert any(indicator.label in t for t in texts), indicator.label
    assert "Ladder of military cooperation" in texts
    assert any(t.startswith("low: Episodic integration") for t in texts)


EX = "https://example.org/ladder#"


def _with_extra_indicator(graph: Graph) -> None:
    extra = URIRef(EX + "NuclearSharing")
    graph.add((extra, RDF.type, AK.Indicator))
    graph.add((extra, RDF.type, OWL.NamedIndividual))
    graph.add((extra, AK.rung, Literal(8)))
    graph.add((extra, AK.stage, AK.AdvancedStage))
    graph.add((extra, SKOS.notation, Literal("NUCLEAR")))
    graph.add((extra, SKOS.prefLabel, Literal("Nuclear sharing", lang="en")))
    graph.add((extra, AK.lowLevel, Literal("Consultations on nuclear planning.", lang="en")))
    graph.add((extra, AK.requires, AK.IntegratedCommand))
    graph.add((extra, AK.requires, AK.MilitaryConsultation))


def _without_exercises_for_command(graph: Graph) -> None:
    graph.remove((AK.IntegratedCommand, AK.requires, AK.JointExercises))


@pytest.mark.parametrize(
    ("change", "boxes", "added", "removed", "text"),
    [
        (_with_extra_indicator, 8, {(5, 8)}, set(), "Nuclear sharing"),
        (_without_exercises_for_command, 7, set(), {(4, 5)}, None),
    ],
    ids=["extra-indicator", "changed-edge"],
)
def test_a_changed_ladder_draws_differently(
    change: object,
    boxes: int,
    added: set[tuple[int, int]],
    removed: set[tuple[int, int]],
    text: str | None,
) -> None:
    original = ontology_graph()
    modified = ontology_graph()
    change(modified)  # type: ignore[operator]
    before = figures.ladder_layout(build_ladder(original), original)
    after = figures.ladder_layout(build_ladder(modified), modified)
    assert len(after.boxes) == boxes
    assert {(e.prerequisite, e.rung) for e in after.edges} == (REDUCED_EDGES | added) - removed
    svg_before = figures.render(figures.draw_ladder(before), "svg")
    svg_after = figures.render(figures.draw_ladder(after), "svg")
    assert svg_before != svg_after
    if text:
        assert any(text in t for t in svg_texts(svg_after))
        assert after.box(8).stage == "advanced"
        assert next(b for b in after.bands if b.stage == "advanced").rungs == (5, 6, 7, 8)


def test_renders_are_reproducible() -> None:
    ontology = ontology_graph()
    data = figures.ladder_layout(build_ladder(ontology), ontology)
    for fmt in figures.FORMATS:
        first = figures.render(figures.draw_ladder(data), fmt)
        second = figures.render(figures.draw_ladder(data), fmt)
        assert first == second, fmt
    grid = chn_rus()
    assert figures.render(figures.draw_dyad(grid), "svg") == figures.render(
        figures.draw_dyad(grid), "svg"
    )


# --- Fig. 2 -------------------------------------------------------------------------------


def test_the_china_russia_grid() -> None:
    data = chn_rus()
    assert data.dyad == "CHN-RUS"
    assert data.names == ("China", "Russia")
    assert data.title == "Development of China–Russia military cooperation since 1992"
    assert [r.rung for r in data.rows] == [1, 2, 3, 4, 5, 6, 7]
    assert [r.stage for r in data.rows] == ["early"] * 2 + ["moderate"] * 2 + ["advanced"] * 3
    assert data.years == tuple(range(1992, 2018))
    assert data.cells[(2015, 5)] == "low"
    assert data.cells[(2015, 4)] == "high"
    assert data.cells[(1992, 1)] == "low"
    assert (2005, 1) not in data.cells  # the CBMs ended with the border settlement of 2004
    assert not [key for key in data.cells if key[1] in (6, 7)]
    strict, manifested = data.bands["strict"], data.bands["manifested"]
    assert (strict[2015].stage, strict[2015].level) == ("advanced", "low")
    assert (strict[1992].stage, strict[1992].level) == ("early", "low")
    assert strict[1992].precursors == (3,)
    assert manifested[1992].stage == "moderate"
    assert manifested[2005].stage == "advanced"
    assert [(s.first, s.last, s.stage, s.level) for s in data.segments["strict"]] == [
        (1992, 2003, "early", "low"),
        (2004, 2013, "moderate", "low"),
        (2014, 2017, "advanced", "low"),
    ]
    assert (1992, 3) in data.precursors and (2005, 5) in data.precursors
    assert (2015, 5) not in data.precursors


@pytest.mark.parametrize(
    ("first", "last", "years", "title"),
    [
        (2000, 2010, tuple(range(2000, 2011)), "2000–2010"),
        (2010, None, tuple(range(2010, 2018)), "since 2010"),
        (None, 1995, tuple(range(1992, 1996)), "1992–1995"),
        (2015, 2015, (2015,), "in 2015"),
        (1980, 1993, (1992, 1993), "1992–1993"),  # clipped to the graph's calendar
    ],
)
def test_a_year_range_narrows_the_columns(
    first: int | None, last: int | None, years: tuple[int, ...], title: str
) -> None:
    data = figures.dyad_grid(real_kg(), "RUS-CHN", first, last)
    assert data.years == years
    assert data.title.endswith(title)
    assert {year for year, _rung in data.cells} <= set(years)
    assert set(data.bands["strict"]) == set(years)


@pytest.mark.parametrize(
    ("dyad", "first", "last", "message"),
    [
        ("CHN-USA", None, None, "no events"),
        ("XXX-YYY", None, None, "no events"),
        ("CHINA-RUSSIA", None, None, "ISO"),
        ("CHN-CHN", None, None, "same state"),
        ("CHN-RUS", 2010, 2000, "after"),
        ("CHN-RUS", 2030, 2040, "no year"),
    ],
)
def test_bad_requests_are_usage_errors(
    dyad: str, first: int | None, last: int | None, message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        figures.dyad_grid(real_kg(), dyad, first, last)


def test_the_grid_svg_has_its_title_labels_and_legend() -> None:
    texts = svg_texts(figures.render(figures.draw_dyad(chn_rus()), "svg"))
    assert "Development of China–Russia military cooperation since 1992" in texts
    assert "5  Integrated military command" in texts
    assert {"strict ladder", "highest manifested", "early (low)", "advanced (low)"} <= set(texts)
    assert texts.count("Lp") == len(chn_rus().precursors)
    assert any("precursor" in t for t in texts)
    assert [str(y) for y in range(1992, 2018)] == [t for t in texts if re.fullmatch(r"\d{4}", t)]


def test_a_small_graph_draws_too() -> None:
    kg = assemble([EXAMPLE])
    data = figures.dyad_grid(kg, "CHN-RUS")
    assert data.cells[(2005, 5)] == "low"
    assert figures.render(figures.draw_dyad(data), "png").startswith(b"\x89PNG")


# --- Files --------------------------------------------------------------------------------


def test_write_gives_svg_png_and_pdf(tmp_path: Path) -> None:
    kg = real_kg()
    written = figures.write(
        kg,
        "dyad",
        dyad="rus-chn",
        first=None,
        last=None,
        formats=["svg", "png", "pdf"],
        output=tmp_path,
    )
    assert written == [tmp_path / "CHN-RUS.svg", tmp_path / "CHN-RUS.png", tmp_path / "CHN-RUS.pdf"]
    figure = figures.draw_dyad(chn_rus())
    expected = (
        round(figure.get_figwidth() * figures.DPI),
        round(figure.get_figheight() * figures.DPI),
    )
    assert png_size((tmp_path / "CHN-RUS.png").read_bytes()) == expected
    assert (tmp_path / "CHN-RUS.pdf").read_bytes().startswith(b"%PDF")
    svg = (tmp_path / "CHN-RUS.svg").read_bytes()
    assert b"<svg" in svg and b"<text" in svg
    assert not list(tmp_path.glob(".*.tmp")), "no temporary files are left behind"

    ladder = figures.write(
        kg,
        "ladder",
        dyad="CHN-RUS",
        first=None,
        last=None,
        formats=["png", "png"],
        output=tmp_path / "fig",
    )
    assert ladder == [tmp_path / "fig" / "ladder.png"]
    layout = figures.ladder_layout(kg.ladder, kg.ontology)
    assert png_size(ladder[0].read_bytes()) == (
        round(layout.width * figures.DPI),
        round(layout.height * figures.DPI),
    )


def test_write_refuses_an_unknown_dyad_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        figures.write(
            real_kg(),
            "dyad",
            dyad="CHN-USA",
            first=None,
            last=None,
            formats=["svg"],
            output=tmp_path / "out",
        )
    assert not (tmp_path / "out").exists()


def test_the_figure_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "figure",
            "dyad",
            "--kg",
            str(EXAMPLE),
            "--dyad",
            "RUS-CHN",
            "--from",
            "2003",
            "--to",
            "2005",
            "--format",
            "svg",
            "--output",
            str(tmp_path),
            "-q",
        ]
    )
    out, _err = capsys.readouterr()
    assert code == 0
    assert out.split() == [str(tmp_path / "CHN-RUS.svg")]
    texts = svg_texts((tmp_path / "CHN-RUS.svg").read_bytes())
    assert "Development of China–Russia military cooperation 2003–2005" in texts
    code = main(["figure", "dyad", "--kg", str(EXAMPLE), "--dyad", "CHN-USA", "-q"])
    _out, err = capsys.readouterr()
    assert code == 2 and "CHN-USA" in err
