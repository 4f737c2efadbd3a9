"""Exports for analysts: the events and sources tables, the dyad-years for R and Stata
with their codebook (generated from the ontology), and the graph as Turtle, TriG,
N-Quads or JSON-LD."""

from __future__ import annotations

import csv
import io
import re
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from rdflib import Dataset, Graph, URIRef
from rdflib import Literal as RdfLiteral
from rdflib.namespace import OWL, RDF, RDFS, SKOS
from rdflib.term import Node

from alignkg.build import KnowledgeGraph
from alignkg.errors import LadderError, UsageError
from alignkg.ladder import Indicator, Ladder, Stage, build_ladder
from alignkg.namespace import (
    AK,
    DATA_GRAPH,
    DERIVED_GRAPH,
    ONTOLOGY_GRAPH,
    ONTOLOGY_IRI,
    PREFIXES,
)
from alignkg.query import run
from alignkg.resources import query_text
from alignkg.stages import dyad_iri
from alignkg.store import Store, Triple, sorted_nquads, triples_under

EVENT_COLUMNS = (
    "event",
    "dyad",
    "dimension",
    "aspect",
    "indicator",
    "level",
    "start",
    "end",
    "precision",
    "persistence",
    "label",
    "quotes",
    "sources",
    "footnotes",
    "languages",
)
_FROM_QUERY = {
    "event": "event",
    "dyad": "dyadLabel",
    "dimension": "dimensionCode",
    "aspect": "aspectCode",
    "indicator": "rung",
    "level": "levelCode",
    "start": "start",
    "end": "end",
    "precision": "precisionCode",
    "persistence": "persistenceCode",
    "label": "label",
    "quotes": "quotes",
    "sources": "sources",
    "footnotes": "footnotes",
    "languages": "languages",
}


def _sorted_values(text: str, separator: str) -> str:
    parts = text.split(separator.strip()) if separator.strip() else text.split()
    values = sorted({v.strip() for v in parts if v.strip()}, key=_natural)
    return separator.join(values)


def _natural(value: str) -> tuple[int, str]:
    return (int(value), "") if value.isdigit() else (0, value)


def event_records(store: Store) -> list[dict[str, str]]:
    """The rows of the events table: one per event and dyad, keyed by ``EVENT_COLUMNS``."""
    _names, rows = run(store, query_text("events"))
    records = []
    for row in rows:
        cells = {c: str(row.get(q, "")) for c, q in _FROM_QUERY.items()}
        cells["quotes"] = _sorted_values(cells["quotes"], " | ")
        cells["sources"] = _sorted_values(cells["sources"], " | ")
        cells["languages"] = _sorted_values(cells["languages"], " | ")
        cells["footnotes"] = _sorted_values(cells["footnotes"], " ")
        records.append(cells)
    return records


