"""Load test of ``alignkg serve``: a mix of requests at 1, 4 and 16 concurrent clients.

    python bench/load.py                       # kg/, 20 s per level, writes bench/load-results.md
    python bench/load.py --seconds 60 --levels 1 4 16 32 --timeout 2

The script starts ``alignkg serve`` itself (on a free loopback port, a fresh store under
a temporary folder), then, for each concurrency level, runs that many clients for
``--seconds``. Each client sends, one after another, requests drawn from the mix:

- ``lookup``: every property of one event or source (``bench/load/lookup.rq``, the IRI
  bound by a trailing ``VALUES``), POST form to ``/sparql``;
- ``stage``: the stage query (``queries/stage-per-dyad-year.rq``) bound to one dyad,
  POST form to ``/sparql``;
- ``grid``: the evidence browser's stage grid of one dyad, ``GET /api/grid?dyad=``
  (answered in-process from the built store);
- ``timeout``: a query that runs past the limit (``bench/load/expensive.rq``): one every
  ``--expensive-every`` seconds across all clients, expected to get 504.

It writes, per level and per kind: requests, errors (any status other than 2xx, except
504 for ``timeout``, and connection errors), latency p50/p90/p99/max and throughput.
Then, unless ``--no-hey``, ``hey`` (Debian package ``hey``) drives the lookup alone at the
same levels, as a cross-check of the front end's own figures.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import http.client
import io
import json
import math
import os
import platform
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
QUERIES = HERE / "load"
URL = re.compile(r"alignkg: serving (http://\S+/) \(SPARQL endpoint (http://\S+/sparql)\)")
JSON = "application/sparql-results+json"
FORM = "application/x-www-form-urlencoded"
KINDS = ("lookup", "stage", "grid", "timeout")
#: Relative weights of the steady kinds; ``timeout`` comes on a clock instead.
WEIGHTS = {"lookup": 60, "stage": 25, "grid": 15}
TIMEOUT_STATUS = 504


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _iri(value: str) -> str:
    """An IRI taken from the served data, as a SPARQL term (checked: no ``<>"{}|^`\\``)."""
    if re.search(r'[\x00-\x20<>"{}|^`\\]', value):
        raise SystemExit(f"unexpected IRI in the served data: {value!r}")
    return f"<{value}>"


def _bound(text: str, variable: str, iri: str) -> str:
    """``text`` with ``?variable`` bound to one IRI by a trailing VALUES clause."""
    return f"{text.rstrip()}\nVALUES ?{variable} {{ {_iri(iri)} }}\n"


# --- the server ------------------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen[str]
    base: str
    endpoint: str

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(kg: list[str], store: Path, timeout: float) -> Server:
    command = [sys.executable, "-m", "alignkg", "serve", "-q", "--port", "0"]
    command += ["--store", str(store), "--timeout", f"{timeout:g}"]
    for path in kg:
        command += ["--kg", path]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    match = URL.search(line)
    if not match:
        process.kill()
        process.wait()
        raise SystemExit(f"alignkg serve did not start: {line!r}")
    return Server(process, match.group(1), match.group(2))


# --- one client ------------------------------------------------------------------------


@dataclass
class Sample:
    kind: str
    status: int  # 0: connection error
    seconds: float


@dataclass
class Mix:
    lookups: list[str]
    stages: list[str]
    dyads: list[str]
    expensive: str
    expensive_every: float
    last_expensive: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def expensive_due(self, now: float) -> bool:
        with self.lock:
            if now - self.last_expensive >= self.expensive_every:
                self.last_expensive = now
                return True
            return False


class Client:
    def __init__(self, base: str, seed: int, mix: Mix, stop_at: float) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.random = random.Random(seed)
        self.mix = mix
        self.stop_at = stop_at
        self.samples: list[Sample] = []
        self.connection: http.client.HTTPConnection | None = None

    def _request(self, method: str, path: str, body: str | None, headers: dict[str, str]) -> int:
        if self.connection is None:
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=120)
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            response.read()
            return response.status
        except (OSError, http.client.HTTPException):
            self.connection.close()
            self.connection = None
            return 0

    def _one(self, kind: str) -> int:
        mix = self.mix
        if kind == "grid":
            dyad = self.random.choice(mix.dyads)
            return self._request("GET", "/api/grid?" + urlencode({"dyad": dyad}), None, {})
        if kind == "lookup":
            text = self.random.choice(mix.lookups)
        elif kind == "stage":
            text = self.random.choice(mix.stages)
        else:
            text = mix.expensive
        body = urlencode({"query": text})
        headers = {"Content-Type": FORM, "Accept": JSON}
        return self._request("POST", "/sparql", body, headers)

    def run(self) -> None:
        kinds, weights = list(WEIGHTS), list(WEIGHTS.values())
        while True:
            now = time.perf_counter()
            if now >= self.stop_at:
                break
            kind = (
                "timeout" if self.mix.expensive_due(now) else self.random.choices(kinds, weights)[0]
            )
            started = time.perf_counter()
            status = self._one(kind)
            self.samples.append(Sample(kind, status, time.perf_counter() - started))
        if self.connection is not None:
            self.connection.close()


