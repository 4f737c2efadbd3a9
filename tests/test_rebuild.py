"""The persistent build: a store reused between runs, only changed dyads derived again.

Every case changes a copy of ``kg/`` after a first build, rebuilds in the same store and
compares the result with a from-scratch in-memory build of the changed copy: the same
stage rows and the same derived triples, whatever the store did.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest

from alignkg import rebuild, stages
from alignkg.build import assemble
from alignkg.errors import InputError, UsageError
from alignkg.kg import ParsedFile
from alignkg.namespace import DERIVED_GRAPH
from dyad_event import EVENT, PREFIXES, kaz_rus_event

ROOT = Path(__file__).resolve().parent.parent

NEW_DYAD_EVENT = PREFIXES + kaz_rus_event()


def _level_change(kg: Path) -> None:
    path = kg / "china-russia.ttl"
    text = path.read_text(encoding="utf-8")
    marker = "ak:indicator ak:ConfidenceBuilding ;\n    ak:level ak:Low ;"
    assert marker in text
    path.write_text(text.replace(marker, marker.replace("ak:Low", "ak:High"), 1), encoding="utf-8")


def _new_dyad_file(kg: Path) -> None:
    (kg / "kaz-rus.ttl").write_text(NEW_DYAD_EVENT, encoding="utf-8")


def _remove_file(kg: Path) -> None:
    (kg / "china-russia-diplomatic-economic.ttl").unlink()


def _span_moved(kg: Path) -> None:
    """An event now starts before every other: the calendar grows, so all is re-derived."""
    path = kg / "china-russia.ttl"
    text = path.read_text(encoding="utf-8")
    marker = 'ak:startDate "1992-12-18"^^xsd:date'
    assert marker in text
    path.write_text(
        text.replace(marker, 'ak:startDate "1988-12-18"^^xsd:date', 1), encoding="utf-8"
    )


def _dates_moved(kg: Path) -> None:
    """Two events move to other years inside the calendar: their dyad's old years go."""
    path = kg / "china-russia.ttl"
    text = path.read_text(encoding="utf-8")
    for old, new in (("2009-10-13", "2013-10-13"), ("2004-10-14", "1999-10-14")):
        marker = f'ak:startDate "{old}"^^xsd:date'
        assert marker in text
        text = text.replace(marker, f'ak:startDate "{new}"^^xsd:date', 1)
    path.write_text(text, encoding="utf-8")


def _nothing(kg: Path) -> None:
    pass


@dataclass(frozen=True)
class Case:
    name: str
    change: Callable[[Path], None]
    mode: str
    dyads: int | None = None


CASES = [
    Case("unchanged", _nothing, "unchanged"),
    Case("level-changed", _level_change, "incremental"),
    Case("new-dyad-file", _new_dyad_file, "incremental", dyads=1),
    Case("file-removed", _remove_file, "incremental"),
    Case("dates-moved", _dates_moved, "incremental"),
    Case("calendar-span-moved", _span_moved, "full"),
]


