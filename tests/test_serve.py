"""``alignkg serve``: the real command as a subprocess, queried over HTTP.

The SPARQL 1.1 Protocol (GET, POST form, POST body; JSON, CSV, TSV, N-Triples), the
refusal of updates, LOAD and SERVICE (the store is unchanged afterwards and nothing
reaches a SERVICE endpoint), the time limit, the web files, the JSON API, and a clean
shutdown that leaves no Oxigraph process behind. The refusal rules themselves are also
checked directly, spelling by spelling.
"""

from __future__ import annotations

import csv
import http.client
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import IO

import httpx
import pyoxigraph as ox
import pytest
from rdflib import Graph

from alignkg import server
from alignkg.build import KnowledgeGraph, assemble
from alignkg.errors import QueryError, UsageError
from alignkg.resources import query_text
from servers import recording_listener

ROOT = Path(__file__).resolve().parent.parent
MINI = ROOT / "tests" / "cases" / "example" / "mini.ttl"
WEB = ROOT / "src" / "alignkg" / "web"
AK = "PREFIX ak: <https://w3id.org/alignkg/ns#>\n"
COUNT_EVENTS = AK + "SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE { ?e a ak:Event }"
COUNT_QUADS = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
EXPENSIVE = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
JSON = "application/sparql-results+json"
CSV = "text/csv"
TSV = "text/tab-separated-values"
URL = re.compile(r"alignkg: serving (http://\S+/) \(SPARQL endpoint (http://\S+/sparql)\)")


# --- running the command ---------------------------------------------------------------


@dataclass
class Running:
    process: subprocess.Popen[str]
    base: str
    endpoint: str
    store: Path
    stderr: IO[str]

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.stderr.close()
        return self.process.returncode


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "alignkg", "serve", "-q", *args]