# --- statistics --------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of ``values`` (sorted), ``q`` in [0, 100]."""
    if not values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(values)))
    return values[rank - 1]


def is_error(kind: str, status: int) -> bool:
    if kind == "timeout":
        return status != TIMEOUT_STATUS
    return not 200 <= status < 300


@dataclass
class Row:
    level: int
    kind: str
    requests: int
    errors: int
    p50: float
    p90: float
    p99: float
    maximum: float
    throughput: float
    statuses: dict[int, int]


def summarise(level: int, kind: str, samples: list[Sample], seconds: float) -> Row:
    latencies = sorted(s.seconds for s in samples)
    statuses: dict[int, int] = {}
    for sample in samples:
        statuses[sample.status] = statuses.get(sample.status, 0) + 1
    return Row(
        level=level,
        kind=kind,
        requests=len(samples),
        errors=sum(is_error(kind, s.status) for s in samples),
        p50=percentile(latencies, 50),
        p90=percentile(latencies, 90),
        p99=percentile(latencies, 99),
        maximum=latencies[-1] if latencies else math.nan,
        throughput=len(samples) / seconds,
        statuses=statuses,
    )


def run_level(base: str, level: int, seconds: float, mix: Mix, seed: int) -> list[Row]:
    stop_at = time.perf_counter() + seconds
    mix.last_expensive = time.perf_counter() - mix.expensive_every / 2  # first one mid-way
    clients = [Client(base, seed * 1000 + i, mix, stop_at) for i in range(level)]
    threads = [threading.Thread(target=c.run) for c in clients]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    samples = [s for c in clients for s in c.samples]
    rows = [summarise(level, k, [s for s in samples if s.kind == k], elapsed) for k in KINDS]
    rows.append(summarise(level, "all", samples, elapsed))
    rows[-1].errors = sum(r.errors for r in rows[:-1])
    return rows


# --- hey ---------------------------------------------------------------------------------


def run_hey(endpoint: str, level: int, seconds: float, query: str) -> Row | None:
    hey = shutil.which("hey")
    if hey is None:
        return None
    command = [
        hey, "-z", f"{seconds:g}s", "-c", str(level), "-m", "POST", "-T", FORM, "-A", JSON,
        "-d", urlencode({"query": query}), "-o", "csv", "-t", "120", endpoint,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"hey failed: {done.stderr.strip()}")
    samples = [
        Sample("lookup", int(record["status-code"]), float(record["response-time"]))
        for record in csv.DictReader(io.StringIO(done.stdout))
    ]
    return summarise(level, "lookup (hey)", samples, seconds)


# --- the report --------------------------------------------------------------------------


def _ms(value: float) -> str:
    return "" if math.isnan(value) else f"{value * 1000:.1f}"


