"""Coding sheets: a blank sheet from the ontology, a filled sheet imported as Turtle, and
the coded events exported back as a sheet.

A sheet has one row per event and a block of new sources. In CSV the sources block
follows the events after an empty row and starts with its own header (``source_id,...``);
the row after each header is a help row whose first cell starts with ``#`` (comment rows
are skipped). In XLSX the blocks are the sheets ``events`` and ``sources``; a ``help``
sheet lists every column with its allowed values, and the coded columns carry
data-validation lists (kept on a hidden ``lists`` sheet).

Every allowed value comes from the ontology (``skos:notation`` of the dimensions,
indicators, levels, aspects, persistences and source kinds; ISO 3166-1 alpha-3 codes and
grouping notations of ``ontology/states.ttl``). Import validates every row, collects every
problem as ``path:row:column: CODE: message`` (``row`` as a spreadsheet shows it, the
header being row 1; ``column`` the header name) and writes nothing unless the whole sheet
is clean. The Turtle it writes is deterministic: the same sheet gives the same bytes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox
from rdflib import Graph, URIRef
from rdflib import Literal as RdfLiteral
from rdflib.collection import Collection
from rdflib.namespace import PROV, RDF, RDFS, SH, SKOS
from rdflib.term import Node

from alignkg.build import KnowledgeGraph, assemble, ontology_graph
from alignkg.errors import InputError, Location, UsageError, display_path
from alignkg.kg import FORMATS, discover, parse_bytes, read_all
from alignkg.literals import language_problem
from alignkg.namespace import AK, BASE, DATA_GRAPH, OA, PREFIXES, SHAPES
from alignkg.output import write_atomic
from alignkg.store import triples_under

if TYPE_CHECKING:
    from openpyxl import Workbook

DCTERMS = "http://purl.org/dc/terms/"
SRC = PREFIXES["src"]
CODER = PREFIXES["coder"]
STATE = PREFIXES["state"]
GROUPING = PREFIXES["grouping"]
#: The longest quote accepted, in words (as queries/quote-length-violation.rq counts them).
MAX_QUOTE_WORDS = 40
#: Rows of the XLSX template that carry data validation.
XLSX_ROWS = 2000

_ID = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?$")
_DATE_FORM = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


# --- The ontology's vocabulary ------------------------------------------------------------


@dataclass(frozen=True)
class Concept:
    """A coded value: its IRI, notation (what the sheet holds), English label and help."""

    iri: URIRef
    notation: str
    label: str
    definition: str = ""
    rung: int | None = None
    dimension: URIRef | None = None


@dataclass(frozen=True)
class StateInfo:
    """A state of ``ontology/states.ttl``: ISO3 code, name and the dates it existed."""

    iri: URIRef
    iso3: str
    label: str
    exists_from: dt.date | None
    exists_until: dt.date | None


@dataclass(frozen=True)
class Vocabulary:
    """Everything a sheet's coded columns may hold, read from the ontology."""

    dimensions: tuple[Concept, ...]
    indicators: tuple[Concept, ...]
    levels: tuple[Concept, ...]
    aspects: tuple[Concept, ...]
    persistences: tuple[Concept, ...]
    precisions: tuple[Concept, ...]
    kinds: tuple[Concept, ...]
    groupings: tuple[Concept, ...]
    states: tuple[StateInfo, ...]
    language_pattern: str
    url_pattern: str

    def notation_of(self, iri: Node | str | None) -> str:
        """The notation of a coded value (or the ISO3 code of a state)."""
        for concept in self._all():
            if concept.iri == iri:
                return concept.notation
        for state in self.states:
            if state.iri == iri:
                return state.iso3
        return _local(iri) if iri is not None else ""

    def _all(self) -> tuple[Concept, ...]:
        return (
            self.dimensions
            + self.indicators
            + self.levels
            + self.aspects
            + self.persistences
            + self.precisions
            + self.kinds
            + self.groupings
        )


def _text(graph: Graph, node: Node, prop: URIRef) -> str:
    values = [o for o in graph.objects(node, prop) if isinstance(o, RdfLiteral)]
    english = [o for o in values if o.language in (None, "en")]
    chosen = sorted(english or values, key=str)
    return str(chosen[0]) if chosen else ""


def _listed_order(shapes: Graph) -> dict[Node, int]:
    """Each value's position in the ``sh:in`` lists of the completeness shapes."""
    order: dict[Node, int] = {}
    for values in shapes.objects(None, SH["in"]):
        for position, value in enumerate(Collection(shapes, values)):
            order.setdefault(value, position)
    return order


def _concepts(graph: Graph, kind: URIRef, order: dict[Node, int]) -> tuple[Concept, ...]:
    found = []
    for iri in graph.subjects(RDF.type, kind):
        if not isinstance(iri, URIRef):
            continue
        rung = graph.value(iri, AK.rung)
        rank = graph.value(iri, AK.rank)
        dimension = graph.value(iri, AK.aspectOf)
        found.append(
            (
                int(str(rung)) if rung is not None else int(str(rank)) if rank is not None else 0,
                Concept(
                    iri=iri,
                    notation=_text(graph, iri, SKOS.notation),
                    label=_text(graph, iri, SKOS.prefLabel),
                    definition=_text(graph, iri, SKOS.definition),
                    rung=int(str(rung)) if rung is not None else None,
                    dimension=dimension if isinstance(dimension, URIRef) else None,
                ),
            )
        )
    found.sort(
        key=lambda item: (
            order.get(item[1].dimension, 0) if item[1].dimension else 0,
            item[0],
            order.get(item[1].iri, 0),
            item[1].notation,
        )
    )
    return tuple(concept for _key, concept in found)


def _date_value(node: Node | None) -> dt.date | None:
    return dt.date.fromisoformat(str(node)) if node is not None else None


def _shape_pattern(shapes: Graph, shape: URIRef) -> str:
    return str(shapes.value(shape, SH.pattern))


@cache
def vocabulary() -> Vocabulary:
    """The coded values of the bundled ontology (read once per process)."""
    from alignkg.validate import shapes_graph

    graph = ontology_graph()
    shapes = shapes_graph("completeness")
    order = _listed_order(shapes)
    states = sorted(
        (
            StateInfo(
                iri=iri,
                iso3=str(graph.value(iri, AK.iso3)),
                label=_text(graph, iri, SKOS.prefLabel),
                exists_from=_date_value(graph.value(iri, AK.existsFrom)),
                exists_until=_date_value(graph.value(iri, AK.existsUntil)),
            )
            for iri in graph.subjects(RDF.type, AK.State)
            if isinstance(iri, URIRef)
        ),
        key=lambda s: s.iso3,
    )
    return Vocabulary(
        dimensions=_concepts(graph, AK.Dimension, order),
        indicators=_concepts(graph, AK.Indicator, order),
        levels=_concepts(graph, AK.Level, order),
        aspects=_concepts(graph, AK.Aspect, order),
        persistences=_concepts(graph, AK.Persistence, order),
        precisions=_concepts(graph, AK.DatePrecision, order),
        kinds=_concepts(graph, AK.SourceKind, order),
        groupings=_concepts(graph, AK.Grouping, order),
        states=tuple(states),
        language_pattern=_shape_pattern(shapes, SHAPES["SourceLanguage"]),
        url_pattern=_shape_pattern(shapes, SHAPES["SourceUrl"]),
    )