def _start(tmp: Path, *args: str) -> Running:
    """Start ``alignkg serve`` and read the URL it prints (it prints nothing else)."""
    store = tmp / "store"
    stderr = (tmp / "stderr.txt").open("w+", encoding="utf-8")
    process = subprocess.Popen(
        _command("--port", "0", "--store", str(store), *args),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()  # blocks until the URL is printed or the process ends
    match = URL.search(line)
    if not match:
        process.kill()
        process.wait()
        stderr.seek(0)
        raise AssertionError(f"alignkg serve did not start: {line!r} {stderr.read()}")
    return Running(process, match.group(1), match.group(2), store, stderr)


@pytest.fixture(scope="module")
def mini(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = _start(tmp_path_factory.mktemp("mini"), "--kg", str(MINI), "--timeout", "1")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = _start(tmp_path_factory.mktemp("kg"), "--kg", str(ROOT / "kg"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    # A generous client-side limit only so that a hanging server fails the test.
    with httpx.Client(timeout=60) as http:
        yield http


@cache
def mini_graph() -> KnowledgeGraph:
    return assemble([MINI])


def _oxigraph_processes(store: Path) -> list[int]:
    """The pids of Oxigraph servers whose command line names ``store``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"serve-read-only" in command and str(store).encode() in command:
            found.append(int(entry.name))
    return found


# --- reading results -------------------------------------------------------------------


def _rows(response: httpx.Response) -> list[dict[str, str]]:
    """SELECT results as rows of plain values, whatever the format."""
    assert response.status_code == 200, response.text
    media = response.headers["content-type"].split(";")[0]
    if media == JSON:
        data = response.json()
        return [
            {name: cell["value"] for name, cell in row.items()}
            for row in data["results"]["bindings"]
        ]
    if media == CSV:
        return list(csv.DictReader(io.StringIO(response.text)))
    if media == TSV:
        lines = response.text.splitlines()
        names = [n.lstrip("?") for n in lines[0].split("\t")]
        rows = []
        for line in lines[1:]:
            cells = [_tsv_value(c) for c in line.split("\t")]
            rows.append({n: c for n, c in zip(names, cells, strict=True) if c != ""})
        return rows
    raise AssertionError(f"unexpected content type {media}")


def _tsv_value(cell: str) -> str:
    if cell.startswith("<") and cell.endswith(">"):
        return cell[1:-1]
    match = re.fullmatch(r'"(.*)"(?:\^\^<[^>]*>|@[\w-]+)?', cell)
    if match:
        return match.group(1)
    return cell  # a bare number


def _count(client: httpx.Client, running: Running, text: str) -> int:
    answer = client.get(running.endpoint, params={"query": text}, headers={"Accept": JSON})
    return int(_rows(answer)[0]["n"])


def _send(
    client: httpx.Client, running: Running, how: str, text: str, accept: str
) -> httpx.Response:
    headers = {"Accept": accept}
    if how == "get":
        return client.get(running.endpoint, params={"query": text}, headers=headers)
    if how == "form":
        return client.post(running.endpoint, data={"query": text}, headers=headers)
    headers["Content-Type"] = "application/sparql-query"
    return client.post(running.endpoint, content=text.encode("utf-8"), headers=headers)


# --- SELECT, ASK, CONSTRUCT ------------------------------------------------------------

HOWS = ("get", "form", "body")
FORMATS = (JSON, CSV, TSV)


@pytest.mark.parametrize("accept", FORMATS)
@pytest.mark.parametrize("how", HOWS)
def test_select_the_stage_of_a_dyad_year(
    mini: Running, client: httpx.Client, how: str, accept: str
) -> None:
    """The named query stage-per-dyad-year, sent as is: CHN-RUS 2005 on the example graph."""
    answer = _send(client, mini, how, query_text("stage-per-dyad-year"), accept)
    assert answer.headers["content-type"].startswith(accept)
    rows = {(r["dyadLabel"], r["year"], r["readingCode"]): r for r in _rows(answer)}
    strict = rows[("CHN-RUS", "2005", "strict")]
    assert (strict["stageCode"], strict["levelCode"]) == ("moderate", "low")
    assert sorted(strict["counted"].split()) == ["2", "3", "4"]
    assert strict["precursors"] == "5"
    manifested = rows[("CHN-RUS", "2005", "manifested")]
    assert (manifested["stageCode"], manifested["highestRung"]) == ("advanced", "5")
    # Every dyad-year of both readings, as the in-process query gives them.
    local = mini_graph().store.select(query_text("stage-per-dyad-year"))
    assert len(rows) == len(local) == 2 * (14 + 14 * 2)


@pytest.mark.parametrize("accept", FORMATS)
@pytest.mark.parametrize("how", HOWS)
def test_select_the_count_of_events(
    mini: Running, client: httpx.Client, how: str, accept: str
) -> None:
    assert _rows(_send(client, mini, how, COUNT_EVENTS, accept)) == [{"n": "6"}]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (AK + "ASK { <https://example.org/e1> a ak:Event }", True),
        (AK + "ASK { <https://example.org/e1> ak:level ak:High }", False),
    ],
)
@pytest.mark.parametrize("how", HOWS)
def test_ask(mini: Running, client: httpx.Client, how: str, text: str, expected: bool) -> None:
    answer = _send(client, mini, how, text, JSON)
    assert answer.status_code == 200
    assert answer.json()["boolean"] is expected


@pytest.mark.parametrize(
    ("accept", "media"),
    [("application/n-triples", "application/n-triples"), ("text/turtle", "text/turtle")],
)
def test_construct(mini: Running, client: httpx.Client, accept: str, media: str) -> None:
    text = AK + "CONSTRUCT { ?e a ak:Event } WHERE { ?e a ak:Event }"
    answer = _send(client, mini, "get", text, accept)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith(media)
    graph = Graph().parse(data=answer.text, format="nt" if "n-triples" in media else "turtle")
    assert sorted(str(s) for s in graph.subjects()) == [
        f"https://example.org/e{i}" for i in range(1, 7)
    ]
    if media == "application/n-triples":
        assert len(answer.text.strip().splitlines()) == 6


def test_dataset_parameters_are_passed_through(mini: Running, client: httpx.Client) -> None:
    """default-graph-uri narrows the default graph (otherwise the union of all graphs)."""
    data_graph = "https://w3id.org/alignkg/graph/data"
    text = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    union = _count(client, mini, text)
    answer = client.get(
        mini.endpoint,
        params={"query": text, "default-graph-uri": data_graph},
        headers={"Accept": JSON},
    )
    asserted = len(Graph().parse(MINI, format="turtle"))
    assert int(_rows(answer)[0]["n"]) == asserted < union
    named = client.post(
        mini.endpoint,
        data={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
              "named-graph-uri": data_graph},
        headers={"Accept": JSON},
    )  # fmt: skip
    assert _rows(named) == [{"g": data_graph}]


def test_the_served_store_holds_every_named_graph(mini: Running, client: httpx.Client) -> None:
    assert _count(client, mini, COUNT_QUADS) == len(mini_graph().store)
    graphs = _rows(
        client.get(
            mini.endpoint,
            params={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g {} }"},
            headers={"Accept": CSV},
        )
    )
    names = {g["g"].rsplit("/", 1)[-1] for g in graphs}
    assert {"ontology", "rules", "data", "inferred", "calendar", "derived"} <= names


# --- what is refused -------------------------------------------------------------------


@pytest.fixture(scope="module")
def service_endpoint() -> Iterator[tuple[str, list[bytes]]]:
    """A local SERVICE endpoint that records every connection made to it."""
    with recording_listener() as recording:
        yield recording.url, recording.seen


INSERT = "INSERT DATA { <http://example.org/s> <http://example.org/p> <http://example.org/o> }"
UPDATES = {
    "insert-data": INSERT,
    "drop-all": "DROP ALL",
    "clear-default": "CLEAR DEFAULT",
    "delete-where": "DELETE WHERE { ?s ?p ?o }",
    "load": "LOAD <http://example.org/x>",
}


@pytest.mark.parametrize("how", ["form", "body", "get"])
@pytest.mark.parametrize("name", sorted(UPDATES))
def test_updates_are_refused(mini: Running, client: httpx.Client, how: str, name: str) -> None:
    before = _count(client, mini, COUNT_QUADS)
    text = UPDATES[name]
    if how == "form":
        answer = client.post(mini.endpoint, data={"update": text})
    elif how == "body":
        answer = client.post(
            mini.endpoint, content=text, headers={"Content-Type": "application/sparql-update"}
        )
    else:
        answer = client.get(mini.endpoint, params={"update": text})
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("text/plain")
    assert answer.text == "updates are refused: this endpoint is read-only"
    assert _count(client, mini, COUNT_QUADS) == before


@dataclass(frozen=True)
class Unsafe:
    name: str
    text: str  # {endpoint} is the local SERVICE endpoint
    keyword: str


UNSAFE = [
    Unsafe("insert-as-query", INSERT, "INSERT"),
    Unsafe("drop-as-query", "DROP ALL", "DROP"),
    Unsafe("load", "LOAD <http://example.org/x>", "LOAD"),
    Unsafe("load-lower-case", "load <http://example.org/x>", "LOAD"),
    Unsafe("service-example-org", "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", "SERVICE"),
    Unsafe("service", "SELECT * WHERE { SERVICE <{endpoint}> { ?s ?p ?o } }", "SERVICE"),
    Unsafe("service-silent", "SELECT * WHERE { SeRvIcE SILENT <{endpoint}> { ?s ?p ?o } }", "SERVICE"),
    Unsafe("service-after-comment", "SELECT * WHERE { SERVICE# a comment\n<{endpoint}> { ?s ?p ?o } }", "SERVICE"),
    Unsafe("service-after-brace", "SELECT * WHERE { BIND(1 AS ?x) }SERVICE<{endpoint}>{ ?s ?p ?o }", "SERVICE"),
    # Spellings query.refuse_unsafe lets through, which the endpoint refuses as well:
    # '<' as less-than, read as the start of an IRI up to the SERVICE endpoint's '>';
    Unsafe("service-after-less-than",
           "SELECT * WHERE { BIND(1 AS ?a) BIND(2 AS ?b) FILTER(?a<?b)SERVICE<{endpoint}>{?s ?p ?o} }", "SERVICE"),
    # an escaped quote or '#' ending a prefixed name, read as a string or a comment;
    Unsafe("service-after-escaped-quote",
           "PREFIX ex: <http://example.org/>\nSELECT * WHERE { BIND(ex:a\\' AS ?q) SERVICE <{endpoint}> { ?s ?p ?o } BIND('x' AS ?z) }", "SERVICE"),
    Unsafe("service-after-escaped-hash",
           "PREFIX ex: <http://example.org/>\nSELECT * WHERE { BIND(ex:a\\# AS ?q) SERVICE <{endpoint}> { ?s ?p ?o } }", "SERVICE"),
    # a keyword spelt with a codepoint escape (SPARQL decodes them before parsing).
    Unsafe("service-codepoint-escape", "SELECT * WHERE { \\u0053ERVICE <{endpoint}> { ?s ?p ?o } }", "SERVICE"),
]  # fmt: skip


@pytest.mark.parametrize("how", ["get", "form", "body"])
@pytest.mark.parametrize("case", UNSAFE, ids=lambda c: c.name)
def test_load_service_and_update_queries_are_refused(
    mini: Running,
    client: httpx.Client,
    service_endpoint: tuple[str, list[bytes]],
    how: str,
    case: Unsafe,
) -> None:
    endpoint, seen = service_endpoint
    before = _count(client, mini, COUNT_QUADS)
    answer = _send(client, mini, how, case.text.replace("{endpoint}", endpoint), JSON)
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("text/plain")
    assert answer.text == (
        f"refused: {case.keyword} is not allowed; alignkg runs read-only queries only"
    )
    assert seen == []
    assert _count(client, mini, COUNT_QUADS) == before


@pytest.mark.parametrize("case", UNSAFE, ids=lambda c: c.name)
def test_refuse_names_the_keyword(case: Unsafe) -> None:
    with pytest.raises(QueryError, match=f"refused: {case.keyword} is not allowed"):
        server.refuse(case.text.replace("{endpoint}", "http://127.0.0.1:9/sparql"))


SAFE = [
    "SELECT ?service ?load WHERE { ?service <http://example.org/drop> ?load }",
    'SELECT * WHERE { ?s ?p "INSERT DATA { } SERVICE <x> {}" }',
    "SELECT * WHERE { ?s ?p ?o } # SERVICE <http://example.org/sparql> { }",
    "PREFIX drop: <http://example.org/>\nSELECT * WHERE { ?s drop:service drop:load }",
    "SELECT * WHERE { <http://example.org/SERVICE/LOAD> ?p ?o }",
    'SELECT * WHERE { ?s ?p "copy"@en , """a\nmove""" , \'add\' }',
    "SELECT * WHERE { ?a ?p ?b FILTER(?a<?b) }",
    "PREFIX ex: <http://example.org/>\nSELECT * WHERE { ?s ex:a\\.b ?o }",
]


@pytest.mark.parametrize("text", SAFE)
def test_refuse_lets_read_only_queries_through(text: str) -> None:
    server.refuse(text)


def test_a_refused_service_reaches_nothing_while_allowed_queries_run(
    mini: Running, client: httpx.Client, service_endpoint: tuple[str, list[bytes]]
) -> None:
    """The listener itself works: a connection to it would have been seen."""
    endpoint, seen = service_endpoint
    before = list(seen)
    with socket.create_connection(("127.0.0.1", int(endpoint.split(":")[2].split("/")[0]))) as s:
        s.sendall(b"probe")
    for _ in range(100):
        if len(seen) > len(before):
            break
        threading.Event().wait(0.02)
    assert seen[len(before) :] == [b"probe"]
    seen.clear()


# --- protocol errors -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_", "status", "words"),
    [
        ({"method": "GET", "params": {}}, 400, "give exactly one query"),
        ({"method": "GET", "params": [("query", "ASK {}"), ("query", "ASK {}")]}, 400,
         "give exactly one query"),
        ({"method": "POST", "content": b"ASK {}", "headers": {"Content-Type": "text/plain"}},
         415, "unsupported content type text/plain"),
        ({"method": "POST", "content": b"ASK {", "headers": {"Content-Type": "application/sparql-query"}},
         400, "error at"),
        ({"method": "POST", "content": b"\xff\xfe", "headers": {"Content-Type": "application/sparql-query"}},
         400, "not valid utf-8"),
        ({"method": "POST", "content": b"x" * (server.MAX_REQUEST_BYTES + 1),
          "headers": {"Content-Type": "application/sparql-query"}}, 413, "larger than"),
        ({"method": "DELETE"}, 405, ""),
    ],
)  # fmt: skip
def test_protocol_errors(
    mini: Running, client: httpx.Client, request_: dict[str, object], status: int, words: str
) -> None:
    answer = client.request(url=mini.endpoint, **request_)  # type: ignore[arg-type]
    assert answer.status_code == status
    assert words in answer.text


# --- the time limit --------------------------------------------------------------------


def test_a_query_past_the_limit_is_an_error_and_the_server_keeps_answering(
    mini: Running, client: httpx.Client
) -> None:
    before = _oxigraph_processes(mini.store)
    assert len(before) == 1
    results: dict[str, httpx.Response] = {}

    def expensive() -> None:
        results["expensive"] = client.post(mini.endpoint, data={"query": EXPENSIVE})

    worker = threading.Thread(target=expensive)
    worker.start()
    # Answered while the expensive query runs (or right after it is cut off).
    assert _count(client, mini, COUNT_EVENTS) == 6
    worker.join()
    answer = results["expensive"]
    assert answer.status_code == 504
    assert "query timed out: it ran past the limit of 1 s" in answer.text
    # ... and right after it.
    assert _count(client, mini, COUNT_EVENTS) == 6
    assert _rows(_send(client, mini, "form", COUNT_EVENTS, CSV)) == [{"n": "6"}]
    # The Oxigraph server does not stop every query at its own limit: it was replaced,
    # so the runaway query burns no CPU.
    after = _oxigraph_processes(mini.store)
    assert len(after) == 1 and after != before


# --- web files -------------------------------------------------------------------------


def _raw_get(base: str, path: str) -> tuple[int, bytes]:
    """GET with the path sent exactly as written (no client-side normalisation)."""
    host, port = base.split("//")[1].rstrip("/").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.putrequest("GET", path, skip_accept_encoding=True)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_web_files_are_served(mini: Running, client: httpx.Client) -> None:
    files = sorted(p for p in WEB.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    index = WEB / "index.html"
    answer = client.get(mini.base)
    if index.is_file():
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/html")
        assert answer.content == index.read_bytes()
    else:
        assert answer.status_code == 404
    for path in files:
        relative = path.relative_to(WEB).as_posix()
        answer = client.get(f"{mini.base}static/{relative}")
        assert answer.status_code == 200, relative
        assert answer.content == path.read_bytes(), relative


@pytest.mark.parametrize(
    "path",
    [
        "/static/no-such-file.js",
        "/static/",
        "/static/vendor",
        "/static/../pyproject.toml",
        "/static/../../pyproject.toml",
        "/static/%2e%2e/pyproject.toml",
        "/static/..%2f..%2fpyproject.toml",
        "/static/%2e%2e/%2e%2e/%2e%2e/pyproject.toml",
        "/static//etc/passwd",
        "/static/..\\pyproject.toml",
        "/static/./index.html",
        "/static/../api.py",
    ],
)
def test_missing_or_escaping_static_paths_are_404(mini: Running, path: str) -> None:
    status, body = _raw_get(mini.base, path)
    assert status == 404
    assert b"[project]" not in body and b"root:" not in body and b"def " not in body


def test_only_loopback_host_names_are_answered(mini: Running, client: httpx.Client) -> None:
    answer = client.get(f"{mini.base}api/prefixes", headers={"Host": "attacker.example"})
    assert answer.status_code == 421
    assert client.get(f"{mini.base}api/prefixes").status_code == 200


# --- the JSON API over HTTP ------------------------------------------------------------


def test_api_over_http_on_the_example_graph(mini: Running, client: httpx.Client) -> None:
    prefixes = client.get(f"{mini.base}api/prefixes").json()["prefixes"]
    assert prefixes["ak"] == "https://w3id.org/alignkg/ns#"
    names = [q["name"] for q in client.get(f"{mini.base}api/queries").json()["queries"]]
    assert "stage-per-dyad-year" in names and names == sorted(names)
    dyads = client.get(f"{mini.base}api/dyads").json()["dyads"]
    assert {"dyad": "CHN-RUS", "first": 1992, "last": 2005, "events": 6} in dyads
    findings = client.get(f"{mini.base}api/findings").json()
    assert findings["summary"] == "0 violation(s), 15 warning(s)"


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("api/grid?dyad=CHN", 400, "not two ISO 3166 alpha-3 codes"),
        ("api/grid", 400, "not two ISO 3166 alpha-3 codes"),
        ("api/grid?dyad=CHN-XXX", 400, "unknown state code XXX"),
        ("api/grid?dyad=CHN-USA", 404, "CHN-USA has no events"),
        ("api/cell?dyad=CHN-RUS&year=2005", 400, "rung=None: expected an integer"),
        ("api/cell?dyad=CHN-RUS&year=20x5&rung=5", 400, "expected an integer"),
        ("api/cell?dyad=CHN-RUS&year=2005&rung=6", 404, "indicator 6"),
        ("api/cell?dyad=CHN-RUS&year=2005&rung=9", 400, "rungs 1 to 7"),
    ],
)
def test_api_errors_are_json(
    mini: Running, client: httpx.Client, path: str, status: int, words: str
) -> None:
    answer = client.get(f"{mini.base}{path}")
    assert answer.status_code == status
    assert answer.headers["content-type"].startswith("application/json")
    assert words in answer.json()["error"]


def test_the_real_graph_over_http(real: Running, client: httpx.Client) -> None:
    assert _count(client, real, COUNT_EVENTS) == 131
    grid = client.get(f"{real.base}api/grid", params={"dyad": "CHN-RUS"}).json()
    assert grid["years"] == list(range(1992, 2018))
    assert len(grid["indicators"]) == 7
    cells = {(c["year"], c["rung"]): c for c in grid["cells"]}
    assert cells[(2015, 5)]["level"] == "low"
    strict = {s["year"]: s for s in grid["stages"]["strict"]}
    assert (strict[2015]["stage"], strict[2015]["level"]) == ("advanced", "low")
    cell = client.get(
        f"{real.base}api/cell", params={"dyad": "CHN-RUS", "year": "2015", "rung": "5"}
    ).json()
    [event] = [e for e in cell["events"] if "joint-sea-2015-joint-command" in e["iri"]]
    assert any("Joint Sea-2015" in q for q in event["quotes"])
    assert {(s["language"], bool(s["url"])) for s in event["sources"]} == {("en", True)}
    assert [f["rule"].rsplit("#", 1)[-1] for f in event["findings"]] == [
        "SourcePredatesEventShape"
    ] * 2
    findings = client.get(f"{real.base}api/findings").json()
    assert findings["summary"] == "0 violation(s), 23 warning(s)"
    assert len(findings["findings"]) == 23


# --- start-up and shutdown -------------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "example.org"])
def test_a_non_loopback_host_is_refused(tmp_path: Path, host: str) -> None:
    done = subprocess.run(
        _command("--kg", str(MINI), "--host", host, "--port", "0", "--store", str(tmp_path / "s")),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2
    assert "is not a loopback address" in done.stderr
    assert done.stdout == ""
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize(("host", "expected"), [("127.0.0.1", "127.0.0.1"), ("localhost", "127.0.0.1"),
                                                ("::1", "::1"), ("[::1]", "::1"), ("127.0.0.2", "127.0.0.2")])  # fmt: skip
def test_loopback_hosts_are_accepted(host: str, expected: str) -> None:
    assert server.bind_address(host) == expected


def test_a_folder_that_is_not_a_store_is_left_alone(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me", encoding="utf-8")
    done = subprocess.run(
        _command("--kg", str(MINI), "--port", "0", "--store", str(folder)),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2
    assert "is not an Oxigraph store" in done.stderr
    assert (folder / "notes.txt").read_text(encoding="utf-8") == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


def test_the_store_is_replaced_whole(tmp_path: Path) -> None:
    kg = mini_graph()
    store = tmp_path / "store"
    assert server.write_store(kg, store) == len(kg.store)
    (store / "stale-file-from-the-old-store").write_text("", encoding="utf-8")
    assert server.write_store(kg, store) == len(kg.store)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]  # no temporary sibling left
    assert not (store / "stale-file-from-the-old-store").exists()
    database = ox.Store.read_only(str(store))
    assert len(database) == len(kg.store)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_shutdown_stops_the_oxigraph_server(tmp_path: Path, sig: int) -> None:
    running = _start(tmp_path, "--kg", str(MINI))
    try:
        children = _oxigraph_processes(running.store)
        assert len(children) == 1
        assert (
            httpx.get(running.endpoint, params={"query": "ASK {}"}, timeout=30).status_code == 200
        )
    finally:
        code = running.stop(sig)
    assert code == 0
    assert _oxigraph_processes(running.store) == []
    assert not any(Path(f"/proc/{pid}").exists() for pid in children)
    assert (running.store / "CURRENT").is_file()


def test_the_oxigraph_command_is_found() -> None:
    found = server.oxigraph_executable()
    assert found.name.startswith("oxigraph") and os.access(found, os.X_OK)


@pytest.mark.parametrize("timeout", [0, -1, float("inf"), float("nan")])
def test_a_bad_timeout_is_refused(tmp_path: Path, timeout: float) -> None:
    with pytest.raises(UsageError, match="must be a positive number"):
        server.serve(mini_graph(), host="127.0.0.1", port=0, timeout=timeout, store_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_every_api_route_answers_json(mini: Running, client: httpx.Client) -> None:
    for path in ("api/prefixes", "api/queries", "api/dyads", "api/findings",
                 "api/grid?dyad=CHN-RUS", "api/cell?dyad=CHN-RUS&year=2005&rung=5"):  # fmt: skip
        answer = client.get(f"{mini.base}{path}")
        assert answer.status_code == 200, path
        assert isinstance(json.loads(answer.text), dict)


def test_the_front_socket_is_tcp_so_responses_are_not_delayed() -> None:
    """asyncio turns Nagle's algorithm off only on sockets created as IPPROTO_TCP."""
    sock = server._listen("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()


@pytest.mark.parametrize("location", ["a-file", "no-such-folder"])
def test_an_oxigraph_server_that_does_not_start_is_reported(tmp_path: Path, location: str) -> None:
    (tmp_path / "a-file").write_text("not a database", encoding="utf-8")
    child = server.Child(server.oxigraph_executable(), tmp_path / location, 1)
    with pytest.raises(server.ServeError) as caught:
        child.start()
    assert re.match(
        r"the Oxigraph server did not start: it exited with code \d+: ", str(caught.value)
    )
    assert f"{tmp_path / location}/CURRENT" in str(caught.value)  # the server's own message
    assert "Stack backtrace" not in str(caught.value)
    assert child.process is None and not child.alive()


def test_a_missing_oxigraph_command_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(server.ServeError, match=r"oxigraph command was not found.*pip install"):
        server.oxigraph_executable()


def test_a_closed_child_does_not_start_again(tmp_path: Path) -> None:
    kg = mini_graph()
    server.write_store(kg, tmp_path / "store")
    child = server.Child(server.oxigraph_executable(), tmp_path / "store", 1)
    child.start()
    try:
        assert child.alive()
        answer = httpx.get(
            f"{child.url}/query", params={"query": COUNT_EVENTS}, headers={"Accept": CSV}
        )
        assert answer.text.split() == ["n", "6"]
    finally:
        child.close()
    assert not child.alive()
    assert _oxigraph_processes(tmp_path / "store") == []
    with pytest.raises(server.ServeError, match="shutting down"):
        child.start()


def test_a_dead_oxigraph_server_is_replaced_on_the_next_query(
    mini: Running, client: httpx.Client
) -> None:
    [pid] = _oxigraph_processes(mini.store)
    os.kill(pid, signal.SIGKILL)
    for _ in range(500):
        if pid not in _oxigraph_processes(mini.store):
            break
        threading.Event().wait(0.01)
    assert _count(client, mini, COUNT_EVENTS) == 6
    [replacement] = _oxigraph_processes(mini.store)
    assert replacement != pid