def _csv(columns: Sequence[str], records: Iterable[Mapping[str, object]]) -> str:
    """A header row and one line per record; ``None`` is an empty cell."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow(["" if record[c] is None else record[c] for c in columns])
    return out.getvalue()


def events_csv(store: Store) -> str:
    """One row per event and dyad, columns ``EVENT_COLUMNS``."""
    return _csv(EVENT_COLUMNS, event_records(store))


SOURCE_COLUMNS = (
    "source",
    "footnotes",
    "author",
    "title",
    "title_en",
    "language",
    "kind",
    "publisher",
    "url",
    "date",
    "events",
)
_SOURCE_FROM_QUERY = {
    "source": "source",
    "footnotes": "footnotes",
    "author": "authors",
    "title": "title",
    "title_en": "titleEn",
    "language": "language",
    "kind": "kindCode",
    "publisher": "publisher",
    "url": "url",
    "date": "date",
    "events": "events",
}


def _first_footnote(row: dict[str, str]) -> tuple[int, str]:
    footnotes = row["footnotes"].split()
    return (int(footnotes[0]) if footnotes else 0, row["source"])


def source_records(store: Store) -> list[dict[str, str]]:
    """The rows of the sources table, keyed by ``SOURCE_COLUMNS``, in the order the paper
    first cites them (sources no footnote cites, such as the paper itself, first)."""
    _names, rows = run(store, query_text("sources"))
    table = []
    for row in rows:
        cells = {c: str(row.get(q, "")) for c, q in _SOURCE_FROM_QUERY.items()}
        cells["footnotes"] = _sorted_values(cells["footnotes"], " ")
        # RDF keeps no order among a source's creators: sorted, so the export is stable.
        cells["author"] = _sorted_values(cells["author"], " | ")
        if not cells["title"]:
            cells["title"], cells["title_en"] = cells["title_en"], ""
        table.append(cells)
    table.sort(key=_first_footnote)
    return table


def sources_csv(store: Store) -> str:
    """One row per source, columns ``SOURCE_COLUMNS``, in the order the paper first cites
    them (sources no footnote cites, such as the paper itself, first)."""
    return _csv(SOURCE_COLUMNS, source_records(store))


# --- Dyad-years for R and Stata ---------------------------------------------------------

ColumnType = Literal["string", "integer"]
Cell = str | int | None
Record = dict[str, Cell]

#: Stata's limits: variable names of at most 32 characters, variable labels of at most 80.
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
MAX_LABEL = 80

READING_IRIS: dict[str, URIRef] = {"strict": AK.StrictLadder, "manifested": AK.HighestManifested}
_DERIVE = "rules/derive/"


@dataclass(frozen=True)
class Value:
    """One allowed value of a column: the code in the file, a short label, its meaning."""

    code: str
    label: str
    meaning: str = ""


@dataclass(frozen=True)
class Column:
    """One column of the dyad-year table, as the codebook describes it."""

    name: str
    type: ColumnType
    label: str
    definition: str
    source: str
    values: tuple[Value, ...] = ()
    reading: str | None = None


@dataclass(frozen=True)
class _Concept:
    iri: URIRef
    rank: int
    notation: str
    label: str
    definition: str


#: What the level of a stage means.
_STAGE_LEVEL: dict[URIRef, str] = {
    AK.Low: "the stage has not become high",
    AK.High: "the stage has become high",
}
#: Where the ontology describes what an indicator looks like at each level.
_LEVEL_TEXT: dict[URIRef, URIRef] = {AK.Low: AK.lowLevel, AK.High: AK.highLevel}


def _curie(iri: URIRef) -> str:
    for prefix, namespace in PREFIXES.items():
        if str(iri).startswith(namespace):
            return f"{prefix}:{str(iri)[len(namespace) :]}"
    return f"<{iri}>"


def _text(graph: Graph, node: Node, prop: URIRef) -> str:
    """The English (or untagged) value of ``prop`` on ``node``, whitespace collapsed."""
    values = [v for v in graph.objects(node, prop) if isinstance(v, RdfLiteral)]
    for wanted in ("en", None):
        for value in sorted(values, key=str):
            if value.language == wanted:
                return " ".join(str(value).split())
    return " ".join(str(values[0]).split()) if values else ""


def _concepts(graph: Graph, kind: URIRef) -> list[_Concept]:
    """The individuals of ``kind`` that have an ``ak:rank``, in rank order."""
    found = []
    for node in set(graph.subjects(RDF.type, kind)):
        rank = graph.value(node, AK.rank)
        if not isinstance(node, URIRef) or not isinstance(rank, RdfLiteral):
            continue
        found.append(
            _Concept(
                iri=node,
                rank=int(rank.toPython()),
                notation=str(graph.value(node, SKOS.notation) or ""),
                label=_text(graph, node, SKOS.prefLabel),
                definition=_text(graph, node, SKOS.definition),
            )
        )
    return sorted(found, key=lambda c: c.rank)


def _short(text: str, limit: int = MAX_LABEL) -> str:
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def _indicator_label(indicator: Indicator, stage: str) -> str:
    full = f"Indicator {indicator.rung} ({stage} stage): {indicator.label}"
    return (
        full if len(full) <= MAX_LABEL else _short(f"Indicator {indicator.rung}: {indicator.label}")
    )


def _all_high(names: Sequence[str]) -> str:
    if len(names) == 1:
        return f"{names[0]} is high"
    return ", ".join(names[:-1]) + f" and {names[-1]} are high"


def _gate_columns(ladder: Ladder, stage: Stage) -> list[str]:
    """The columns of the indicators ``stage`` becomes high with, in rung order."""
    gates = [ladder.indicators[g] for g in stage.becomes_high_with]
    return [indicator_column(i) for i in sorted(gates, key=lambda i: i.rung)]


def level_codes(ontology: Graph) -> list[str]:
    """The notations of the ontology's levels in rank order (``low``, ``high``)."""
    return [level.notation for level in _concepts(ontology, AK.Level)]


