"""The time limit: a query past it is stopped, and everything else goes on being answered.

``alignkg serve`` (a real process on loopback, ``--timeout 3``): while expensive queries
(a cross join of every triple four times over) run, cheap ones (a count, an ASK, a
SELECT of one IRI, the JSON API) are answered, correctly, before the expensive ones end,
also when there are more expensive queries than the endpoint runs at once (they wait
their turn); each expensive one gets the documented 504; afterwards the server still
answers. A query Oxigraph itself cancels gets 504 too, not a cut-off 200.
``alignkg query --timeout``: the same in one process (the query runs in a worker that is
killed at the limit).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from alignkg import cli, server
from test_serve import (
    COUNT_EVENTS,
    EXPENSIVE,
    JSON,
    MINI,
    Running,
    _count,
    _oxigraph_processes,
    _rows,
    _start,
)

LIMIT = 3
ASK_EVENT = "ASK { <https://example.org/e1> a <https://w3id.org/alignkg/ns#Event> }"
LABEL_OF_E1 = (
    "SELECT ?l WHERE { <https://example.org/e1> <http://www.w3.org/2000/01/rdf-schema#label> ?l }"
)
TIMED_OUT = f"query timed out: it ran past the limit of {LIMIT} s"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = _start(tmp_path_factory.mktemp("timeout"), "--kg", str(MINI), "--timeout", str(LIMIT))
    yield running
    running.stop()


def _cheap_round(client: httpx.Client, served: Running) -> None:
    assert _count(client, served, COUNT_EVENTS) == 6
    ask = client.get(served.endpoint, params={"query": ASK_EVENT}, headers={"Accept": JSON})
    assert ask.status_code == 200 and ask.json()["boolean"] is True
    label = client.post(served.endpoint, data={"query": LABEL_OF_E1}, headers={"Accept": JSON})
    assert _rows(label) == [{"l": "cbm"}]
    dyads = client.get(served.base + "api/dyads")
    assert dyads.status_code == 200 and dyads.json()["dyads"]


@pytest.mark.parametrize("expensive", [1, 3, server.RUNNING + 1])  # the last: one waits
def test_expensive_queries_time_out_while_cheap_ones_are_answered(
    served: Running, expensive: int
) -> None:
    done: list[httpx.Response] = []
    finished = threading.Event()

    def run_expensive(client: httpx.Client) -> None:
        done.append(client.post(served.endpoint, data={"query": EXPENSIVE}))
        if len(done) == expensive:
            finished.set()

    clients = [httpx.Client(timeout=120) for _ in range(expensive + 1)]
    try:
        workers = [threading.Thread(target=run_expensive, args=(c,)) for c in clients[:expensive]]
        for worker in workers:
            worker.start()
        cheap = clients[-1]
        rounds = 0
        answered_while_running = 0
        while not finished.is_set() and rounds < 200:
            _cheap_round(cheap, served)
            rounds += 1
            if not finished.is_set():
                answered_while_running += 1
        for worker in workers:
            worker.join()
        # Cheap queries kept being answered while the expensive ones ran.
        assert answered_while_running >= 3
        assert [r.status_code for r in done] == [504] * expensive
        assert all(TIMED_OUT in r.text for r in done)
        # ... and right after: the server still answers, with one Oxigraph child.
        for _ in range(3):
            _cheap_round(cheap, served)
        assert len(_oxigraph_processes(served.store)) == 1
    finally:
        for client in clients:
            client.close()


#: A query Oxigraph's own time limit does cancel: it then answers 200 with a body cut off
#: by "The SPARQL operation has been cancelled", which must never reach the client.
CANCELLABLE = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?x ?c }"


@pytest.mark.parametrize("how", ["get", "form"])
def test_a_query_the_engine_cancels_is_a_timeout_not_a_broken_answer(
    served: Running, how: str
) -> None:
    with httpx.Client(timeout=120) as client:
        if how == "get":
            answer = client.get(
                served.endpoint, params={"query": CANCELLABLE}, headers={"Accept": JSON}
            )
        else:
            answer = client.post(
                served.endpoint, data={"query": CANCELLABLE}, headers={"Accept": JSON}
            )
        assert answer.status_code == 504, answer.text[:300]
        assert TIMED_OUT in answer.text
        _cheap_round(client, served)


def test_a_query_retried_after_a_restart_keeps_its_time_limit(served: Running) -> None:
    """Two expensive queries a moment apart: the first one's restart of the engine cuts the
    second, which is retried on the new engine within what remains of its own limit; both
    get the timeout status, and the server answers afterwards."""
    answers: list[httpx.Response] = []

    def expensive() -> None:
        with httpx.Client(timeout=120) as client:
            answers.append(client.post(served.endpoint, data={"query": EXPENSIVE}))

    first = threading.Thread(target=expensive)
    first.start()
    time.sleep(0.5)
    second = threading.Thread(target=expensive)
    second.start()
    first.join()
    second.join()
    assert [a.status_code for a in answers] == [504, 504]
    assert all(TIMED_OUT in a.text for a in answers)
    with httpx.Client(timeout=120) as client:
        _cheap_round(client, served)


# --- alignkg query --timeout ---------------------------------------------------------------


@pytest.fixture
def expensive_file(tmp_path: Path) -> Path:
    path = tmp_path / "expensive.rq"
    path.write_text(EXPENSIVE, encoding="utf-8")
    return path


def test_alignkg_query_stops_a_query_past_its_time_limit(
    expensive_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["query", str(expensive_file), "-q", "--kg", str(MINI), "--timeout", "1"])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err == (
        "alignkg: error: query timed out: it ran past the limit of 1 s (--timeout); "
        "narrow it or raise the limit\n"
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["states", "--bind", "code=CHN", "--format", "csv"],
        ["evidence", "--bind", "dyad=CHN-RUS", "--bind", "year=1993", "--format", "json"],
        ["dyads"],
    ],
)
def test_alignkg_query_with_a_time_limit_answers_as_without(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["query", *argv, "-q", "--kg", str(MINI)]) == 0
    plain = capsys.readouterr().out
    assert cli.main(["query", *argv, "-q", "--kg", str(MINI), "--timeout", "60"]) == 0
    assert capsys.readouterr().out == plain
    assert plain.strip()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("SELECT * WHERE { ?s ?p }", "query does not parse"),
        ("SELECT ?x WHERE { BIND(1 AS ?x) }", ""),
        ("DROP ALL", "refused: DROP"),
    ],
)
def test_alignkg_query_with_a_time_limit_reports_errors_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, words: str
) -> None:
    path = tmp_path / "q.rq"
    path.write_text(text, encoding="utf-8")
    code = cli.main(["query", str(path), "-q", "--kg", str(MINI), "--timeout", "30"])
    out, err = capsys.readouterr()
    if not words:
        assert code == 0 and out.split() == ["x", "1"]
        return
    assert code == 2
    assert err.startswith("alignkg: error: ") and words in err and err.count("\n") == 1


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf"])
def test_a_bad_time_limit_is_refused(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["query", "dyads", "-q", "--kg", str(MINI), "--timeout", value])
    assert code == 2
    assert "the time limit must be a positive number" in capsys.readouterr().err
