"""Version diffs: events added, removed and changed, and the stages they move.

Each folder of ``tests/cases/diff/`` holds ``old.ttl``, ``new.ttl`` and ``expected.txt``,
the exact output of ``alignkg diff old.ttl new.ttl`` run in that folder; the tests below
also state each case's point in terms of the result's fields. The git case builds a
repository with two commits in a temporary folder.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest

from alignkg import diff
from alignkg.cli import main
from alignkg.errors import InputError, UsageError

CASES = Path(__file__).parent / "cases" / "diff"
CASE_DIRS = sorted(p for p in CASES.iterdir() if (p / "old.ttl").exists())
EX = "https://example.org/"


@cache
def result(name: str) -> diff.DiffResult:
    folder = CASES / name
    old, new = diff.load_side(str(folder / "old.ttl")), diff.load_side(str(folder / "new.ttl"))
    return diff.compare(old, new, old_name="old.ttl", new_name="new.ttl")


def test_there_are_cases() -> None:
    assert {p.name for p in CASE_DIRS} == {
        "added-event",
        "removed-event",
        "changed-level",
        "quote-only",
        "identical",
    }


@pytest.mark.parametrize("folder", CASE_DIRS, ids=lambda p: p.name)
def test_output_is_the_expected_text(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(folder)
    expected = (folder / "expected.txt").read_text(encoding="utf-8")
    assert diff.render("old.ttl", "new.ttl", fmt="table") == expected


def test_an_added_event_that_raises_the_stage() -> None:
    found = result("added-event")
    assert [e.iri for e in found.added] == [EX + "staff-talks"]
    assert not found.removed and not found.changed
    assert [(s.dyad, s.year) for s in found.stages] == [("CHN-RUS", 2003), ("CHN-RUS", 2004)]
    first, later = found.stages
    assert first.readings == {
        "strict": ("early (low)", "early (high)"),
        "manifested": ("early (low)", "early (high)"),
    }
    (level,) = first.levels
    assert (level.rung, level.old, level.new) == (2, "low", "high")
    assert [(e.iri, e.how) for e in level.events] == [(EX + "staff-talks", "added")]
    # 2004: no level changed that year; the stage is high because indicator 2 reached the
    # high level in 2003 (the milestone moved).
    assert not later.levels
    (milestone,) = later.milestones
    assert (milestone.rung, milestone.old_first_high, milestone.new_first_high) == (2, None, 2003)
    assert [e.how for e in milestone.events] == ["added"]


def test_a_removed_event_changes_only_the_reading_that_counted_it() -> None:
    found = result("removed-event")
    assert [e.iri for e in found.removed] == [EX + "exercise"]
    (stage,) = found.stages
    assert stage.year == 2002
    # The strict ladder never counted the exercise (a precursor): only one reading moves.
    assert stage.readings == {"manifested": ("moderate (low)", "early (low)")}
    (level,) = stage.levels
    assert (level.rung, level.old, level.new) == (4, "low", "absent")
    assert [(e.iri, e.how) for e in level.events] == [(EX + "exercise", "removed")]


def test_a_changed_level_with_its_stage_change_and_reason() -> None:
    found = result("changed-level")
    (change,) = found.changed
    assert change.iri == EX + "staff-talks"
    assert [(c.prop, c.old, c.new) for c in change.changes] == [
        ("ak:level", ("ak:Low",), ("ak:High",))
    ]
    assert [s.year for s in found.stages] == [2002, 2003, 2004]
    assert found.stages[0].levels[0].events[0].how == "changed"
    assert all(s.readings["strict"] == ("early (low)", "early (high)") for s in found.stages)


def test_a_quote_change_changes_the_event_and_no_stage() -> None:
    found = result("quote-only")
    (change,) = found.changed
    assert [(c.prop, c.old, c.new) for c in change.changes] == [
        (
            "ak:evidence/oa:hasTarget/oa:hasSelector/oa:exact",
            ('"talks between the general staff"',),
            ('"talks between the general staffs"',),
        )
    ]
    assert not found.stages and not found.added and not found.removed


def test_identical_graphs_written_differently_have_no_differences() -> None:
    found = result("identical")
    assert found.identical
    assert json.loads(diff.render_result(found, fmt="json"))["identical"] is True


def test_a_changed_source_is_an_other_statement(tmp_path: Path) -> None:
    old = (CASES / "identical" / "old.ttl").read_text(encoding="utf-8")
    changed = tmp_path / "new.ttl"
    changed.write_text(old.replace('"A source"@en', '"The source"@en'), encoding="utf-8")
    found = diff.compare(
        diff.load_side(str(CASES / "identical" / "old.ttl")),
        diff.load_side(str(changed)),
        old_name="old",
        new_name="new",
    )
    assert not (found.added or found.removed or found.changed or found.stages)
    assert not found.identical
    assert [(o.subject, o.status, o.removed, o.added) for o in found.others] == [
        (
            "<https://example.org/src>",
            "changed",
            ('dcterms:title "A source"@en',),
            ('dcterms:title "The source"@en',),
        )
    ]


def test_canonical_form_ignores_blank_node_identity() -> None:
    from rdflib import BNode, Literal, URIRef

    a, b = BNode("a"), BNode("zzz")
    p, q = URIRef(EX + "p"), URIRef(EX + "q")
    one = {a: [(p, Literal("x")), (q, URIRef(EX + "y"))]}
    two = {b: [(q, URIRef(EX + "y")), (p, Literal("x"))]}
    assert diff.canonical(a, one) == diff.canonical(b, two)  # type: ignore[arg-type]
    assert (
        diff.canonical(a, one)
        == '[ <https://example.org/p> "x" ; <https://example.org/q> <https://example.org/y> ]'
    )  # type: ignore[arg-type]


def test_cli_json(capsys: pytest.CaptureFixture[str]) -> None:
    folder = CASES / "changed-level"
    code = main(["diff", str(folder / "old.ttl"), str(folder / "new.ttl"), "--format", "json"])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["identical"] is False
    assert [c["iri"] for c in data["changed"]] == [EX + "staff-talks"]
    assert [s["year"] for s in data["stages"]] == [2002, 2003, 2004]
    assert data["stages"][0]["readings"]["strict"] == ["early (low)", "early (high)"]


# --- git revisions ------------------------------------------------------------------------------


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.org",
         "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args],
        cwd=repo, check=True, capture_output=True,
    )  # fmt: skip


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository whose kg/ holds changed-level/old.ttl, then new.ttl, in two commits."""
    root = tmp_path / "repo"
    (root / "kg").mkdir(parents=True)
    _git(root, "init", "-q")
    shutil.copy(CASES / "changed-level" / "old.ttl", root / "kg" / "events.ttl")
    (root / "README").write_text("not RDF\n", encoding="utf-8")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "first coding")
    shutil.copy(CASES / "changed-level" / "new.ttl", root / "kg" / "events.ttl")
    _git(root, "commit", "-q", "-am", "talks recoded high")
    monkeypatch.chdir(root)
    return root


