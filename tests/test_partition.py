"""The partitioned build: a build from scratch done group of dyads by group in the store.

Every case builds a copy of ``kg/`` (with some additions) partitioned, into groups of
a given number of events, and in memory, and compares the two: the same stage rows, the
same derived triples and the same findings, line for line, whatever the group size
(one dyad per group, a few groups, one group for everything).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from rdflib.compare import isomorphic

import benchscripts
from alignkg import partition, rebuild, stages
from alignkg.build import assemble
from alignkg.errors import InputError
from alignkg.namespace import DERIVED_GRAPH
from alignkg.validate import Report, report_graph, validate
from dyad_event import EVENT, PREFIXES, kaz_rus_event

ROOT = Path(__file__).resolve().parent.parent

KAZ_RUS = kaz_rus_event(indicator="IntegratedCommand")

# An event no dyad concerns (it has no parties) and a source nobody cites, without a
# language: both are validated with the statements no group covers.
FLAWED = """
<https://w3id.org/alignkg/event/test/no-parties> a ak:Event ;
    rdfs:label "An event without parties"@en ;
    ak:dimension ak:Diplomatic ;
    ak:startDate "2005-08-18"^^xsd:date ;
    ak:datePrecision ak:DayPrecision ;
    ak:persistence ak:OneOff ;
    prov:wasDerivedFrom src:korolev-2019 ;
    prov:wasAttributedTo coder:alignkg-team .

<https://w3id.org/alignkg/source/test/uncited> a ak:Source ;
    dcterms:title "A source nobody cites" .
"""


OTHER = "https://w3id.org/alignkg/event/test/blr-rus-2006-talks"
ANNOTATION = "https://w3id.org/alignkg/annotation/test/"


# The Kazakhstan-Russia event with an annotation named by an IRI, and more of it in a
# second file (where it has no parties): its group reads both.
def _named_annotation(name: str, quote: str) -> str:
    """An evidence annotation of the Kazakhstan-Russia event, named by an IRI."""
    return f"""
<{ANNOTATION}{name}> a oa:Annotation ;
    oa:motivatedBy oa:describing ;
    oa:hasBody <{EVENT}> ;
    oa:hasTarget [ a oa:SpecificResource ;
        oa:hasSource src:korolev-2019 ;
        oa:hasSelector [ a oa:TextQuoteSelector ; oa:exact "{quote}" ] ] .
"""


KAZ_RUS_NAMED = (
    KAZ_RUS.rstrip().rstrip(".")
    + f"; ak:evidence <{ANNOTATION}named> .\n"
    + _named_annotation("named", "joint exercises")
)
MORE_OF_IT = f"<{EVENT}> ak:evidence <{ANNOTATION}elsewhere> .\n" + _named_annotation(
    "elsewhere", "the exercise"
)


def _belarus_russia(evidence: str) -> str:
    """A Belarus-Russia event (another dyad kg/ does not have) with ``evidence``."""
    return f"""
<{OTHER}> a ak:Event ;
    rdfs:label "Test talks of Belarus and Russia"@en ;
    ak:party state:BLR , state:RUS ;
    ak:dimension ak:Military ;
    ak:indicator ak:ConsultationMechanisms ;
    ak:level ak:Low ;
    ak:startDate "2006-03-01"^^xsd:date ;
    ak:datePrecision ak:DayPrecision ;
    ak:persistence ak:OneOff ;
    prov:wasDerivedFrom src:korolev-2019 ;
    prov:wasAttributedTo coder:alignkg-team ;
    {evidence} .
"""


# Two events of two dyads whose annotations share one target (a blank node): it is
# read by both groups.
SHARED_TARGET = (
    KAZ_RUS.replace("ak:evidence [", "ak:evidence [ oa:hasTarget _:shared ] , [", 1)
    + _belarus_russia(
        "ak:evidence [ a oa:Annotation ; oa:motivatedBy oa:describing ; "
        f"oa:hasBody <{OTHER}> ; oa:hasTarget _:shared ]"
    )
    + """
_:shared a oa:SpecificResource ;
    oa:hasSource src:korolev-2019 ;
    oa:hasSelector [ a oa:TextQuoteSelector ; oa:exact "joint exercises" ] .