# --- The columns --------------------------------------------------------------------------

Values = Callable[[Vocabulary], list[tuple[str, str]]]


def _pairs(concepts: Iterable[Concept]) -> list[tuple[str, str]]:
    return [(c.notation, c.label) for c in concepts]


def _indicator_values(vocab: Vocabulary) -> list[tuple[str, str]]:
    return [(c.notation, f"rung {c.rung}: {c.label}") for c in vocab.indicators]


def _aspect_values(vocab: Vocabulary) -> list[tuple[str, str]]:
    return [
        (c.notation, f"{c.label} ({vocab.notation_of(c.dimension or '')})") for c in vocab.aspects
    ]


def _state_values(vocab: Vocabulary) -> list[tuple[str, str]]:
    return [(s.iso3, s.label) for s in vocab.states]


@dataclass(frozen=True)
class Column:
    """One column of a sheet: its header, whether a row needs it, help and allowed values."""

    name: str
    help: str
    required: bool = False
    values: Values | None = None


EVENT_COLUMNS: tuple[Column, ...] = (
    Column(
        "event_id",
        "Local name of the event (letters, digits, - _ .), unique in the "
        "sheet; it becomes ev:<event_id> in the namespace named after the sheet.",
        True,
    ),
    Column("label", "A short English description of the event (rdfs:label).", True),
    Column(
        "party_a",
        "ISO 3166-1 alpha-3 code of one state of a bilateral event "
        "(ak:party); leave empty for a grouping event.",
        values=_state_values,
    ),
    Column("party_b", "ISO 3166-1 alpha-3 code of the other state.", values=_state_values),
    Column(
        "grouping",
        "The grouping of a multilateral event (ak:grouping), instead of party_a and party_b.",
        values=lambda v: _pairs(v.groupings),
    ),
    Column(
        "dimension",
        "The sphere of cooperation (ak:dimension).",
        True,
        lambda v: _pairs(v.dimensions),
    ),
    Column(
        "indicator",
        "Military events only: the rung of the ladder (ak:indicator), as its "
        "notation or its rung number 1-7.",
        values=_indicator_values,
    ),
    Column(
        "level",
        "Military events only: the level of the indicator (ak:level).",
        values=lambda v: _pairs(v.levels),
    ),
    Column(
        "aspect",
        "Diplomatic and economic events only: what the event is evidence of "
        "(ak:aspect), an aspect of the event's dimension.",
        values=_aspect_values,
    ),
    Column(
        "start",
        "Start date as YYYY, YYYY-MM or YYYY-MM-DD: the form gives the date "
        "precision (year, month, day); written as the first day of the period.",
        True,
    ),
    Column(
        "end",
        "Optional end date (ak:endDate), YYYY, YYYY-MM or YYYY-MM-DD, not before "
        "the start: the last day of a one-off event that spans days, or the explicit end "
        "of something persistent.",
    ),
    Column(
        "persistence",
        "One-off, or persistent (lasts until its end date, or open-ended).",
        True,
        lambda v: _pairs(v.persistences),
    ),
    Column(
        "footnotes",
        "Footnote numbers of the coded document that the event cites "
        "(ak:footnote), space-separated.",
    ),
    Column(
        "sources",
        "Keys of the sources (prov:wasDerivedFrom), separated by '; ': a "
        "source of kg/ by its local name (src:<key>) or a new source of the sources block.",
        True,
    ),
    Column(
        "quote",
        "The verbatim passage that supports the code, at most 40 words; several "
        "passages one per line.",
        True,
    ),
    Column(
        "quote_source",
        "The source key each quote comes from, one per line (or one for "
        "all); may be left empty when the event has a single source.",
    ),
    Column("decision", "Judgement calls made coding the event (ak:codingDecision), one per line."),
    Column("reason", "The reason for each decision, one per line, in the same order."),
    Column("comment", "An optional English remark on the event (rdfs:comment)."),
)

SOURCE_COLUMNS: tuple[Column, ...] = (
    Column(
        "source_id",
        "Key of a new source (letters, digits, - _ .); it becomes "
        "src:<source_id>. Sources already in kg/ need no row here.",
        True,
    ),
    Column("title", "The document's title as printed (dcterms:title).", True),
    Column(
        "title_language",
        "Language tag of the title when it differs from the document's "
        "language, e.g. zh-Latn-pinyin or ru-Latn for a transliterated title.",
    ),
    Column("title_en", "An English translation of the title, when there is one."),
    Column(
        "language",
        "The document's language as a BCP 47 tag (dcterms:language), e.g. zh, ru, en.",
        True,
    ),
    Column("kind", "What kind of document it is (ak:sourceKind).", True, lambda v: _pairs(v.kinds)),
    Column("url", "Where the document can be read (ak:url), starting http:// or https://."),
    Column("date", "Publication date: YYYY, YYYY-MM or YYYY-MM-DD (dcterms:date)."),
    Column("author", "Authors (dcterms:creator), separated by '; '."),
    Column("publisher", "Publisher or outlet (dcterms:publisher)."),
    Column(
        "footnotes",
        "Footnotes of the coded document that cite this source, space-separated (ak:footnote).",
    ),
)

_BLOCKS = {"events": EVENT_COLUMNS, "sources": SOURCE_COLUMNS}


def _allowed(column: Column, vocab: Vocabulary) -> list[tuple[str, str]]:
    return column.values(vocab) if column.values else []


# --- Problems -----------------------------------------------------------------------------


#: Every problem an import reports, by code (docs/coding-sheets.md explains each).
ERROR_CODES: dict[str, str] = {
    "AK200": "the sheet cannot be read, or holds no events",
    "AK201": "unknown column, a column given twice, or a row longer than the header",
    "AK202": "a required column is missing",
    "AK203": "a required value is missing",
    "AK210": "an event id or source key that cannot be an IRI's local name",
    "AK211": "duplicate event id",
    "AK212": "event id already coded in another file of kg/",
    "AK220": "unknown dimension",
    "AK221": "unknown indicator",
    "AK222": "unknown level",
    "AK223": "unknown aspect",
    "AK224": "aspect of another dimension",
    "AK225": "military event without indicator or level",
    "AK226": "indicator or level on a non-military event, or aspect on a military one",
    "AK227": "unknown persistence",
    "AK230": "not a date",
    "AK231": "impossible date",
    "AK232": "end before start",
    "AK240": "unknown country",
    "AK241": "state did not exist at the start date",
    "AK242": "not two different parties, nor a grouping",
    "AK243": "unknown grouping",
    "AK250": "missing source",
    "AK251": "unknown source key",
    "AK252": "quote source missing, unpaired or not among the event's sources",
    "AK253": "footnote not a positive integer",
    "AK254": "decisions and reasons do not pair up",
    "AK260": "quote over 40 words",
    "AK270": "new source without a language",
    "AK271": "invalid language tag",
    "AK272": "new source without a kind, or an unknown kind",
    "AK273": "invalid URL",
    "AK274": "source key given twice in the sheet",
    "AK275": "new source already in kg/",
    "AK290": "the written Turtle fails a completeness shape",
}


