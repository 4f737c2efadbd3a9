"""The JSON API of ``alignkg serve`` (alignkg.api), on the example graph and on kg/.

The functions are pure over a built graph and its validation report; each case names
the graph it runs on and what the answer must hold. The cells and stages are also
checked against the named queries they summarise, so the grid cannot drift from
``alignkg query indicator-levels`` or ``alignkg stages``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from alignkg import api
from alignkg.build import KnowledgeGraph, assemble
from alignkg.errors import UsageError
from alignkg.query import run
from alignkg.resources import query_files, query_text
from alignkg.stages import dyad_iri, stage_rows
from alignkg.validate import Report, validate

ROOT = Path(__file__).resolve().parent.parent
GRAPHS = {"mini": [ROOT / "tests/cases/example/mini.ttl"], "kg": [ROOT / "kg"]}
LABELS = [
    (1, "Confidence-building measures", "early"),
    (2, "Inter-military consultation mechanisms", "early"),
    (3, "Military-technical cooperation and personnel exchanges", "moderate"),
    (4, "Regular joint military exercises", "moderate"),
    (5, "Integrated military command", "advanced"),
    (6, "Joint deployments and base sharing", "advanced"),
    (7, "Common defence policy", "advanced"),
]
SCO = ["CHN-KAZ", "CHN-KGZ", "CHN-TJK", "CHN-UZB", "KAZ-KGZ", "KAZ-RUS", "KAZ-TJK", "KAZ-UZB",
       "KGZ-RUS", "KGZ-TJK", "KGZ-UZB", "RUS-TJK", "RUS-UZB", "TJK-UZB"]  # fmt: skip
JOINT_SEA = "https://w3id.org/alignkg/event/china-russia/2015-05-joint-sea-2015-joint-command"
SHAPES = "https://w3id.org/alignkg/shapes#"


@cache
def built(name: str) -> tuple[KnowledgeGraph, Report]:
    kg = assemble(GRAPHS[name])
    return kg, validate(kg)


# --- prefixes, named queries, findings -------------------------------------------------


def test_prefixes_are_the_namespace_prefixes() -> None:
    found = api.prefixes()
    assert found["ak"] == "https://w3id.org/alignkg/ns#"
    assert found["derived"] == "https://w3id.org/alignkg/derived/"
    assert found["skos"] == "http://www.w3.org/2004/02/skos/core#"


def test_every_named_query_is_listed_with_its_comment_and_text() -> None:
    listed = api.named_queries()
    files = {f.name[:-3]: f.read_text(encoding="utf-8") for f in query_files()}
    assert [q["name"] for q in listed] == sorted(files)
    for item in listed:
        text = files[item["name"]]
        assert item["text"] == text
        first = text.splitlines()[0].lstrip("#").strip()
        assert item["description"].startswith(first), item["name"]
        assert "#" not in item["description"][:2]
    stage = next(q for q in listed if q["name"] == "stage-per-dyad-year")
    assert stage["description"].startswith("Stage per dyad-year under both readings")
    assert "counted / precursors are the rungs" in stage["description"]


@pytest.mark.parametrize("graph", sorted(GRAPHS))
def test_findings_are_the_validation_report(graph: str) -> None:
    _kg, report = built(graph)
    answer = api.findings(report)
    assert answer["summary"] == report.summary()
    assert len(answer["findings"]) == len(report.findings) > 0
    for item, finding in zip(answer["findings"], report.findings, strict=True):
        assert set(item) == {"severity", "focus", "message", "rule", "location", "code"}
        assert (item["severity"], item["focus"], item["message"], item["rule"]) == (
            finding.severity, finding.focus, finding.message, finding.rule
        )  # fmt: skip


def test_findings_on_kg_are_warnings_only() -> None:
    answer = api.findings(built("kg")[1])
    assert answer["summary"] == "0 violation(s), 23 warning(s)"
    assert {f["severity"] for f in answer["findings"]} == {"Warning"}


# --- dyads -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        (
            "mini",
            [{"dyad": "CHN-RUS", "first": 1992, "last": 2005, "events": 6}]
            + [{"dyad": d, "first": 2004, "last": 2005, "events": 1} for d in SCO],
        ),
        (
            "kg",
            [{"dyad": "CHN-RUS", "first": 1992, "last": 2017, "events": 131}]
            + [{"dyad": d, "first": 2001, "last": 2017, "events": 4} for d in SCO],
        ),
    ],
)
def test_dyads(graph: str, expected: list[dict[str, object]]) -> None:
    kg, _report = built(graph)
    assert api.dyads(kg) == sorted(expected, key=lambda d: str(d["dyad"]))


# --- the grid --------------------------------------------------------------------------


@dataclass(frozen=True)
class GridCase:
    graph: str
    dyad: str
    years: tuple[int, int]
    present: dict[tuple[int, int], tuple[str, int, int]]  # (year, rung) -> level, events, findings
    absent: tuple[tuple[int, int], ...]
    strict: dict[int, tuple[str, str, list[int]]]  # year -> stage, level, precursors
    manifested: dict[int, tuple[str, str]]


GRID_CASES = [
    GridCase(
        graph="mini",
        dyad="RUS-CHN",
        years=(1992, 2005),
        present={
            (1992, 1): ("low", 1, 0),
            (1992, 3): ("low", 1, 2),
            (2004, 2): ("high", 1, 0),
            (2005, 4): ("low", 1, 0),
            (2005, 5): ("low", 1, 2),
        },
        absent=((1993, 1), (2004, 4), (2005, 6), (2005, 7)),
        strict={
            1992: ("early", "low", [3]),
            2004: ("moderate", "low", []),
            2005: ("moderate", "low", [5]),
        },
        manifested={1992: ("moderate", "low"), 2005: ("advanced", "low")},
    ),
    GridCase(
        graph="kg",
        dyad="CHN-RUS",
        years=(1992, 2017),
        present={
            (2005, 5): ("low", 1, 2),
            (2015, 5): ("low", 1, 2),
            (2015, 2): ("high", 4, 0),
        },
        absent=tuple((year, rung) for year in range(1992, 2018) for rung in (6, 7)),
        strict={
            1992: ("early", "low", [3]),
            2004: ("moderate", "low", []),
            2014: ("advanced", "low", []),
            2015: ("advanced", "low", []),
            2017: ("advanced", "low", []),
        },
        manifested={2015: ("advanced", "low")},
    ),
    GridCase(
        graph="kg",
        dyad="KAZ-RUS",
        years=(2001, 2017),
        present={},
        absent=(),
        strict={},
        manifested={},
    ),
]


@pytest.mark.parametrize("case", GRID_CASES, ids=lambda c: f"{c.graph}-{c.dyad}")
def test_grid(case: GridCase) -> None:
    kg, report = built(case.graph)
    grid = api.grid(kg, report, case.dyad)
    first, last = case.years
    assert grid["dyad"] == "-".join(sorted(case.dyad.split("-")))
    assert grid["years"] == list(range(first, last + 1))
    assert [(i["rung"], i["label"], i["stage"]) for i in grid["indicators"]] == LABELS
    cells = {(c["year"], c["rung"]): c for c in grid["cells"]}
    for key, (level, events, findings) in case.present.items():
        assert key in cells, key
        assert (cells[key]["level"], cells[key]["events"], cells[key]["findings"]) == (
            level, events, findings
        ), key  # fmt: skip
    for key in case.absent:
        assert key not in cells, key
    strict = {s["year"]: s for s in grid["stages"]["strict"]}
    manifested = {s["year"]: s for s in grid["stages"]["manifested"]}
    assert sorted(strict) == sorted(manifested) == grid["years"]
    for year, (stage, level, precursors) in case.strict.items():
        assert (strict[year]["stage"], strict[year]["level"], strict[year]["precursors"]) == (
            stage, level, precursors
        ), year  # fmt: skip
    for year, (stage, level) in case.manifested.items():
        assert (manifested[year]["stage"], manifested[year]["level"]) == (stage, level), year


@pytest.mark.parametrize(
    ("graph", "dyad"), [("mini", "CHN-RUS"), ("kg", "CHN-RUS"), ("kg", "CHN-KAZ")]
)
def test_grid_agrees_with_the_named_queries(graph: str, dyad: str) -> None:
    kg, report = built(graph)
    grid = api.grid(kg, report, dyad)
    _names, rows = run(kg.store, query_text("indicator-levels"), {"dyad": dyad_iri(dyad)})
    expected = {
        (int(str(r["year"])), int(str(r["rung"])), str(r["levelCode"]), int(str(r["events"])))
        for r in rows
    }
    assert expected, "the dyad has indicator levels"
    assert {(c["year"], c["rung"], c["level"], c["events"]) for c in grid["cells"]} == expected
    for reading in ("strict", "manifested"):
        rows_ = stage_rows(kg.store, dyad=dyad, reading=reading)  # type: ignore[arg-type]
        assert [
            (s["year"], s["stage"], s["level"], s["counted"], s["precursors"])
            for s in grid["stages"][reading]
        ] == [(r.year, r.stage, r.level, list(r.counted), list(r.precursors)) for r in rows_]


def test_grid_counts_every_finding_on_its_cells() -> None:
    """Each finding on a derived indicator node or on an event is counted in a cell."""
    kg, report = built("kg")
    grid = api.grid(kg, report, "CHN-RUS")
    on_cells = [
        f for f in report.findings if "/derived/CHN-RUS/" in f.focus or f.focus == JOINT_SEA
    ]
    assert sum(c["findings"] for c in grid["cells"]) == len(on_cells) == 18


@pytest.mark.parametrize(
    ("dyad", "error", "words"),
    [
        ("CHN", UsageError, "not two ISO 3166 alpha-3 codes"),
        ("CHN-RUS-USA", UsageError, "not two ISO 3166 alpha-3 codes"),
        ("CHN-CHN", UsageError, "names the same state twice"),
        ("CHN-XXX", UsageError, "unknown state code XXX"),
        ("", UsageError, "not two ISO 3166 alpha-3 codes"),
        ("CHN-USA", api.NotFound, "CHN-USA has no events"),
        ("IND-PAK", api.NotFound, "IND-PAK has no events"),
    ],
)
def test_grid_refuses_unknown_or_malformed_dyads(
    dyad: str, error: type[Exception], words: str
) -> None:
    kg, report = built("mini")
    with pytest.raises(error, match=words):
        api.grid(kg, report, dyad)


# --- the evidence of one cell ----------------------------------------------------------


def test_cell_joint_sea_2015() -> None:
    kg, report = built("kg")
    cell = api.cell(kg, report, "RUS-CHN", 2015, 5)
    assert (cell["dyad"], cell["year"], cell["rung"]) == ("CHN-RUS", 2015, 5)
    assert cell["indicator"] == "Integrated military command"
    assert cell["level"] == "low"
    assert cell["node"] == "https://w3id.org/alignkg/derived/CHN-RUS/2015/indicator-5"
    assert cell["findings"] == []
    [event] = cell["events"]
    assert event["iri"] == JOINT_SEA
    assert event["label"].startswith("Joint Sea 2015: joint command of warships")
    assert (event["start"], event["precision"], event["level"]) == ("2015-05-01", "month", "low")
    assert event["location"] == "kg/china-russia.ttl:2316"
    assert any("joint command center was established" in q for q in event["quotes"])
    assert len(event["quotes"]) == 3
    assert event["decisions"] and event["decisions"][0]["decision"].startswith("Low level")
    assert event["decisions"][0]["reason"]
    sources = {s["iri"].rsplit("/", 1)[-1]: s for s in event["sources"]}
    assert sorted(sources) == ["fn79-parffit-telegraph", "fn80-reuters-2015", "korolev-2019"]
    reuters = sources["fn80-reuters-2015"]
    assert (reuters["language"], reuters["kind"]) == ("en", "news")
    assert reuters["url"] == (
        "http://www.reuters.com/article/us-china-russia-military-idUSKBN0NL16F20150430"
    )
    assert reuters["title"] == "China, Russia to hold first joint Mediterranean naval drills in May"
    assert sources["korolev-2019"]["url"] == "https://doi.org/10.1057/s41311-019-00178-x"
    rules = [(f["severity"], f["rule"]) for f in event["findings"]]
    assert rules == [("Warning", SHAPES + "SourcePredatesEventShape")] * 2
    assert {f["focus"] for f in event["findings"]} == {JOINT_SEA}
    assert any("fn80-reuters-2015, dated 2015-04-30" in f["message"] for f in event["findings"])
    assert {f["location"] for f in event["findings"]} == {"kg/china-russia.ttl:2316:1"}
    assert {f["code"] for f in event["findings"]} == {"AK462"}


@pytest.mark.parametrize(
    ("graph", "year", "rung", "events", "node_findings"),
    [
        ("kg", 2005, 5, 1, ["LadderStageHighShape"] * 2),
        ("kg", 2015, 2, 4, []),
        ("mini", 1992, 3, 1, ["LadderPrerequisiteShape", "LadderStageHighShape"]),
        ("mini", 2004, 2, 1, []),
    ],
)
def test_cell_lists_its_events_and_the_findings_on_its_node(
    graph: str, year: int, rung: int, events: int, node_findings: list[str]
) -> None:
    kg, report = built(graph)
    cell = api.cell(kg, report, "CHN-RUS", year, rung)
    assert len(cell["events"]) == events
    assert sorted(f["rule"].rsplit("#", 1)[-1] for f in cell["findings"]) == node_findings
    for event in cell["events"]:
        assert event["quotes"] and event["sources"] and event["precision"]
        assert event["start"][:4] <= str(year)
        assert all(s["language"] for s in event["sources"])


def test_cell_on_the_example_graph() -> None:
    kg, report = built("mini")
    cell = api.cell(kg, report, "CHN-RUS", 2005, 5)
    [event] = cell["events"]
    assert (event["iri"], event["label"], event["precision"]) == (
        "https://example.org/e6", "command", "day"
    )  # fmt: skip
    assert event["location"].endswith("tests/cases/example/mini.ttl:33")
    assert event["quotes"] == ["x"]
    assert event["sources"] == [
        {"iri": "https://example.org/src", "title": "A source", "printed_title": "",
         "language": "en", "kind": "news", "url": ""}
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("dyad", "year", "rung", "error", "words"),
    [
        ("CHN-RUS", 2015, 6, api.NotFound, "indicator 6 .* is not present"),
        ("CHN-RUS", 1980, 1, api.NotFound, "indicator 1 .* is not present"),
        ("CHN-RUS", 2015, 8, UsageError, "rungs 1 to 7"),
        ("CHN-RUS", 2015, 0, UsageError, "rungs 1 to 7"),
        ("CHN-USA", 2015, 5, api.NotFound, "no events"),
        ("CHNRUS", 2015, 5, UsageError, "not two ISO"),
    ],
)
def test_cell_refuses_what_is_not_there(
    dyad: str, year: int, rung: int, error: type[Exception], words: str
) -> None:
    kg, report = built("kg")
    with pytest.raises(error, match=words):
        api.cell(kg, report, dyad, year, rung)


@pytest.mark.parametrize(
    ("text", "expected"), [("2015", 2015), (" 7 ", 7), ("-3", -3), (None, None), ("20x5", None),
                           ("", None), ("1e3", None), ("9" * 12, None)]
)  # fmt: skip
def test_parse_int(text: str | None, expected: int | None) -> None:
    if expected is None:
        with pytest.raises(UsageError, match="expected an integer"):
            api.parse_int("year", text)
    else:
        assert api.parse_int("year", text) == expected
