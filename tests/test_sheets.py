"""Coding sheets: the template, the import with its problems by row and column, the export.

Each ``tests/cases/sheets/AK*.csv`` is a sheet with one kind of problem; its sibling
``.expected`` holds every line the import must report, exactly. The cases run with
``tests/cases/sheets`` as the working directory, so its ``kg/`` folder is the kg/ whose
sources (and one already coded event) the sheets refer to.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from rdflib import BNode, Graph
from rdflib.namespace import RDF, RDFS, SKOS

from alignkg import sheets
from alignkg.build import KnowledgeGraph, assemble, ontology_graph
from alignkg.cli import main
from alignkg.errors import InputError, UsageError
from alignkg.namespace import AK

ROOT = Path(__file__).resolve().parent.parent
CASES = Path(__file__).parent / "cases" / "sheets"
ERROR_CASES = sorted(CASES.glob("AK*.csv"))
CLEAN = CASES / "clean.csv"
EXPECTED = CASES / "clean.expected.ttl"


@pytest.fixture
def in_cases(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(CASES)
    return CASES


def _problems(sheet: Path, output: Path, **options: object) -> list[str]:
    with pytest.raises(sheets.SheetError) as caught:
        sheets.import_sheet(sheet, coder="alice", output=output, **options)  # type: ignore[arg-type]
    return [str(p) for p in caught.value.problems]


# --- Problems, one case file per kind ------------------------------------------------------


@pytest.mark.parametrize("case", ERROR_CASES, ids=[c.stem for c in ERROR_CASES])
def test_error_case(case: Path, in_cases: Path, tmp_path: Path) -> None:
    output = tmp_path / "out.ttl"
    found = _problems(Path(case.name), output)
    expected = case.with_suffix(".expected").read_text(encoding="utf-8").splitlines()
    assert found == expected
    code = case.name.split("-", 1)[0]
    assert any(f": {code}: " in line for line in found)
    assert not output.exists(), "nothing is written when a row fails"
    assert not any(tmp_path.iterdir()), "not even a temporary file"


def test_every_error_code_has_a_case_and_is_documented() -> None:
    docs = (ROOT / "docs" / "coding-sheets.md").read_text(encoding="utf-8")
    with_case = {c.name.split("-", 1)[0] for c in ERROR_CASES}
    for code in sheets.ERROR_CODES:
        assert f"`{code}`" in docs, code
        if code != "AK290":  # the safety net behind the row checks: no sheet reaches it
            assert code in with_case, code
    assert with_case <= set(sheets.ERROR_CODES)


def test_cli_reports_every_problem_and_exits_2(
    in_cases: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "out.ttl"
    code = main(
        ["import", "AK231-impossible-date.csv", "--coder", "alice", "--output", str(output)]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert (
        err.splitlines()[1:]
        == (CASES / "AK231-impossible-date.expected").read_text(encoding="utf-8").splitlines()
    )
    assert "2 problems; nothing written" in err.splitlines()[0]
    assert not output.exists()


def test_a_failed_import_leaves_the_old_file_alone(in_cases: Path, tmp_path: Path) -> None:
    output = tmp_path / "old.ttl"
    output.write_text("# the earlier import\n", encoding="utf-8")
    _problems(Path("AK260-quote-too-long.csv"), output)
    assert output.read_text(encoding="utf-8") == "# the earlier import\n"


def test_unreadable_sheets(in_cases: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="AK200: no such sheet"):
        sheets.import_sheet(Path("missing.csv"), coder="alice", output=tmp_path / "x.ttl")
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes(
        CLEAN.read_text(encoding="utf-8").replace("Border", "Grenzé").encode("latin-1", "replace")
    )
    with pytest.raises(InputError, match="AK200: not UTF-8"):
        sheets.import_sheet(latin1, coder="alice", output=tmp_path / "x.ttl")
    text = tmp_path / "sheet.txt"
    text.write_text("event_id\n", encoding="utf-8")
    with pytest.raises(InputError, match="AK200: unsupported sheet type"):
        sheets.import_sheet(text, coder="alice", output=tmp_path / "x.ttl")
    with pytest.raises(UsageError, match="--coder"):
        sheets.import_sheet(CLEAN, coder="Alice Smith", output=tmp_path / "x.ttl")


# --- A clean sheet --------------------------------------------------------------------------


def test_clean_sheet_gives_the_expected_turtle(in_cases: Path, tmp_path: Path) -> None:
    output = tmp_path / "clean.ttl"
    assert sheets.import_sheet(Path("clean.csv"), coder="alice", output=output) == output
    assert output.read_text(encoding="utf-8") == EXPECTED.read_text(encoding="utf-8")


def test_importing_twice_gives_the_same_bytes(in_cases: Path, tmp_path: Path) -> None:
    output = tmp_path / "clean.ttl"
    sheets.import_sheet(Path("clean.csv"), coder="alice", output=output)
    first = output.read_bytes()
    sheets.import_sheet(Path("clean.csv"), coder="alice", output=output)
    assert output.read_bytes() == first


def test_bom_and_crlf_are_read_alike(in_cases: Path, tmp_path: Path) -> None:
    folder = tmp_path / "sheet"
    folder.mkdir()
    sheet = folder / "clean.csv"
    text = CLEAN.read_text(encoding="utf-8")
    sheet.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    output = tmp_path / "clean.ttl"
    sheets.import_sheet(sheet, coder="alice", output=output)
    assert output.read_text(encoding="utf-8") == EXPECTED.read_text(encoding="utf-8")


def test_default_output_is_kg_slash_sheet_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "kg").mkdir()
    (tmp_path / "kg" / "sources.ttl").write_bytes((CASES / "kg" / "sources.ttl").read_bytes())
    (tmp_path / "clean.csv").write_bytes(CLEAN.read_bytes())
    monkeypatch.chdir(tmp_path)
    written = sheets.import_sheet(Path("clean.csv"), coder="alice", output=None)
    assert written == Path("kg") / "clean.ttl"
    assert written.read_bytes() == EXPECTED.read_bytes()
    # Importing again replaces the earlier import: its sources are not "already in kg/".
    assert sheets.import_sheet(Path("clean.csv"), coder="alice", output=None) == written
    assert written.read_bytes() == EXPECTED.read_bytes()


def test_a_first_import_into_an_empty_kg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "kg").mkdir()
    sheet = tmp_path / "first.csv"
    sheet.write_text(
        "event_id,label,party_a,party_b,dimension,indicator,level,start,persistence,sources,quote\n"
        "e1,Talks,CHN,RUS,military,CBM,low,1995,one-off,doc,They talked.\n"
        "\n"
        "source_id,title,language,kind\n"
        "doc,A document,en,news\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    written = sheets.import_sheet(Path("first.csv"), coder="alice", output=None)
    graph = Graph().parse(written)
    assert len(set(graph.subjects(RDF.type, AK.Event))) == 1
    assert len(set(graph.subjects(RDF.type, AK.Source))) == 1


def test_a_known_coder_keeps_its_label(in_cases: Path, tmp_path: Path) -> None:
    output = tmp_path / "clean.ttl"
    sheets.import_sheet(Path("clean.csv"), coder="fixture-team", output=output)
    graph = Graph().parse(output)
    coder = next(graph.subjects(RDF.type, AK.Coder))
    assert str(coder).endswith("/coder/fixture-team")
    assert [str(label) for label in graph.objects(coder, RDFS.label)] == ["fixture team"]


def test_cli_import_and_template(
    in_cases: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "clean.ttl"
    assert main(["import", "clean.csv", "--coder", "alice", "--output", str(output)]) == 0
    assert capsys.readouterr().out.strip() == str(output)
    assert output.read_bytes() == EXPECTED.read_bytes()
    assert main(["template", "--format", "csv"]) == 0
    assert capsys.readouterr().out == sheets.template("csv")


# --- Templates ------------------------------------------------------------------------------


def _notations(kind: object) -> set[str]:
    graph = ontology_graph()
    return {str(graph.value(c, SKOS.notation)) for c in graph.subjects(RDF.type, kind)}


def test_csv_template_columns_and_help_row() -> None:
    text = sheets.template("csv")
    assert isinstance(text, str)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [c.name for c in sheets.EVENT_COLUMNS]
    assert rows[1][0].startswith("#")
    help_row = dict(zip(rows[0], rows[1], strict=True))
    for column, kind in (
        ("dimension", AK.Dimension),
        ("indicator", AK.Indicator),
        ("level", AK.Level),
        ("aspect", AK.Aspect),
        ("persistence", AK.Persistence),
    ):
        assert set(help_row[column].removeprefix("required: ").split(" | ")) == _notations(kind)
    assert {"CHN", "RUS", "SUN"} <= set(help_row["party_a"].split(" | "))
    sources_at = rows.index([c.name for c in sheets.SOURCE_COLUMNS])
    assert rows[sources_at - 1] == []
    kinds = dict(zip(rows[sources_at], rows[sources_at + 1], strict=True))["kind"]
    assert set(kinds.removeprefix("required: ").split(" | ")) == _notations(AK.SourceKind)


def test_blank_csv_template_imports_as_no_events(tmp_path: Path) -> None:
    sheet = tmp_path / "blank.csv"
    sheet.write_text(str(sheets.template("csv")), encoding="utf-8")
    problems = _problems(sheet, tmp_path / "out.ttl", kg=[])
    assert [p.split(": ", 1)[1] for p in problems] == ["AK200: the sheet has no event rows"]


def _validations(sheet: object) -> dict[str, list[str]]:
    """Column header -> the values of its data-validation list."""
    workbook = sheet.parent  # type: ignore[attr-defined]
    headers = [c.value for c in sheet[1]]  # type: ignore[index]
    found = {}
    for validation in sheet.data_validations.dataValidation:  # type: ignore[attr-defined]
        assert validation.type == "list"
        first = str(validation.sqref).split(":")[0]
        column = headers[openpyxl.utils.column_index_from_string(re.sub(r"\d", "", first)) - 1]
        match = re.fullmatch(r"=lists!\$([A-Z]+)\$(\d+):\$([A-Z]+)\$(\d+)", validation.formula1)
        assert match, validation.formula1
        lists = workbook["lists"]
        values = [
            lists[f"{match.group(1)}{row}"].value
            for row in range(int(match.group(2)), int(match.group(4)) + 1)
        ]
        found[column] = values
    return found


def test_xlsx_template_has_help_and_validation_lists(tmp_path: Path) -> None:
    data = sheets.template("xlsx")
    assert isinstance(data, bytes)
    path = tmp_path / "sheet.xlsx"
    path.write_bytes(data)
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames[:3] == ["events", "sources", "help"]
    assert workbook["lists"].sheet_state == "hidden"
    events = workbook["events"]
    assert [c.value for c in events[1]] == [c.name for c in sheets.EVENT_COLUMNS]
    help_rows = list(workbook["help"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[1]) for r in help_rows] == [
        ("events", c.name) for c in sheets.EVENT_COLUMNS
    ] + [("sources", c.name) for c in sheets.SOURCE_COLUMNS]
    indicator_help = next(r for r in help_rows if r[1] == "indicator")
    assert "CBM: rung 1: Confidence-building measures" in str(indicator_help[3])
    lists = _validations(events)
    assert set(lists) == {
        "party_a",
        "party_b",
        "grouping",
        "dimension",
        "indicator",
        "level",
        "aspect",
        "persistence",
    }
    assert set(lists["dimension"]) == _notations(AK.Dimension)
    assert set(lists["indicator"]) == _notations(AK.Indicator) | {str(n) for n in range(1, 8)}
    assert set(lists["level"]) == _notations(AK.Level)
    assert set(lists["aspect"]) == _notations(AK.Aspect)
    assert set(lists["grouping"]) == {"SCO"}
    assert set(_validations(workbook["sources"])["kind"]) == _notations(AK.SourceKind)


def _clean_blocks() -> tuple[list[list[str]], list[list[str]]]:
    rows = [r for r in csv.reader(io.StringIO(CLEAN.read_text(encoding="utf-8")))]
    split = next(i for i, r in enumerate(rows) if r and r[0] == "source_id")
    data = [r for r in rows[1:split] if r and not r[0].startswith("#")]
    sources = [r for r in rows[split + 1 :] if r and not r[0].startswith("#")]
    return data, sources


def test_xlsx_import_of_a_filled_template(in_cases: Path, tmp_path: Path) -> None:
    path = tmp_path / "clean.xlsx"
    path.write_bytes(bytes(sheets.template("xlsx")))
    workbook = openpyxl.load_workbook(path)
    events, sources = _clean_blocks()
    for row in events:
        workbook["events"].append(row)
    # What spreadsheets do to typed-in values: a date cell and a number cell.
    assert workbook["events"]["J3"].value == "2001-08-19"
    workbook["events"]["J3"] = dt.datetime(2001, 8, 19)
    workbook["events"]["M2"] = 12
    for row in sources:
        workbook["sources"].append(row)
    workbook.save(path)
    output = tmp_path / "clean.ttl"
    sheets.import_sheet(path, coder="alice", output=output)
    expected = EXPECTED.read_text(encoding="utf-8").replace("from clean.csv", "from clean.xlsx")
    assert output.read_text(encoding="utf-8") == expected


def test_xlsx_problems_name_the_sheet(in_cases: Path, tmp_path: Path) -> None:
    path = tmp_path / "bad.xlsx"
    path.write_bytes(bytes(sheets.template("xlsx")))
    workbook = openpyxl.load_workbook(path)
    workbook["events"].append(
        [
            "ok-1",
            "Talks",
            "CHN",
            "RUS",
            None,
            "military",
            "CBM",
            "low",
            None,
            "1995-02-30",
            None,
            "one-off",
            None,
            "new-doc",
            "They talked.",
        ]
    )
    workbook["sources"].append(["new-doc", "A document", None, None, None, "news"])
    workbook.save(path)
    shown = str(path)
    assert _problems(path, tmp_path / "out.ttl") == [
        f"{shown}:2:start: AK231: '1995-02-30' is an impossible date: February 1995 has no day 30",
        f"{shown}#sources:2:language: AK270: a new source needs its language (a BCP 47 tag "
        "such as zh, ru or en)",
    ]


# --- Round trip with the China-Russia coding ------------------------------------------------


@pytest.fixture(scope="module")
def china_russia() -> KnowledgeGraph:
    return assemble([ROOT / "kg"])


def _tree(graph: Graph, node: object) -> tuple[object, ...]:
    """A node's triples with each blank node replaced by its own (sorted) triples: equal
    trees mean isomorphic subgraphs where blank nodes are trees, as in the coded events.
    (Much faster than rdflib's general canonicalisation on thousands of blank nodes.)"""
    return tuple(
        sorted(
            (
                (str(prop), _tree(graph, value) if isinstance(value, BNode) else value.n3())
                for prop, value in graph.predicate_objects(node)  # type: ignore[arg-type]
            ),
            key=repr,
        )
    )


def _events(graph: Graph) -> dict[str, tuple[object, ...]]:
    """Every event's subgraph (its triples and the blank nodes hanging from them)."""
    return {str(e): _tree(graph, e) for e in graph.subjects(RDF.type, AK.Event)}


def test_export_then_import_gives_back_the_events(
    china_russia: KnowledgeGraph, tmp_path: Path
) -> None:
    sheet = tmp_path / "china-russia.csv"
    text = sheets.export_sheet(china_russia)
    assert isinstance(text, str)
    sheet.write_text(text, encoding="utf-8")
    rows = [r for r in csv.reader(io.StringIO(text))]
    assert (
        len([r for r in rows[2:] if r and r[0] != "source_id" and not r[0].startswith("#")]) == 131
    )
    output = tmp_path / "china-russia.ttl"
    sheets.import_sheet(
        sheet, coder="alignkg-team", output=output, kg=[ROOT / "kg" / "sources.ttl"]
    )
    original = Graph()
    for name in ("china-russia.ttl", "china-russia-diplomatic-economic.ttl"):
        original.parse(ROOT / "kg" / name)
    imported = Graph().parse(output)
    assert len(imported) > 4000
    assert _events(imported) == _events(original)
    assert sheets.export_sheet(china_russia) == text, "the export is deterministic"


def test_importing_kg_events_again_is_refused(china_russia: KnowledgeGraph, tmp_path: Path) -> None:
    sheet = tmp_path / "china-russia.csv"
    sheet.write_text(str(sheets.export_sheet(china_russia)), encoding="utf-8")
    with pytest.raises(sheets.SheetError) as caught:
        sheets.import_sheet(sheet, coder="alice", output=tmp_path / "x.ttl", kg=[ROOT / "kg"])
    assert {p.code for p in caught.value.problems} == {"AK212"}
    assert len(caught.value.problems) == 131


def test_xlsx_export_has_one_row_per_event(china_russia: KnowledgeGraph, tmp_path: Path) -> None:
    path = tmp_path / "export.xlsx"
    path.write_bytes(bytes(sheets.export_sheet(china_russia, "xlsx")))
    events = openpyxl.load_workbook(path)["events"]
    ids = [row[0] for row in events.iter_rows(min_row=2, values_only=True) if row[0]]
    assert len(ids) == len(set(ids)) == 131


@pytest.mark.parametrize(
    "write",
    [lambda kg: sheets.template("xlsx"), lambda kg: sheets.export_sheet(kg, "xlsx")],
    ids=["template", "export"],
)
def test_xlsx_bytes_do_not_depend_on_the_clock(
    china_russia: KnowledgeGraph,
    monkeypatch: pytest.MonkeyPatch,
    write: Callable[[KnowledgeGraph], str | bytes],
) -> None:
    # openpyxl stamps the document and every archive member with the time of writing; two
    # writes of one graph an hour apart must still give the same bytes.
    import time

    written = []
    for moment in (1_700_000_000.0, 1_700_003_600.0):
        monkeypatch.setattr(time, "time", lambda moment=moment: moment)
        written.append(write(china_russia))
    assert isinstance(written[0], bytes)
    assert written[0] == written[1]
    properties = openpyxl.load_workbook(io.BytesIO(written[0])).properties
    assert properties.created == properties.modified == dt.datetime(*sheets.ZIP_STAMP)


def test_turtle_failing_a_shape_is_not_written(
    in_cases: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The safety net behind the row checks: a source written without its title, language
    # and kind fails the completeness shapes, reported on the source's row.
    monkeypatch.setattr(
        sheets, "_source_turtle", lambda source: f"src:{source.key} a ak:Source .\n"
    )
    output = tmp_path / "clean.ttl"
    problems = _problems(Path("clean.csv"), output)
    assert problems == [
        "clean.csv:10:source_id: AK290: a source needs a title (dcterms:title)",
        "clean.csv:10:source_id: AK290: a source needs exactly one kind: official "
        "document, news, book, article, report, interview or dataset",
        "clean.csv:10:source_id: AK290: a source needs its language as a BCP 47 tag "
        '(dcterms:language, e.g. "zh", "ru", "en")',
    ]
    assert not output.exists()
