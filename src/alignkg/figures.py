"""The paper's figures, drawn from the graph: Fig. 1 (the ladder) and Fig. 2 (a dyad by year).

Data and drawing are kept apart. :func:`ladder_layout` and :func:`dyad_grid` return plain
dataclasses saying what will be drawn (boxes, labels, edges; rows, columns, cell levels,
stage bands), read from the ontology's precedence graph and the store; :func:`draw_ladder`
and :func:`draw_dyad` turn them into matplotlib figures, and :func:`render` into SVG, PNG
or PDF bytes. Nothing about the seven indicators is written here: a ladder with another
indicator or another ``ak:requires`` edge draws differently.

Only the Agg-based backends are used (no GUI, no pyplot state), with matplotlib's bundled
DejaVu fonts; SVG keeps its text as text, and every output is byte-for-byte reproducible
(fixed hash salt, no dates in the metadata).
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import matplotlib
import networkx as nx
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import FancyArrowPatch, Patch, Rectangle
from matplotlib.textpath import TextToPath
from rdflib import Graph, URIRef
from rdflib import Literal as RdfLiteral
from rdflib.namespace import SKOS

from alignkg import query, stages
from alignkg.build import KnowledgeGraph
from alignkg.errors import UsageError
from alignkg.ladder import Ladder
from alignkg.namespace import AK
from alignkg.output import write_atomic

FigureFormat = Literal["svg", "png", "pdf"]
FORMATS: tuple[FigureFormat, ...] = ("svg", "png", "pdf")
#: Resolution of the PNG files: a figure of w x h inches is w*DPI x h*DPI pixels.
DPI = 150
READINGS: dict[str, str] = {"strict": "strict ladder", "manifested": "highest manifested"}

# Colour-blind safe and legible in greyscale: levels in oranges, stages in blues, both
# sequential (darker is higher); a letter in each cell (L, H) and in each band (the
# stage's name, dotted when high) says the same without colour.
LEVEL_COLOURS: dict[str, str] = {"low": "#fdbe85", "high": "#d94701"}
PRECURSOR_COLOUR = "#000000"
_UNKNOWN = "#bdbdbd"
_FONT = "DejaVu Sans"
_RC: dict[str, Any] = {
    "font.family": "sans-serif",
    "font.sans-serif": [_FONT],
    "svg.fonttype": "none",
    "pdf.fonttype": 42,
    "hatch.linewidth": 0.6,
    "path.simplify": False,
}
_METADATA: dict[str, dict[str, Any]] = {
    "svg": {"Date": None, "Creator": None, "Type": None, "Format": None},
    "pdf": {"CreationDate": None, "ModDate": None},
    "png": {},
}
_MEASURE = TextToPath()
_DIAGRAM_TITLE = "Ladder of military cooperation"


@contextmanager
def _style(salt: str = "alignkg") -> Iterator[None]:
    settings: Any = {**_RC, "svg.hashsalt": salt}
    with matplotlib.rc_context(settings):
        yield


def text_width(text: str, size_pt: float, *, bold: bool = False) -> float:
    """The width of ``text`` in inches, set in DejaVu Sans (measured, not estimated)."""
    font = FontProperties(family=_FONT, size=size_pt, weight="bold" if bold else "normal")
    width, _height, _descent = _MEASURE.get_text_width_height_descent(text, font, ismath=False)
    return float(width) / 72


def _wrap(text: str, width_in: float, size_pt: float, *, bold: bool = False) -> tuple[str, ...]:
    lines: list[str] = []
    for word in text.split():
        if lines and text_width(f"{lines[-1]} {word}", size_pt, bold=bold) <= width_in:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return tuple(lines) or ("",)


def _tenths(inches: float) -> float:
    """Round a figure size up to a tenth of an inch, a whole number of pixels at DPI."""
    return math.ceil(round(inches * 10, 6)) / 10


def _text_colour(colour: str) -> str:
    red, green, blue = matplotlib.colors.to_rgb(colour)
    return "#ffffff" if 0.299 * red + 0.587 * green + 0.114 * blue < 0.5 else "#000000"


def stage_colours(ranks: Sequence[int]) -> dict[int, str]:
    """A colour per stage rank (rank 0, no stage, is white): light to dark blue."""
    cmap = matplotlib.colormaps["Blues"]
    chosen = sorted({r for r in ranks if r > 0})
    colours = {0: "#ffffff"}
    for number, rank in enumerate(chosen):
        share = 0.25 + 0.6 * (number / max(1, len(chosen) - 1))
        colours[rank] = matplotlib.colors.to_hex(cmap(share))
    return colours


# --- Fig. 1: the ladder ------------------------------------------------------------------


@dataclass(frozen=True)
class Box:
    """A rectangle in inches from the figure's lower left corner."""

    x: float
    y: float
    width: float
    height: float

    @property
    def top(self) -> float:
        return self.y + self.height

    @property
    def right(self) -> float:
        return self.x + self.width