def indicator_column(indicator: Indicator) -> str:
    """The column of an indicator: ``ind`` + its rung + ``_`` + its notation, lower-cased
    (``ind1_cbm``), cut to Stata's 32 characters."""
    slug = re.sub(r"[^a-z0-9]+", "_", indicator.notation.lower()).strip("_")
    name = f"ind{indicator.rung}_{slug}" if slug else f"ind{indicator.rung}"
    return name[:32].rstrip("_")


def dyad_year_columns(ontology: Graph, ladder: Ladder | None = None) -> list[Column]:
    """The columns of ``alignkg export dyad-years``, described from ``ontology``: one per
    indicator of its ladder, with the stages, levels and readings it defines."""
    ladder = build_ladder(ontology) if ladder is None else ladder
    stages = _concepts(ontology, AK.Stage)
    levels = _concepts(ontology, AK.Level)
    stage_values = tuple(Value(s.notation, s.label, s.definition) for s in stages)
    stage_ranks = tuple(Value(str(s.rank), s.notation, s.definition) for s in stages)
    level_values = tuple(Value(v.notation, v.label, _STAGE_LEVEL.get(v.iri, "")) for v in levels)
    level_ranks = tuple(Value(str(v.rank), v.notation, _STAGE_LEVEL.get(v.iri, "")) for v in levels)
    level_text = _text(ontology, AK.Level, SKOS.definition)
    codes = ", ".join(f"{v.rank} {v.notation}" for v in levels)
    gates = "; ".join(
        f"{stage.notation} once {_all_high(_gate_columns(ladder, stage))}"
        for stage in sorted(ladder.stages.values(), key=lambda s: s.rank)
        if stage.becomes_high_with
    )
    query = "queries/dyad-years.rq"
    columns = [
        Column(
            "dyad",
            "string",
            "Dyad: two ISO 3166-1 alpha-3 codes in alphabetical order",
            _text(ontology, AK.Dyad, SKOS.definition),
            f"{query} ?dyadLabel (rdfs:label of the ak:Dyad minted by {_DERIVE}10-dyads.rq)",
        ),
    ]
    for side, first in (("a", True), ("b", False)):
        which = "first" if first else "second"
        var = "A" if first else "B"
        columns.append(
            Column(
                f"iso3_{side}",
                "string",
                f"ISO 3166-1 alpha-3 code of the {which} state of the dyad",
                f"{_text(ontology, AK.iso3, RDFS.label)} (ak:iso3) of the {which} state "
                "named in the dyad code.",
                f"{query} ?iso{var} (ak:iso3 of the dyad's ak:member, ontology/states.ttl)",
            )
        )
    for side, first in (("a", True), ("b", False)):
        which = "first" if first else "second"
        var = "A" if first else "B"
        columns.append(
            Column(
                f"cow_{side}",
                "integer",
                f"Correlates of War state number of the {which} state (iso3_{side})",
                f"{_text(ontology, AK.cowCode, RDFS.label)} (ak:cowCode) of the state in "
                f"iso3_{side}; empty when the state has none.",
                f"{query} ?cow{var} (ak:cowCode, ontology/states.ttl)",
            )
        )
    columns.append(
        Column(
            "year",
            "integer",
            "Calendar year",
            "A year in which the dyad is assessed: every year from the first year one of "
            "its events is active to the end of the calendar (years with nothing active "
            "have stage none).",
            f"{query} ?year (ak:DyadYear, {_DERIVE}50-dyad-years.rq)",
        )
    )
    for reading, rule in (
        ("strict", "81-stage-strict.rq"),
        ("manifested", "80-stage-manifested.rq"),
    ):
        iri = READING_IRIS[reading]
        name = _text(ontology, iri, SKOS.prefLabel)
        meaning = _text(ontology, iri, SKOS.definition)
        derived = f"ak:StageAssessment with ak:reading {_curie(iri)}, {_DERIVE}{rule}"
        columns += [
            Column(
                f"stage_{reading}",
                "string",
                f"Stage of military cooperation ({name} reading)",
                f"{_text(ontology, AK.Stage, SKOS.definition)} The {name} reading: {meaning}",
                f"{query} ?{reading}Stage (skos:notation of the stage; {derived})",
                stage_values,
                reading,
            ),
            Column(
                f"stage_{reading}_rank",
                "integer",
                f"Stage rank, 0 none to {stages[-1].rank if stages else 0} ({name} reading)",
                f"The ak:rank of stage_{reading}: {_text(ontology, AK.rank, SKOS.definition)}",
                f"{query} ?{reading}Rank (ak:rank of the stage; {derived})",
                stage_ranks,
                reading,
            ),
            Column(
                f"level_{reading}",
                "string",
                f"Level within stage_{reading} ({name} reading)",
                f"{level_text} Here, of the stage in stage_{reading}: high when that stage "
                "has become high, i.e. each indicator it becomes high with (ak:becomesHighWith) "
                f"has reached the high level in that year or before ({gates}); empty when the "
                "stage is none.",
                f"{query} ?{reading}Level (skos:notation of the level; {derived})",
                level_values,
                reading,
            ),
            Column(
                f"level_{reading}_rank",
                "integer",
                f"Level rank within stage_{reading} ({name} reading)",
                f"The ak:rank of level_{reading} ({codes}); empty when the stage is none.",
                f"{query} ?{reading}LevelRank (ak:rank of the level; {derived})",
                level_ranks,
                reading,
            ),
        ]
    indicators = ladder.ordered_indicators()
    columns += [
        Column(
            "highest_indicator",
            "integer",
            "Rung of the highest indicator present in the year",
            f"{_text(ontology, AK.rung, SKOS.definition)} The highest rung with an active "
            "event, whether or not the strict ladder counts it; empty when no indicator "
            "is present.",
            f"{query} ?highestRung (ak:highestIndicator of the assessment)",
            tuple(Value(str(i.rung), i.label) for i in indicators),
        ),
        Column(
            "precursors_strict",
            "string",
            "Precursors under the strict ladder: rungs present above the stage, ';'-separated",
            f"{_text(ontology, AK.precursor, SKOS.definition)} The rungs of those "
            "indicators in ascending order, separated by ';' (a single rung looks like "
            "a number: read the column as text); empty when there are none.",
            f"{query} ?precursors (ak:precursor of the strict assessment, "
            f"{_DERIVE}81-stage-strict.rq)",
            reading="strict",
        ),
    ]
    absent = Value("0", "absent", "No event on this indicator is active in the year.")
    for indicator in indicators:
        descriptions = {
            level: _text(ontology, indicator.iri, prop) for level, prop in _LEVEL_TEXT.items()
        }
        stage = ladder.stages[indicator.stage].label
        columns.append(
            Column(
                indicator_column(indicator),
                "integer",
                _indicator_label(indicator, stage),
                _text(ontology, indicator.iri, SKOS.definition),
                "queries/indicator-levels.rq ?levelCode: ak:IndicatorYear, the highest level "
                f"among the events on the indicator active in the year ({_DERIVE}"
                "30-indicator-levels.rq); 0 when there is none",
                (
                    absent,
                    *(Value(str(v.rank), v.notation, descriptions.get(v.iri, "")) for v in levels),
                ),
            )
        )
    columns += [
        Column(
            "n_events",
            "integer",
            "Events active in the year (all dimensions)",
            "How many coded events (military, diplomatic and economic; bilateral or "
            "projected from a grouping) are active for the dyad in the year (ak:activeIn): a "
            "one-off event in its own year, a persistent one from its start to its end.",
            f"{query} ?activeEvents (ak:activeIn, {_DERIVE}20-active-years.rq)",
        ),
        Column(
            "n_events_new",
            "integer",
            "Events that start in the year (all dimensions)",
            "How many of the dyad's coded events have their start date (ak:startDate) in the year.",
            f"{query} ?newEvents (ak:startDate)",
        ),
    ]
    _check_columns(columns)
    return columns


