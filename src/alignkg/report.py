"""One self-contained HTML report of a built graph.

Everything is inline: the style sheet, the figures (as SVG), the tables; nothing is
loaded from anywhere and no script runs. Links to the cited sources' URLs are ordinary
``<a>`` links. The text comes from the graph through the named queries and the
evidence chain (:func:`alignkg.evidence.explain`); every value is escaped. The output
is stable: the same graph gives the same bytes (no timestamp unless one is passed in).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from importlib.metadata import PackageNotFoundError, version
from urllib.parse import urlsplit

from rdflib import URIRef
from rdflib.term import Node

from alignkg import evidence, figures, query, stages
from alignkg.build import KnowledgeGraph
from alignkg.ladder import Ladder
from alignkg.namespace import AK
from alignkg.stages import StageRow
from alignkg.validate import Report

READINGS = figures.READINGS
FOCUS_DYAD = "CHN-RUS"


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _cell(value: Node | None) -> str:
    return "" if value is None else str(value)


def _anchor(*parts: object) -> str:
    """An id made of letters, digits and hyphens."""
    return re.sub(r"[^A-Za-z0-9-]+", "-", "-".join(str(p) for p in parts)).strip("-")


def _link(url: str, text: str | None = None) -> str:
    """A link to an http(s) URL, or the escaped text when the URL is anything else."""
    shown = _e(text if text is not None else url)
    if urlsplit(url).scheme in {"http", "https"}:
        return f'<a href="{_e(url)}" rel="noreferrer">{shown}</a>'
    return shown


def inline_svg(svg: bytes | str, prefix: str) -> str:
    """An SVG document as an element to put in HTML: without the XML prolog and DOCTYPE,
    its ids (and the references to them) prefixed so that several figures can share a
    page."""
    text = svg.decode("utf-8") if isinstance(svg, bytes) else svg
    text = text[text.index("<svg") :]
    text = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}-{m.group(1)}"', text)
    text = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}-{m.group(1)})", text)
    text = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}-{m.group(1)}"', text)
    return text.replace("<svg ", f'<svg role="img" aria-labelledby="{prefix}-caption" ', 1)


def _table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    cls: str = "",
    numeric: Sequence[bool] | None = None,
    raw: bool = False,
) -> str:
    """An HTML table; cells are escaped unless ``raw`` (then they must be HTML already)."""
    klass = f' class="{_e(cls)}"' if cls else ""
    out = [f"<table{klass}>", "<thead><tr>"]
    out.extend(f'<th scope="col">{_e(h)}</th>' for h in headers)
    out.append("</tr></thead><tbody>")
    for row in rows:
        cells = []
        for number, value in enumerate(row):
            right = ' class="num"' if numeric and numeric[number] else ""
            cells.append(f"<td{right}>{value if raw else _e(value)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def _query_table(kg: KnowledgeGraph, name: str) -> str:
    names, rows = query.run(kg.store, query.load(name))
    if not rows:
        return f"<p>No rows (<code>alignkg query {_e(name)}</code>).</p>"
    return _table(names, ([_cell(r.get(n)) for n in names] for r in rows), cls="counts")


# --- Dyads --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DyadInfo:
    code: str
    bilateral: int
    projected: int


def dyads_with_events(kg: KnowledgeGraph) -> list[DyadInfo]:
    """The dyads with events: bilateral ones first (CHN-RUS first of all), then the
    dyads that only have events projected from multilateral groupings."""
    _names, rows = query.run(kg.store, query.load("dyads"))
    found = [
        DyadInfo(
            code=str(r["dyadLabel"]),
            bilateral=int(str(r.get("bilateralEvents", 0))),
            projected=int(str(r.get("projectedEvents", 0))),
        )
        for r in rows
    ]
    found = [d for d in found if d.bilateral or d.projected]
    return sorted(found, key=lambda d: (d.bilateral == 0, d.code != FOCUS_DYAD, d.code))


def _stage_text(row: StageRow | None) -> str:
    if row is None:
        return ""
    return f"{row.stage} ({row.level})" if row.level else row.stage


def _rungs(values: Sequence[int]) -> str:
    return ", ".join(str(v) for v in values)


def _timeline(rows: Sequence[StageRow]) -> str:
    by_year: dict[int, dict[str, StageRow]] = {}
    for row in rows:
        by_year.setdefault(row.year, {})[row.reading] = row
    body = []
    for year, readings in sorted(by_year.items()):
        strict, manifested = readings.get("strict"), readings.get("manifested")
        body.append(
            [
                str(year),
                strict.stage if strict else "",
                strict.level if strict else "",
                _rungs(strict.counted) if strict else "",
                _rungs(strict.precursors) if strict else "",
                manifested.stage if manifested else "",
                manifested.level if manifested else "",
                str(manifested.highest_indicator or "") if manifested else "",
            ]
        )
    return _table(
        [
            "year",
            "strict: stage",
            "strict: level",
            "counted",
            "precursors",
            "manifested: stage",
            "manifested: level",
            "highest indicator",
        ],
        body,
        cls="timeline",
    )


def _runs(rows: Sequence[StageRow], reading: str) -> list[tuple[int, int, str]]:
    runs: list[tuple[int, int, str]] = []
    for row in sorted((r for r in rows if r.reading == reading), key=lambda r: r.year):
        text = _stage_text(row)
        extra = f"; precursors {_rungs(row.precursors)}" if row.precursors else ""
        text = f"{text}, counts {_rungs(row.counted) or 'none'}{extra}"
        if runs and runs[-1][2] == text and runs[-1][1] == row.year - 1:
            runs[-1] = (runs[-1][0], row.year, text)
        else:
            runs.append((row.year, row.year, text))
    return runs


def _gates(found: evidence.Explanation, kg: KnowledgeGraph) -> list[str]:
    return evidence.gate_lines(found, kg.ladder)


def _event_html(
    event: evidence.EventEvidence, rung: int, kg: KnowledgeGraph, sources: Mapping[str, str]
) -> str:
    indicator = kg.ladder.indicator_by_rung(rung)
    meta = [event.start, f"indicator {rung} {indicator.label}", f"{event.level} level"]
    if event.location:
        meta.append(event.location)
    out = ['<article class="event">', f"<h5>{_e(event.label)}</h5>"]
    out.append(
        f'<p class="meta">{" · ".join(_e(m) for m in meta)}<br><code>{_e(event.iri)}</code></p>'
    )
    for quote, document in sorted(event.quotes):
        where = sources.get(document) or (
            event.sources[document].heading() if document in event.sources else document
        )
        out.append(f"<blockquote>“{_e(quote)}”<footer>in {_e(where)}</footer></blockquote>")
    if event.decisions:
        out.append('<dl class="decisions">')
        for choice in event.decisions:
            out.append(f"<dt>Decision: {_e(choice.decision)}</dt>")
            if choice.reason:
                out.append(f"<dd>Because: {_e(choice.reason)}</dd>")
        out.append("</dl>")
    if event.sources:
        out.append('<ul class="sources">')
        for source in sorted(event.sources.values(), key=lambda s: s.iri):
            detail = ", ".join(x for x in (source.language, source.kind) if x)
            link = f" {_link(source.url)}" if source.url else ""
            out.append(
                f'<li>{_e(source.heading())} <span class="tag">[{_e(detail)}]</span>{link}</li>'
            )
        out.append("</ul>")
    out.append("</article>")
    return "\n".join(out)


def _transition_html(
    kg: KnowledgeGraph, change: stages.Transition, rows: Sequence[StageRow]
) -> str:
    dyad, year = change.after.dyad, change.year
    found = evidence.explain(kg, dyad=dyad, year=year, rows=rows)
    out = [
        f'<section class="transition" id="{_e(_anchor(dyad, year))}">',
        f"<h4>{year}: {_e(change.describe().replace(' -> ', ' → '))}</h4>",
        "<ul>",
    ]
    for row in sorted(found.assessments, key=lambda r: r.reading, reverse=True):
        text = f"{READINGS.get(row.reading, row.reading)}: stage {_stage_text(row)}"
        text += f"; counts {_rungs(row.counted) or 'none'}"
        if row.precursors:
            text += f"; precursors {_rungs(row.precursors)}"
        out.append(f"<li>{_e(text)}</li>")
    out.extend(f"<li>{_e(line)}</li>" for line in _gates(found, kg))
    out.append("</ul>")
    new_events: list[tuple[int, evidence.EventEvidence]] = []
    level_rows = []
    for rung, events in found.events.items():
        fresh = [e for e in events if e.start[:4] == str(year)]
        new_events.extend((rung, e) for e in fresh)
        level_rows.append(
            [
                str(rung),
                kg.ladder.indicator_by_rung(rung).label,
                found.levels.get(rung, ""),
                str(len(events)),
                str(len(fresh)),
            ]
        )
    if level_rows:
        out.append(
            _table(
                ["rung", "indicator", "level", "events active", "new this year"],
                level_rows,
                cls="levels",
                numeric=[True, False, False, True, True],
            )
        )
    else:
        out.append("<p>No indicator is present.</p>")
    if new_events:
        out.append(f"<p>Events new in {year}, with their quotes, coding decisions and sources:</p>")
        names = {
            iri: source.heading()
            for _rung, event in new_events
            for iri, source in event.sources.items()
        }
        out.extend(_event_html(event, rung, kg, names) for rung, event in new_events)
    else:
        out.append(f"<p>No event starts in {year}; the levels above carry the change.</p>")
    carried = [
        (rung, e)
        for rung, events in found.events.items()
        for e in events
        if e.start[:4] != str(year)
    ]
    if carried:
        out.append(
            '<details><summary>Events active from earlier years</summary><ul class="carried">'
        )
        out.extend(
            f"<li>indicator {rung}: {_e(e.label)} ({_e(e.start)}, {_e(e.level)})</li>"
            for rung, e in carried
        )
        out.append("</ul></details>")
    out.append("</section>")
    return "\n".join(out)


def _dyad_section(kg: KnowledgeGraph, info: DyadInfo, rows: Sequence[StageRow]) -> str:
    data = figures.dyad_grid(kg, info.code)
    pair = f"{data.names[0]}–{data.names[1]}"
    prefix = _anchor("fig2", info.code)
    svg = figures.render(figures.draw_dyad(data), "svg", salt=f"alignkg-{info.code}")
    out = [
        f'<section class="dyad" id="{_e(_anchor(info.code))}">',
        f"<h2>{_e(pair)} ({_e(info.code)})</h2>",
        f"<p>{info.bilateral} bilateral event(s), {info.projected} projected from multilateral "
        f"groupings; assessed {data.years[0]}–{data.years[-1]}.</p>",
        f'<figure class="wide">{inline_svg(svg, prefix)}'
        f'<figcaption id="{prefix}-caption">Fig. 2. {_e(data.title)}: each indicator’s level '
        "per year (L low, H high, blank absent; p a precursor the strict ladder does not "
        "count), with the stage under both readings.</figcaption></figure>",
        "<h3>Stage timeline</h3>",
        _timeline(rows),
    ]
    strict = [r for r in rows if r.reading == "strict"]
    changes = stages.transitions(strict)
    out.append("<h3>Transitions under the strict ladder, and their evidence</h3>")
    out.append(
        "<ul>"
        + "".join(
            f'<li><a href="#{_e(_anchor(info.code, c.year))}">{c.year}</a>: '
            f"{_e(c.describe().replace(' -> ', ' → '))}</li>"
            for c in changes
        )
        + "</ul>"
    )
    out.extend(_transition_html(kg, change, rows) for change in changes)
    out.append("</section>")
    return "\n".join(out)


def _grouped_section(groups: Sequence[tuple[list[DyadInfo], Sequence[StageRow]]]) -> str:
    out = [
        '<section class="dyad" id="groupings">',
        "<h2>Dyads from multilateral groupings</h2>",
        "<p>These dyads have no bilateral events: their events are a grouping’s events, "
        "projected to every pair of its members. Dyads with the same timeline are listed "
        "together.</p>",
    ]
    for members, rows in groups:
        codes = ", ".join(d.code for d in members)
        first = members[0]
        out.append(f'<h3 id="{_e(_anchor(first.code))}">{_e(codes)}</h3>')
        out.append(f"<p>{first.projected} projected event(s) each.</p>")
        for reading, name in READINGS.items():
            runs = _runs(rows, reading)
            out.append(
                f"<p><strong>{_e(name)}</strong>: "
                + "; ".join(
                    _e(f"{a}–{b}: {text}" if a != b else f"{a}: {text}") for a, b, text in runs
                )
                + "</p>"
            )
    out.append("</section>")
    return "\n".join(out)


# --- Statistical tables --------------------------------------------------------------------


@dataclass(frozen=True)
class TableSpec:
    number: str
    structure: URIRef
    query: str
    headers: Mapping[str, str]
    empty: str
    empty_note: str


TABLES = (
    TableSpec(
        "Table 1",
        AK.VetoTableStructure,
        "table-1-vetoes",
        {
            "period": "Period",
            "total": "Total",
            "usa": "USA",
            "russia": "Russia",
            "china": "China",
            "chinaRussia": "China–Russia",
        },
        "",
        "An empty cell is one the paper does not print.",
    ),
    TableSpec(
        "Table 2",
        AK.TradeTableStructure,
        "table-2-trade",
        {
            "year": "Year",
            "totalTrade": "Total trade (billion USD)",
            "chinaShareInRussiaTrade": "China’s share in Russia’s external trade (%)",
            "russiaShareInChinaTrade": "Russia’s share in China’s external trade (%)",
        },
        "–",
        "“–” is printed as in the paper, which gives no value there.",
    ),
)


@dataclass
class TableMeta:
    label: str = ""
    title: str = ""
    note: str = ""
    comment: str = ""
    sources: dict[str, tuple[str, str]] | None = None


def _table_metadata(kg: KnowledgeGraph) -> dict[str, TableMeta]:
    _names, rows = query.run(kg.store, query.load("statistical-tables"))
    found: dict[str, TableMeta] = {}
    for row in rows:
        structure = str(row["structure"])
        meta = found.setdefault(structure, TableMeta(sources={}))
        meta.label = meta.label or _cell(row.get("label"))
        meta.title = meta.title or _cell(row.get("title"))
        meta.note = meta.note or _cell(row.get("note"))
        meta.comment = meta.comment or _cell(row.get("comment"))
        if "source" in row and meta.sources is not None:
            meta.sources[str(row["source"])] = (
                _cell(row.get("sourceTitle")) or str(row["source"]),
                _cell(row.get("url")),
            )
    return found


def _tables_section(kg: KnowledgeGraph) -> str:
    out = ['<section id="tables">', "<h2>The paper’s tables, regenerated from the graph</h2>"]
    metadata = _table_metadata(kg)
    for spec in TABLES:
        meta = metadata.get(str(spec.structure))
        if meta is None:
            out.append(f"<h3>{_e(spec.number)}</h3>")
            out.append(
                f'<p class="missing">{_e(spec.number)} is not in the graph: no data set has '
                f"the structure <code>{_e(spec.structure)}</code> (<code>alignkg query "
                f"{_e(spec.query)}</code> returns nothing).</p>"
            )
            continue
        names, rows = query.run(kg.store, query.load(spec.query))
        heading = f"{meta.label or spec.number}. {meta.title}" if meta.title else spec.number
        out.append(f'<h3 id="{_e(_anchor(spec.query))}">{_e(heading)}</h3>')
        if rows:
            body = [[_cell(r.get(n)) or spec.empty for n in names] for r in rows]
            out.append(
                _table(
                    [spec.headers.get(n, n) for n in names],
                    body,
                    cls="stats",
                    numeric=[n not in {"period", "year"} for n in names],
                )
            )
        else:
            out.append("<p>The data set has no rows.</p>")
        out.append('<p class="note">')
        if meta.note:
            out.append(f"Note (as printed): “{_e(meta.note)}”. ")
        out.append(f"{_e(spec.empty_note)} From <code>alignkg query {_e(spec.query)}</code>.</p>")
        if meta.sources:
            out.append('<p class="note">Sources named: ')
            out.append(
                "; ".join(
                    _e(title) + (f" ({_link(url)})" if url else "")
                    for title, url in sorted(meta.sources.values())
                )
            )
            out.append("</p>")
        if meta.comment:
            out.append(f'<p class="note">Coding note: {_e(meta.comment)}</p>')
    out.append("</section>")
    return "\n".join(out)


# --- Validation, counts, build ------------------------------------------------------------


def _validation_section(findings: Report) -> str:
    out = [
        '<section id="validation">',
        "<h2>Validation</h2>",
        f'<p class="summary">{_e(findings.summary())}.</p>',
    ]
    if findings.findings:
        out.append(
            _table(
                ["severity", "rule", "message", "where", "focus"],
                (
                    [
                        f.severity,
                        f.rule.rsplit("#", 1)[-1].rsplit("/", 1)[-1],
                        f.message,
                        f.location or "-",
                        f.focus,
                    ]
                    for f in findings.findings
                ),
                cls="findings",
            )
        )
    else:
        out.append("<p>No findings.</p>")
    out.append("</section>")
    return "\n".join(out)


def _version() -> str:
    try:
        return version("alignkg")
    except PackageNotFoundError:
        return "unknown"


def _build_section(kg: KnowledgeGraph, generated: str | None) -> str:
    engine = "rdflib" if type(kg.store).__name__.startswith("Rdflib") else "oxigraph"
    facts = [
        ("alignkg version", _version()),
        ("SPARQL engine", engine),
        ("triples in the store", str(len(kg.store))),
        ("calendar", f"{kg.first_year}–{kg.last_year}"),
        (
            "ladder",
            f"{len(kg.ladder.indicators)} indicators in "
            f"{len([s for s in kg.ladder.stages.values() if s.rank > 0])} stages",
        ),
    ]
    if generated:
        facts.append(("generated", generated))
    out = ['<section id="build">', "<h2>Build</h2>", '<dl class="facts">']
    out.extend(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in facts)
    out.append("</dl>")
    out.append(
        _table(
            ["file", "triples"],
            ([f.path, str(f.triple_count)] for f in kg.files),
            cls="files",
            numeric=[False, True],
        )
    )
    out.append("</section>")
    return "\n".join(out)


STYLE = """
body { font: 15px/1.45 "DejaVu Sans", system-ui, sans-serif; color: #1a1a1a;
       max-width: 78rem; margin: 0 auto; padding: 1rem 2rem 4rem; }
