"""Values from the command line and from the web are bound, never formatted into SPARQL.

A list of hostile values (each would run ``DROP ALL``, or end a string or an IRI early,
if it were pasted into a query) crossed with every entry point that takes a value and
reaches SPARQL: the options of ``alignkg query``, ``stages``, ``explain``, ``strength``,
``agreement``, ``sensitivity``, ``figure`` and ``export``, and the parameters of the
``alignkg serve`` routes. After each, the graph holds the same quads, and the command
either answers normally (the value read as data: it matches nothing) or fails cleanly
(exit code 2, one ``alignkg: error:`` line, no traceback).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import quote

import httpx
import pyoxigraph as ox
import pytest

from alignkg import cli
from alignkg.build import KnowledgeGraph, assemble
from alignkg.store import OxigraphStore
from test_serve import COUNT_EVENTS, COUNT_QUADS, JSON, MINI, Running, _count, _start

ROOT = Path(__file__).resolve().parent.parent

HOSTILE = [
    'x" } ; DROP ALL ; SELECT * { "',
    "x' } ; DROP ALL ; SELECT * { '",
    '"""} DROP ALL #',
    "> } DROP ALL #",
    "CHN-RUS'; DROP ALL; #",
    'CHN-RUS" . } DROP ALL ; SELECT * WHERE { "',
    "<http://example.org/a> } DROP ALL ; SELECT * { <http://example.org/b>",
    "<http://example.org/a b>",
    "<http://example.org/a>b> } DROP ALL #",
    "ak:x> } DROP ALL #",
    "?s ?p ?o } DROP ALL #",
    "\\u0022 } DROP ALL #",
    '\\u003E } DROP ALL # "',
    "CHN-RUS\n} DROP ALL\n#",
    "CHN-RUS\r\nDROP ALL",
    "1 } DROP ALL #",
    "2015) } DROP ALL #",
    "\u202eSUR-NHC",
    "",
]
IDS = [f"h{i:02d}" for i in range(len(HOSTILE))]


# --- the graph, and its fingerprint ------------------------------------------------------


@cache
def mini() -> KnowledgeGraph:
    return assemble([MINI])


def fingerprint(kg: KnowledgeGraph) -> tuple[int, str]:
    assert isinstance(kg.store, OxigraphStore)
    dump = kg.store.store.dump(format=ox.RdfFormat.N_QUADS) or b""
    return len(kg.store), hashlib.sha256(b"".join(sorted(dump.splitlines()))).hexdigest()


# --- the command line ----------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    name: str
    argv: Callable[[str, Path], list[str]]
    rows: bool = False  # a CSV answer: when it succeeds, the hostile value matches no row


ENTRIES = [
    Entry("query-bind-dyad", lambda v, _t: ["query", "evidence", "--bind", f"dyad={v}"]),
    Entry("query-bind-year", lambda v, _t: ["query", "evidence", "--format", "csv", "--bind", f"year={v}"], rows=True),
    Entry("query-bind-event", lambda v, _t: ["query", "evidence", "--format", "csv", "--bind", f"event={v}"], rows=True),
    Entry("query-bind-literal", lambda v, _t: ["query", "states", "--format", "csv", "--bind", f"code={v}"], rows=True),
    Entry("query-bind-name", lambda v, _t: ["query", "states", "--format", "csv", "--bind", f"name={v}"]),
    Entry("query-bind-label", lambda v, _t: ["query", "events", "--format", "csv", "--bind", f"label={v}"], rows=True),
    Entry("query-bind-variable", lambda v, _t: ["query", "states", "--bind", f"{v}=1"]),
    Entry("query-name", lambda v, _t: ["query", v]),
    Entry("stages-dyad", lambda v, _t: ["stages", "--dyad", v]),
    Entry("explain-dyad-year", lambda v, _t: ["explain", "--dyad", v, "--year", "2015"]),
    Entry("explain-dyad-transitions", lambda v, _t: ["explain", "--dyad", v, "--transitions"]),
    Entry("strength-dyad", lambda v, _t: ["strength", "--dyad", v]),
    Entry("agreement-dyad", lambda v, _t: ["agreement", "--dyad", v, "--coders", "alice,bob"]),
    Entry("agreement-coders", lambda v, _t: ["agreement", "--dyad", "CHN-RUS", "--coders", f"{v},bob"]),
    Entry("figure-dyad", lambda v, t: ["figure", "dyad", "--dyad", v, "--format", "svg", "--output", str(t)]),
    Entry("export-what", lambda v, _t: ["export", v]),
    Entry("export-format", lambda v, _t: ["export", "events", "--format", v]),
]  # fmt: skip