@dataclass(frozen=True, order=True)
class Problem:
    """One problem of a sheet, where a user finds it."""

    path: str
    row: int
    column: str
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.row}:{self.column}: {self.code}: {self.message}"


class SheetError(InputError):
    """A sheet with problems: every one of them, in sheet order; nothing was written."""

    def __init__(self, sheet: str, problems: Sequence[Problem]) -> None:
        first = problems[0]
        super().__init__(Location(first.path, first.row), first.code, first.message)
        self.sheet = sheet
        self.problems = list(problems)

    def __str__(self) -> str:
        count = len(self.problems)
        head = f"{self.sheet}: {count} problem{'s' if count != 1 else ''}; nothing written"
        return "\n".join([head, *(str(p) for p in self.problems)])


# --- Reading a sheet ----------------------------------------------------------------------


@dataclass
class Block:
    """The rows of one block (events or sources), each a mapping of header to cell text."""

    name: str
    path: str
    header_row: int = 0
    headers: list[str] = field(default_factory=list)
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


def _blank(cells: Sequence[str]) -> bool:
    return not any(cells)


def _comment(cells: Sequence[str]) -> bool:
    return bool(cells) and cells[0].startswith("#")


def _fill(block: Block, rows: Iterable[tuple[int, list[str]]], problems: list[Problem]) -> None:
    """Take the header (the first row that is neither blank nor a comment) and the rows."""
    for number, cells in rows:
        if _blank(cells) or _comment(cells):
            continue
        if not block.headers:
            block.header_row = number
            block.headers = [c.strip().lower() for c in cells]
            _check_header(block, problems)
            continue
        extra = [c for c in cells[len(block.headers) :] if c]
        if extra:
            problems.append(
                Problem(
                    block.path,
                    number,
                    "-",
                    "AK201",
                    f"{len(cells)} cells but the header has {len(block.headers)} columns",
                )
            )
        block.rows.append((number, dict(zip(block.headers, cells, strict=False))))


def _check_header(block: Block, problems: list[Problem]) -> None:
    columns = _BLOCKS[block.name]
    known = {c.name for c in columns}
    seen: set[str] = set()
    for name in block.headers:
        if not name:
            continue
        if name not in known:
            problems.append(
                Problem(
                    block.path,
                    block.header_row,
                    name,
                    "AK201",
                    f"unknown column {name!r}; the {block.name} columns are "
                    + ", ".join(c.name for c in columns),
                )
            )
        elif name in seen:
            problems.append(
                Problem(block.path, block.header_row, name, "AK201", f"column {name!r} given twice")
            )
        seen.add(name)
    for column in columns:
        if column.required and column.name not in seen:
            problems.append(
                Problem(
                    block.path,
                    block.header_row,
                    column.name,
                    "AK202",
                    f"the {block.name} block needs a column {column.name!r}",
                )
            )


def _read_csv(path: Path, shown: str, problems: list[Problem]) -> dict[str, Block]:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(
            Location(shown),
            "AK200",
            f"not UTF-8 text (byte {error.start}); save the sheet as CSV UTF-8",
        ) from None
    records = [
        (number, [_cell(c) for c in cells])
        for number, cells in enumerate(csv.reader(io.StringIO(text, newline="")), start=1)
    ]
    split = next(
        (
            i
            for i, (_n, cells) in enumerate(records)
            if cells and cells[0].strip().lower() == "source_id"
        ),
        len(records),
    )
    events = Block("events", shown)
    sources = Block("sources", shown)
    _fill(events, records[:split], problems)
    _fill(sources, records[split:], problems)
    return {"events": events, "sources": sources}


def _read_xlsx(path: Path, shown: str, problems: list[Problem]) -> dict[str, Block]:
    import zipfile

    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise InputError(
            Location(shown), "AK200", f"not a readable XLSX workbook ({error})"
        ) from None
    if "events" not in workbook.sheetnames:
        raise InputError(
            Location(shown),
            "AK200",
            f"no sheet named 'events' (sheets: {', '.join(workbook.sheetnames)})",
        )
    blocks = {}
    for name in ("events", "sources"):
        block = Block(name, shown if name == "events" else f"{shown}#{name}")
        if name in workbook.sheetnames:
            sheet = workbook[name]
            rows = (
                (number, [_cell(v) for v in values])
                for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
            )
            _fill(block, rows, problems)
        blocks[name] = block
    return blocks


def read_sheet(path: Path) -> tuple[dict[str, Block], list[Problem]]:
    """The blocks of a CSV or XLSX sheet, and the problems of its headers."""
    shown = display_path(path)
    if not path.is_file():
        raise InputError(Location(shown), "AK200", "no such sheet")
    problems: list[Problem] = []
    suffix = path.suffix.lower()
    if suffix == ".csv":
        blocks = _read_csv(path, shown, problems)
    elif suffix == ".xlsx":
        blocks = _read_xlsx(path, shown, problems)
    else:
        raise InputError(
            Location(shown), "AK200", f"unsupported sheet type {path.suffix!r} (read: .csv, .xlsx)"
        )
    if not blocks["events"].headers:
        raise InputError(Location(shown), "AK200", "the sheet has no header row")
    return blocks, problems


# --- Validating rows ----------------------------------------------------------------------


@dataclass(frozen=True)
class Quote:
    text: str
    source: str


@dataclass(frozen=True)
class Decision:
    decision: str
    reason: str


@dataclass(frozen=True)
class EventRow:
    """A valid event row."""

    row: int
    event_id: str
    label: str
    parties: tuple[URIRef, ...]
    grouping: URIRef | None
    dimension: URIRef
    indicator: URIRef | None
    level: URIRef | None
    aspect: URIRef | None
    start: dt.date
    precision: URIRef
    end: dt.date | None
    persistence: URIRef
    footnotes: tuple[int, ...]
    sources: tuple[str, ...]
    quotes: tuple[Quote, ...]
    decisions: tuple[Decision, ...]
    comment: str


@dataclass(frozen=True)
class SourceRow:
    """A valid new source."""

    row: int
    key: str
    title: str
    title_language: str
    title_en: str
    language: str
    kind: URIRef
    url: str
    date: tuple[str, str] | None
    authors: tuple[str, ...]
    publisher: str
    footnotes: tuple[int, ...]


@dataclass(frozen=True)
class Known:
    """What kg/ already holds (other than the file being written)."""

    sources: dict[str, str]  # key -> file
    events: dict[str, str]  # IRI -> file
    coder_labels: dict[str, RdfLiteral]


