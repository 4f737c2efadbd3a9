"""Incremental validation: a persistent build validates again only what changed.

Each case builds a copy of ``kg/`` in a persistent store, keeps that build's findings
(as ``alignkg build`` does once validation passes), changes the copy, builds again and
validates twice: with the partition the build reports (only the changed dyads checked
again, the earlier findings standing for the rest) and from scratch on the whole store.
Both must give the same findings, line for line, and the same SHACL report.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from rdflib import BNode, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import SH

from alignkg import rebuild
from alignkg.shapes import AlternativePath, InversePath, RepeatPath, Result, SequencePath
from alignkg.validate import (
    Finding,
    findings_for,
    findings_from_json,
    findings_json,
    findings_text,
    report_graph,
    validate,
)
from dyad_event import EVENT, PREFIXES, kaz_rus_event

ROOT = Path(__file__).resolve().parent.parent
NEW_SOURCE = """
<https://w3id.org/alignkg/source/test-report> a ak:Source ;
    dcterms:title "A test report" ;
    dcterms:language "en" .
"""


def _write(text: str) -> Callable[[Path], None]:
    def change(kg: Path) -> None:
        (kg / "kaz-rus.ttl").write_text(PREFIXES + text, encoding="utf-8")

    return change


def _level_change(kg: Path) -> None:
    path = kg / "china-russia.ttl"
    text = path.read_text(encoding="utf-8")
    marker = "ak:indicator ak:ConfidenceBuilding ;\n    ak:level ak:Low ;"
    assert marker in text
    path.write_text(text.replace(marker, marker.replace("ak:Low", "ak:High"), 1), encoding="utf-8")


def _nothing(kg: Path) -> None:
    pass


@dataclass(frozen=True)
class Case:
    name: str
    #: What the first build is made of, besides kg/ (None: kg/ alone).
    before: Callable[[Path], None] | None
    change: Callable[[Path], None]
    #: "reused" (no input changed), "partial" (the changed dyads), "whole" (everything).
    validated: str
    #: A code the findings after the change must hold ("" when none).
    code: str = ""


def _remove_new_file(kg: Path) -> None:
    (kg / "kaz-rus.ttl").unlink()


CASES = [
    Case("unchanged", None, _nothing, "reused"),
    Case("new-dyad", None, _write(kaz_rus_event()), "partial"),
    Case("new-dyad-with-a-violation", None, _write(kaz_rus_event(label=False)), "partial", "AK402"),
    Case(
        "new-dyad-with-a-warning",
        None,
        _write(kaz_rus_event(indicator="IntegratedCommand")),
        "partial",
        "AK460",
    ),
    Case(
        "new-dyad-with-an-unknown-term",
        None,
        _write(kaz_rus_event(level="levle")),
        "partial",
        "AK453",
    ),
    Case("violation-fixed", _write(kaz_rus_event(label=False)), _write(kaz_rus_event()), "partial"),
    Case("file-removed", _write(kaz_rus_event()), _remove_new_file, "partial"),
    Case("file-writes-a-source", None, _write(kaz_rus_event() + NEW_SOURCE), "whole"),
    Case("file-of-many-things-changed", None, _level_change, "whole"),
]


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "kg"
    shutil.copytree(ROOT / "kg", target)
    return target


def _lines(findings: list[Finding]) -> list[str]:
    return [f.line() for f in findings]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_validating_what_changed_equals_validating_everything(
    case: Case, copy: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "cache"
    if case.before is not None:
        case.before(copy)
    first, _report = rebuild.build([copy], folder=folder)
    rebuild.accept(folder, validate(first).findings)
    del first
    case.change(copy)
    kg, done = rebuild.build([copy], folder=folder)
    partition = done.partition
    if case.validated == "whole":
        assert partition is None
        return
    assert partition is not None
    assert (partition.store is None) == (case.validated == "reused")
    partial = validate(kg, partition=partition)
    whole = validate(kg)
    assert _lines(partial.findings) == _lines(whole.findings)
    assert isomorphic(report_graph(partial), report_graph(whole))
    if case.code:
        assert case.code in {f.code for f in partial.findings}
    if case.validated == "partial":
        assert EVENT in partition.scope or case.name == "file-removed"
        # only the changed dyad's nodes: none of China-Russia's events
        assert not any("/event/1992-" in node for node in partition.scope)


def _accepted_build(copy: Path, folder: Path) -> None:
    first, _report = rebuild.build([copy], folder=folder)
    rebuild.accept(folder, validate(first).findings)


@pytest.mark.parametrize(
    "spoil",
    [
        lambda f: (f / "findings.json").unlink(),
        lambda f: (f / "findings.json").write_text("{not json", encoding="utf-8"),
        lambda f: (f / "findings.json").write_text(
            json.dumps({"key": "another build", "findings": []}), encoding="utf-8"
        ),
        lambda f: (f / "findings.json").write_text(
            json.dumps({"key": rebuild._manifest_key(f), "findings": [{"severity": "Bad"}]}),
            encoding="utf-8",
        ),
    ],
    ids=["missing", "garbled", "of-another-build", "malformed-finding"],
)
def test_without_usable_earlier_findings_everything_is_validated(
    spoil: Callable[[Path], object], copy: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "cache"
    _accepted_build(copy, folder)
    spoil(folder)
    _write(kaz_rus_event())(copy)
    _kg, done = rebuild.build([copy], folder=folder)
    assert done.mode == "incremental"
    assert done.partition is None


def test_a_refused_build_keeps_the_findings_of_the_build_it_restores(
    copy: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "cache"
    _accepted_build(copy, folder)
    kept = (folder / "findings.json").read_bytes()
    _write(kaz_rus_event(label=False))(copy)
    kg, _done = rebuild.build([copy], folder=folder)
    assert validate(kg).violations
    del kg
    assert rebuild.restore(folder)
    assert (folder / "findings.json").read_bytes() == kept
    assert rebuild.previous_findings(folder) is not None


P = URIRef("https://w3id.org/alignkg/ns#p")
Q = URIRef("https://w3id.org/alignkg/ns#q")
ROUND_TRIP = [
    Finding("Violation", "https://x/e", "m", "https://x/s#S", code="AK401"),
    Finding(
        "Warning",
        "b0",
        'a "quoted" message, ünïcode',
        "ladder-prerequisite",
        value="https://x/v",
        location="kg/a.ttl:3:1",
        code="AK460",
        result=Result(
            focus=BNode("b0"),
            shape=URIRef("https://x/s#S"),
            component=SH.MinCountConstraintComponent,
            severity=SH.Warning,
            path=SequencePath(
                (P, InversePath(Q), AlternativePath((P, RepeatPath(Q, "*"))), RepeatPath(P, "+"))
            ),
            value=Literal("1999", datatype=URIRef("http://www.w3.org/2001/XMLSchema#gYear")),
            messages=(Literal("m", lang="en"), Literal("n")),
        ),
    ),
]


def test_findings_survive_the_round_trip_through_json() -> None:
    back = findings_from_json(json.loads(json.dumps(findings_json(ROUND_TRIP))))
    assert back == ROUND_TRIP
    assert [f.result for f in back] == [f.result for f in ROUND_TRIP]
    assert findings_for(findings_text(ROUND_TRIP, key="k"), key="k") == ROUND_TRIP
    assert findings_for(findings_text(ROUND_TRIP, key="k"), key="other") is None


def test_cli_build_validates_only_the_changed_dyad(copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    command = [sys.executable, "-m", "alignkg", "build", "--kg", str(copy), "--out", str(out)]
    first = subprocess.run(command, capture_output=True, text=True, check=False)
    assert first.returncode == 0, first.stderr
    assert (out / "cache" / "findings.json").is_file()
    _write(kaz_rus_event(indicator="IntegratedCommand"))(copy)
    second = subprocess.run(command, capture_output=True, text=True, check=False)
    assert second.returncode == 0, second.stderr
    assert "changed node(s) checked again" in second.stderr
    partial = (out / "validation.txt").read_text(encoding="utf-8")
    fresh = tmp_path / "fresh"
    whole = subprocess.run(
        [*command[:-1], str(fresh), "--no-cache"], capture_output=True, text=True, check=False
    )
    assert whole.returncode == 0, whole.stderr
    assert partial == (fresh / "validation.txt").read_text(encoding="utf-8")
    assert "AK460" in partial
