"""Inter-coder agreement: Krippendorff's alpha against hand-computed cases.

Each file of ``tests/cases/agreement/`` is a small graph coded by several coders whose
header gives what ``alignkg agreement`` must find, with the coincidence-matrix
arithmetic behind every alpha written out in the comments below it:

- ``# coders:``, ``# dyad:``, ``# years: FIRST-LAST``, ``# units:``, ``# missing:``;
- ``# alpha: RUNG=VALUE ... overall=VALUE`` (``undefined`` where alpha is undefined);
- ``# percent: RUNG=VALUE ... overall=VALUE`` (percent agreement);
- ``# disagreement: YEAR RUNG coder=level:event,event coder=level ...``, one per line:
  every disagreement, with each coder's level and the events behind it.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from functools import cache
from pathlib import Path

import pytest

from alignkg import agreement
from alignkg.build import KnowledgeGraph, assemble
from alignkg.cli import main
from alignkg.errors import UsageError
from casefiles import one, read_header

CASES = Path(__file__).parent / "cases" / "agreement"
CASE_FILES = sorted(CASES.glob("*.ttl"))


@cache
def graph(path: Path) -> KnowledgeGraph:
    return assemble([path])


@cache
def result(path: Path, coders: tuple[str, ...] | None = None) -> agreement.AgreementResult:
    header = read_header(path)
    chosen = coders or tuple(str(one(header, "coders")).split(","))
    return agreement.compute(graph(path), str(one(header, "dyad")), list(chosen))


def _pairs(text: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in text.split())


def _local(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


def test_there_are_cases() -> None:
    names = {p.stem for p in CASE_FILES}
    assert {
        "two-coders",
        "two-coders-perfect",
        "two-coders-systematic",
        "three-coders-missing",
    } <= names


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.stem)
def test_alpha_matches_the_hand_computation(path: Path) -> None:
    header = read_header(path)
    found = result(path)
    scores = {str(s.rung): s for s in found.scores} | {"overall": found.overall}
    expected = _pairs(str(one(header, "alpha")))
    assert set(expected) == set(scores), "the case names every indicator and overall"
    for scope, value in expected.items():
        score = scores[scope]
        if value == "undefined":
            assert score.alpha is None, (scope, score)
            assert score.note.startswith("undefined"), score
        else:
            assert score.alpha == pytest.approx(float(value), abs=1e-6), (scope, score)
            assert not score.note


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.stem)
def test_percent_agreement_units_and_missing_values(path: Path) -> None:
    header = read_header(path)
    found = result(path)
    scores = {str(s.rung): s for s in found.scores} | {"overall": found.overall}
    for scope, value in _pairs(str(one(header, "percent"))).items():
        assert scores[scope].percent_agreement == pytest.approx(float(value), abs=1e-6), scope
    assert found.overall.units == int(str(one(header, "units")))
    assert found.overall.missing_values == int(str(one(header, "missing")))
    assert sum(s.units for s in found.scores) == found.overall.units
    first, last = (int(y) for y in str(one(header, "years")).split("-"))
    assert found.years == tuple(range(first, last + 1))


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.stem)
def test_the_disagreements_and_the_events_behind_them(path: Path) -> None:
    header = read_header(path)
    expected = []
    for line in header.get("disagreement", []):
        year, rung, *levels = line.split()
        expected.append((int(year), int(rung), tuple(levels)))
    found = []
    for d in result(path).disagreements:
        levels = []
        for level in d.levels:
            events = ",".join(_local(e.iri) for e in level.events)
            text = "missing" if level.value is None else agreement.VALUE_NAMES[level.value]
            levels.append(f"{level.coder}={text}" + (f":{events}" if events else ""))
            assert all(e.label and e.quotes for e in level.events), "label and quote shown"
        found.append((d.year, d.rung, tuple(levels)))
    assert found == expected


def test_a_missing_year_is_missing_not_absent() -> None:
    """carol did not assess 2000: her values are None, and indicator 1 (1, 1, -) agrees."""
    found = result(CASES / "three-coders-missing.ttl")
    assert found.units[(2000, 1)] == (1, 1, None)
    assert found.units[(2001, 1)] == (0, 0, 0)
    assert found.scores[0].alpha == pytest.approx(1.0)
    assert found.scores[0].missing_values == 1


def test_events_of_coders_not_compared_do_not_count() -> None:
    """alice and bob on the three-coder graph: carol's events are left out entirely.

    Indicator 2, 2000..2002: alice 0 1 1, bob 0 2 1. n = 6: n_0 = 2, n_1 = 3, n_2 = 1;
    o_12 = o_21 = 1; d_12 = (4/2)^2 = 4, d_01 = (5/2)^2 = 6.25, d_02 = (6 - 3/2)^2 = 20.25.
    alpha = 1 - 5 * 8 / (2 * (2*3*6.25 + 2*1*20.25 + 3*1*4)) = 1 - 40/180 = 0.777778.
    """
    found = result(CASES / "three-coders-missing.ttl", ("alice", "bob"))
    assert found.coders == ("alice", "bob")
    assert found.overall.missing_values == 0
    assert found.scores[1].alpha == pytest.approx(0.777778, abs=1e-6)
    assert [d.levels[0].events[0].iri for d in found.disagreements] == ["https://example.org/a2"]


def test_events_attributed_to_nobody_count_for_no_coder(tmp_path: Path) -> None:
    extra = tmp_path / "unattributed.ttl"
    extra.write_text(
        "@prefix ak: <https://w3id.org/alignkg/ns#> .\n"
        "@prefix state: <https://w3id.org/alignkg/state/> .\n"
        "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
        "<https://example.org/nobody> a ak:Event ; ak:party state:CHN , state:RUS ;\n"
        "  ak:dimension ak:Military ; ak:indicator ak:IntegratedCommand ; ak:level ak:Low ;\n"
        '  ak:startDate "2003-01-01"^^xsd:date ; ak:persistence ak:OneOff .\n',
        encoding="utf-8",
    )
    kg = assemble([CASES / "two-coders.ttl", extra])
    found = agreement.compute(kg, "CHN-RUS", ["alice", "bob"])
    original = result(CASES / "two-coders.ttl")
    assert found.units == original.units
    assert found.units[(2003, 5)] == (0, 0)


def test_coders_are_matched_by_local_name_or_label() -> None:
    kg = graph(CASES / "two-coders.ttl")
    by_name = agreement.match_coders(kg, ["alice", "bob"])
    assert [c.iri for c in by_name] == [
        "https://w3id.org/alignkg/coder/alice",  # the IRI's local name
        "https://example.org/second-coder",  # its label "bob"
    ]
    by_label = agreement.match_coders(kg, ["Alice A.", "second-coder"])
    assert [c.iri for c in by_label] == [c.iri for c in by_name]
    assert len(by_name[0].events) == 5 and len(by_name[1].events) == 4


@pytest.mark.parametrize(
    ("coders", "message"),
    [
        (["alice"], "agreement needs two or more coders"),
        (
            ["alice", "zoe"],
            "no coder 'zoe' in the graph (coders: alice (Alice A.), second-coder (bob))",
        ),
        (["alice", "Alice A."], "coder 'Alice A.' is named twice"),
    ],
)
def test_bad_coder_lists_are_usage_errors(coders: list[str], message: str) -> None:
    with pytest.raises(UsageError) as raised:
        agreement.compute(graph(CASES / "two-coders.ttl"), "CHN-RUS", coders)
    assert str(raised.value).startswith(message)


def test_a_dyad_no_coder_assessed_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="USA: fewer than two of the coders"):
        agreement.compute(graph(CASES / "two-coders.ttl"), "CHN-USA", ["alice", "bob"])


def test_without_the_krippendorff_package_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "krippendorff", None)  # import raises ImportError
    with pytest.raises(UsageError, match=r"pip install 'alignkg\[agreement\]'"):
        agreement.compute(graph(CASES / "two-coders.ttl"), "CHN-RUS", ["alice", "bob"])


def test_score_reports_undefined_alpha_without_pairable_units() -> None:
    score = agreement.score("indicator", 1, "CBM", [(1, None), (None, 2)])
    assert score.alpha is None and score.percent_agreement is None
    assert score.note == "undefined: no unit was assessed by two coders"
    assert (score.units, score.pairable_units, score.missing_values) == (2, 0, 2)


# --- the command line ---------------------------------------------------------------------


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["agreement", "-q", "--kg", str(CASES / "two-coders.ttl"), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_csv(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = _run(capsys, "--dyad", "RUS-CHN", "--coders", "alice,bob", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == list(agreement.CSV_COLUMNS)
    by_scope = {r["rung"] or r["scope"]: r for r in rows}
    assert by_scope["2"]["alpha"] == "0.55"
    assert by_scope["3"]["alpha"] == "0.0"
    assert by_scope["1"]["alpha"] == "" and by_scope["1"]["note"].startswith("undefined")
    assert float(by_scope["overall"]["alpha"]) == pytest.approx(0.921697, abs=1e-6)
    assert by_scope["overall"]["percent_agreement"] == "88.57"
    assert by_scope["overall"]["units"] == "35"


def test_cli_table_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = _run(capsys, "--dyad", "CHN-RUS", "--coders", "alice, bob")
    assert code == 0
    assert "Inter-coder agreement on CHN-RUS, 2000-2004: alice, bob" in out
    assert "1 CBM" in out and "undefined" in out
    assert "all indicators      0.922      88.6%" in out
    assert "2003  indicator 2 (CONSULT): alice low, bob high" in out
    assert '"first strategic consultation"' in out
    code, out, _err = _run(capsys, "--dyad", "CHN-RUS", "--coders", "alice,bob", "--format", "json")
    data = json.loads(out)
    assert data["overall"]["alpha"] == pytest.approx(0.921697, abs=1e-6)
    assert data["indicators"][0]["alpha"] is None
    assert len(data["disagreements"]) == 4 and len(data["units"]) == 35


def test_cli_unknown_coder_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "--dyad", "CHN-RUS", "--coders", "alice,zoe")
    assert code == 2 and not out
    assert "no coder 'zoe' in the graph" in err