class _Row:
    """The cells of one row and the problems found in them."""

    def __init__(self, block: Block, number: int, cells: dict[str, str], problems: list[Problem]):
        self.block = block
        self.number = number
        self.cells = cells
        self.problems = problems
        self.failed = False

    def get(self, column: str) -> str:
        return self.cells.get(column, "").strip()

    def problem(self, column: str, code: str, message: str) -> None:
        self.failed = True
        self.problems.append(Problem(self.block.path, self.number, column, code, message))

    def required(self, column: str, what: str) -> str:
        value = self.get(column)
        if not value:
            if column in self.block.headers:
                self.problem(column, "AK203", f"{what} is missing")
            else:
                self.failed = True  # the header's AK202 says it
        return value

    def coded(
        self, column: str, concepts: Sequence[Concept], what: str, code: str
    ) -> Concept | None:
        value = self.get(column)
        if not value:
            return None
        for concept in concepts:
            if value.lower() == concept.notation.lower():
                return concept
        allowed = ", ".join(c.notation for c in concepts)
        self.problem(column, code, f"unknown {what} {value!r}; use one of: {allowed}")
        return None

    def identifier(self, column: str, prefix: str, what: str) -> str:
        value = self.required(column, what)
        if value.startswith(prefix):
            value = value[len(prefix) :]
        if value and not _ID.match(value):
            self.problem(
                column,
                "AK210",
                f"{what} {value!r} is not a valid name: use letters, "
                "digits, '-', '_' and '.' (not at the end)",
            )
            return ""
        return value

    def date(self, column: str) -> tuple[dt.date, str] | None:
        value = self.get(column)
        if not value:
            return None
        match = _DATE_FORM.match(value)
        if not match:
            self.problem(
                column, "AK230", f"{value!r} is not a date: write YYYY, YYYY-MM or YYYY-MM-DD"
            )
            return None
        year, month, day = match.group(1), match.group(2), match.group(3)
        if month is not None and not 1 <= int(month) <= 12:
            self.problem(column, "AK230", f"{value!r} is not a date: there is no month {month}")
            return None
        if day is not None and not 1 <= int(day) <= 31:
            self.problem(column, "AK230", f"{value!r} is not a date: there is no day {day}")
            return None
        try:
            parsed = dt.date(int(year), int(month or 1), int(day or 1))
        except ValueError:
            self.problem(
                column,
                "AK231",
                f"{value!r} is an impossible date: "
                f"{_MONTHS[int(month or 1) - 1]} {year} has no day {int(day or 1)}",
            )
            return None
        precision = "day" if day is not None else "month" if month is not None else "year"
        return parsed, precision

    def footnotes(self, column: str) -> tuple[int, ...]:
        numbers = []
        for part in re.split(r"[\s,;]+", self.get(column)):
            if not part:
                continue
            if not part.isdigit() or int(part) < 1:
                self.problem(column, "AK253", f"footnote {part!r} is not a positive integer")
                continue
            numbers.append(int(part))
        return tuple(sorted(set(numbers)))

    def lines(self, column: str) -> list[str]:
        return [line.strip() for line in self.get(column).split("\n") if line.strip()]


def _keys(text: str) -> list[str]:
    keys = []
    for part in text.split(";"):
        key = part.strip()
        if key.startswith("src:"):
            key = key[4:]
        if key:
            keys.append(key)
    return keys


def _source_row(
    row: _Row, vocab: Vocabulary, known: Known, seen: dict[str, int]
) -> SourceRow | None:
    key = row.identifier("source_id", "src:", "source key")
    if key in seen:
        row.problem(
            "source_id", "AK274", f"source {key!r} is given twice (first on row {seen[key]})"
        )
    elif key in known.sources:
        row.problem(
            "source_id",
            "AK275",
            f"source src:{key} is already in {known.sources[key]}; "
            "refer to it by its key and leave it out of the sources block",
        )
    if key:
        seen.setdefault(key, row.number)
    title = row.required("title", "the title")
    language = row.get("language")
    if not language:
        row.problem(
            "language",
            "AK270",
            "a new source needs its language (a BCP 47 tag such as zh, ru or en)",
        )
    elif not re.match(vocab.language_pattern, language):
        row.problem(
            "language", "AK271", f"language {language!r} is not a BCP 47 tag such as zh, ru or en"
        )
    title_language = row.get("title_language") or language
    if row.get("title_language") and language_problem(title_language):
        row.problem(
            "title_language",
            "AK271",
            f"title language {title_language!r} is not a BCP 47 tag such as en or zh-Latn-pinyin",
        )
    kind = row.coded("kind", vocab.kinds, "source kind", "AK272")
    if not row.get("kind"):
        row.problem(
            "kind",
            "AK272",
            "a new source needs its kind: " + ", ".join(c.notation for c in vocab.kinds),
        )
    url = row.get("url")
    if url and not re.match(vocab.url_pattern, url):
        row.problem(
            "url", "AK273", f"{url!r} is not a URL starting http:// or https:// without spaces"
        )
    parsed = row.date("date")
    date = None
    if parsed:
        value, precision = parsed
        date = {
            "year": (f"{value.year:04d}", "gYear"),
            "month": (f"{value.year:04d}-{value.month:02d}", "gYearMonth"),
            "day": (value.isoformat(), "date"),
        }[precision]
    footnotes = row.footnotes("footnotes")
    if row.failed or kind is None:
        return None
    return SourceRow(
        row=row.number,
        key=key,
        title=title,
        title_language=title_language,
        title_en=row.get("title_en"),
        language=language,
        kind=kind.iri,
        url=url,
        date=date,
        authors=tuple(_keys(row.get("author"))),
        publisher=row.get("publisher"),
        footnotes=footnotes,
    )


def _parties(
    row: _Row, vocab: Vocabulary, start: dt.date | None
) -> tuple[tuple[URIRef, ...], URIRef | None]:
    states = {s.iso3: s for s in vocab.states}
    codes = [(c, row.get(c).upper()) for c in ("party_a", "party_b") if row.get(c)]
    grouping = row.coded("grouping", vocab.groupings, "grouping", "AK243")
    if row.get("grouping") and codes:
        row.problem("grouping", "AK242", "give either two parties or a grouping, not both")
    elif not row.get("grouping") and len(codes) != 2:
        missing = "party_b" if codes and codes[0][0] == "party_a" else "party_a"
        row.problem(
            missing,
            "AK242",
            "a bilateral event needs two parties (party_a and "
            "party_b); a multilateral one a grouping",
        )
    elif len(codes) == 2 and codes[0][1] == codes[1][1]:
        row.problem("party_b", "AK242", f"the two parties are the same state ({codes[0][1]})")
    parties = []
    for column, code in codes:
        state = states.get(code)
        if state is None:
            row.problem(
                column,
                "AK240",
                f"unknown country {code!r}: not a state of "
                "ontology/states.ttl (ISO 3166-1 alpha-3, e.g. CHN, RUS)",
            )
            continue
        if start is not None:
            if state.exists_from and start < state.exists_from:
                row.problem(
                    column,
                    "AK241",
                    f"{code} did not exist on {start.isoformat()}: it "
                    f"exists from {state.exists_from.isoformat()}",
                )
            elif state.exists_until and start > state.exists_until:
                row.problem(
                    column,
                    "AK241",
                    f"{code} did not exist on {start.isoformat()}: it "
                    f"exists until {state.exists_until.isoformat()}",
                )
        parties.append(state.iri)
    return tuple(sorted(parties)), grouping.iri if grouping else None


