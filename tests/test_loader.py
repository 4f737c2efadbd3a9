"""Bad input stops with file, line, column and a code; good input in any encoding form loads."""

from __future__ import annotations

import csv
from pathlib import Path

import pyoxigraph as ox
import pytest

from alignkg.errors import InputError
from alignkg.kg import read_all, read_file
from alignkg.literals import XSD, canonical_language, language_problem, lexical_problem

CASES = Path(__file__).parent / "cases"
REFERENCE = CASES / "bad-input-kg" / "reference.ttl"
with (CASES / "bad-input" / "expected.csv").open(encoding="utf-8") as handle:
    CATALOGUE = list(csv.DictReader(handle))
#: The cases the loader itself refuses (codes AK1xx); the others load and are caught by
#: validation (tests/test_bad_input.py runs every case through the command line).
BAD = [c for c in CATALOGUE if c["code"].startswith("AK1") and c["exit"] == "2"]
ACCEPTED = [c for c in CATALOGUE if c not in BAD]


def _environment(monkeypatch: pytest.MonkeyPatch, case: dict[str, str]) -> None:
    if case["env"]:
        name, _, value = case["env"].partition("=")
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize("case", BAD, ids=[c["file"] for c in BAD])
def test_bad_input_is_rejected_with_its_location(
    case: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _environment(monkeypatch, case)
    path = CASES / "bad-input" / case["file"]
    with pytest.raises(InputError) as caught:
        read_all([REFERENCE, path])
    error = caught.value
    assert error.code == case["code"]
    assert (error.location.line, error.location.column) == (int(case["line"]), int(case["column"]))
    assert str(error).startswith(error.location.path)
    assert case["file"] in str(error)


@pytest.mark.parametrize("case", ACCEPTED, ids=[c["file"] for c in ACCEPTED])
def test_coding_problems_load(case: dict[str, str]) -> None:
    """Problems of the coding (not of the file) load; validation reports them, with the
    code of the warning when the loader has a remark."""
    files = read_all([REFERENCE, CASES / "bad-input" / case["file"]])
    warnings = [w for f in files for w in f.warnings]
    if case["code"].startswith("AK1"):
        assert [(w.code, w.location.line, w.location.column) for w in warnings] == [
            (case["code"], int(case["line"]), int(case["column"]))
        ]
    else:
        assert not warnings


def test_every_bad_input_file_has_an_expectation() -> None:
    files = {p.name for p in (CASES / "bad-input").iterdir() if p.name != "expected.csv"}
    assert files == {c["file"] for c in CATALOGUE}


def test_the_reference_coding_loads_clean() -> None:
    assert not read_file(REFERENCE).warnings


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


@pytest.mark.parametrize(
    ("tag", "canonical"),
    [("zh", "zh"), ("ZH-hans", "zh-Hans"), ("en-gb", "en-GB"), ("zh-Latn-pinyin", "zh-Latn-pinyin"),
     ("ru-LATN", "ru-Latn"), ("en-x-Private", "en-x-private"), ("es-419", "es-419")],
)
def test_canonical_language(tag: str, canonical: str) -> None:
    assert canonical_language(tag) == canonical


def test_file_size_limit_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "small.ttl"
    path.write_text("<https://example.org/a> <https://example.org/b> <https://example.org/c> .\n", encoding="utf-8")
    monkeypatch.setenv("ALIGNKG_MAX_FILE_BYTES", "10")
    with pytest.raises(InputError) as caught:
        read_file(path)
    assert caught.value.code == "AK102" and "ALIGNKG_MAX_FILE_BYTES" in str(caught.value)
    monkeypatch.setenv("ALIGNKG_MAX_FILE_BYTES", "ten")
    with pytest.raises(InputError) as caught:
        read_file(path)
    assert caught.value.code == "AK100" and "ALIGNKG_MAX_FILE_BYTES" in str(caught.value)


def test_a_literal_at_the_default_limit_loads_and_one_over_it_does_not(tmp_path: Path) -> None:
    from alignkg.kg import MAX_LITERAL_CHARS

    path = tmp_path / "long.ttl"
    for size, refused in ((MAX_LITERAL_CHARS, False), (MAX_LITERAL_CHARS + 1, True)):
        path.write_text(f'<https://example.org/a> <https://example.org/b> "{"x" * size}" .\n', encoding="utf-8")
        if refused:
            with pytest.raises(InputError) as caught:
                read_file(path)
            assert caught.value.code == "AK109"
        else:
            assert len(read_file(path).triples) == 1


def test_a_huge_generated_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    """A file over the default limit (256 MB), generated sparse so the test stays cheap."""
    from alignkg.kg import MAX_FILE_BYTES

    path = tmp_path / "huge.ttl"
    with path.open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(InputError) as caught:
        read_file(path)
    assert caught.value.code == "AK102"
    assert f"over the limit of {MAX_FILE_BYTES} bytes" in str(caught.value)


def test_language_tags_differing_only_in_case_on_literals_are_one_tag(tmp_path: Path) -> None:
    path = tmp_path / "quotes.ttl"
    path.write_text(
        '<https://example.org/q> <http://www.w3.org/ns/oa#exact> "x"@zh-Hans , "x"@zh-hans .\n',
        encoding="utf-8",
    )
    assert _triples(path) == {'<https://example.org/q> <http://www.w3.org/ns/oa#exact> "x"@zh-hans'}


def test_rdfxml_and_jsonld_without_the_dangers_load(tmp_path: Path) -> None:
    """The formats read besides Turtle: RDF/XML without a DTD, JSON-LD with an inline context."""
    rdf = tmp_path / "plain.rdf"
    rdf.write_text(
        '<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns:ex="https://example.org/">\n<rdf:Description rdf:about="https://example.org/a">'
        "<ex:b>c</ex:b></rdf:Description>\n</rdf:RDF>\n",
        encoding="utf-8",
    )
    jsonld = tmp_path / "plain.jsonld"
    jsonld.write_text(
        '{"@context": {"b": "https://example.org/b"}, "@id": "https://example.org/a", "b": "c"}',
        encoding="utf-8",
    )
    assert _triples(rdf) == _triples(jsonld) == {
        '<https://example.org/a> <https://example.org/b> "c"'
    }


def test_pyoxigraph_refuses_a_remote_context_without_fetching() -> None:
    """What the JSON-LD check guards against, measured: pyoxigraph 0.5 has no document
    loader unless given one, so a remote context fails to parse (alignkg says where)."""
    data = b'{"@context": "http://context.invalid/c.jsonld", "@id": "https://example.org/a"}'
    with pytest.raises(SyntaxError, match="LoadDocumentCallback"):
        list(ox.parse(input=data, format=ox.RdfFormat.JSON_LD))


def test_pyoxigraph_would_expand_internal_entities() -> None:
    """Why alignkg refuses a DTD in RDF/XML itself: pyoxigraph 0.5 expands internal
    entities (1000 characters from 35 bytes of entity references here)."""
    data = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;'
        b'&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        b'xmlns:ex="https://example.org/"><rdf:Description rdf:about="https://example.org/a">'
        b"<ex:b>&c;</ex:b></rdf:Description></rdf:RDF>"
    )
    quads = list(ox.parse(input=data, format=ox.RdfFormat.RDF_XML))
    assert len(quads[0].object.value) == 1000