def _check_columns(columns: Sequence[Column]) -> None:
    seen: set[str] = set()
    for column in columns:
        if not NAME_PATTERN.match(column.name):
            raise LadderError(
                f"column {column.name!r} is not a Stata name (at most 32 characters, "
                "a-z, 0-9 and _): check the indicator's skos:notation in the ontology"
            )
        if column.name in seen:
            raise LadderError(
                f"two columns are named {column.name!r}: give the indicators distinct "
                "skos:notation values in the ontology"
            )
        seen.add(column.name)


def _int(value: Node | None) -> int | None:
    return None if value is None else int(str(value))


def _str(value: Node | None) -> str | None:
    return None if value is None or not str(value) else str(value)


def dyad_year_rows(
    store: Store,
    ontology: Graph,
    *,
    ladder: Ladder | None = None,
    dyad: str | None = None,
) -> list[Record]:
    """One record per dyad-year (every dyad, or only ``dyad``), keyed by the names of
    :func:`dyad_year_columns`, sorted by dyad and year."""
    ladder = build_ladder(ontology) if ladder is None else ladder
    bindings: dict[str, Node] = {} if dyad is None else {"dyad": dyad_iri(dyad)}
    ranks = {v.notation: v.rank for v in _concepts(ontology, AK.Level)}
    _names, level_rows = run(store, query_text("indicator-levels"), bindings)
    levels: dict[tuple[str, int], dict[int, int]] = {}
    for row in level_rows:
        cell = levels.setdefault((str(row["dyadLabel"]), int(str(row["year"]))), {})
        rung, rank = int(str(row["rung"])), ranks.get(str(row["levelCode"]), 0)
        cell[rung] = max(rank, cell.get(rung, 0))
    indicators = [(i.rung, indicator_column(i)) for i in ladder.ordered_indicators()]
    _names, rows = run(store, query_text("dyad-years"), bindings)
    records = []
    for row in rows:
        label, year = str(row["dyadLabel"]), int(str(row["year"]))
        precursors = sorted(int(r) for r in str(row.get("precursors", "")).split())
        record: Record = {
            "dyad": label,
            "iso3_a": str(row["isoA"]),
            "iso3_b": str(row["isoB"]),
            "cow_a": _int(row.get("cowA")),
            "cow_b": _int(row.get("cowB")),
            "year": year,
        }
        for reading in READING_IRIS:
            record[f"stage_{reading}"] = str(row[f"{reading}Stage"])
            record[f"stage_{reading}_rank"] = _int(row[f"{reading}Rank"])
            record[f"level_{reading}"] = _str(row.get(f"{reading}Level"))
            record[f"level_{reading}_rank"] = _int(row.get(f"{reading}LevelRank"))
        record["highest_indicator"] = _int(row.get("highestRung"))
        record["precursors_strict"] = ";".join(map(str, precursors)) or None
        present = levels.get((label, year), {})
        for rung, name in indicators:
            record[name] = present.get(rung, 0)
        record["n_events"] = _int(row.get("activeEvents")) or 0
        record["n_events_new"] = _int(row.get("newEvents")) or 0
        records.append(record)
    return sorted(records, key=lambda r: (str(r["dyad"]), int(r["year"] or 0)))