def _ladder(
    row: _Row, vocab: Vocabulary, dimension: Concept | None
) -> tuple[URIRef | None, URIRef | None, URIRef | None]:
    text = row.get("indicator")
    indicator = None
    if text.isdigit():
        indicator = next((c for c in vocab.indicators if c.rung == int(text)), None)
        if indicator is None:
            rungs = ", ".join(str(c.rung) for c in vocab.indicators)
            row.problem(
                "indicator",
                "AK221",
                f"unknown indicator {text!r}; use a notation or a rung ({rungs})",
            )
    else:
        indicator = row.coded("indicator", vocab.indicators, "indicator", "AK221")
    level = row.coded("level", vocab.levels, "level", "AK222")
    aspect = row.coded("aspect", vocab.aspects, "aspect", "AK223")
    if dimension is None:
        return None, None, None
    military = dimension.iri == AK.Military
    if military:
        for column, value in (("indicator", text), ("level", row.get("level"))):
            if not value:
                row.problem(column, "AK225", f"a {dimension.notation} event needs its {column}")
        if row.get("aspect"):
            row.problem(
                "aspect",
                "AK226",
                f"a {dimension.notation} event is placed by its indicator and carries no aspect",
            )
    else:
        for column in ("indicator", "level"):
            if row.get(column):
                article = {"indicator": "an indicator", "level": "a level"}[column]
                row.problem(
                    column,
                    "AK226",
                    f"only a military event carries {article}; this one is {dimension.notation}",
                )
        if not row.get("aspect"):
            row.problem(
                "aspect",
                "AK203",
                f"a {dimension.notation} event needs its aspect: "
                + ", ".join(c.notation for c in vocab.aspects if c.dimension == dimension.iri),
            )
        elif aspect is not None and aspect.dimension != dimension.iri:
            row.problem(
                "aspect",
                "AK224",
                f"aspect {aspect.notation!r} belongs to the "
                f"{vocab.notation_of(aspect.dimension or '')} dimension, not "
                f"{dimension.notation}",
            )
    return (
        indicator.iri if indicator else None,
        level.iri if level else None,
        aspect.iri if aspect else None,
    )


def _quotes(row: _Row, sources: list[str]) -> tuple[Quote, ...]:
    texts = row.lines("quote")
    if not texts:
        row.problem("quote", "AK203", "the verbatim passage that supports the code is missing")
    for text in texts:
        words = len(text.split())
        if words > MAX_QUOTE_WORDS:
            row.problem(
                "quote", "AK260", f"a quote has {words} words; quote at most {MAX_QUOTE_WORDS}"
            )
    keys = [k for line in row.lines("quote_source") for k in _keys(line)]
    if not keys:
        if len(sources) != 1:
            if sources and texts:
                row.problem(
                    "quote_source",
                    "AK252",
                    "the event has several sources: say which one each quote comes from",
                )
            return ()
        keys = sources[:1]
    if len(keys) == 1:
        keys = keys * len(texts)
    if len(keys) != len(texts):
        row.problem(
            "quote_source",
            "AK252",
            f"{len(texts)} quote(s) but {len(keys)} quote "
            "sources: give one per quote, or one for all",
        )
        return ()
    for key in sorted(set(keys) - set(sources)):
        row.problem(
            "quote_source", "AK252", f"quote source {key!r} is not among the event's sources"
        )
    return tuple(Quote(text, key) for text, key in zip(texts, keys, strict=True))


def _decisions(row: _Row) -> tuple[Decision, ...]:
    decisions, reasons = row.lines("decision"), row.lines("reason")
    if len(decisions) != len(reasons):
        column = "reason" if len(decisions) > len(reasons) else "decision"
        row.problem(
            column,
            "AK254",
            f"{len(decisions)} decision(s) but {len(reasons)} "
            "reason(s): give one reason per decision, line by line",
        )
        return ()
    return tuple(Decision(d, r) for d, r in zip(decisions, reasons, strict=True))


def _event_row(
    row: _Row,
    vocab: Vocabulary,
    known: Known,
    new_sources: set[str],
    seen: dict[str, int],
    namespace: str,
) -> EventRow | None:
    event_id = row.identifier("event_id", "ev:", "the event id")
    if event_id in seen:
        row.problem(
            "event_id", "AK211", f"duplicate event id {event_id!r} (first on row {seen[event_id]})"
        )
    elif namespace + event_id in known.events:
        row.problem(
            "event_id",
            "AK212",
            f"event {event_id!r} is already coded in {known.events[namespace + event_id]}",
        )
    if event_id:
        seen.setdefault(event_id, row.number)
    label = row.required("label", "the label")
    dimension = row.coded("dimension", vocab.dimensions, "dimension", "AK220")
    if not row.get("dimension"):
        row.required("dimension", "the dimension")
    start = row.date("start")
    if not row.get("start"):
        row.required("start", "the start date")
    end = row.date("end")
    if start and end and end[0] < start[0]:
        row.problem(
            "end",
            "AK232",
            f"the end ({end[0].isoformat()}) is before the start ({start[0].isoformat()})",
        )
    parties, grouping = _parties(row, vocab, start[0] if start else None)
    indicator, level, aspect = _ladder(row, vocab, dimension)
    persistence = row.coded("persistence", vocab.persistences, "persistence", "AK227")
    if not row.get("persistence"):
        row.required("persistence", "the persistence")
    footnotes = row.footnotes("footnotes")
    sources = _keys(row.get("sources"))
    if not sources:
        row.problem("sources", "AK250", "an event needs at least one source")
    for key in sources:
        if key not in known.sources and key not in new_sources:
            where = "kg/" if known.sources else "kg/ (no sources found there)"
            row.problem(
                "sources",
                "AK251",
                f"unknown source {key!r}: not in {where} nor in the sheet's sources",
            )
    quotes = _quotes(row, sources)
    decisions = _decisions(row)
    if row.failed or dimension is None or start is None or persistence is None:
        return None
    precisions = {c.notation: c.iri for c in vocab.precisions}
    return EventRow(
        row=row.number,
        event_id=event_id,
        label=label,
        parties=parties,
        grouping=grouping,
        dimension=dimension.iri,
        indicator=indicator,
        level=level,
        aspect=aspect,
        start=start[0],
        precision=precisions[start[1]],
        end=end[0] if end else None,
        persistence=persistence.iri,
        footnotes=footnotes,
        sources=tuple(sorted(set(sources), key=_natural)),
        quotes=quotes,
        decisions=decisions,
        comment=row.get("comment"),
    )