def test_a_blank_node_label_names_a_node_of_its_own_file_only(tmp_path: Path) -> None:
    # the same label in two files names two nodes (a label is scoped to its document)
    text = "_:x <https://example.org/p> _:x .\n"
    first, second = tmp_path / "a.ttl", tmp_path / "b.ttl"
    first.write_text(text, encoding="utf-8")
    second.write_text(text, encoding="utf-8")
    one, other = read_file(first).triples[0], read_file(second).triples[0]
    assert one.subject == one.object and other.subject == other.object
    assert one.subject != other.subject


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("labelled.ttl", "_:x <https://example.org/p> _:y .\n_:y <https://example.org/p> _:x .\n"),
        ("anonymous.ttl", "<https://example.org/a> <https://example.org/p> [ <https://example.org/q> [] ] .\n"),
        ("list.ttl", "<https://example.org/a> <https://example.org/p> ( 1 2 3 ) .\n"),
        ("triples.nt", "_:x <https://example.org/p> _:y .\n"),
    ],
)  # fmt: skip
def test_a_file_read_twice_gives_the_same_blank_node_labels(
    tmp_path: Path, name: str, text: str
) -> None:
    # the parser labels [] and lists at random: alignkg numbers them in order, so that
    # a build's output is the same on every run
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    first, again = read_file(path).triples, read_file(path).triples
    assert first == again
    assert any(isinstance(term, ox.BlankNode) for t in first for term in (t.subject, t.object))