def _run_in_process(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    """``alignkg ARGV`` on the shared graph (so that its quads can be compared)."""

    def shared(_args: argparse.Namespace, *_rest: object, **_kw: object) -> KnowledgeGraph:
        return mini()

    monkeypatch.setattr(cli, "_load", shared)
    try:
        code = cli.main([*argv, "-q"])
    except SystemExit as stop:  # argparse: a value outside an option's choices
        code = int(stop.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _clean(code: int, out: str, err: str, entry: Entry) -> None:
    assert "Traceback" not in err
    if code == 0:
        if entry.rows:
            assert len(list(csv.reader(io.StringIO(out)))) == 1, out  # the header alone
        return
    assert code == 2, err
    last = err.rstrip("\n").splitlines()[-1]
    assert last.startswith(("alignkg: error:", "alignkg ")), err


@pytest.mark.parametrize("value", HOSTILE, ids=IDS)
@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_a_hostile_value_on_the_command_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    entry: Entry,
    value: str,
) -> None:
    before = fingerprint(mini())
    code, out, err = _run_in_process(entry.argv(value, tmp_path), monkeypatch, capsys)
    _clean(code, out, err, entry)
    assert fingerprint(mini()) == before


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["query", "states", "--format", "csv", "--bind", "code=CHN"], 2),
        (["query", "evidence", "--format", "csv", "--bind", "year=1993"], 2),
        (["query", "evidence", "--format", "csv", "--bind", "event=<https://example.org/e1>"], 2),
    ],
)
def test_the_same_entry_points_find_real_values(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    expected: int,
) -> None:
    """The control: a binding that matches does return rows, so no rows above means the
    hostile value was compared as data, not that the binding is ignored."""
    code, out, _err = _run_in_process(argv, monkeypatch, capsys)
    assert code == 0
    assert len(list(csv.reader(io.StringIO(out)))) >= expected


SUBPROCESS = [
    ["query", "evidence", "--bind", "dyad=" + HOSTILE[0]],
    ["query", "states", "--bind", "code=<http://example.org/a> } DROP ALL #>"],
    ["query", "states", "--bind", "code=ak:x> } DROP ALL #"],
    ["stages", "--dyad", HOSTILE[4]],
    ["explain", "--dyad", HOSTILE[3], "--year", "2015"],
    ["strength", "--dyad", HOSTILE[13]],
    ["sensitivity", "--dyad", HOSTILE[5]],
    ["agreement", "--dyad", "CHN-RUS", "--coders", HOSTILE[0] + ",bob"],
]


@pytest.mark.parametrize("argv", SUBPROCESS, ids=lambda a: a[0])
def test_a_hostile_value_in_a_real_process(argv: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "alignkg", *argv, "-q", "--kg", str(MINI)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("alignkg: error: ")
    assert done.stderr.count("\n") == 1, done.stderr  # values are quoted: one line


# --- the web -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = _start(tmp_path_factory.mktemp("injection"), "--kg", str(MINI), "--timeout", "5")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=60) as http:
        yield http


WEB: list[tuple[str, Callable[[str], tuple[str, dict[str, str]]]]] = [
    ("grid-dyad", lambda v: ("api/grid", {"dyad": v})),
    ("cell-dyad", lambda v: ("api/cell", {"dyad": v, "year": "2015", "rung": "1"})),
    ("cell-year", lambda v: ("api/cell", {"dyad": "CHN-RUS", "year": v, "rung": "1"})),
    ("cell-rung", lambda v: ("api/cell", {"dyad": "CHN-RUS", "year": "2015", "rung": v})),
    ("sparql-default-graph", lambda v: ("sparql", {"query": COUNT_EVENTS, "default-graph-uri": v})),
    ("sparql-named-graph", lambda v: ("sparql", {"query": COUNT_EVENTS, "named-graph-uri": v})),
    ("static-path", lambda v: ("static/" + quote(v, safe=""), {})),
    ("dyads-extra", lambda v: ("api/dyads", {"dyad": v})),
]  # fmt: skip


@pytest.mark.parametrize("value", HOSTILE, ids=IDS)
@pytest.mark.parametrize(("name", "request_"), WEB, ids=[w[0] for w in WEB])
def test_a_hostile_value_on_the_web(
    served: Running,
    client: httpx.Client,
    name: str,
    request_: Callable[[str], tuple[str, dict[str, str]]],
    value: str,
) -> None:
    quads = _count(client, served, COUNT_QUADS)
    events = _count(client, served, COUNT_EVENTS)
    path, params = request_(value)
    for answer in (
        client.get(served.base + path, params=params, headers={"Accept": JSON}),
        client.post(served.base + path, data=params, headers={"Accept": JSON})
        if path == "sparql"
        else None,
    ):
        if answer is None:
            continue
        assert answer.status_code < 500, answer.text
        if path.startswith("api/") and answer.status_code != 200:
            assert set(answer.json()) == {"error"}
        if name.startswith("sparql") and answer.status_code == 200:
            assert int(answer.json()["results"]["bindings"][0]["n"]["value"]) <= events
    assert _count(client, served, COUNT_QUADS) == quads
    assert _count(client, served, COUNT_EVENTS) == events
