"""The HTML report: self-contained, complete, escaped and stable."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import pytest

from alignkg import report
from alignkg.build import KnowledgeGraph, assemble
from alignkg.cli import main
from alignkg.stages import StageRow, stage_rows
from alignkg.validate import Report, validate

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "tests" / "cases" / "example" / "mini.ttl"
# Attributes that make a browser fetch something (on any element but <a>).
LOADING = {
    "src",
    "href",
    "xlink:href",
    "srcset",
    "data",
    "action",
    "formaction",
    "poster",
    "background",
    "cite",
    "longdesc",
    "manifest",
    "ping",
    "codebase",
    "archive",
}
EMBEDDING = {
    "script",
    "link",
    "img",
    "iframe",
    "object",
    "embed",
    "video",
    "audio",
    "source",
    "track",
    "base",
    "frame",
    "image",
    "feimage",
    "use",
}


@dataclass
class Table:
    section: str
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


class Page(HTMLParser):
    """Every tag with its attributes, the sections' ids and every table's cells."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.sections: list[str] = []
        self.tables: list[Table] = []
        self.text: list[str] = []
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self._header = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "section":
            self.sections.append(dict(attrs).get("id") or "")
        elif tag == "table":
            self.tables.append(Table(section=self.sections[-1] if self.sections else ""))
        elif tag == "tr":
            self._row = []
        elif tag in {"td", "th"}:
            self._cell, self._header = [], tag == "th"

    def handle_endtag(self, tag: str) -> None:
        if tag in {"td", "th"} and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            table = self.tables[-1]
            if self._header:
                table.headers = self._row
            else:
                table.rows.append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def parse(text: str) -> Page:
    page = Page()
    page.feed(text)
    page.close()
    return page


@cache
def real() -> tuple[KnowledgeGraph, Report, str]:
    kg = assemble([ROOT / "kg"])
    findings = validate(kg)
    return kg, findings, report.render(kg, findings)


def _off_page(value: str) -> bool:
    value = value.strip().lower()
    return bool(value) and not value.startswith("#")


def test_the_report_loads_nothing_from_anywhere() -> None:
    _kg, _findings, text = real()
    page = parse(text)
    assert text.startswith("<!DOCTYPE html>")
    tags = {tag for tag, _attrs in page.tags}
    assert "svg" in tags and "style" in tags
    assert not tags & (EMBEDDING - {"use"}), tags & EMBEDDING
    for tag, attrs in page.tags:
        for name, value in attrs.items():
            if tag == "a" and name == "href":
                assert value and (
                    value.startswith("#")
                    or value.startswith("https://")
                    or value.startswith("http://")
                ), value
            elif name in LOADING:
                assert not _off_page(value or ""), (tag, name, value)
            assert not (name.startswith("on")), (tag, name)  # no script in attributes
            assert "javascript:" not in (value or "").lower()
    styles = re.findall(r"<style[^>]*>(.*?)</style>", text, re.S)
    assert styles
    for style in styles:
        assert "@import" not in style and not re.search(r"url\(\s*['\"]?(?!#)", style), style
    assert not re.search(r"url\(\s*['\"]?(https?:|//)", text)
    assert "<?xml" not in text and "<!DOCTYPE svg" not in text


def test_the_report_has_table_2_as_printed() -> None:
    page = parse(real()[2])
    table = next(t for t in page.tables if t.headers and t.headers[0] == "Year")
    assert table.section == "tables"
    assert len(table.rows) == 26
    assert [r[0] for r in table.rows] == [str(y) for y in range(1992, 2018)]
    assert table.rows[-1] == ["2017", "84.72", "–", "–"]
    assert table.rows[0] == ["1992", "5.86", "4.81", "3.54"]
    text = "".join(page.text)
    assert "Table 2. China–Russia trade (1992–2017)" in text
    assert "Calculated based on China’s and Russia’s customs statistics" in text
    assert "UN Comtrade database" in text