def dyad_years_csv(kg: KnowledgeGraph) -> str:
    """The dyad-year table as CSV: UTF-8, a header row, ``\\n`` line ends, missing values
    as empty cells (R's ``read.csv`` and Stata's ``import delimited`` read them as missing)."""
    columns = dyad_year_columns(kg.ontology, kg.ladder)
    rows = dyad_year_rows(kg.store, kg.ontology, ladder=kg.ladder)
    return _csv([c.name for c in columns], rows)


# --- The codebook -----------------------------------------------------------------------

CodebookFormat = Literal["md", "txt"]


def codebook(kg: KnowledgeGraph, fmt: CodebookFormat = "md") -> str:
    """The codebook of ``alignkg export dyad-years``, generated from the ontology."""
    return render_codebook(dyad_year_columns(kg.ontology, kg.ladder), kg.ontology, fmt=fmt)


def _value_text(value: Value) -> str:
    head = value.code if value.label == value.code else f"{value.code} ({value.label})"
    return f"{head}: {value.meaning}" if value.meaning else head


def _value_markdown(value: Value) -> str:
    text = f"`{value.code}`" if value.label == value.code else f"`{value.code}` ({value.label})"
    return f"  - {text}: {value.meaning}" if value.meaning else f"  - {text}"


def _loading(columns: Sequence[Column]) -> list[tuple[str, str]]:
    strings = [(i, c.name) for i, c in enumerate(columns, start=1) if c.type == "string"]
    r_classes = ", ".join(f'{name} = "character"' for _, name in strings)
    stata_columns = " ".join(str(i) for i, _ in strings)
    pandas_types = ", ".join(f'"{name}": "string"' for _, name in strings)
    return [
        ("R", f'd <- read.csv("dyad-years.csv", na.strings = "", colClasses = c({r_classes}))'),
        (
            "Stata",
            'import delimited using "dyad-years.csv", varnames(1) encoding("utf-8") '
            f"stringcols({stata_columns}) clear",
        ),
        ("Python", f'pandas.read_csv("dyad-years.csv", dtype={{{pandas_types}}})'),
        ("Python (typed)", "alignkg.stages_frame()  # the same table as a pandas DataFrame"),
    ]