h1 { font-size: 1.7rem; margin-bottom: .2rem; }
h2 { border-bottom: 2px solid #2171b5; padding-bottom: .2rem; margin-top: 2.5rem; }
h4 { margin: 1.6rem 0 .4rem; font-size: 1.1rem; }
h5 { margin: .2rem 0; font-size: 1rem; }
table { border-collapse: collapse; margin: .6rem 0 1rem; font-size: .88rem; }
th, td { border: 1px solid #bdbdbd; padding: .2rem .5rem; text-align: left; vertical-align: top; }
th { background: #eff3ff; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1rem 0; }
figure svg { max-width: 100%; height: auto; display: block; }
figcaption { font-size: .88rem; color: #404040; }
blockquote { margin: .4rem 0 .4rem 1rem; padding-left: .8rem; border-left: 3px solid #fd8d3c; }
blockquote footer { font-size: .82rem; color: #525252; }
.event { border: 1px solid #d9d9d9; padding: .5rem .8rem; margin: .6rem 0; }
.meta, .note, .tag { font-size: .85rem; color: #525252; }
.meta code { font-size: .78rem; }
dl.decisions dt { font-weight: 600; } dl.decisions dd { margin: 0 0 .3rem 1rem; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: .1rem 1rem; }
dl.facts dt { font-weight: 600; }
.missing { color: #a50f15; }
table.findings td:nth-child(4) { white-space: nowrap; }
nav ul { columns: 2; }
@media print { body { max-width: none; } .event { break-inside: avoid; } }
"""


MAX_FULL_DYADS = 12
"""Bilateral dyads given a full section (figure, transitions, evidence) in the report; the
rest, at world scale thousands, are one line each in a table (a figure with its evidence costs about 2 s)."""


def peak(ladder: Ladder, rows: Sequence[StageRow]) -> tuple[int, bool, int]:
    """How far a dyad climbed under the strict ladder: the highest stage's rank, whether
    it became high, and the first year it was reached."""
    ranks = {stage.notation: stage.rank for stage in ladder.stages.values()}
    best = (0, False, 0)
    for row in sorted((r for r in rows if r.reading == "strict"), key=lambda r: r.year):
        reached = (ranks.get(row.stage, 0), row.level == "high")
        if reached > best[:2]:
            best = (*reached, row.year)
    return best


def _ranked(
    kg: KnowledgeGraph, dyads: Sequence[DyadInfo], rows: dict[str, list[StageRow]]
) -> list[DyadInfo]:
    """Bilateral dyads in report order: CHN-RUS first, then the furthest climb, then the
    most bilateral events, then the code."""

    def key(info: DyadInfo) -> tuple[bool, int, bool, int, str]:
        rank, high, _year = peak(kg.ladder, rows[info.code])
        return (info.code != FOCUS_DYAD, -rank, not high, -info.bilateral, info.code)

    return sorted(dyads, key=key)


def _more_section(
    kg: KnowledgeGraph, dyads: Sequence[DyadInfo], rows: dict[str, list[StageRow]]
) -> str:
    out = [
        '<section class="dyad" id="more-dyads">',
        f"<h2>{len(dyads)} more bilateral dyads</h2>",
        f"<p>Only the first {MAX_FULL_DYADS} bilateral dyads (the furthest up the ladder) have "
        "a full section; every dyad-year is in <code>stages-strict.csv</code> and "
        "<code>stages-manifested.csv</code>, and <code>alignkg explain DYAD YEAR</code> "
        "gives the evidence for any of them.</p>",
        "<table><thead><tr><th>dyad</th><th>bilateral events</th><th>projected</th>"
        "<th>highest stage (strict)</th><th>first reached</th></tr></thead><tbody>",
    ]
    for info in dyads:
        rank, high, year = peak(kg.ladder, rows[info.code])
        stage = kg.ladder.stage_by_rank(rank).notation if rank else "none"
        level = f" ({'high' if high else 'low'})" if rank else ""
        out.append(
            f"<tr><td>{_e(info.code)}</td><td>{info.bilateral}</td><td>{info.projected}</td>"
            f"<td>{_e(stage + level)}</td><td>{year if rank else ''}</td></tr>"
        )
    out.append("</tbody></table></section>")
    return "\n".join(out)


def render(kg: KnowledgeGraph, findings: Report, *, generated: str | None = None) -> str:
    """The report as one HTML5 document (``generated``: an optional date to print)."""
    all_rows = stages.stage_rows(kg.store)
    rows_by_dyad: dict[str, list[StageRow]] = {}
    for row in all_rows:
        rows_by_dyad.setdefault(row.dyad, []).append(row)
    dyads = [d for d in dyads_with_events(kg) if rows_by_dyad.get(d.code)]
    ranked = _ranked(kg, [d for d in dyads if d.bilateral], rows_by_dyad)
    full, more = ranked[:MAX_FULL_DYADS], ranked[MAX_FULL_DYADS:]
    brief: dict[tuple[object, ...], list[DyadInfo]] = {}
    for info in dyads:
        if not info.bilateral:
            key = tuple(
                (r.year, r.reading, r.stage, r.level, r.counted, r.precursors, info.projected)
                for r in rows_by_dyad[info.code]
            )
            brief.setdefault(key, []).append(info)

    ladder_data = figures.ladder_layout(kg.ladder, kg.ontology)
    ladder_svg = figures.render(figures.draw_ladder(ladder_data), "svg", salt="alignkg-ladder")
    contents = [f'<li><a href="#{_e(_anchor(d.code))}">{_e(d.code)}</a></li>' for d in full]
    if more:
        contents.append(f'<li><a href="#more-dyads">{len(more)} more bilateral dyads</a></li>')
    if brief:
        contents.append('<li><a href="#groupings">Dyads from multilateral groupings</a></li>')
    contents += [
        '<li><a href="#tables">Tables 1 and 2</a></li>',
        '<li><a href="#validation">Validation</a></li>',
        '<li><a href="#counts">Coded data</a></li>',
        '<li><a href="#build">Build</a></li>',
    ]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>alignkg report</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        "<header>",
        "<h1>alignkg report: how closely aligned?</h1>",
        "<p>Stages of military cooperation on Korolev’s ladder (2019), derived from the "
        "knowledge graph: the stage of each dyad per year under the strict ladder and the "
        f"highest manifested reading, the evidence for each change, the paper’s tables and "
        f"the validation findings. Validation: {_e(findings.summary())}.</p>",
        f"<nav><ul>{''.join(contents)}</ul></nav>",
        "</header>",
        '<section id="ladder">',
        f"<h2>{_e(ladder_data.title)}</h2>",
        f'<figure class="wide">{inline_svg(ladder_svg, "fig1")}'
        f'<figcaption id="fig1-caption">Fig. 1. {_e(ladder_data.title)}, drawn from the '
        "ontology: its stages, their indicators with the summaries of the low and high "
        "levels, and the indicators each requires.</figcaption></figure>",
        "</section>",
    ]
    if not dyads:
        parts.append("<p>No dyad has events in this graph.</p>")
    parts.extend(_dyad_section(kg, info, rows_by_dyad[info.code]) for info in full)
    if more:
        parts.append(_more_section(kg, more, rows_by_dyad))
    if brief:
        parts.append(
            _grouped_section(
                [(members, rows_by_dyad[members[0].code]) for members in brief.values()]
            )
        )
    parts.append(_tables_section(kg))
    parts.append(_validation_section(findings))
    parts.append('<section id="counts"><h2>Coded data</h2>')
    parts.append("<h3>Events by dimension, indicator (or aspect) and level</h3>")
    parts.append(_query_table(kg, "events-by-indicator"))
    parts.append("<h3>Sources by language and kind</h3>")
    parts.append(_query_table(kg, "sources-by-language"))
    parts.append("</section>")
    parts.append(_build_section(kg, generated))
    parts.append("</body>\n</html>\n")
    return "\n".join(parts)