@dataclass(frozen=True)
class LadderBox:
    """An indicator: its rung, name, stage and the summaries of its two levels."""

    rung: int
    notation: str
    label: str
    stage: str
    low: str
    high: str
    gate: bool
    title_lines: tuple[str, ...]
    low_lines: tuple[str, ...]
    high_lines: tuple[str, ...]
    box: Box


@dataclass(frozen=True)
class LadderBand:
    """A stage and the rungs drawn in it; ``gates`` are the rungs it becomes high with."""

    stage: str
    label: str
    rank: int
    rungs: tuple[int, ...]
    gates: tuple[int, ...]
    box: Box


@dataclass(frozen=True)
class LadderEdge:
    """``rung`` requires ``prerequisite``: an arrow from the prerequisite's box."""

    prerequisite: int
    rung: int
    start: tuple[float, float]
    end: tuple[float, float]
    same_band: bool


@dataclass(frozen=True)
class LadderFigure:
    """What Fig. 1 draws."""

    title: str
    width: float
    height: float
    bands: tuple[LadderBand, ...]
    boxes: tuple[LadderBox, ...]
    edges: tuple[LadderEdge, ...]
    stage_edges: tuple[tuple[str, str], ...]
    notes: tuple[str, ...]

    def box(self, rung: int) -> LadderBox:
        for item in self.boxes:
            if item.rung == rung:
                return item
        raise KeyError(rung)


def _english(graph: Graph, node: URIRef, prop: URIRef) -> str:
    fallback = ""
    for value in graph.objects(node, prop):
        if isinstance(value, RdfLiteral):
            if value.language == "en":
                return str(value)
            if not value.language:
                fallback = str(value)
    return fallback


def _scheme_title(ladder: Ladder, ontology: Graph | None) -> str:
    if ontology is None:
        return _DIAGRAM_TITLE
    for stage in sorted(ladder.stages.values(), key=lambda s: s.rank):
        scheme = ontology.value(stage.iri, SKOS.inScheme)
        if isinstance(scheme, URIRef):
            return _english(ontology, scheme, SKOS.prefLabel) or _DIAGRAM_TITLE
    return _DIAGRAM_TITLE


def requirement_edges(ladder: Ladder) -> list[tuple[int, int]]:
    """The ``ak:requires`` edges as (prerequisite rung, rung), transitively reduced."""
    graph: nx.DiGraph = nx.DiGraph()
    graph.add_nodes_from(ladder.indicators)
    for source, target, relation in ladder.graph.edges(data="relation"):
        if relation == "requires":
            graph.add_edge(source, target)
    reduced = nx.transitive_reduction(graph)
    rung = {iri: indicator.rung for iri, indicator in ladder.indicators.items()}
    return sorted((rung[a], rung[b]) for a, b in reduced.edges)


_BOX_WIDTH = 4.7
_GAP = 0.35
_LABEL_COLUMN = 1.6
_TITLE_SIZE = 9.5
_BODY_SIZE = 7.5
_BAND_PAD = 0.55
_HEADER = 0.8
_FOOTER = 0.75