def test_git_revisions(repo: Path) -> None:
    expected = (CASES / "changed-level" / "expected.txt").read_text(encoding="utf-8")
    body = expected.split("\n", 1)[1]
    assert diff.render("HEAD~1:kg", "HEAD:kg", fmt="table") == (
        "alignkg diff HEAD~1:kg -> HEAD:kg\n" + body
    )
    # A revision against the working tree, and one file of a revision.
    assert diff.render("HEAD~1:kg/events.ttl", "kg", fmt="table").endswith(body)
    assert json.loads(diff.render("HEAD:kg", "kg", fmt="json"))["identical"] is True


def test_git_revision_from_a_subdirectory_is_relative_to_it(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo / "kg")
    assert json.loads(diff.render("HEAD~1:.", "HEAD~1:events.ttl", fmt="json"))["identical"]
    assert "1 changed" in diff.render("HEAD~1:.", "HEAD:.", fmt="table")


def test_git_errors_are_usage_errors(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(UsageError, match=r"^HEAD~5:kg: no revision 'HEAD~5'"):
        diff.render("HEAD~5:kg", "kg", fmt="table")
    with pytest.raises(
        UsageError, match=r"^HEAD~1:nothing: 'nothing' does not exist in revision HEAD~1"
    ):
        diff.render("HEAD~1:nothing", "kg", fmt="table")
    elsewhere = tmp_path / "not-a-repo"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    with pytest.raises(
        UsageError, match=r"^HEAD:kg: the current directory is not in a git repository"
    ):
        diff.render("HEAD:kg", "HEAD~1:kg", fmt="table")


def test_a_bad_file_in_a_revision_is_named_by_revision_and_path(repo: Path) -> None:
    (repo / "kg" / "events.ttl").write_text("@prefix ex: <https://example.org/> .\nex:a ex:b .\n")
    _git(repo, "commit", "-q", "-am", "broken")
    with pytest.raises(InputError) as raised:
        diff.render("HEAD:kg", "HEAD~1:kg", fmt="table")
    assert str(raised.value).startswith("HEAD:kg/events.ttl:2:")
    assert raised.value.code == "AK101"


def test_cli_reports_a_bad_revision_with_exit_2(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["diff", "no-such-rev:kg", "kg"]) == 2
    assert "no revision 'no-such-rev'" in capsys.readouterr().err
