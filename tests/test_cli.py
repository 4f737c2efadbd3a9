"""Every command through its exit codes and output."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import RDF, Graph
from rdflib import Literal as RdfLiteral
from rdflib.namespace import SH

from alignkg.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = Path(__file__).parent / "cases" / "example" / "mini.ttl"
BAD = Path(__file__).parent / "cases" / "bad-input" / "impossible-date.ttl"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main([*args])
    out, err = capsys.readouterr()
    return code, out, err


def test_stages_csv(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "stages",
        "--kg",
        str(EXAMPLE),
        "--dyad",
        "RUS-CHN",
        "--from",
        "2003",
        "--to",
        "2005",
        "--format",
        "csv",
        "-q",
    )
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == [
        "dyad",
        "year",
        "stage",
        "level",
        "highest_indicator",
        "counted",
        "precursors",
    ]
    assert [(r["year"], r["stage"], r["level"], r["counted"], r["precursors"]) for r in rows] == [
        ("2003", "early", "low", "2", "3"),
        ("2004", "moderate", "low", "2;3", ""),
        ("2005", "moderate", "low", "2;3;4", "5"),
    ]


def test_stages_manifested_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "stages",
        "--kg",
        str(EXAMPLE),
        "--dyad",
        "CHN-RUS",
        "--rule",
        "manifested",
        "--from",
        "2005",
        "--format",
        "json",
        "-q",
    )
    assert code == 0
    [row] = json.loads(out)
    assert (row["stage"], row["highest_indicator"], row["counted"]) == ("advanced", 5, [2, 3, 4, 5])


def test_stages_table_extends_to_the_requested_year(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "stages",
        "--kg",
        str(EXAMPLE),
        "--dyad",
        "CHN-RUS",
        "--from",
        "2007",
        "--to",
        "2008",
        "-q",
    )
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == [
        "dyad",
        "year",
        "stage",
        "level",
        "highest_indicator",
        "counted",
        "precursors",
    ]
    # persistent consultations and MTC go on; one-off exercise and command do not
    assert lines[1].split() == ["CHN-RUS", "2007", "moderate", "low", "3", "2;3"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["stages", "--dyad", "CHINA-RUSSIA"], "not two ISO 3166 alpha-3 codes"),
        (["stages", "--dyad", "CHN-USA"], "no assessed years"),
        (["stages", "--dyad", "CHN-RUS", "--from", "2005", "--to", "2001"], "after"),
        (["query", "no-such-query"], "unknown query"),
        (["query", "--bind", "x=1"], "name a query"),
    ],
)
def test_usage_errors_exit_2(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, _, err = run(capsys, *args, "--kg", str(EXAMPLE), "-q")
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_validate_clean_graph_exits_0_with_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "validate", str(EXAMPLE), "-q")
    assert code == 0
    assert "0 violation(s)" in err
    lines = out.splitlines()
    assert lines and all(": warning: <" in line for line in lines)
    assert any("mini.ttl:" in line and "CHN-RUS 1992: indicator 3" in line for line in lines)


def test_validate_both_ladder_engines_agree(capsys: pytest.CaptureFixture[str]) -> None:
    _, sparql, _ = run(capsys, "validate", str(EXAMPLE), "-q")
    _, shacl, _ = run(capsys, "validate", str(EXAMPLE), "--ladder", "shacl", "-q")
    assert sorted(sparql.splitlines()) == sorted(shacl.splitlines())


def test_validate_violations_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    broken = tmp_path / "broken.ttl"
    broken.write_text(
        EXAMPLE.read_text(encoding="utf-8").replace("prov:wasAttributedTo ex:coder ;", ""),
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "validate", str(broken), "-q")
    assert code == 2
    assert re.search(
        r"^\S*broken\.ttl:\d+:1: AK410: violation: <https://example.org/e1>: an event needs its coder",
        out,
        re.MULTILINE,
    ), out


def test_validate_bad_input_exits_2_and_names_the_place(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "validate", str(BAD), "-q")
    assert code == 2
    assert out == ""
    assert "impossible-date.ttl:4:20: AK104:" in err


def test_build_writes_outputs_and_prints_the_table(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out_dir = tmp_path / "build"
    code, out, _ = run(capsys, "build", "--kg", str(EXAMPLE), "--out", str(out_dir), "-q")
    assert code == 0
    assert "== CHN-RUS: stage per year (strict ladder) ==" in out
    assert "more dyad(s) from multilateral groupings" in out
    names = sorted(p.name for p in out_dir.iterdir())
    assert names == [
        "alignkg.nq",
        "cache",
        "codebook.md",
        "dyad-years.csv",
        "events.csv",
        "report.html",
        "report.md",
        "sources.csv",
        "stages-manifested.csv",
        "stages-strict.csv",
        "validation.ttl",
        "validation.txt",
    ]
    shacl = Graph().parse(out_dir / "validation.ttl", format="turtle")
    assert (None, SH.conforms, RdfLiteral(True)) in shacl
    findings = (out_dir / "validation.txt").read_text(encoding="utf-8").splitlines()[:-1]
    assert len(list(shacl.subjects(RDF.type, SH.ValidationResult))) == len(findings)
    strict = list(csv.DictReader((out_dir / "stages-strict.csv").open(encoding="utf-8")))
    assert {"CHN-RUS", "CHN-KAZ"} <= {r["dyad"] for r in strict}
    assert "| 2005 | moderate low | advanced low | 5 |" in (out_dir / "report.md").read_text(
        encoding="utf-8"
    )


def test_build_with_bad_input_writes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out_dir = tmp_path / "build"
    code, _, err = run(capsys, "build", "--kg", str(BAD), "--out", str(out_dir), "-q")
    assert code == 2
    assert not out_dir.exists()
    assert "AK104" in err


def test_explain_shows_the_chain(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "explain", "--kg", str(EXAMPLE), "--dyad", "CHN-RUS", "--year", "2005", "-q"
    )
    assert code == 0
    assert "strict ladder: stage moderate (low); counts 2, 3, 4; precursors 5" in out
    assert "early has become high (indicator 2 high since 2004)" in out
    assert "indicator 4 Regular joint military exercises: low" in out
    assert "<- new: exercise (2005-08-19, low)" in out
    assert "quote: “x”" in out
    assert "source: A source [en, news]" in out


def test_explain_transitions(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "explain", "--kg", str(EXAMPLE), "--dyad", "RUS-CHN", "--transitions", "-q"
    )
    assert code == 0
    headers = [line for line in out.splitlines() if line.startswith("==")]
    assert headers == [
        "== CHN-RUS 1992: not assessed -> early (low) (strict ladder) ==",
        "== CHN-RUS 2004: early (low) -> moderate (low) (strict ladder) ==",
    ]
    # Each transition is explained in full, and the events that start that year are new.
    assert out.count("the ladder in this year:") == 2
    assert "<- new: cbm (1992-12-18, low)" in out
    assert "<- new: consult high (2004-10-01, high)" in out
    assert "<- new: exercise" not in out  # 2005 is not a transition year


def test_explain_needs_a_year_or_transitions(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        run(capsys, "explain", "--kg", str(EXAMPLE), "--dyad", "CHN-RUS")
    assert exit_.value.code == 2


def test_query_list_and_run_with_bindings(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "query", "--list")
    assert code == 0 and "stage-per-dyad-year" in out.split()
    code, out, _ = run(
        capsys,
        "query",
        "milestones",
        "--bind",
        "dyad=RUS-CHN",
        "--format",
        "csv",
        "--kg",
        str(EXAMPLE),
        "-q",
    )
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["dyadLabel"] for r in rows} == {"CHN-RUS"}
    assert {(r["rung"], r["firstYear"], r["firstHighYear"]) for r in rows} >= {
        ("2", "1993", "2004"),
        ("3", "1992", ""),
    }


def test_query_file_and_refusal(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    ok = tmp_path / "count.rq"
    ok.write_text(
        "PREFIX ak: <https://w3id.org/alignkg/ns#>\nSELECT (COUNT(?e) AS ?n) WHERE { ?e a ak:Event }\n",
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "query", str(ok), "--format", "tsv", "--kg", str(EXAMPLE), "-q")
    assert (code, out) == (0, "n\n6\n")
    bad = tmp_path / "drop.rq"
    bad.write_text("DROP ALL", encoding="utf-8")
    code, _, err = run(capsys, "query", str(bad), "--kg", str(EXAMPLE), "-q")
    assert code == 2 and "refused: DROP" in err


def test_export_events(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "events.csv"
    code, _, _ = run(
        capsys,
        "export",
        "events",
        "--format",
        "csv",
        "--output",
        str(target),
        "--kg",
        str(EXAMPLE),
        "-q",
    )
    assert code == 0
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert list(rows[0]) == [
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
    ]
    exercise = next(r for r in rows if r["event"] == "https://example.org/e5")
    assert (
        exercise["dyad"],
        exercise["indicator"],
        exercise["end"],
        exercise["persistence"],
        exercise["languages"],
    ) == ("CHN-RUS", "4", "2005-08-25", "one-off", "en")
    assert (
        sum(1 for r in rows if r["event"] == "https://example.org/e4") == 15
    )  # SCO: 6 members, 15 dyads


SOURCES = Path(__file__).parent / "cases" / "example" / "sources.ttl"


def test_export_sources(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "export", "sources", "--format", "csv", "--kg", str(SOURCES), "-q")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == [
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
    ]
    # In the order the paper first cites them: footnote 7, then 12 (and 40), then 99.
    assert [r["source"] for r in rows] == [
        "https://example.org/report",
        "https://example.org/treaty",
        "https://example.org/unused",
    ]
    report, treaty, unused = rows
    assert (report["author"], report["kind"], report["date"], report["events"]) == (
        "Ivan Petrov | Li Wei",
        "report",
        "2016-10",
        "1",
    )
    assert (treaty["footnotes"], treaty["title"], treaty["title_en"], treaty["language"]) == (
        "12 40",
        "Zhong-E Junshi Hezuo Xieding",
        "Military Cooperation Agreement",
        "zh",
    )
    assert (treaty["url"], treaty["events"]) == ("http://www.example.org/treaty.html", "2")
    assert (unused["title"], unused["title_en"], unused["events"]) == (
        "A book nobody cites for an event",
        "",
        "0",
    )


def test_coding_decisions_are_shown(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "query",
        "coding-decisions",
        "--bind",
        "dyad=RUS-CHN",
        "--format",
        "csv",
        "--kg",
        str(SOURCES),
        "-q",
    )
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["event"], r["code"], r["levelCode"], r["decision"]) for r in rows] == [
        ("https://example.org/e1", "CONSULT", "low", "Low level.")
    ]
    code, out, _ = run(
        capsys, "explain", "--kg", str(SOURCES), "--dyad", "CHN-RUS", "--year", "1993", "-q"
    )
    assert code == 0
    assert "decision: Low level.\n           because: A framework agreement" in out
    assert (
        "source: Zhong-E Junshi Hezuo Xieding [Military Cooperation Agreement] [zh, official]"
        in out
    )


def test_years_before_the_first_event_are_reported_not_assessed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(
        capsys, "stages", "--kg", str(EXAMPLE), "--dyad", "CHN-RUS", "--from", "1990", "-q"
    )
    assert code == 0
    assert "CHN-RUS: no event is active before 1992; the years from 1990 to 1991" in err
    assert out.splitlines()[1].split()[:2] == ["CHN-RUS", "1992"]
    code, _, err = run(
        capsys, "stages", "--kg", str(EXAMPLE), "--dyad", "CHN-RUS", "--from", "1991", "-q"
    )
    assert "no event is active before 1992; the year 1991 is not assessed (stage none)" in err


def test_validate_without_paths_reads_kg_of_the_working_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "kg").mkdir()
    (tmp_path / "kg" / "mini.ttl").write_bytes(EXAMPLE.read_bytes())
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "validate", "-q")
    assert code == 0
    assert "kg/mini.ttl:21:1: AK460: warning:" in out and "0 violation(s), 15 warning(s)" in err


def test_export_events_as_a_sheet_is_the_coding_sheet(capsys: pytest.CaptureFixture[str]) -> None:
    code, sheet, _ = run(
        capsys, "export", "events", "--format", "sheet", "--kg", str(SOURCES), "-q"
    )
    assert code == 0
    code, same, _ = run(capsys, "export", "sheet", "--format", "csv", "--kg", str(SOURCES), "-q")
    assert code == 0 and sheet == same
    header = sheet.splitlines()[0].split(",")
    assert header[:3] == ["event_id", "label", "party_a"]
    code, _, err = run(capsys, "export", "sources", "--format", "sheet", "--kg", str(SOURCES), "-q")
    assert code == 2 and "--format must be one of csv" in err


def test_progress_goes_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "stages", "--kg", str(EXAMPLE), "--dyad", "CHN-RUS", "--from", "2005"
    )
    assert code == 0
    assert "derive 81-stage-strict.rq" in err and "derive" not in out


def test_console_script_runs() -> None:
    script = Path(sys.executable).with_name("alignkg")
    assert script.exists(), f"the console script is not installed next to {sys.executable}"
    result = subprocess.run(
        [str(script), "stages", "--kg", str(EXAMPLE), "--dyad", "CHN-RUS", "--from", "2005", "-q"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert "CHN-RUS  2005  moderate" in result.stdout


def test_an_empty_folder_is_bad_input(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not RDF", encoding="utf-8")
    code, out, err = run(capsys, "validate", str(tmp_path), "-q")
    assert (code, out) == (2, "")
    assert "AK108: folder holds no RDF files" in err and str(tmp_path.name) in err


def test_an_unwritable_output_folder_exits_2_naming_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    blocker = tmp_path / "plain-file"
    blocker.write_text("x", encoding="utf-8")
    code, _, err = run(capsys, "build", "--kg", str(EXAMPLE), "--out", str(blocker / "build"), "-q")
    assert code == 2
    assert "plain-file" in err and "Traceback" not in err


def test_a_missing_path_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "validate", str(tmp_path / "nowhere.ttl"), "-q")
    assert code == 2 and "nowhere.ttl: AK100: no such file or folder" in err


#: Commands whose output a reader may leave early (``alignkg ... | head -1``).
LEFT_EARLY = [
    ["query", "--list"],
    ["stages", "--dyad", "CHN-RUS", "--format", "csv", "-q"],
    ["validate", "-q"],
]


@pytest.mark.parametrize("args", LEFT_EARLY, ids=[" ".join(a[:2]) for a in LEFT_EARLY])
def test_a_reader_that_leaves_early_is_no_error(args: list[str]) -> None:
    """Output into a pipe nobody reads any more: exit 0 and no message, as a Unix filter
    does (with `set -o pipefail`, a failure here would fail the caller's pipeline)."""
    read, write = os.pipe()
    os.close(read)  # the reader is gone before anything is written
    try:
        done = subprocess.run(
            [sys.executable, "-m", "alignkg", *args],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
            cwd=ROOT,
        )
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (0, "")