def ladder_layout(ladder: Ladder, ontology: Graph | None = None) -> LadderFigure:
    """Lay out Fig. 1 from the precedence graph (and the level summaries of ``ontology``).

    Stages are bands from the lowest rank (bottom) up; each indicator is a box in its
    stage's band, in rung order; an arrow goes from each prerequisite to the indicator
    that requires it (``ak:requires``, transitive reduction).
    """
    chain = sorted((s for s in ladder.stages.values() if s.rank > 0), key=lambda s: s.rank)
    members: dict[URIRef, list[int]] = {s.iri: [] for s in chain}
    for indicator in ladder.ordered_indicators():
        members.setdefault(indicator.stage, []).append(indicator.rung)
    columns = max([len(r) for r in members.values()] + [1])
    width = _LABEL_COLUMN + columns * _BOX_WIDTH + (columns + 1) * _GAP
    inner_width = _BOX_WIDTH - 0.2

    def summary(iri: URIRef, prop: URIRef) -> str:
        return _english(ontology, iri, prop) if ontology is not None else ""

    drafts: dict[int, dict[str, Any]] = {}
    for indicator in ladder.ordered_indicators():
        low, high = summary(indicator.iri, AK.lowLevel), summary(indicator.iri, AK.highLevel)
        drafts[indicator.rung] = {
            "indicator": indicator,
            "low": low,
            "high": high,
            "title_lines": _wrap(
                f"{indicator.rung}  {indicator.label}", inner_width, _TITLE_SIZE, bold=True
            ),
            "low_lines": _wrap(f"low: {low}", inner_width, _BODY_SIZE) if low else (),
            "high_lines": _wrap(f"high: {high}", inner_width, _BODY_SIZE) if high else (),
        }

    def box_height(rung: int) -> float:
        draft = drafts[rung]
        title = len(draft["title_lines"]) * _TITLE_SIZE * 1.3 / 72
        body = (len(draft["low_lines"]) + len(draft["high_lines"])) * _BODY_SIZE * 1.3 / 72
        gaps = 0.08 * (bool(draft["low_lines"]) + bool(draft["high_lines"]))
        return max(0.6, 0.22 + title + body + gaps)

    band_heights = [
        max([box_height(r) for r in members[s.iri]] + [0.6]) + 2 * _BAND_PAD for s in chain
    ]
    height = _HEADER + sum(band_heights) + _FOOTER
    bands: list[LadderBand] = []
    boxes: list[LadderBox] = []
    y = _FOOTER
    for stage, band_height in zip(chain, band_heights, strict=True):
        rungs = members[stage.iri]
        gates = tuple(sorted(ladder.indicators[g].rung for g in stage.becomes_high_with))
        bands.append(
            LadderBand(
                stage=stage.notation or stage.label,
                label=stage.label,
                rank=stage.rank,
                rungs=tuple(rungs),
                gates=gates,
                box=Box(0.15, y, width - 0.3, band_height),
            )
        )
        inner = band_height - 2 * _BAND_PAD
        spread = len(rungs) * _BOX_WIDTH + (len(rungs) - 1) * _GAP
        left = _LABEL_COLUMN + _GAP + (columns * _BOX_WIDTH + (columns - 1) * _GAP - spread) / 2
        for number, rung in enumerate(rungs):
            draft = drafts[rung]
            indicator = draft["indicator"]
            boxes.append(
                LadderBox(
                    rung=rung,
                    notation=indicator.notation,
                    label=indicator.label,
                    stage=stage.notation or stage.label,
                    low=draft["low"],
                    high=draft["high"],
                    gate=rung in gates,
                    title_lines=draft["title_lines"],
                    low_lines=draft["low_lines"],
                    high_lines=draft["high_lines"],
                    box=Box(left + number * (_BOX_WIDTH + _GAP), y + _BAND_PAD, _BOX_WIDTH, inner),
                )
            )
        y += band_height

    placed = {b.rung: b for b in boxes}
    band_of = {b.rung: b.stage for b in boxes}
    pairs = requirement_edges(ladder)
    outgoing: dict[int, list[int]] = {}
    incoming: dict[int, list[int]] = {}
    for prerequisite, rung in pairs:
        if band_of[prerequisite] != band_of[rung]:
            outgoing.setdefault(prerequisite, []).append(rung)
            incoming.setdefault(rung, []).append(prerequisite)

    def anchor(box: Box, index: int, count: int) -> float:
        return box.x + box.width * (index + 1) / (count + 1)

    edges: list[LadderEdge] = []
    for prerequisite, rung in pairs:
        source, target = placed[prerequisite].box, placed[rung].box
        if band_of[prerequisite] == band_of[rung]:
            edges.append(
                LadderEdge(
                    prerequisite,
                    rung,
                    (source.right, source.y + source.height * 0.5),
                    (target.x, target.y + target.height * 0.5),
                    True,
                )
            )
            continue
        outs, ins = sorted(outgoing[prerequisite]), sorted(incoming[rung])
        edges.append(
            LadderEdge(
                prerequisite,
                rung,
                (anchor(source, outs.index(rung), len(outs)), source.top),
                (anchor(target, ins.index(prerequisite), len(ins)), target.y),
                False,
            )
        )
    stage_edges = tuple(
        sorted(
            (ladder.stages[a].notation, ladder.stages[b].notation)
            for a, b, relation in ladder.graph.edges(data="relation")
            if relation == "precedes" and a in members and b in members
        )
    )
    notes = (
        "An arrow runs from an indicator to each indicator that requires it (ak:requires; "
        "transitive reduction).",
        "Thick border: the indicators with which their stage becomes high (ak:becomesHighWith).",
    )
    return LadderFigure(
        title=_scheme_title(ladder, ontology),
        width=_tenths(width),
        height=_tenths(height),
        bands=tuple(bands),
        boxes=tuple(boxes),
        edges=tuple(edges),
        stage_edges=stage_edges,
        notes=notes,
    )


