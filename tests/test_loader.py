"""Bad input stops with file, line, column and a code; good input in any encoding form loads."""

from __future__ import annotations

import csv
from pathlib import Path

import pyoxigraph as ox
import pytest

from alignkg.errors import InputError
from alignkg.kg import read_file
from alignkg.literals import XSD, language_problem, lexical_problem

CASES = Path(__file__).parent / "cases"
with (CASES / "bad-input" / "expected.csv").open(encoding="utf-8") as handle:
    BAD = list(csv.DictReader(handle))


@pytest.mark.parametrize("case", BAD, ids=[c["file"] for c in BAD])
def test_bad_input_is_rejected_with_its_location(case: dict[str, str]) -> None:
    path = CASES / "bad-input" / case["file"]
    with pytest.raises(InputError) as caught:
        read_file(path)
    error = caught.value
    assert error.code == case["code"]
    assert (error.location.line, error.location.column) == (int(case["line"]), int(case["column"]))
    assert str(error).startswith(error.location.path)
    assert case["file"] in str(error)


def test_every_bad_input_file_has_an_expectation() -> None:
    files = {p.name for p in (CASES / "bad-input").iterdir() if p.name != "expected.csv"}
    assert files == {c["file"] for c in BAD}


def _triples(path: Path) -> set[str]:
    return {str(t) for t in read_file(path).triples}


def test_bom_and_crlf_give_the_same_triples() -> None:
    assert _triples(CASES / "good-input" / "bom-crlf.ttl") == _triples(CASES / "good-input" / "plain.ttl")


def test_language_tags_are_normalised_to_lower_case() -> None:
    literals = [t.object for t in read_file(CASES / "good-input" / "plain.ttl").triples]
    assert any(isinstance(o, ox.Literal) and o.language == "zh-hans" for o in literals)


def test_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.ttl"
    big.write_text("@prefix ex: <https://example.org/> .\n" + "ex:a ex:b ex:c .\n" * 100, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_file(big, max_bytes=100)
    assert caught.value.code == "AK102"


def test_subject_lines_are_recorded(tmp_path: Path) -> None:
    path = tmp_path / "lines.ttl"
    path.write_text(
        "@prefix ex: <https://example.org/> .\n\nex:a ex:b ex:c .\n<https://example.org/d> ex:b ex:c .\n",
        encoding="utf-8",
    )
    lines = read_file(path).subject_lines
    assert lines["https://example.org/a"] == 3
    assert lines["https://example.org/d"] == 4


LEXICAL = [
    ("2020-02-29", "date", True),
    ("2019-02-29", "date", False),
    ("2020-13-01", "date", False),
    ("1992-12-18Z", "date", True),
    ("1992", "gYear", True),
    ("1992-13", "gYearMonth", False),
    ("2015-04", "gYearMonth", True),
    ("0", "positiveInteger", False),
    ("12", "positiveInteger", True),
    ("maybe", "boolean", False),
    ("true", "boolean", True),
    ("2015-04-25T24:00:00", "dateTime", True),
    ("2015-04-25T25:00:00", "dateTime", False),
]


@pytest.mark.parametrize(("value", "datatype", "valid"), LEXICAL, ids=[f"{d}-{v}" for v, d, _ in LEXICAL])
def test_lexical_forms(value: str, datatype: str, valid: bool) -> None:
    assert (lexical_problem(value, XSD + datatype) is None) is valid


@pytest.mark.parametrize(("tag", "valid"), [("zh", True), ("ru-Latn", True), ("zh-Latn-pinyin", True), ("zh_CN", False), ("", False)])
def test_language_tags(tag: str, valid: bool) -> None:
    assert (language_problem(tag) is None) is valid
