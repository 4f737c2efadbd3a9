"""The world-scale benchmark (``bench/run.py``): every phase at the tiny scale (1k events),
in a cache of the test's own, and the comparison of stage tables as data cases; then the
stage query's ladder (``bench/stagequery.py``) on the graph that run built."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import benchscripts

PHASES = ("parse", "bulkload", "reference", "build", "output", "rebuild", "rdflib")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str, Path]:
    """One run of the benchmark at the tiny scale: its results, its table, its cache."""
    work = tmp_path_factory.mktemp("bench")
    cache, results = work / "cache", work / "results.md"
    done = benchscripts.run("run.py", "--scale", "tiny", "--cache", cache, "--results", results)
    assert done.returncode == 0, done.stderr
    (result,) = json.loads((cache / "results.json").read_text(encoding="utf-8"))
    return result, results.read_text(encoding="utf-8"), cache


@pytest.mark.parametrize("phase", PHASES)
def test_every_phase_runs_at_the_tiny_scale(tiny: tuple[dict, str, Path], phase: str) -> None:
    result, _table, _cache = tiny
    assert "error" not in result[phase], result[phase]
    assert result[phase]["maxrss_mb"] > 0


def test_every_engine_gives_the_same_stage_table(tiny: tuple[dict, str, Path]) -> None:
    result, table, _cache = tiny
    assert result["compared"] == ["build", "rdflib", "rebuild", "reference"]
    assert result["identical"] is True and result["mismatches"] == []
    assert result["build"]["rows"] == result["rdflib"]["rows"] == result["reference"]["rows"]
    assert result["build"]["rows"] > 0
    assert "yes (build, rdflib, rebuild, reference)" in table


def test_the_build_holds_more_than_its_input_and_its_floor_is_measured(
    tiny: tuple[dict, str, Path],
) -> None:
    result, table, cache = tiny
    output, parse = result["output"], result["parse"]
    # the input, what it entails and what is derived: more than the input alone
    assert output["quads"] > parse["triples"] > 0
    assert output["seconds"] > 0 and output["bytes"] > 0
    assert (cache / "tiny-seed1.nt.output.nq").stat().st_size == output["bytes"]
    row = next(line for line in table.splitlines() if line.startswith("| tiny | 1,000 |"))
    assert f"| {parse['triples']:,} | {output['quads']:,} |" in table
    assert row.count("|") > 10
    # the benchmark's own files stay in the cache it was given
    assert not list(cache.glob("alignkg-bench-*"))


#: (the rows each engine gave, whether they are the same, what the mismatch note names)
COMPARISONS = [
    ({"a": [["CHN-RUS", 1996]], "b": [["CHN-RUS", 1996]]}, True, None),
    ({"a": [["CHN-RUS", 1996]], "b": [["CHN-RUS", 1996]], "c": [["CHN-RUS", 1996]]}, True, None),
    ({"a": [["CHN-RUS", 1996]], "b": [["CHN-RUS", 1997]]}, False, "a vs b: 1 rows only in a"),
    ({"a": [["CHN-RUS", 1996], ["CHN-RUS", 1997]], "b": [["CHN-RUS", 1996]]}, False, "0 only in b"),
    ({"a": [["X", [1, 2]]], "b": [["X", [1, 2]]]}, True, None),
    ({"a": [["X", [1, 2]]], "b": [["X", [2, 1]]]}, False, "a vs b"),
]


@pytest.mark.parametrize(("tables", "same", "note"), COMPARISONS)
def test_stage_tables_are_compared_row_by_row(
    tables: dict[str, list], same: bool, note: str | None, tmp_path: Path
) -> None:
    paths = {}
    for name, rows in tables.items():
        paths[name] = tmp_path / f"{name}.json"
        paths[name].write_text(json.dumps(rows), encoding="utf-8")
    identical, notes = benchscripts.module("run").compare(paths)
    assert identical is same
    if note is None:
        assert notes == []
    else:
        assert any(note in n for n in notes), notes


def test_the_stage_query_ladder_runs_on_the_built_graph(
    tiny: tuple[dict, str, Path], tmp_path: Path
) -> None:
    result, _table, cache = tiny
    out = tmp_path / "ladder.json"
    done = benchscripts.run(
        "stagequery.py", cache / "tiny-seed1.nt.output.nq", "--repeat", "1", "--json", out
    )
    assert done.returncode == 0, done.stdout + done.stderr
    ladder = json.loads(out.read_text(encoding="utf-8"))
    assert ladder["quads"] == result["output"]["quads"]
    names = [q["query"] for q in ladder["queries"]]
    assert names == ["1-scan.rq", "2-star.rq", "3-labelled.rq", "stage-per-dyad-year.rq"]
    # every rung has one row per assessment: the stage table's rows
    assert {q["rows"] for q in ladder["queries"]} == {result["build"]["rows"]}
    assert all(q["identical"] and q["oxigraph_s"] > 0 and q["rdflib_s"] > 0
               for q in ladder["queries"])
    assert "| `stage-per-dyad-year.rq` |" in done.stdout


#: (the file's text, or None for no file; what the refusal says after the file's name)
REFUSED_GRAPHS = [
    (None, ": no such file"),
    ('<http://a> <http://b> <http://c> .\n<http://a> <http://b> "x\n', ": not N-Quads: "),
    ("<http://a> <http://b> .\n", ": not N-Quads: "),
]


@pytest.mark.parametrize(("text", "said"), REFUSED_GRAPHS, ids=["missing", "cut-off", "no-object"])
def test_the_ladder_refuses_a_graph_it_cannot_read(
    text: str | None, said: str, tmp_path: Path
) -> None:
    graph = tmp_path / "graph.nq"
    if text is not None:
        graph.write_text(text, encoding="utf-8")
    done = benchscripts.run("stagequery.py", graph)
    assert done.returncode == 2
    assert f"{graph}{said}" in done.stderr
    if text is not None:
        assert "line 1" in done.stderr or "line 2" in done.stderr
    assert "Traceback" not in done.stderr


#: (column names, one engine's rows, the other's, whether they are the same)
LADDER_ROWS = [
    (["dyad", "counted"], [("A", "1 2")], [("A", "2 1")], True),
    (["dyad", "counted"], [("A", "1 2")], [("A", "1 3")], False),
    (["dyad", "label"], [("A", "b a")], [("A", "a b")], False),
    (["dyad", "counted"], [("A", None)], [("A", "")], False),
    (["dyad", "year"], [("A", "1"), ("B", "2")], [("B", "2"), ("A", "1")], True),
    (["dyad", "year"], [("A", "1"), ("A", "1")], [("A", "1")], False),
]


@pytest.mark.parametrize(("names", "one", "other", "same"), LADDER_ROWS)
def test_the_ladder_compares_rows_in_any_order_and_lists_as_sets_of_items(
    names: list[str], one: list[tuple], other: list[tuple], same: bool
) -> None:
    comparable = benchscripts.module("stagequery")._comparable
    assert (comparable(names, one) == comparable(names, other)) is same