def _canvas(width: float, height: float) -> tuple[Figure, Any]:
    figure = Figure(figsize=(width, height), dpi=DPI)
    axes = figure.add_axes((0.0, 0.0, 1.0, 1.0))
    axes.set_xlim(0, width)
    axes.set_ylim(0, height)
    axes.set_axis_off()
    return figure, axes


def draw_ladder(data: LadderFigure) -> Figure:
    """Fig. 1 as a matplotlib figure (sizes in inches, as laid out)."""
    with _style():
        figure, axes = _canvas(data.width, data.height)
        colours = stage_colours([b.rank for b in data.bands])
        axes.text(
            data.width / 2,
            data.height - 0.4,
            data.title,
            ha="center",
            va="center",
            fontsize=14,
            fontweight="bold",
        )
        for band in data.bands:
            colour = colours[band.rank]
            b = band.box
            axes.add_patch(
                Rectangle((b.x, b.y), b.width, b.height, facecolor=colour, alpha=0.35, lw=0)
            )
            lines = [f"{band.label} stage", f"rungs {', '.join(map(str, band.rungs))}"]
            if band.gates:
                lines.append(f"high with {', '.join(map(str, band.gates))}")
            axes.text(
                b.x + 0.15,
                b.y + b.height / 2,
                "\n".join(lines),
                ha="left",
                va="center",
                fontsize=9,
                linespacing=1.5,
            )
        for box in data.boxes:
            b = box.box
            axes.add_patch(
                Rectangle(
                    (b.x, b.y),
                    b.width,
                    b.height,
                    facecolor="#ffffff",
                    edgecolor="#000000",
                    lw=2.2 if box.gate else 0.8,
                    zorder=2,
                )
            )
            y = b.top - 0.1
            for line in box.title_lines:
                axes.text(
                    b.x + 0.1,
                    y,
                    line,
                    ha="left",
                    va="top",
                    fontsize=_TITLE_SIZE,
                    fontweight="bold",
                    zorder=3,
                )
                y -= _TITLE_SIZE * 1.3 / 72
            for paragraph in (box.low_lines, box.high_lines):
                if not paragraph:
                    continue
                y -= 0.08
                for line in paragraph:
                    axes.text(
                        b.x + 0.1, y, line, ha="left", va="top", fontsize=_BODY_SIZE, zorder=3
                    )
                    y -= _BODY_SIZE * 1.3 / 72
        for edge in data.edges:
            axes.add_patch(
                FancyArrowPatch(
                    edge.start,
                    edge.end,
                    arrowstyle="-|>",
                    mutation_scale=12,
                    lw=1.0,
                    color="#252525",
                    connectionstyle="arc3,rad=-0.35" if edge.same_band else "arc3,rad=0",
                    shrinkA=1,
                    shrinkB=1,
                    zorder=4,
                )
            )
        by_stage = {band.stage: band for band in data.bands}
        for lower, upper in data.stage_edges:
            start, end = by_stage[lower].box, by_stage[upper].box
            axes.add_patch(
                FancyArrowPatch(
                    (start.x + 0.75, start.top - 0.3),
                    (end.x + 0.75, end.y + 0.3),
                    arrowstyle="simple",
                    mutation_scale=16,
                    color="#636363",
                    lw=0,
                    zorder=1,
                )
            )
        for number, note in enumerate(data.notes):
            axes.text(0.2, 0.5 - number * 0.2, note, ha="left", va="center", fontsize=8)
    return figure