"""
)

# An event derived from another event: its evidence path leads into another group, so
# every group reads its input from the whole store.
LINKED = KAZ_RUS + _belarus_russia(f"prov:wasDerivedFrom <{EVENT}>")


@dataclass(frozen=True)
class Case:
    name: str
    additions: dict[str, str]


CASES = [
    Case("kg", {}),
    Case("kg-and-a-dyad-with-a-ladder-warning", {"kaz-rus.ttl": KAZ_RUS}),
    Case("kg-and-statements-no-group-covers", {"flawed.ttl": FLAWED}),
    Case("an-event-in-two-files", {"kaz-rus.ttl": KAZ_RUS_NAMED, "more.ttl": MORE_OF_IT}),
    Case("two-events-share-a-target", {"shared.ttl": SHARED_TARGET}),
    Case("an-event-derived-from-another", {"linked.ttl": LINKED}),
]
#: (events per group, groups at once): each group a dyad, a few groups, one group; and
#: groups run side by side in worker processes.
SETTINGS = [(1, 1), (10, 1), (100_000, 1), (1, 2), (10, 3)]
LINKED_CASE = "an-event-derived-from-another"


def _copy(tmp_path: Path, case: Case) -> Path:
    target = tmp_path / "kg"
    shutil.copytree(ROOT / "kg", target)
    for name, text in case.additions.items():
        (target / name).write_text(PREFIXES + text, encoding="utf-8")
    return target


def _fingerprint(kg: object) -> tuple[list[str], set[object]]:
    store = kg.store  # type: ignore[attr-defined]
    return sorted(repr(r) for r in stages.stage_rows(store)), set(
        store.triples(graph=DERIVED_GRAPH)
    )


def _lines(report: Report) -> list[str]:
    return [f.line() for f in report.findings]


@pytest.mark.parametrize(
    ("size", "jobs"),
    SETTINGS,
    ids=[f"groups-of-{s}" + (f"-{j}-jobs" if j > 1 else "") for s, j in SETTINGS],
)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_partitioned_build_equals_the_in_memory_build(
    case: Case, size: int, jobs: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALIGNKG_GROUP_EVENTS", str(size))
    kg_folder = _copy(tmp_path, case)
    said: list[str] = []
    kg, report = rebuild.build(
        [kg_folder], folder=tmp_path / "cache", partitioned=True, progress=said.append, jobs=jobs
    )
    assert report.mode == "full"
    # only linked events make the groups read their input from the whole store
    linked = case.name == LINKED_CASE
    assert any("from the store" in m for m in said) == linked
    # ... and then they run one at a time (each marks its events in that store)
    assert any("in worker processes" in m for m in said) == (jobs > 1 and not linked)
    assert report.partition is not None and report.partition.store is None
    partitioned = validate(kg, partition=report.partition)
    fresh = assemble([kg_folder])
    whole = validate(fresh)
    assert _fingerprint(kg) == _fingerprint(fresh)
    assert _lines(partitioned) == _lines(whole)
    assert isomorphic(report_graph(partitioned), report_graph(whole))
    assert not (tmp_path / "cache" / "spool").exists()
    if case.name == "kg-and-statements-no-group-covers":
        # the event without parties (AK414) and the uncited source without a language
        # (AK432) are found although no group of dyads holds them
        assert {"AK414", "AK432"} <= {f.code for f in partitioned.violations}


def test_a_bad_file_stops_before_the_store_is_made(tmp_path: Path) -> None:
    kg_folder = _copy(tmp_path, CASES[0])
    (kg_folder / "broken.ttl").write_text("<a> <b> .\n", encoding="utf-8")
    folder = tmp_path / "cache"
    with pytest.raises(InputError, match=r"broken\.ttl"):
        rebuild.build([kg_folder], folder=folder, partitioned=True)
    assert not (folder / "spool").exists()
    assert not (folder / "oxigraph").exists()
    assert not (folder / "manifest.json").exists()


def test_a_partitioned_store_is_changed_incrementally_afterwards(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALIGNKG_GROUP_EVENTS", "10")
    kg_folder = _copy(tmp_path, CASES[0])
    folder = tmp_path / "cache"
    first, report = rebuild.build([kg_folder], folder=folder, partitioned=True)
    rebuild.accept(folder, validate(first, partition=report.partition).findings)
    del first
    (kg_folder / "kaz-rus.ttl").write_text(PREFIXES + KAZ_RUS, encoding="utf-8")
    again, report = rebuild.build([kg_folder], folder=folder, partitioned=True)
    assert report.mode == "incremental"
    assert report.partition is not None and report.partition.store is not None
    fresh = assemble([kg_folder])
    assert _fingerprint(again) == _fingerprint(fresh)
    assert _lines(validate(again, partition=report.partition)) == _lines(validate(fresh))


def test_cli_build_partitions_large_input(tmp_path: Path) -> None:
    kg_folder = _copy(tmp_path, CASES[1])
    out = tmp_path / "out"
    command = [sys.executable, "-m", "alignkg", "build", "--kg", str(kg_folder)]
    environment = {**os.environ, "ALIGNKG_PARTITION_BYTES": "1", "ALIGNKG_GROUP_EVENTS": "20"}
    done = subprocess.run(
        [*command, "--out", str(out), "--jobs", "2"],
        capture_output=True,
        text=True,
        check=False,
        env=environment,
    )
    assert done.returncode == 0, done.stderr
    assert "group 1/" in done.stderr
    assert "2 at a time in worker processes" in done.stderr
    memory = tmp_path / "memory"
    fresh = subprocess.run(
        [*command, "--out", str(memory), "--no-cache"], capture_output=True, text=True, check=False
    )
    assert fresh.returncode == 0, fresh.stderr
    for name in ("stages-strict.csv", "stages-manifested.csv", "validation.txt", "events.csv"):
        assert (out / name).read_text(encoding="utf-8") == (memory / name).read_text(
            encoding="utf-8"
        ), name


BAD_SETTINGS = [
    ("ALIGNKG_GROUP_EVENTS", "0"),
    ("ALIGNKG_GROUP_EVENTS", "-5"),
    ("ALIGNKG_GROUP_EVENTS", "many"),
    ("ALIGNKG_PARTITION_BYTES", "1.5"),
    ("ALIGNKG_PARTITION_BYTES", "512MB"),
]


@pytest.mark.parametrize(("name", "value"), BAD_SETTINGS, ids=[f"{n}={v}" for n, v in BAD_SETTINGS])
def test_a_bad_setting_is_refused_naming_its_variable(
    name: str, value: str, tmp_path: Path
) -> None:
    kg_folder = _copy(tmp_path, CASES[0])
    out = tmp_path / "out"
    environment = {**os.environ, "ALIGNKG_PARTITION_BYTES": "1", name: value}
    done = subprocess.run(
        [sys.executable, "-m", "alignkg", "build", "--kg", str(kg_folder), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
        env=environment,
    )
    assert done.returncode == 2, done.stderr
    assert name in done.stderr and repr(value) in done.stderr
    assert "Traceback" not in done.stderr
    assert not (out / "stages-strict.csv").exists()
    # refused before the store or its spool is made
    assert not (out / "cache" / "spool").exists()
    assert not (out / "cache" / "oxigraph").exists()


@pytest.mark.parametrize("value", ["0", "-1", "many", "1.5"])
def test_a_bad_number_of_jobs_is_refused(value: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "alignkg", "build", "--out", str(out), f"--jobs={value}"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 2, done.stderr
    assert f"--jobs: {value!r} is not a positive number of processes" in done.stderr
    assert not out.exists()


#: (groups at once, events per group, what its progress says, the held floor's flags,
#: where it loads)
BENCH_SETTINGS = [
    (1, "50000", "group 1/1", ["--held-floor"], "memory"),
    (1, "50000", "group 1/1", ["--held-floor", "disk"], "disk"),
    (2, "10", "at a time in worker processes", [], None),
]


@pytest.mark.parametrize(
    ("jobs", "size", "said", "flags", "held"),
    BENCH_SETTINGS,
    ids=["one-job-held-in-memory", "one-job-held-on-disk", "two-jobs"],
)
def test_the_benchmark_of_one_partitioned_build_reports_time_and_memory(
    jobs: int, size: str, said: str, flags: list[str], held: str | None, tmp_path: Path
) -> None:
    kg_folder = _copy(tmp_path, CASES[0])
    summary = tmp_path / "summary.json"
    done = benchscripts.run(
        "partitioned.py",
        kg_folder,
        "--json",
        summary,
        "--jobs",
        str(jobs),
        *flags,
        env={"ALIGNKG_GROUP_EVENTS": size},
    )
    assert done.returncode == 0, done.stderr
    assert said in done.stdout
    result = json.loads(summary.read_text(encoding="utf-8"))
    assert set(result["timings"]) >= {"parse", "load", "derive", "validate", "load derived"}
    assert result["jobs"] == jobs
    assert result["maxrss_mb"] > 0
    assert result["tree_pss_peak_mb"] > 0
    assert (result["largest_worker_maxrss_mb"] > 0) == (jobs > 1)
    assert result["quads"] > 0
    if held is not None:
        # what the store holds, written out and bulk-loaded again: every quad, once
        assert result["held_floor"] == held
        assert result["held_quads"] == result["quads"]
        assert result["held_bytes"] > 0 and result["held_bulk_load_s"] > 0
        assert result["held_bulk_load_peak_mb"] > 0
    else:
        assert "held_quads" not in result
    assert not list(tmp_path.glob("alignkg-held-*")) and not list(
        Path(tempfile.gettempdir()).glob("alignkg-held-*/held.nq")
    )
    fresh = assemble([kg_folder])
    assert result["findings"] == len(validate(fresh).findings)


def test_a_failed_held_floor_keeps_the_build_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = benchscripts.module("partitioned")

    def killed(store: object, beside: Path, *, on_disk: bool = False) -> dict[str, float]:
        raise subprocess.CalledProcessError(-9, ["loader"], stderr="")

    monkeypatch.setattr(bench, "held_floor", killed)
    out = tmp_path / "summary.json"
    kg_folder = _copy(tmp_path, CASES[0])
    code = bench.main([str(kg_folder), "--held-floor", "--json", str(out)])
    assert code == 1
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["held_floor_error"] == "exit code -9 (killed: out of memory?)"
    assert result["quads"] > 0 and result["seconds"] > 0 and "load derived" in result["timings"]
    assert "the held floor failed: exit code -9" in capsys.readouterr().err


def test_the_benchmark_of_one_dyad_rebuilds_reuses_a_kept_build(tmp_path: Path) -> None:
    data = tmp_path / "world.nt"
    made = benchscripts.run("generate.py", "--seed", "1", "--events", "300", "--out", data)
    assert made.returncode == 0, made.stderr
    store = tmp_path / "store"
    # a store without a build whose findings were kept is refused
    refused = benchscripts.run("onedyad.py", data, "--store", store)
    assert refused.returncode == 2
    assert str(store) in refused.stderr and "partitioned.py --store" in refused.stderr
    built = benchscripts.run("partitioned.py", data, "--store", store)
    assert built.returncode == 0, built.stderr
    out = tmp_path / "rebuilds.json"
    done = benchscripts.run("onedyad.py", data, "--store", store, "--json", out)
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["unchanged"]["mode"] == "unchanged"
    assert result["unchanged"]["validated"] == "reused"
    for step in ("added", "changed"):
        assert result[step]["mode"] == "incremental"
        assert result[step]["dyads"] == 1
        assert result[step]["validated"].endswith(" nodes")
    # what was validated after the change is what a whole validation finds
    assert result["changed"]["same_as_whole"] is True
    # a chosen event's dyad; the build it leaves is the one the store holds, so the
    # next run starts with nothing changed
    level = "<https://w3id.org/alignkg/ns#level>"
    lines = data.read_text(encoding="utf-8").splitlines()
    event = [line.split()[0][1:-1] for line in lines if f" {level} " in line][3]
    again = benchscripts.run("onedyad.py", data, "--store", store, "--json", out, "--event", event)
    assert again.returncode == 0, again.stderr
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["unchanged"]["mode"] == "unchanged"
    for step in ("added", "changed"):
        assert result[step]["mode"] == "incremental"
    assert f"<{event}-added>" in (tmp_path / "store-added" / "one-dyad.nt").read_text("utf-8")
    missing = benchscripts.run("onedyad.py", data, "--store", store, "--event", event + "-none")
    assert missing.returncode != 0
    assert "no statement about" in missing.stderr
    # an event without a level could not be changed: refused, not timed as a change
    levelled = {line.split()[0] for line in lines if f" {level} " in line}
    parties = [line.split()[0] for line in lines if "/ns#party> " in line]
    plain = next(s for s in parties if s not in levelled)[1:-1]
    refused = benchscripts.run("onedyad.py", data, "--store", store, "--event", plain)
    assert refused.returncode != 0
    assert "has no level to change" in refused.stderr


#: (jobs asked for, events linked across groups, groups, processes can be forked) -> workers
WORKERS = [
    ((1, False, 5, True), 1),
    ((4, False, 2, True), 2),
    ((2, False, 9, True), 2),
    ((4, True, 9, True), 1),
    ((4, False, 9, False), 1),
    ((3, False, 1, True), 1),
]


@pytest.mark.parametrize(("given", "expected"), WORKERS, ids=[str(g) for g, _e in WORKERS])
def test_how_many_groups_run_at_once(
    given: tuple[int, bool, int, bool], expected: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    jobs, linked, groups, forks = given
    monkeypatch.setattr(partition, "can_fork", lambda: forks)
    assert partition._workers(jobs, linked, groups) == expected


def test_a_worker_that_fails_stops_the_build_and_leaves_no_spool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error in one group's worker reaches the build, which stops with it; the other
    workers are ended and the spool removed."""
    monkeypatch.setenv("ALIGNKG_GROUP_EVENTS", "1")
    kg_folder = _copy(tmp_path, CASES[1])
    real = partition._group

    def failing(work: object, number: int, out: object) -> object:
        if number == 2:
            raise RuntimeError("group 2 failed in its worker")
        return real(work, number, out)  # type: ignore[arg-type]

    monkeypatch.setattr(partition, "_group", failing)
    folder = tmp_path / "cache"
    with pytest.raises(RuntimeError, match="group 2 failed in its worker"):
        rebuild.build([kg_folder], folder=folder, partitioned=True, jobs=2)
    assert not (folder / "spool").exists()
    assert partition._FORKED is None