def _stata_quote(text: str) -> str:
    return '"' + text.replace('"', "'") + '"'


def stata_labels(columns: Sequence[Column]) -> list[str]:
    """Stata commands giving every column its variable label, and every integer column
    with coded values its value labels."""
    lines = [f"label variable {c.name} {_stata_quote(c.label)}" for c in columns]
    for column in columns:
        if column.type != "integer" or not column.values:
            continue
        pairs = " ".join(f"{v.code} {_stata_quote(v.label)}" for v in column.values)
        lines.append(f"label define {column.name} {pairs}, replace")
        lines.append(f"label values {column.name} {column.name}")
    return lines


def _preamble(columns: Sequence[Column], ontology: Graph) -> tuple[str, list[str]]:
    iri = URIRef(ONTOLOGY_IRI)
    version = str(ontology.value(iri, OWL.versionInfo) or "unversioned")
    intro = (
        "Generated by `alignkg export codebook` from the alignkg ontology "
        f"(<{ONTOLOGY_IRI}>, version {version}) and the columns of `alignkg export "
        "dyad-years`: the indicator columns and the definitions of indicators, levels, "
        "stages and readings are read from the ontology, so a new indicator there is a "
        "new column here."
    )
    facts = [
        "One row per dyad and year: every dyad with an assessed year, each year from the "
        "first year one of its events is active to the end of the calendar; sorted by "
        "`dyad`, then `year`.",
        f"{len(columns)} columns; names of at most 32 characters (a-z, 0-9, _), "
        f"labels of at most {MAX_LABEL} characters (Stata's limits).",
        "UTF-8 without a byte-order mark, comma-separated, one header row, `\\n` line ends.",
        'Missing values are empty cells: R (`na.strings = ""`) and Stata '
        "(`import delimited`) read them as missing. Integer columns hold whole numbers "
        "only; read string columns as text (`precursors_strict` can look like a number).",
    ]
    return intro, facts