def _natural(text: str) -> tuple[tuple[int, str], ...]:
    return tuple((int(p), "") if p.isdigit() else (0, p) for p in re.findall(r"\d+|\D+", text))


# --- What kg/ already holds ---------------------------------------------------------------


def _kg_files(kg: Sequence[Path], output: Path) -> list[Path]:
    """The RDF files of ``kg`` other than ``output`` (a missing or empty kg/ holds none)."""
    target = output.resolve()
    found = []
    for path in kg:
        if path.is_dir() and not any(p.suffix in FORMATS for p in path.rglob("*")):
            continue
        if path.exists():
            found += [p for p in discover([path]) if p.resolve() != target]
    return found


def _known(files: Sequence[Path]) -> Known:
    sources: dict[str, str] = {}
    events: dict[str, str] = {}
    coders: dict[str, RdfLiteral] = {}
    for parsed in read_all(files) if files else []:
        labels = {
            t.subject.value: t.object
            for t in parsed.triples
            if t.predicate.value == str(RDFS.label)
            and isinstance(t.subject, ox.NamedNode)
            and isinstance(t.object, ox.Literal)
        }
        for t in parsed.triples:
            if t.predicate != _RDF_TYPE or not isinstance(t.subject, ox.NamedNode):
                continue
            subject, kind = t.subject.value, t.object
            if kind == _SOURCE and subject.startswith(SRC):
                sources.setdefault(subject[len(SRC) :], parsed.path)
            elif kind == _EVENT:
                events.setdefault(subject, parsed.path)
            elif kind == _CODER and subject in labels and subject.startswith(CODER):
                label = labels[subject]
                coders[subject[len(CODER) :]] = RdfLiteral(label.value, lang=label.language)
    return Known(sources=sources, events=events, coder_labels=coders)


_RDF_TYPE = ox.NamedNode(str(RDF.type))
_SOURCE = ox.NamedNode(str(AK.Source))
_EVENT = ox.NamedNode(str(AK.Event))
_CODER = ox.NamedNode(str(AK.Coder))


def _local(iri: Node | str) -> str:
    return re.split(r"[/#]", str(iri))[-1]


# --- Turtle -------------------------------------------------------------------------------

_PREFIX_ORDER = (
    "ak",
    "state",
    "grouping",
    "ev",
    "src",
    "coder",
    "prov",
    "oa",
    "dcterms",
    "xsd",
    "rdfs",
)


def _string(text: str) -> str:
    escaped = (
        text.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
    )
    return f'"{escaped}"'


def _english(text: str) -> str:
    return _string(text) + "@en"


@dataclass
class _Node:
    """A blank node written inline: its type and its properties, in order."""

    kind: str
    properties: list[tuple[str, list[str | _Node]]]


def _objects(values: Sequence[str | _Node], indent: int) -> str:
    """The objects of a property written on a line indented by ``indent``."""
    text = ""
    for position, value in enumerate(values):
        if position:
            text += " ,\n" + " " * (indent + 2) if isinstance(value, _Node) else " , "
        text += value if isinstance(value, str) else _inline(value, indent)
    return text


def _inline(node: _Node, indent: int) -> str:
    inner = indent + 4
    parts = [f"[ a {node.kind}"]
    for prop, values in node.properties:
        parts.append(f"{' ' * inner}{prop} {_objects(values, inner)}")
    return " ;\n".join(parts) + " ]"


def _subject(subject: str, kind: str, properties: list[tuple[str, list[str | _Node]]]) -> str:
    lines = [f"{subject} a {kind}"]
    for prop, values in properties:
        if values:
            lines.append(f"    {prop} {_objects(values, 4)}")
    return " ;\n".join(lines) + " .\n"


def _event_turtle(event: EventRow, vocab: Vocabulary, coder: str) -> str:
    me = f"ev:{event.event_id}"
    notation = vocab.notation_of
    props: list[tuple[str, list[str | _Node]]] = [
        ("rdfs:label", [_english(event.label)]),
        ("ak:party", [f"state:{notation(p)}" for p in event.parties]),
        ("ak:grouping", [f"grouping:{_local(event.grouping)}"] if event.grouping else []),
        ("ak:dimension", [f"ak:{_local(event.dimension)}"]),
        ("ak:indicator", [f"ak:{_local(event.indicator)}"] if event.indicator else []),
        ("ak:level", [f"ak:{_local(event.level)}"] if event.level else []),
        ("ak:aspect", [f"ak:{_local(event.aspect)}"] if event.aspect else []),
        ("ak:startDate", [f'"{event.start.isoformat()}"^^xsd:date']),
        ("ak:endDate", [f'"{event.end.isoformat()}"^^xsd:date'] if event.end else []),
        ("ak:datePrecision", [f"ak:{_local(event.precision)}"]),
        ("ak:persistence", [f"ak:{_local(event.persistence)}"]),
        ("ak:footnote", [str(n) for n in event.footnotes]),
        ("prov:wasDerivedFrom", [f"src:{k}" for k in event.sources]),
        ("prov:wasAttributedTo", [f"coder:{coder}"]),
        ("rdfs:comment", [_english(event.comment)] if event.comment else []),
        (
            "ak:codingDecision",
            [
                _Node(
                    "ak:CodingDecision",
                    [("ak:decision", [_english(d.decision)]), ("ak:reason", [_english(d.reason)])],
                )
                for d in event.decisions
            ],
        ),
        (
            "ak:evidence",
            [
                _Node(
                    "oa:Annotation",
                    [
                        ("oa:motivatedBy", ["oa:describing"]),
                        ("oa:hasBody", [me]),
                        (
                            "oa:hasTarget",
                            [
                                _Node(
                                    "oa:SpecificResource",
                                    [
                                        ("oa:hasSource", [f"src:{q.source}"]),
                                        (
                                            "oa:hasSelector",
                                            [
                                                _Node(
                                                    "oa:TextQuoteSelector",
                                                    [("oa:exact", [_string(q.text)])],
                                                )
                                            ],
                                        ),
                                    ],
                                )
                            ],
                        ),
                    ],
                )
                for q in event.quotes
            ],
        ),
    ]
    return _subject(me, "ak:Event", props)


def _source_turtle(source: SourceRow) -> str:
    title = _string(source.title) + f"@{source.title_language}"
    titles: list[str | _Node] = [title]
    if source.title_en and source.title_en != source.title:
        titles.append(_english(source.title_en))
    props: list[tuple[str, list[str | _Node]]] = [
        ("ak:footnote", [str(n) for n in source.footnotes]),
        ("dcterms:title", titles),
        ("dcterms:creator", [_string(a) for a in source.authors]),
        ("dcterms:language", [_string(source.language)]),
        ("dcterms:publisher", [_string(source.publisher)] if source.publisher else []),
        ("dcterms:date", [f'"{source.date[0]}"^^xsd:{source.date[1]}'] if source.date else []),
        ("ak:sourceKind", [f"ak:{_local(source.kind)}"]),
        ("ak:url", [_string(source.url) + "^^xsd:anyURI"] if source.url else []),
    ]
    return _subject(f"src:{source.key}", "ak:Source", props)