# --- Fig. 2: a dyad by year --------------------------------------------------------------


@dataclass(frozen=True)
class GridRow:
    """An indicator row of Fig. 2."""

    rung: int
    notation: str
    label: str
    stage: str
    stage_label: str
    stage_rank: int


@dataclass(frozen=True)
class StageCell:
    """A dyad's stage in one year under one reading."""

    year: int
    stage: str
    level: str
    counted: tuple[int, ...]
    precursors: tuple[int, ...]


@dataclass(frozen=True)
class BandSegment:
    """Consecutive years with the same stage and level under one reading."""

    first: int
    last: int
    stage: str
    level: str
    rank: int

    @property
    def text(self) -> str:
        if not self.stage:
            return "not assessed"
        return f"{self.stage} ({self.level})" if self.level else self.stage


@dataclass(frozen=True)
class DyadFigure:
    """What Fig. 2 draws: indicator rows by year columns, and the stage bands."""

    dyad: str
    names: tuple[str, str]
    title: str
    years: tuple[int, ...]
    rows: tuple[GridRow, ...]
    #: (year, rung) -> level code; absent where the indicator is absent that year.
    cells: Mapping[tuple[int, int], str]
    #: (year, rung) of indicators present but not counted by the strict ladder.
    precursors: frozenset[tuple[int, int]]
    #: reading ("strict", "manifested") -> year -> stage cell; absent years not assessed.
    bands: Mapping[str, Mapping[int, StageCell]]
    segments: Mapping[str, tuple[BandSegment, ...]]
    stage_ranks: Mapping[str, int]
    stage_labels: Mapping[str, str]


def dyad_names(kg: KnowledgeGraph, dyad: str) -> tuple[str, str]:
    """The English names of a dyad's two states (their ISO codes where unnamed)."""
    code = stages.dyad_code(dyad)
    names = dict(zip(("a", "b"), code.split("-"), strict=True))
    _vars, rows = query.run(kg.store, query.load("dyad-members"), {"dyad": stages.dyad_iri(code)})
    found = {str(r["iso3"]): str(r["name"]) for r in rows if "name" in r}
    return found.get(names["a"], names["a"]), found.get(names["b"], names["b"])


def _segments(
    years: Sequence[int], cells: Mapping[int, StageCell], ranks: Mapping[str, int]
) -> tuple[BandSegment, ...]:
    found: list[BandSegment] = []
    for year in years:
        cell = cells.get(year)
        stage, level = (cell.stage, cell.level) if cell else ("", "")
        last = found[-1] if found else None
        if last and (last.stage, last.level) == (stage, level) and last.last == year - 1:
            found[-1] = BandSegment(last.first, year, stage, level, last.rank)
        else:
            found.append(BandSegment(year, year, stage, level, ranks.get(stage, 0)))
    return tuple(found)