def test_the_report_has_table_1_as_printed() -> None:
    page = parse(real()[2])
    table = next(t for t in page.tables if t.headers and t.headers[0] == "Period")
    assert table.headers == ["Period", "Total", "USA", "Russia", "China", "China–Russia"]
    assert table.rows == [
        ["1991–2017", "37", "15", "12", "2", "8"],
        ["before 2007", "", "13", "3", "2", ""],
        ["2007 and after", "", "", "9", "", "8"],
    ]
    assert "Table 1. Veto records of UN Security Council (1991–2017)" in "".join(page.text)


def test_the_report_explains_each_transition_with_quotes() -> None:
    text = real()[2]
    chunks = re.findall(
        r'<section class="transition" id="CHN-RUS-(\d{4})">(.*?)</section>', text, re.S
    )
    assert [year for year, _ in chunks] == ["1992", "2004", "2014"]
    for year, chunk in chunks:
        assert "<blockquote>" in chunk, year
        assert "Decision:" in chunk, year
        assert re.search(r"\[(en|zh|ru)(, \w+)?\]", chunk), year
    body = dict(chunks)
    assert "not assessed → early (low)" in body["1992"]
    assert "early (low) → moderate (low)" in body["2004"]
    assert "Russia–China consultations on national security issues" in body["2004"]
    assert "moderate (low) → advanced (low)" in body["2014"]
    assert 'href="https://doi.org/10.1057/s41311-019-00178-x"' in body["1992"]


def test_the_report_has_the_timeline_and_figure_of_china_russia() -> None:
    text = real()[2]
    page = parse(text)
    timeline = next(t for t in page.tables if t.section == "CHN-RUS" and t.headers[0] == "year")
    assert [r[0] for r in timeline.rows] == [str(y) for y in range(1992, 2018)]
    by_year = {r[0]: r for r in timeline.rows}
    assert by_year["1992"][1:5] == ["early", "low", "1, 2", "3"]
    assert by_year["2015"][1:3] == ["advanced", "low"]
    assert by_year["2005"][5] == "advanced"
    assert "Development of China–Russia military cooperation since 1992" in text
    assert text.count("<svg ") == 2  # Fig. 1 and Fig. 2
    # CHN-RUS first, the dyads of the SCO after it.
    assert page.sections.index("CHN-RUS") < page.sections.index("groupings")
    groupings = text[text.index('id="groupings"') :]
    assert "KAZ-RUS" in groupings and "CHN-KAZ" in groupings
    ids = [attrs["id"] for _tag, attrs in page.tags if attrs.get("id")]
    assert len(ids) == len(set(ids)), "ids are unique across the inline figures"


def test_the_report_lists_every_finding() -> None:
    _kg, findings, text = real()
    page = parse(text)
    table = next(t for t in page.tables if t.section == "validation")
    assert table.headers == ["severity", "rule", "message", "where", "focus"]
    assert len(findings.warnings) == 23 and not findings.violations
    assert [r[0] for r in table.rows] == ["Warning"] * 23
    assert "0 violation(s), 23 warning(s)" in text
    assert {r[1] for r in table.rows} >= {"TextFigureShape"}
    assert all(re.fullmatch(r"kg/[\w.-]+\.ttl:\d+:\d+", r[3]) for r in table.rows)


def test_the_report_gives_counts_and_build_metadata() -> None:
    kg, _findings, text = real()
    page = parse(text)
    counts = [t for t in page.tables if t.section == "counts"]
    assert counts[0].headers[:3] == ["dimensionCode", "rung", "code"]
    assert counts[1].headers == ["language", "kindCode", "sources", "events"]
    files = next(t for t in page.tables if t.section == "build")
    assert [r[0] for r in files.rows] == [f.path for f in kg.files]
    assert str(len(kg.store)) in "".join(page.text)
    assert report._version() in text