def _turtle(
    sheet_name: str,
    namespace: str,
    coder: str,
    coder_label: RdfLiteral,
    events: Sequence[EventRow],
    sources: Sequence[SourceRow],
    vocab: Vocabulary,
) -> str:
    prefixes = dict(PREFIXES, ev=namespace)
    wanted = [p for p in _PREFIX_ORDER if p != "dcterms" or sources]
    width = max(len(p) for p in wanted) + 2
    label = _string(str(coder_label)) + (f"@{coder_label.language}" if coder_label.language else "")
    parts = [
        f"# Coded events imported from {sheet_name} by `alignkg import` (coder: {coder}).\n"
        "# Generated file: edit the sheet and import it again rather than editing this file.\n",
        "".join(f"@prefix {(p + ':').ljust(width)}<{prefixes[p]}> .\n" for p in wanted),
        _subject(f"coder:{coder}", "ak:Coder , prov:Agent", [("rdfs:label", [label])]),
        *(_source_turtle(s) for s in sorted(sources, key=lambda s: _natural(s.key))),
        *(_event_turtle(e, vocab, coder) for e in sorted(events, key=lambda e: e.event_id)),
    ]
    return "\n".join(parts)


# --- Import -------------------------------------------------------------------------------


def _completeness(
    text: str, name: str, files: Sequence[Path], rows: dict[str, tuple[str, int, str]]
) -> list[Problem]:
    """Problems the completeness shapes find on the subjects of the written Turtle."""
    from alignkg.validate import shacl_findings

    with tempfile.TemporaryDirectory(prefix="alignkg-import-") as folder:
        written = Path(folder) / name
        write_atomic(written, text)
        kg = assemble([written, *files])
        findings = shacl_findings(kg, kind="completeness")
    problems = []
    for finding in findings:
        if finding.focus in rows:
            path, row, column = rows[finding.focus]
            problems.append(Problem(path, row, column, "AK290", finding.message))
    return problems


def _validate_coder(coder: str) -> str:
    name = coder.strip()
    if not _ID.match(name):
        raise UsageError(
            f"--coder {coder!r}: use a name of letters, digits, '-', '_' and '.' (it becomes "
            "coder:<name>)"
        )
    return name


def import_sheet(
    path: Path,
    *,
    coder: str,
    output: Path | None,
    kg: Sequence[Path] | None = None,
) -> Path:
    """Validate the sheet at ``path`` and write its events as Turtle; return the file written.

    ``kg`` (default: ``kg/``) is where the sources a sheet refers to are looked up; the
    output file itself is left out, so importing a sheet again replaces its earlier
    import. Raises :class:`SheetError` listing every problem, and writes nothing, when
    any row fails.
    """
    coder = _validate_coder(coder)
    shown = display_path(path)
    stem = path.stem
    if not _ID.match(stem):
        raise UsageError(
            f"{shown}: the sheet's name {stem!r} names its events' namespace (ev:); rename it "
            "with letters, digits, '-', '_' and '.'"
        )
    target = output if output is not None else Path("kg") / f"{stem}.ttl"
    vocab = vocabulary()
    blocks, problems = read_sheet(path)
    files = _kg_files(list(kg) if kg is not None else [Path("kg")], target)
    known = _known(files)
    namespace = f"{BASE}event/{stem}/"

    source_rows: list[SourceRow] = []
    seen_sources: dict[str, int] = {}
    sources_block = blocks["sources"]
    for number, cells in sources_block.rows:
        source = _source_row(
            _Row(sources_block, number, cells, problems), vocab, known, seen_sources
        )
        if source:
            source_rows.append(source)

    event_rows: list[EventRow] = []
    seen_events: dict[str, int] = {}
    events_block = blocks["events"]
    for number, cells in events_block.rows:
        row = _Row(events_block, number, cells, problems)
        event = _event_row(row, vocab, known, set(seen_sources), seen_events, namespace)
        if event:
            event_rows.append(event)
    if not events_block.rows:
        problems.append(
            Problem(
                events_block.path,
                events_block.header_row + 1,
                "event_id",
                "AK200",
                "the sheet has no event rows",
            )
        )
    if problems:
        raise SheetError(shown, _ordered(problems, blocks))

    label = known.coder_labels.get(coder, RdfLiteral(coder))
    text = _turtle(path.name, namespace, coder, label, event_rows, source_rows, vocab)
    parse_bytes(text.encode("utf-8"), path=display_path(target))
    rows = {namespace + e.event_id: (events_block.path, e.row, "event_id") for e in event_rows}
    rows.update({SRC + s.key: (sources_block.path, s.row, "source_id") for s in source_rows})
    late = _completeness(text, target.name, files, rows)
    if late:
        raise SheetError(shown, sorted(late))
    write_atomic(target, text)
    return target


def _ordered(problems: list[Problem], blocks: dict[str, Block]) -> list[Problem]:
    order = {"events": 0, "sources": 1}
    positions = {
        b.path: (order[name], {h: i for i, h in enumerate(b.headers)}) for name, b in blocks.items()
    }

    def key(p: Problem) -> tuple[int, int, int]:
        block, columns = positions.get(p.path, (0, {}))
        return (block, p.row, columns.get(p.column, len(columns)))

    return sorted(problems, key=key)


# --- Writing sheets: the template and the export -------------------------------------------


def _help_row(columns: Sequence[Column], vocab: Vocabulary) -> list[str]:
    cells = []
    for column in columns:
        allowed = _allowed(column, vocab)
        hint = " | ".join(code for code, _label in allowed) if allowed else column.help
        if column.required:
            hint = "required: " + hint
        cells.append(hint)
    cells[0] = "# " + cells[0]
    return cells


def _csv_text(events: Sequence[dict[str, str]], vocab: Vocabulary) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for columns, rows in ((EVENT_COLUMNS, events), (SOURCE_COLUMNS, [])):
        if columns is SOURCE_COLUMNS:
            writer.writerow([])
        writer.writerow([c.name for c in columns])
        writer.writerow(_help_row(columns, vocab))
        for record in rows:
            writer.writerow([record.get(c.name, "") for c in columns])
    return out.getvalue()


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(index))