def render_codebook(columns: Sequence[Column], ontology: Graph, *, fmt: str = "md") -> str:
    """The codebook of ``columns`` as Markdown (``md``) or plain text (``txt``)."""
    if fmt not in ("md", "txt"):
        raise UsageError(f"codebook: unknown format {fmt!r}; use md or txt")
    intro, facts = _preamble(columns, ontology)
    loading = _loading(columns)
    if fmt == "txt":
        return _codebook_text(columns, intro, facts, loading)
    lines = ["# Codebook: alignkg dyad-years", "", intro, "", "## The file", ""]
    lines += [f"- {fact}" for fact in facts]
    lines += ["", "Loading it:", ""]
    for tool, command in loading:
        lines += [f"- {tool}: `{command}`"]
    lines += ["", "## Columns", "", "| # | column | type | label |", "|---|---|---|---|"]
    lines += [
        f"| {i} | `{c.name}` | {c.type} | {c.label} |" for i, c in enumerate(columns, start=1)
    ]
    for number, column in enumerate(columns, start=1):
        lines += ["", f"## {number}. `{column.name}`", ""]
        lines += [
            f"- **type**: {column.type}",
            f"- **label**: {column.label}",
            f"- **definition**: {column.definition}",
        ]
        if column.reading:
            lines.append(f"- **reading**: {column.reading}")
        if column.values:
            lines.append("- **values**:")
            lines += [_value_markdown(v) for v in column.values]
        lines.append(f"- **source**: {column.source}")
    lines += ["", "## Stata labels", "", "```stata", *stata_labels(columns), "```", ""]
    return "\n".join(lines)


def _wrapped(label: str, text: str, width: int = 88) -> list[str]:
    indent = " " * 15
    head = f"{label}:" if label else ""
    return textwrap.wrap(
        text,
        width=width,
        initial_indent=f"   {head:<12}",
        subsequent_indent=indent,
        break_on_hyphens=False,
        break_long_words=False,
    ) or [f"   {label}:"]


def _codebook_text(
    columns: Sequence[Column], intro: str, facts: list[str], loading: list[tuple[str, str]]
) -> str:
    title = "CODEBOOK: alignkg dyad-years"
    lines = [
        title,
        "=" * len(title),
        "",
        *textwrap.wrap(intro.replace("`", ""), width=88, break_on_hyphens=False),
        "",
    ]
    for fact in facts:
        lines += textwrap.wrap(
            fact.replace("`", ""),
            width=88,
            initial_indent="- ",
            subsequent_indent="  ",
            break_on_hyphens=False,
        )
    lines += ["", "Loading it:"]
    lines += [f"  {tool}: {command}" for tool, command in loading]
    for number, column in enumerate(columns, start=1):
        lines += ["", f"{number}. {column.name}"]
        lines += _wrapped("type", column.type)
        lines += _wrapped("label", column.label)
        lines += _wrapped("definition", column.definition)
        if column.reading:
            lines += _wrapped("reading", column.reading)
        for index, value in enumerate(column.values):
            lines += _wrapped("values" if index == 0 else "", _value_text(value))
        lines += _wrapped("source", column.source)
    lines += ["", "Stata labels:", "", *stata_labels(columns), ""]
    return "\n".join(lines)


# --- The graph --------------------------------------------------------------------------

#: The named graphs ``alignkg export graph`` writes: alignkg's own ontology (its terms,
#: the states and groupings, the statistics vocabulary; not the local copies of the W3C
#: vocabularies it imports), the asserted data and the derived assessments. The rule
#: parameters, the OWL-RL entailments and the calendar scaffold are left out: the first
#: ship with alignkg, the others any reasoner or the build recomputes.
EXPORTED_GRAPHS: tuple[URIRef, ...] = (ONTOLOGY_GRAPH, DATA_GRAPH, DERIVED_GRAPH)
GraphFormat = Literal["turtle", "trig", "nquads", "jsonld"]


