"""The world-scale benchmark (``bench/run.py``): every phase at the tiny scale (1k events),
in a cache of the test's own, and the comparison of stage tables as data cases."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
PHASES = ("parse", "bulkload", "reference", "build", "output", "rebuild", "rdflib")


def _run_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "bench" / "run.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str, Path]:
    """One run of the benchmark at the tiny scale: its results, its table, its cache."""
    work = tmp_path_factory.mktemp("bench")
    cache, results = work / "cache", work / "results.md"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "run.py"),
            "--scale",
            "tiny",
            "--cache",
            str(cache),
            "--results",
            str(results),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
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
    identical, notes = _run_module().compare(paths)
    assert identical is same
    if note is None:
        assert notes == []
    else:
        assert any(note in n for n in notes), notes