def dyad_grid(
    kg: KnowledgeGraph, dyad: str, first: int | None = None, last: int | None = None
) -> DyadFigure:
    """The data of Fig. 2 for ``dyad`` (by default from its first assessed year to the last).

    Raises :class:`UsageError` for a malformed dyad, a dyad without events, an empty or
    inverted year range.
    """
    code = stages.dyad_code(dyad)
    if first is not None and last is not None and first > last:
        raise UsageError(f"--from {first} is after --to {last}")
    assessed = stages.stage_rows(kg.store, dyad=code)
    if not assessed:
        raise UsageError(
            f"dyad {code} has no events in the graph (alignkg query dyads lists the dyads)"
        )
    span = sorted({r.year for r in assessed})
    earliest, latest = min(span[0], kg.first_year), max(span[-1], kg.last_year)
    start = max(first if first is not None else span[0], earliest)
    end = min(last if last is not None else span[-1], latest)
    if start > end:
        raise UsageError(
            f"{code}: no year to draw between {first if first is not None else start} and "
            f"{last if last is not None else end}; the graph covers {earliest}-{latest}"
        )
    years = tuple(range(start, end + 1))
    ladder = kg.ladder
    rows = tuple(
        GridRow(
            rung=i.rung,
            notation=i.notation,
            label=i.label,
            stage=ladder.stages[i.stage].notation,
            stage_label=ladder.stages[i.stage].label,
            stage_rank=ladder.stages[i.stage].rank,
        )
        for i in ladder.ordered_indicators()
    )
    ranks = {s.notation: s.rank for s in ladder.stages.values()}
    labels = {s.notation: s.label for s in ladder.stages.values()}
    bands: dict[str, dict[int, StageCell]] = {reading: {} for reading in READINGS}
    for row in assessed:
        if row.year in years and row.reading in bands:
            bands[row.reading][row.year] = StageCell(
                row.year, row.stage, row.level, row.counted, row.precursors
            )
    _vars, levels = query.run(
        kg.store, query.load("indicator-levels"), {"dyad": stages.dyad_iri(code)}
    )
    cells = {
        (int(str(r["year"])), int(str(r["rung"]))): str(r["levelCode"])
        for r in levels
        if int(str(r["year"])) in years
    }
    precursors = frozenset(
        (year, rung) for year, cell in bands["strict"].items() for rung in cell.precursors
    )
    names = dyad_names(kg, code)
    pair = f"{names[0]}–{names[1]}"
    when = f"since {start}" if last is None else f"{start}–{end}" if start < end else f"in {start}"
    return DyadFigure(
        dyad=code,
        names=names,
        title=f"Development of {pair} military cooperation {when}",
        years=years,
        rows=rows,
        cells=cells,
        precursors=precursors,
        bands=bands,
        segments={reading: _segments(years, cells_, ranks) for reading, cells_ in bands.items()},
        stage_ranks=ranks,
        stage_labels=labels,
    )


_COLUMN = 0.42
_ROW = 0.36
_CELL_SIZE = 8.0