def exported_graphs(kg: KnowledgeGraph) -> dict[URIRef, list[Triple]]:
    """The triples of each exported named graph (see ``EXPORTED_GRAPHS``)."""
    chosen: dict[URIRef, list[Triple]] = {ONTOLOGY_GRAPH: list(kg.ontology)}
    for graph in EXPORTED_GRAPHS:
        if graph != ONTOLOGY_GRAPH:
            chosen[graph] = triples_under(kg.store, graph)
    return chosen


def jsonld_context() -> dict[str, str]:
    """The JSON-LD ``@context`` of the export: alignkg's prefixes, inline (no remote context)."""
    return dict(PREFIXES)


def _bind(target: Graph) -> None:
    for prefix, namespace in PREFIXES.items():
        target.bind(prefix, namespace, override=True, replace=True)


def graph_export(kg: KnowledgeGraph, fmt: str) -> str:
    """The ontology, data and derived graphs of ``kg``.

    ``turtle`` has no named graphs: it is the union of the three (one graph, duplicates
    merged). ``trig``, ``nquads`` and ``jsonld`` keep each in its named graph
    (``https://w3id.org/alignkg/graph/ontology``, ``.../data``, ``.../derived``).
    """
    parts = exported_graphs(kg)
    if fmt == "turtle":
        union = Graph(bind_namespaces="none")
        _bind(union)
        for triples in parts.values():
            for triple in triples:
                union.add(triple)
        return union.serialize(format="turtle")
    if fmt not in ("trig", "nquads", "jsonld"):
        raise UsageError(
            f"export graph: unknown format {fmt!r}; use turtle, trig, nquads or jsonld"
        )
    dataset = Dataset(default_union=False)
    _bind(dataset)
    for name, triples in parts.items():
        target = dataset.graph(name)
        for triple in triples:
            target.add(triple)
    if fmt == "nquads":
        return sorted_nquads(dataset.serialize(format="nquads", encoding="utf-8")).decode("utf-8")
    if fmt == "trig":
        return dataset.serialize(format="trig")
    return dataset.serialize(format="json-ld", context=jsonld_context(), indent=1) + "\n"


# --- What ``alignkg export`` writes -----------------------------------------------------

#: What ``alignkg export`` can write, in which formats (the first is the default):
#: ``events`` and ``sources`` (CSV); ``dyad-years`` (CSV for R and Stata: one row per
#: dyad-year, one column per indicator of the ontology); ``codebook`` (the dyad-years
#: codebook, Markdown or plain text, generated from the ontology); ``graph`` (the
#: ontology, data and derived graphs: Turtle as their union, TriG, N-Quads and JSON-LD
#: with each in its named graph).
FORMATS: dict[str, tuple[str, ...]] = {
    # csv: one row per event and dyad, for analysis; sheet / xlsx: one row per event as a
    # coding sheet, which `alignkg import` reads back into the same graph.
    "events": ("csv", "sheet", "xlsx"),
    "sources": ("csv",),
    "dyad-years": ("csv",),
    "codebook": ("md", "txt"),
    "graph": ("turtle", "jsonld", "trig", "nquads"),
    "sheet": ("csv", "xlsx"),
}


def render(kg: KnowledgeGraph, what: str, fmt: str) -> str | bytes:
    """The export ``what`` of ``kg`` in format ``fmt`` (one of ``FORMATS[what]``)."""
    if what not in FORMATS:
        raise UsageError(f"export: unknown table {what!r}; choose from {', '.join(FORMATS)}")
    if fmt not in FORMATS[what]:
        raise UsageError(
            f"export {what}: --format must be one of {', '.join(FORMATS[what])}, not {fmt!r}"
        )
    if what == "events" and fmt in ("sheet", "xlsx"):
        from alignkg import sheets

        return sheets.export_sheet(kg, "xlsx" if fmt == "xlsx" else "csv")
    if what == "events":
        return events_csv(kg.store)
    if what == "sources":
        return sources_csv(kg.store)
    if what == "dyad-years":
        return dyad_years_csv(kg)
    if what == "codebook":
        return codebook(kg, "txt" if fmt == "txt" else "md")
    if what == "sheet":
        from alignkg import sheets

        return sheets.export_sheet(kg, fmt)
    return graph_export(kg, fmt)