def table(rows: list[Row]) -> list[str]:
    lines = [
        "| clients | kind | requests | errors | error rate | p50 ms | p90 ms | p99 ms | max ms "
        "| req/s | statuses |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        rate = f"{100 * r.errors / r.requests:.2f} %" if r.requests else ""
        statuses = ", ".join(
            f"{'conn' if s == 0 else s}: {n}" for s, n in sorted(r.statuses.items())
        )
        lines.append(
            f"| {r.level} | {r.kind} | {r.requests} | {r.errors} | {rate} | {_ms(r.p50)} | "
            f"{_ms(r.p90)} | {_ms(r.p99)} | {_ms(r.maximum)} | {r.throughput:.1f} | {statuses} |"
        )
    return lines


def _version(name: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "?"


def report(
    args: argparse.Namespace, rows: list[Row], hey_rows: list[Row], quads: int, resources: int
) -> str:
    lines = [
        "# Load test of `alignkg serve`",
        "",
        f"Run {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')} with "
        f"`{' '.join(['python bench/load.py', *sys.argv[1:]])}`.",
        "",
        f"- machine: {platform.machine()}, {os.cpu_count()} CPU(s) (shared by the server, "
        f"its Oxigraph child and the clients), Python {platform.python_version()}, "
        f"pyoxigraph {_version('pyoxigraph')}, alignkg {_version('alignkg')}; load average "
        f"{args.load_before:.1f} before the run and {os.getloadavg()[0]:.1f} after it (other "
        "work on the machine counts: compare runs made alike)",
        f"- data: {', '.join(args.kg)} ({quads} quads served; {resources} events and "
        f"sources to look up; {args.dyads} dyads)",
        f"- server: `alignkg serve --timeout {args.timeout:g}` (a query past the limit gets "
        f"{TIMEOUT_STATUS} after the limit plus 1 s of grace, and the Oxigraph child is "
        "replaced)",
        f"- each level: {args.seconds:g} s; clients send requests back to back (no think "
        "time), on one keep-alive connection each; mix: "
        + ", ".join(f"{k} {w} %" for k, w in WEIGHTS.items())
        + f", and one `timeout` query every {args.expensive_every:g} s across all clients",
        "- errors: any status but 2xx (and, for `timeout`, any status but "
        f"{TIMEOUT_STATUS}), and connection errors (`conn`)",
        "- latency: per request, from sending it to reading the whole answer; percentiles "
        "by nearest rank",
        "",
        "## The mix",
        "",
        *table(rows),
        "",
    ]
    if hey_rows:
        lines += [
            "## `hey`, lookups alone",
            "",
            f"`hey -z {args.hey_seconds:g}s -c CLIENTS -m POST` with one lookup (the first "
            "event), as a cross-check of the figures above with another client.",
            "",
            *table(hey_rows),
            "",
        ]
    return "\n".join(lines)


# --- main ----------------------------------------------------------------------------------


def _select(endpoint: str, query: str) -> list[dict[str, str]]:
    parts = urlsplit(endpoint)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    try:
        connection.request(
            "POST",
            parts.path,
            body=urlencode({"query": query}),
            headers={"Content-Type": FORM, "Accept": JSON},
        )
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise SystemExit(f"{query!r}: HTTP {response.status}: {body[:300]!r}")
    finally:
        connection.close()
    return [
        {name: cell["value"] for name, cell in binding.items()}
        for binding in json.loads(body)["results"]["bindings"]
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kg", action="append", help="data to serve (default: kg/)")
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--seconds", type=float, default=20.0, help="per level (default 20)")
    parser.add_argument("--timeout", type=float, default=2.0, help="alignkg serve --timeout")
    parser.add_argument("--expensive-every", type=float, default=5.0, metavar="SECONDS")
    parser.add_argument("--no-hey", action="store_true", help="skip the hey cross-check")
    parser.add_argument("--hey-seconds", type=float, default=None, help="default: --seconds / 2")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--results", type=Path, default=HERE / "load-results.md")
    args = parser.parse_args(argv)
    args.kg = args.kg or ["kg"]
    args.hey_seconds = args.hey_seconds or args.seconds / 2
    args.load_before = os.getloadavg()[0]
    if not args.no_hey and shutil.which("hey") is None:
        raise SystemExit("hey is not installed (apt-get install hey), or pass --no-hey")

    with tempfile.TemporaryDirectory(prefix="alignkg-load-") as folder:
        server = start(args.kg, Path(folder) / "store", args.timeout)
        try:
            print(f"serving {server.base}", file=sys.stderr, flush=True)
            quads = int(
                _select(server.endpoint, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")[
                    0
                ]["n"]
            )
            resources = [
                r["resource"] for r in _select(server.endpoint, _text(QUERIES / "resources.rq"))
            ]
            dyad_iris = [r["dyad"] for r in _select(server.endpoint, _text(QUERIES / "dyads.rq"))]
            if not resources or not dyad_iris:
                raise SystemExit("the served data has no events or no dyads")
            args.dyads = len(dyad_iris)
            lookup = _text(QUERIES / "lookup.rq")
            stage = _text(ROOT / "queries" / "stage-per-dyad-year.rq")
            mix = Mix(
                lookups=[_bound(lookup, "resource", r) for r in resources],
                stages=[_bound(stage, "dyad", d) for d in dyad_iris],
                dyads=[d.rsplit("/", 1)[-1] for d in dyad_iris],
                expensive=_text(QUERIES / "expensive.rq"),
                expensive_every=args.expensive_every,
            )
            rows: list[Row] = []
            hey_rows: list[Row] = []
            for level in args.levels:
                print(f"{level} client(s), {args.seconds:g} s", file=sys.stderr, flush=True)
                rows += run_level(server.base, level, args.seconds, mix, args.seed)
                time.sleep(args.timeout + 1.5)  # let a cut-off query's restart settle
            if not args.no_hey:
                for level in args.levels:
                    print(f"hey: {level} client(s)", file=sys.stderr, flush=True)
                    row = run_hey(server.endpoint, level, args.hey_seconds, mix.lookups[0])
                    if row is not None:
                        hey_rows.append(row)
        finally:
            server.stop()
    text = report(args, rows, hey_rows, quads, len(resources))
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