def draw_dyad(data: DyadFigure) -> Figure:
    """Fig. 2 as a matplotlib figure: bands on top, indicator rows (rung 1 at the bottom)."""
    label_width = max(text_width(f"{r.rung}  {r.label}", 8) for r in data.rows)
    stage_width = max(text_width(r.stage_label, 9) for r in data.rows) + 0.3
    band_label = max(text_width(v, 8) for v in READINGS.values())
    left = 0.25 + max(stage_width + 0.25 + label_width, band_label) + 0.15
    width = left + len(data.years) * _COLUMN + 0.35
    legend_height, title_height, year_height = 0.6, 0.85, 0.45
    grid_height = len(data.rows) * _ROW
    bands_height = len(READINGS) * _ROW + 0.15
    # Wide enough for the title and the legend, however few the years.
    width = _tenths(max(width, text_width(data.title, 13, bold=True) + 0.6, 10.0))
    height = _tenths(legend_height + year_height + grid_height + 0.2 + bands_height + title_height)
    colours = stage_colours(list(data.stage_ranks.values()))
    with _style(f"alignkg-{data.dyad}"):
        figure, axes = _canvas(width, height)
        axes.text(
            width / 2,
            height - 0.35,
            data.title,
            ha="center",
            va="center",
            fontsize=13,
            fontweight="bold",
        )
        axes.text(
            width / 2,
            height - 0.62,
            "indicator levels by year; stage bands under the strict ladder and the highest "
            "manifested reading",
            ha="center",
            va="center",
            fontsize=8.5,
        )
        x0 = left
        grid_bottom = legend_height + year_height

        def column(year: int) -> float:
            return x0 + (year - data.years[0]) * _COLUMN

        # Indicator rows, rung 1 at the bottom; a stage column to their left.
        ordered = sorted(data.rows, key=lambda r: r.rung)
        row_y = {row.rung: grid_bottom + n * _ROW for n, row in enumerate(ordered)}
        groups: dict[str, list[GridRow]] = {}
        for row in ordered:
            groups.setdefault(row.stage, []).append(row)
        for members in groups.values():
            bottom = min(row_y[r.rung] for r in members)
            top = max(row_y[r.rung] for r in members) + _ROW
            colour = colours.get(members[0].stage_rank, _UNKNOWN)
            axes.add_patch(
                Rectangle((0.25, bottom), stage_width, top - bottom, facecolor=colour, lw=0)
            )
            axes.text(
                0.25 + stage_width / 2,
                (bottom + top) / 2,
                members[0].stage_label,
                ha="center",
                va="center",
                fontsize=9,
                color=_text_colour(colour),
            )
            axes.plot(
                [0.25, column(data.years[-1]) + _COLUMN],
                [bottom, bottom],
                color="#000000",
                lw=1.0,
            )
        axes.plot(
            [0.25, column(data.years[-1]) + _COLUMN],
            [grid_bottom + grid_height] * 2,
            color="#000000",
            lw=1.0,
        )
        for row in ordered:
            y = row_y[row.rung]
            axes.text(
                0.25 + stage_width + 0.15,
                y + _ROW / 2,
                f"{row.rung}  {row.label}",
                ha="left",
                va="center",
                fontsize=8,
            )
            for year in data.years:
                x = column(year)
                level = data.cells.get((year, row.rung))
                precursor = (year, row.rung) in data.precursors
                axes.add_patch(
                    Rectangle(
                        (x, y), _COLUMN, _ROW, facecolor="#ffffff", edgecolor="#d9d9d9", lw=0.4
                    )
                )
                if level is None:
                    continue
                colour = LEVEL_COLOURS.get(level, _UNKNOWN)
                axes.add_patch(
                    Rectangle(
                        (x + 0.03, y + 0.03),
                        _COLUMN - 0.06,
                        _ROW - 0.06,
                        facecolor=colour,
                        edgecolor=PRECURSOR_COLOUR if precursor else colour,
                        linestyle="--" if precursor else "-",
                        lw=1.4 if precursor else 0.0,
                    )
                )
                mark = (level[:1].upper() or "?") + ("p" if precursor else "")
                axes.text(
                    x + _COLUMN / 2,
                    y + _ROW / 2,
                    mark,
                    ha="center",
                    va="center",
                    fontsize=_CELL_SIZE,
                    fontweight="bold",
                    color=_text_colour(colour),
                    bbox={"boxstyle": "square,pad=0.1", "facecolor": colour, "lw": 0},
                )
        for year in data.years:
            axes.text(
                column(year) + _COLUMN / 2,
                grid_bottom - 0.08,
                str(year),
                ha="right",
                va="top",
                rotation=60,
                rotation_mode="anchor",
                fontsize=7.5,
            )
        # Stage bands above the grid.
        band_bottom = grid_bottom + grid_height + 0.2
        for number, (reading, name) in enumerate(READINGS.items()):
            y = band_bottom + (len(READINGS) - 1 - number) * _ROW
            axes.text(left - 0.15, y + _ROW / 2, name, ha="right", va="center", fontsize=8)
            for segment in data.segments.get(reading, ()):
                x = column(segment.first)
                span = (segment.last - segment.first + 1) * _COLUMN
                colour = colours.get(segment.rank, _UNKNOWN) if segment.stage else "#ffffff"
                axes.add_patch(
                    Rectangle(
                        (x, y + 0.02),
                        span,
                        _ROW - 0.04,
                        facecolor=colour,
                        edgecolor="#000000",
                        lw=0.6,
                        hatch="..." if segment.level == "high" else "",
                    )
                )
                text = segment.text
                if text_width(text, 7.5) > span - 0.06:
                    text = _short_stage(segment)
                axes.text(
                    x + span / 2,
                    y + _ROW / 2,
                    text,
                    ha="center",
                    va="center",
                    fontsize=7.5,
                    color=_text_colour(colour),
                )
        _dyad_legend(axes, data, colours, width)
    return figure