def _fingerprint(kg: object) -> tuple[list[str], set[object]]:
    store = kg.store  # type: ignore[attr-defined]
    rows = sorted(repr(r) for r in stages.stage_rows(store))
    return rows, set(store.triples(graph=DERIVED_GRAPH))


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "kg"
    shutil.copytree(ROOT / "kg", target)
    return target


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_rebuild_equals_a_fresh_build(case: Case, copy: Path, tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    first, report = rebuild.build([copy], folder=folder)
    assert report.mode == "full"
    del first
    case.change(copy)
    again, report = rebuild.build([copy], folder=folder)
    assert report.mode == case.mode
    if case.dyads is not None:
        assert report.dyads == case.dyads
    fresh = assemble([copy])
    assert _fingerprint(again) == _fingerprint(fresh)


def test_new_dyad_is_derived(copy: Path, tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    rebuild.build([copy], folder=folder)
    _new_dyad_file(copy)
    kg, _report = rebuild.build([copy], folder=folder)
    years = {r.year for r in stages.stage_rows(kg.store, dyad="KAZ-RUS", reading="strict")}
    assert 2005 in years


@pytest.mark.parametrize(
    "damage, reason",
    [
        (lambda f: (f / "BUILDING").write_text("x"), "did not finish"),
        (lambda f: (f / "manifest.json").write_text("{not json"), "no earlier build"),
        (lambda f: (f / "manifest.json").unlink(), "no earlier build"),
    ],
    ids=["interrupted", "manifest-garbled", "manifest-missing"],
)
def test_damaged_state_rebuilds_from_scratch(
    damage: Callable[[Path], object], reason: str, copy: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "cache"
    rebuild.build([copy], folder=folder)
    damage(folder)
    kg, report = rebuild.build([copy], folder=folder)
    assert report.mode == "full"
    assert reason in report.reason
    assert not (folder / "BUILDING").exists()
    assert _fingerprint(kg) == _fingerprint(assemble([copy]))


def test_bad_input_leaves_the_store_untouched(copy: Path, tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    rebuild.build([copy], folder=folder)
    manifest = (folder / "manifest.json").read_text(encoding="utf-8")
    (copy / "broken.ttl").write_text("<a> <b> .\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"broken\.ttl"):
        rebuild.build([copy], folder=folder)
    assert (folder / "manifest.json").read_text(encoding="utf-8") == manifest
    assert not (folder / "BUILDING").exists()
    (copy / "broken.ttl").unlink()
    _kg, report = rebuild.build([copy], folder=folder)
    assert report.mode == "unchanged"


def test_second_writer_is_told_the_store_is_locked(copy: Path, tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    rebuild.build([copy], folder=folder)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, pyoxigraph; s = pyoxigraph.Store(sys.argv[1]); "
            "print('open', flush=True); sys.stdin.read()",
            str(folder / "oxigraph"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(UsageError, match="locked by another alignkg process"):
            rebuild.build([copy], folder=folder)
    finally:
        holder.communicate("")


def test_cli_build_reuses_the_cache(copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    command = [sys.executable, "-m", "alignkg", "build", "--kg", str(copy), "--out", str(out)]
    first = subprocess.run(command, capture_output=True, text=True, check=False)
    assert first.returncode == 0, first.stderr
    assert "built from scratch" in first.stderr
    written = (out / "stages-strict.csv").read_bytes()
    second = subprocess.run(command, capture_output=True, text=True, check=False)
    assert second.returncode == 0, second.stderr
    assert "up to date, reused" in second.stderr
    assert (out / "stages-strict.csv").read_bytes() == written
    _new_dyad_file(copy)
    third = subprocess.run(command, capture_output=True, text=True, check=False)
    assert "1 changed file(s); 1 dyad(s) derived again" in third.stderr
    assert "KAZ-RUS" in (out / "stages-strict.csv").read_text(encoding="utf-8")


@pytest.mark.parametrize("delay", [0.5, 1.5, 2.5, 3.5, 5.0])
def test_kill_during_a_build_never_leaves_a_mixed_store(
    delay: float, copy: Path, tmp_path: Path
) -> None:
    """``kill -9`` a build at several moments: the next build reopens the store and ends
    with exactly what a fresh build gives (reused when the killed build had finished,
    rebuilt from scratch when it had not)."""
    out = tmp_path / "out"
    command = [sys.executable, "-m", "alignkg", "build", "--kg", str(copy), "--out", str(out)]
    subprocess.run(command, capture_output=True, check=True)
    _level_change(copy)
    victim = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        victim.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        victim.kill()  # SIGKILL: no cleanup runs
        victim.wait()
    kg, _report = rebuild.build([copy], folder=out / "cache")
    assert not (out / "cache" / "BUILDING").exists()
    assert _fingerprint(kg) == _fingerprint(assemble([copy]))


def test_unchanged_files_are_not_parsed_again(
    copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a one-file change only that file is parsed; the others come from the index,
    with the same triple counts and subject lines a parse gives."""
    folder = tmp_path / "cache"
    rebuild.build([copy], folder=folder)
    _level_change(copy)
    parsed: list[str] = []
    real_read = rebuild.read_file

    def counting(path: Path, **options: str) -> ParsedFile:
        parsed.append(path.name)
        return real_read(path, **options)

    monkeypatch.setattr(rebuild, "read_file", counting)
    kg, report = rebuild.build([copy], folder=folder)
    assert report.mode == "incremental"
    assert parsed == ["china-russia.ttl"]
    for file in kg.files:
        fresh = real_read(copy / Path(file.path).name)
        assert isinstance(file, ParsedFile) == (Path(file.path).name == "china-russia.ttl")
        assert (file.triple_count, dict(file.subject_lines)) == (
            fresh.triple_count,
            fresh.subject_lines,
        )
    indexed = next(f for f in kg.files if isinstance(f, rebuild.IndexedFile))
    fresh = real_read(copy / Path(indexed.path).name)
    assert len(indexed.triples) == indexed.triple_count, "parsed when asked for"
    assert _named(indexed.triples) == _named(fresh.triples)


def _named(triples: object) -> set[str]:
    """Triples without blank nodes (whose labels differ from one parse to the next)."""
    return {str(t) for t in triples if "_:" not in str(t)}  # type: ignore[attr-defined]


def test_a_lost_index_means_parsing_again(copy: Path, tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    rebuild.build([copy], folder=folder)
    shutil.rmtree(folder / "index")
    kg, report = rebuild.build([copy], folder=folder)
    assert report.mode == "incremental", "a file without an index entry counts as changed"
    assert all(isinstance(f, ParsedFile) for f in kg.files)
    assert _fingerprint(kg) == _fingerprint(assemble([copy]))
    del kg  # releases the store
    _kg, report = rebuild.build([copy], folder=folder)
    assert report.mode == "unchanged"


def test_an_unchanged_file_keeps_its_loader_warnings(copy: Path, tmp_path: Path) -> None:
    shutil.copy(ROOT / "tests" / "cases" / "bad-input" / "owl-imports-remote.ttl", copy)
    folder = tmp_path / "cache"
    first, _report = rebuild.build([copy], folder=folder)
    said = [str(w) for f in first.files for w in f.warnings]
    assert [s.split(": ")[1] for s in said] == ["AK113"]
    del first
    again, report = rebuild.build([copy], folder=folder)
    assert report.mode == "unchanged"
    assert not any(isinstance(f, ParsedFile) for f in again.files)
    assert [str(w) for f in again.files for w in f.warnings] == said


Elsewhere = Callable[[Path], tuple[Path, Path, list[Path]]]


def _from_inside(project: Path) -> tuple[Path, Path, list[Path]]:
    """The input named from inside its folder."""
    return project, project / "kg", [Path(".")]


def _from_elsewhere(project: Path) -> tuple[Path, Path, list[Path]]:
    """The input named by its absolute path, from a folder outside the project."""
    elsewhere = project.parent / "elsewhere"
    elsewhere.mkdir()
    return project, elsewhere, [project / "kg"]


def _project_moved(project: Path) -> tuple[Path, Path, list[Path]]:
    """The whole project (input and store) moved: the recorded root is gone."""
    moved = project.parent / "moved"
    project.rename(moved)
    return moved, moved, [Path("kg")]


def _root_unrecorded(project: Path) -> tuple[Path, Path, list[Path]]:
    """A manifest written before roots were recorded: named from the working directory."""
    path = project / "build" / "cache" / "manifest.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    del document["root"]
    path.write_text(json.dumps(document), encoding="utf-8")
    return project, project, [Path("kg")]


@pytest.mark.parametrize(
    "elsewhere",
    [_from_inside, _from_elsewhere, _project_moved, _root_unrecorded],
    ids=lambda f: f.__name__,
)
@pytest.mark.parametrize("change", [_nothing, _level_change], ids=lambda f: f.__name__)
def test_files_keep_their_names_from_another_directory(
    elsewhere: Elsewhere,
    change: Callable[[Path], None],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A store names its files from where it was first built: the same files named from
    another working directory (or the project moved whole) are the same files, so the
    rebuild reuses the store and no file's graphs are held twice."""
    project = tmp_path / "project"
    shutil.copytree(ROOT / "kg", project / "kg")
    monkeypatch.chdir(project)
    first, report = rebuild.build([Path("kg")], folder=Path("build/cache"))
    assert report.mode == "full"
    names = sorted(f.path for f in first.files)
    assert names == sorted(f"kg/{p.name}" for p in (project / "kg").glob("*.ttl"))
    graphs = sorted(map(str, first.store.graph_names()))
    del first
    project, cwd, paths = elsewhere(project)
    change(project / "kg")
    monkeypatch.chdir(cwd)
    folder = project / "build" / "cache"
    again, report = rebuild.build(paths, folder=folder)
    assert (report.mode, report.changed_files) == (
        ("unchanged", ()) if change is _nothing else ("incremental", ("kg/china-russia.ttl",))
    )
    assert sorted(f.path for f in again.files) == names
    assert sorted(map(str, again.store.graph_names())) == graphs
    assert _fingerprint(again) == _fingerprint(assemble([project / "kg"]))
    manifest = rebuild.read_manifest(folder)
    assert manifest is not None and sorted(manifest.files) == names
    assert manifest.root == str(project.resolve())


def test_files_outside_the_root_are_known_by_their_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store first built from a folder beside its input names the files by their
    absolute paths: the same files named relatively from elsewhere are the same files."""
    project = tmp_path / "project"
    shutil.copytree(ROOT / "kg", project / "kg")
    (project / "work").mkdir()
    monkeypatch.chdir(project / "work")
    first, _report = rebuild.build([Path("..") / "kg"], folder=project / "cache")
    names = sorted(f.path for f in first.files)
    assert names == sorted(str(p) for p in (project / "kg").resolve().glob("*.ttl"))
    del first
    _level_change(project / "kg")
    monkeypatch.chdir(project)
    again, report = rebuild.build([Path("kg")], folder=project / "cache")
    assert (report.mode, report.changed_files) == (
        "incremental",
        (str((project / "kg" / "china-russia.ttl").resolve()),),
    )
    assert sorted(f.path for f in again.files) == names


def test_a_bad_file_named_from_elsewhere_is_shown_as_typed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error names the file as the user typed it, whatever the store calls it."""
    project = tmp_path / "project"
    shutil.copytree(ROOT / "kg", project / "kg")
    monkeypatch.chdir(project)
    rebuild.build([Path("kg")], folder=Path("build/cache"))
    (project / "kg" / "broken.ttl").write_text("<a> <b> .\n", encoding="utf-8")
    monkeypatch.chdir(project / "kg")
    with pytest.raises(InputError) as raised:
        rebuild.build([Path(".")], folder=project / "build" / "cache")
    assert str(raised.value).startswith("broken.ttl:1:")


END_BEFORE_START = ROOT / "tests" / "cases" / "bad-input" / "end-before-start.ttl"


def _cli_build(kg: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "alignkg", "build", "--kg", str(kg), "--out", str(out), "-q"],
        capture_output=True,
        text=True,
        check=False,
    )


def _store_state(folder: Path) -> tuple[str, list[str]]:
    raw = ox.Store.read_only(str(folder / "oxigraph"))
    quads = sorted(str(q) for q in raw if "_:" not in str(q))
    return (folder / "manifest.json").read_text(encoding="utf-8"), quads


@pytest.mark.parametrize("change", ["add-a-bad-file", "break-a-file-in-place"])
def test_a_refused_build_puts_the_earlier_build_back(
    change: str, copy: Path, tmp_path: Path
) -> None:
    """A build whose coding validation refuses (exit 2) leaves the persistent store as
    the last accepted build left it, so the next build of the fixed input reuses it."""
    out = tmp_path / "out"
    assert _cli_build(copy, out).returncode == 0
    folder = out / "cache"
    assert not (folder / "previous").exists(), "an accepted build keeps no snapshot"
    before = _store_state(folder)
    outputs = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    original = (copy / "china-russia.ttl").read_text(encoding="utf-8")
    if change == "add-a-bad-file":
        shutil.copy(END_BEFORE_START, copy)
    else:
        marker = 'ak:startDate "1992-12-18"^^xsd:date'
        assert marker in original
        (copy / "china-russia.ttl").write_text(
            original.replace(marker, marker + ' ;\n    ak:endDate "1990-01-01"^^xsd:date', 1),
            encoding="utf-8",
        )
    refused = _cli_build(copy, out)
    assert refused.returncode == 2, refused.stderr
    assert "holds the last build again" in refused.stderr
    assert _store_state(folder) == before
    assert not (folder / "previous").exists() and not (folder / "BUILDING").exists()
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == outputs
    (copy / "end-before-start.ttl").unlink(missing_ok=True)
    (copy / "china-russia.ttl").write_text(original, encoding="utf-8")
    _kg, report = rebuild.build([copy], folder=folder)
    assert report.mode == "unchanged"


# --- The calendar's span after a change ---------------------------------------------------
# A rebuild scans the store for the calendar's first and last years only when the events
# the changed files touch (date or type) reach the span's edges, before or after the
# change; otherwise the span cannot have moved. Each case starts from kg/ (1992-2017)
# with one Kazakhstan-Russia event in files of its own, changes them, and compares the
# rebuild with a fresh build.


@dataclass(frozen=True)
class SpanCase:
    name: str
    #: file name -> text, before and after the change (None: no such file)
    before: dict[str, str]
    after: dict[str, str | None]
    mode: str
    scanned: bool


def _dated(date: str, *, typed: bool = True) -> str:
    text = PREFIXES + kaz_rus_event().replace('"2005-08-18"', f'"{date}"')
    return text if typed else text.replace(f"<{EVENT}> a ak:Event ;", f"<{EVENT}>")


TYPE_ONLY = PREFIXES + f"<{EVENT}> a ak:Event .\n"


def _moved(name: str, before: str, after: str, mode: str, *, scanned: bool) -> SpanCase:
    """The Kazakhstan-Russia event moved from the date ``before`` to ``after``."""
    return SpanCase(
        name, {"kaz-rus.ttl": _dated(before)}, {"kaz-rus.ttl": _dated(after)}, mode, scanned
    )


SPAN_CASES = [
    _moved("moved-inside-the-span", "2005-08-18", "2008-08-18", "incremental", scanned=False),
    _moved("moved-to-the-last-year", "2005-08-18", "2017-06-01", "incremental", scanned=False),
    _moved("stays-in-the-last-year", "2017-06-01", "2017-03-01", "incremental", scanned=False),
    _moved(
        "moved-from-the-last-year-inside", "2017-06-01", "2010-06-01", "incremental", scanned=True
    ),
    _moved("moved-back-from-beyond-the-span", "2019-08-18", "2010-08-18", "full", scanned=True),
    SpanCase(
        "no-longer-typed-an-event-by-another-file",
        {"kaz-rus.ttl": _dated("2019-08-18", typed=False), "kaz-rus-type.ttl": TYPE_ONLY},
        {"kaz-rus-type.ttl": None},
        "full",
        scanned=True,
    ),
]


@pytest.mark.parametrize("case", SPAN_CASES, ids=[c.name for c in SPAN_CASES])
def test_the_calendar_span_is_scanned_again_only_when_it_may_move(
    case: SpanCase, copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, text in case.before.items():
        (copy / name).write_text(text, encoding="utf-8")
    folder = tmp_path / "cache"
    first, report = rebuild.build([copy], folder=folder)
    assert report.mode == "full"
    del first
    for name, changed in case.after.items():
        if changed is None:
            (copy / name).unlink()
        else:
            (copy / name).write_text(changed, encoding="utf-8")
    scans: list[object] = []
    scan = rebuild.year_span

    def counted(store: object) -> object:
        scans.append(store)
        return scan(store)  # type: ignore[arg-type]

    monkeypatch.setattr(rebuild, "year_span", counted)
    again, report = rebuild.build([copy], folder=folder)
    assert report.mode == case.mode
    assert bool(scans) == case.scanned
    assert _fingerprint(again) == _fingerprint(assemble([copy]))


@pytest.mark.parametrize(
    ("before", "after", "holds"),
    [
        ([], [], True),
        ([(1995, 2000)], [(1996, 2001)], True),
        ([(1995, 2000)], [(1990, 2000)], True),  # reaches the first year: still inside
        ([(1995, 2000)], [(1989, 2000)], False),  # beyond it
        ([(1990, 2000)], [(1995, 2000)], False),  # the first year may have gone
        ([(1990, 2000)], [(1990, 1995)], True),  # still held by what changed
        ([(1995, 2010)], [], False),  # the last year may have gone with the file
        ([(1995, 2009)], [], True),
        ([(1992, 1993), (2009, 2010)], [(1995, 2010)], True),
        ([(1992, 1993), (2009, 2010)], [(1995, 2009)], False),
    ],
)
def test_when_the_span_holds(
    before: list[tuple[int, int]], after: list[tuple[int, int]], holds: bool
) -> None:
    assert rebuild._span_holds(before, after, 1990, 2010) is holds