def _hostile(tmp_path: Path) -> Path:
    text = EXAMPLE.read_text(encoding="utf-8")
    text = text.replace('rdfs:label "cbm"', 'rdfs:label "cbm <script>alert(1)</script> & co"', 1)
    text = text.replace('oa:exact "x"', 'oa:exact "a \\"<b>quote</b>\\""', 1)
    path = tmp_path / "hostile.ttl"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_report_escapes_what_the_graph_says(tmp_path: Path) -> None:
    kg = assemble([_hostile(tmp_path)])
    text = report.render(kg, validate(kg))
    assert "<script" not in text and "<b>" not in text
    assert "cbm &lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in text
    assert "&lt;b&gt;quote&lt;/b&gt;" in text
    parse(text)


def test_a_graph_without_tables_still_reports(tmp_path: Path) -> None:
    kg = assemble([EXAMPLE])
    first = report.render(kg, validate(kg))
    second = report.render(kg, validate(kg))
    assert first == second, "the same graph gives the same report"
    page = parse(first)
    text = "".join(page.text)
    assert "Table 1 is not in the graph" in text
    assert "Table 2 is not in the graph" in text
    assert "<svg " in first
    assert "<dt>generated</dt>" not in first
    dated = report.render(kg, validate(kg), generated="2024-01-01")
    assert "<dt>generated</dt><dd>2024-01-01</dd>" in dated


def test_the_report_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out" / "report.html"
    code = main(["report", "--kg", str(EXAMPLE), "--output", str(target), "-q"])
    out, _err = capsys.readouterr()
    assert code == 0 and out.strip() == str(target)
    assert "<h2>China–Russia (CHN-RUS)</h2>" in target.read_text(encoding="utf-8")


def test_past_the_cap_a_dyad_is_one_row_with_its_climb(monkeypatch: pytest.MonkeyPatch) -> None:
    """A world-scale graph has thousands of dyads: only the first MAX_FULL_DYADS get a
    section with a figure; the rest are one table row each."""
    kg, findings, text = real()
    assert [s for s in parse(text).sections if "chn-rus" in s.lower()], "a section by default"
    monkeypatch.setattr(report, "MAX_FULL_DYADS", 0)
    page = parse(report.render(kg, findings))
    assert not [s for s in page.sections if "chn-rus" in s.lower()]
    (table,) = [t for t in page.tables if t.section == "more-dyads"]
    (row,) = [r for r in table.rows if r[0] == "CHN-RUS"]
    order = ["none", "early", "moderate", "advanced"]
    strict = [r for r in stage_rows(kg.store, dyad="CHN-RUS") if r.reading == "strict"]
    top = max(strict, key=lambda r: (order.index(r.stage), r.level == "high", -r.year))
    assert row[3] == f"{top.stage} ({top.level})"
    assert row[4] == str(top.year)


@pytest.mark.parametrize(
    ("climb", "expected"),
    [
        ([], (0, False, 0)),
        (
            [(1995, "early", "low"), (1996, "early", "high"), (1997, "early", "high")],
            (1, True, 1996),
        ),
        ([(2001, "moderate", "low"), (2000, "early", "high")], (2, False, 2001)),
        ([(2001, "moderate", "low"), (2002, "none", "")], (2, False, 2001)),
    ],
)
def test_peak_is_the_highest_stage_and_when_it_was_first_reached(
    climb: list[tuple[int, str, str]], expected: tuple[int, bool, int]
) -> None:
    kg, _findings, _text = real()
    rows = [
        StageRow(
            dyad="AAA-BBB",
            year=y,
            reading="strict",
            stage=s,
            level=lv,
            highest_indicator=None,
            counted=(),
            precursors=(),
        )
        for y, s, lv in climb
    ]
    manifested = [
        StageRow(
            dyad="AAA-BBB",
            year=1990,
            reading="manifested",
            stage="advanced",
            level="high",
            highest_indicator=None,
            counted=(),
            precursors=(),
        )
    ]
    assert report.peak(kg.ladder, rows + manifested) == expected