def _short_stage(segment: BandSegment) -> str:
    if not segment.stage:
        return "–"
    return segment.stage[:3] + (f" {segment.level[:1]}" if segment.level else "")


def _dyad_legend(axes: Any, data: DyadFigure, colours: Mapping[int, str], width: float) -> None:
    handles: list[Patch] = []
    for level in ("low", "high"):
        colour = LEVEL_COLOURS[level]
        handles.append(
            Patch(
                facecolor=colour,
                edgecolor=colour,
                label=f"{level[:1].upper()}  indicator at the {level} level",
            )
        )
    handles.append(
        Patch(
            facecolor="#ffffff",
            edgecolor=PRECURSOR_COLOUR,
            linestyle="--",
            lw=1.4,
            label="p  precursor (present, not counted by the strict ladder)",
        )
    )
    handles.append(Patch(facecolor="#ffffff", edgecolor="#d9d9d9", label="blank  absent"))
    for stage, rank in sorted(data.stage_ranks.items(), key=lambda item: item[1]):
        if rank > 0:
            handles.append(
                Patch(
                    facecolor=colours.get(rank, _UNKNOWN),
                    edgecolor="#000000",
                    lw=0.6,
                    label=f"stage {data.stage_labels.get(stage, stage)}",
                )
            )
    handles.append(
        Patch(facecolor="#ffffff", edgecolor="#000000", hatch="...", lw=0.6, label="stage high")
    )
    axes.legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(width / 2, 0.05),
        bbox_transform=axes.transData,
        ncol=4,
        fontsize=7.5,
        frameon=False,
        handlelength=1.6,
        columnspacing=1.4,
    )


# --- Output ------------------------------------------------------------------------------


def render(figure: Figure, fmt: str, *, salt: str = "alignkg") -> bytes:
    """The figure as SVG, PNG or PDF bytes (reproducible: no dates, fixed hash salt)."""
    if fmt not in FORMATS:
        raise UsageError(f"figure format {fmt!r}: choose one of {', '.join(FORMATS)}")
    buffer = io.BytesIO()
    with _style(salt):
        figure.savefig(buffer, format=fmt, dpi=DPI, metadata=_METADATA[fmt])
    return buffer.getvalue()


def write(
    kg: KnowledgeGraph,
    which: str,
    *,
    dyad: str,
    first: int | None,
    last: int | None,
    formats: list[str],
    output: Path,
) -> list[Path]:
    """Draw Fig. 1 (``ladder``) or Fig. 2 (``dyad``) and write it to ``output`` in each format.

    Files are ``ladder.<fmt>`` or ``<DYAD>.<fmt>`` (e.g. ``CHN-RUS.svg``), written atomically;
    returns the paths written.
    """
    chosen = list(dict.fromkeys(formats))
    for fmt in chosen:
        if fmt not in FORMATS:
            raise UsageError(f"figure format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if which == "ladder":
        figure, stem = draw_ladder(ladder_layout(kg.ladder, kg.ontology)), "ladder"
    elif which == "dyad":
        data = dyad_grid(kg, dyad, first, last)
        figure, stem = draw_dyad(data), data.dyad
    else:
        raise UsageError(f"unknown figure {which!r}: choose ladder or dyad")
    written = []
    for fmt in chosen:
        path = output / f"{stem}.{fmt}"
        write_atomic(path, render(figure, fmt, salt=f"alignkg-{stem}"))
        written.append(path)
    return written