def _xlsx_bytes(events: Sequence[dict[str, str]], vocab: Vocabulary) -> bytes:
    import openpyxl
    from openpyxl.styles import Alignment, Font
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = openpyxl.Workbook()
    workbook.properties.creator = "alignkg"
    workbook.active.title = "events"
    workbook.create_sheet("sources")
    help_sheet = workbook.create_sheet("help")
    lists = workbook.create_sheet("lists")
    help_sheet.append(["sheet", "column", "required", "allowed values", "help"])
    list_column = 0
    for name, columns, rows in (("events", EVENT_COLUMNS, events), ("sources", SOURCE_COLUMNS, [])):
        sheet = workbook[name]
        sheet.append([c.name for c in columns])
        for record in rows:
            sheet.append([record.get(c.name, "") for c in columns])
        sheet.freeze_panes = "A2"
        for index, column in enumerate(columns, start=1):
            letter = _column_letter(index)
            sheet.cell(row=1, column=index).font = Font(bold=True)
            sheet.column_dimensions[letter].width = (
                40
                if column.name in ("label", "quote", "decision", "reason", "title", "comment")
                else 16
            )
            sheet.column_dimensions[letter].number_format = "@"
            for row in range(2, len(rows) + 2):
                sheet.cell(row=row, column=index).number_format = "@"
            allowed = _allowed(column, vocab)
            help_sheet.append(
                [
                    name,
                    column.name,
                    "yes" if column.required else "",
                    "\n".join(f"{code}: {label}" for code, label in allowed),
                    column.help,
                ]
            )
            if not allowed:
                continue
            list_column += 1
            list_letter = _column_letter(list_column)
            lists.cell(row=1, column=list_column, value=f"{name}.{column.name}")
            values = [code for code, _label in allowed]
            if column.name == "indicator":
                values += [str(c.rung) for c in vocab.indicators]
            for offset, value in enumerate(values, start=2):
                lists.cell(row=offset, column=list_column, value=value).number_format = "@"
            validation = DataValidation(
                type="list",
                formula1=f"=lists!${list_letter}$2:${list_letter}${len(values) + 1}",
                allow_blank=True,
                showErrorMessage=True,
                errorTitle=f"{column.name}: not an allowed value",
                error="Pick a value from the list (see the help sheet).",
            )
            validation.add(f"{letter}2:{letter}{XLSX_ROWS}")
            sheet.add_data_validation(validation)
    for cells in help_sheet.iter_rows(min_row=2):
        for cell in cells:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for index, width in enumerate((10, 16, 9, 45, 80), start=1):
        help_sheet.column_dimensions[_column_letter(index)].width = width
    for cell in help_sheet[1]:
        cell.font = Font(bold=True)
    lists.sheet_state = "hidden"
    workbook.active = 0
    return _reproducible_xlsx(workbook)


#: The time every member of a written XLSX archive carries (the earliest a ZIP file can
#: record), so that the same graph always gives the same bytes.
ZIP_STAMP = (1980, 1, 1, 0, 0, 0)


def _reproducible_xlsx(workbook: Workbook) -> bytes:
    """The workbook's bytes without the time of writing: openpyxl's ``save`` stamps the
    document's modification time and each archive member with the clock, so two exports of
    one graph would differ (and by length, as the stamps compress differently). The
    document's creation and modification times and every member's are ``ZIP_STAMP``."""
    import zipfile

    from openpyxl.writer.excel import ExcelWriter

    workbook.properties.created = workbook.properties.modified = dt.datetime(*ZIP_STAMP)
    written = io.BytesIO()
    with zipfile.ZipFile(written, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(workbook, archive).write_data()
    out = io.BytesIO()
    with zipfile.ZipFile(written) as source, zipfile.ZipFile(out, "w") as stamped:
        for member in source.infolist():
            copy = zipfile.ZipInfo(member.filename, date_time=ZIP_STAMP)
            copy.compress_type = zipfile.ZIP_DEFLATED
            copy.external_attr = 0o644 << 16
            stamped.writestr(copy, source.read(member))
    return out.getvalue()


def _render(events: Sequence[dict[str, str]], fmt: str) -> str | bytes:
    vocab = vocabulary()
    if fmt == "csv":
        return _csv_text(events, vocab)
    if fmt == "xlsx":
        return _xlsx_bytes(events, vocab)
    raise UsageError(f"sheet format must be csv or xlsx, not {fmt!r}")


def template(fmt: str) -> str | bytes:
    """A blank coding sheet: CSV text (with its help row) or XLSX bytes (with a help sheet)."""
    return _render([], fmt)


def _event_record(graph: Graph, event: URIRef, vocab: Vocabulary) -> dict[str, str]:
    notation = vocab.notation_of

    def one(prop: URIRef) -> Node | None:
        return graph.value(event, prop)

    def code(prop: URIRef) -> str:
        value = one(prop)
        return notation(value) if value is not None else ""

    start = str(one(AK.startDate) or "")
    precision = code(AK.datePrecision)
    start = {"year": start[:4], "month": start[:7]}.get(precision, start)
    parties = sorted(notation(p) for p in graph.objects(event, AK.party))
    quotes = sorted(
        (_local(graph.value(target, OA.hasSource) or ""), str(graph.value(selector, OA.exact)))
        for annotation in graph.objects(event, AK.evidence)
        for target in graph.objects(annotation, OA.hasTarget)
        for selector in graph.objects(target, OA.hasSelector)
    )
    decisions = sorted(
        (str(graph.value(d, AK.decision) or ""), str(graph.value(d, AK.reason) or ""))
        for d in graph.objects(event, AK.codingDecision)
    )
    return {
        "event_id": _local(event),
        "label": str(one(RDFS.label) or ""),
        "party_a": parties[0] if parties else "",
        "party_b": parties[1] if len(parties) > 1 else "",
        "grouping": code(AK.grouping),
        "dimension": code(AK.dimension),
        "indicator": code(AK.indicator),
        "level": code(AK.level),
        "aspect": code(AK.aspect),
        "start": start,
        "end": str(one(AK.endDate) or ""),
        "persistence": code(AK.persistence),
        "footnotes": " ".join(sorted({str(n) for n in graph.objects(event, AK.footnote)}, key=int)),
        "sources": "; ".join(
            sorted({_local(s) for s in graph.objects(event, PROV.wasDerivedFrom)}, key=_natural)
        ),
        "quote": "\n".join(text for _source, text in quotes),
        "quote_source": "\n".join(source for source, _text in quotes),
        "decision": "\n".join(d for d, _r in decisions),
        "reason": "\n".join(r for _d, r in decisions),
        "comment": str(one(RDFS.comment) or ""),
    }


def event_graph(kg: KnowledgeGraph) -> Graph:
    """The asserted data of ``kg`` as an rdflib Graph."""
    graph = Graph()
    for triple in triples_under(kg.store, DATA_GRAPH):
        graph.add(triple)
    return graph


def export_sheet(kg: KnowledgeGraph, fmt: str = "csv") -> str | bytes:
    """The coded events of ``kg`` as a sheet in the template's columns, one row per event
    (sorted by event id); the sources stay in kg/ and are referred to by key."""
    graph = event_graph(kg)
    vocab = vocabulary()
    events = sorted(
        (e for e in graph.subjects(RDF.type, AK.Event) if isinstance(e, URIRef)), key=_local
    )
    return _render([_event_record(graph, e, vocab) for e in events], fmt)


__all__ = [
    "ERROR_CODES",
    "EVENT_COLUMNS",
    "SOURCE_COLUMNS",
    "Problem",
    "SheetError",
    "export_sheet",
    "import_sheet",
    "template",
    "vocabulary",
]
