"""``alignkg serve``: a read-only SPARQL 1.1 Protocol endpoint and the web workbench.

The built store is written to an on-disk Oxigraph database (atomically: built in a
temporary sibling folder, then renamed into place) and served by the Oxigraph server
(``oxigraph serve-read-only``, from PyPI) as a child process on a private loopback
port. In front of it, a Starlette application on ``host:port`` (loopback only):

- ``/sparql``: the SPARQL 1.1 Protocol (GET ``?query=``, POST form or
  ``application/sparql-query``). Updates are refused, and so is any query with
  ``LOAD``, ``SERVICE`` or an update keyword, before anything reaches the child; the
  rest is forwarded with its ``Accept`` header, and the child's status, content type
  and body are relayed. A query that runs past the time limit is answered with an
  error (504) and the child is restarted, since Oxigraph does not stop every query
  at its own limit (and answers 200 with a cut-off body when it does). At most
  ``RUNNING`` queries run at once; the others wait their turn (up to
  ``QUEUE_SECONDS``, then 503), and their time limit starts when they run.
- ``/`` and ``/static/...``: the files of ``alignkg.web``.
- ``/api/...``: the JSON API of the evidence browser (:mod:`alignkg.api`), answered
  in-process from the built store.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import math
import mimetypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from types import FrameType
from typing import IO, Any
from urllib.parse import parse_qsl, urlencode

import httpx
import pyoxigraph as ox
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from alignkg import api, query
from alignkg.build import KnowledgeGraph
from alignkg.errors import AlignkgError, QueryError, UsageError
from alignkg.remote import RemoteStore
from alignkg.store import OxigraphStore, RdflibStore
from alignkg.validate import Report, validate

#: How long to wait for the Oxigraph server to answer after it starts.
STARTUP_SECONDS = 30.0
#: Extra time given to the child beyond the query time limit before giving up on it.
GRACE_SECONDS = 1.0
#: Queries run by the child at once; the others wait their turn (their time limit starts
#: when they run), so that a burst of clients does not push every query past the limit
#: (and a query past the limit restarts the child, cutting the others).
RUNNING = max(4, 2 * (os.cpu_count() or 1))
#: How long a query may wait for its turn before the endpoint answers 503.
QUEUE_SECONDS = 60.0
#: The largest request body accepted at /sparql, and the largest result relayed.
MAX_REQUEST_BYTES = 1 << 20
MAX_RESULT_BYTES = 256 << 20
READ_ONLY = "updates are refused: this endpoint is read-only"
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"
FORM = "application/x-www-form-urlencoded"
#: Parameters of the protocol passed through to the child besides the query.
DATASET_PARAMETERS = ("default-graph-uri", "named-graph-uri")


class ServeError(AlignkgError):
    """The endpoint cannot be set up: no Oxigraph server, a store that cannot be written."""


# --- the loopback address ------------------------------------------------------------


def bind_address(host: str) -> str:
    """The address to listen on for ``--host``; anything but loopback is refused."""
    name = host.strip()
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    if name.lower() == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        address = None
    if address is None or not address.is_loopback:
        raise UsageError(
            f"--host {host!r} is not a loopback address: alignkg serve listens only on "
            "127.0.0.1, ::1 or localhost (the endpoint has no access control)"
        )
    return str(address)


def _url_host(address: str) -> str:
    return f"[{address}]" if ":" in address else address


def _listen(address: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio turns Nagle's algorithm off only on sockets that say
    # they are TCP (otherwise every response waits ~40 ms for a delayed ACK).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, port))
        sock.listen(128)
    except OSError as error:
        sock.close()
        raise UsageError(
            f"cannot listen on {_url_host(address)}:{port}: {error.strerror or error} "
            "(choose another --port; --port 0 picks a free one)"
        ) from None
    return sock


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# --- refusing what is not a read-only query ------------------------------------------

def refuse(text: str) -> None:
    """Refuse updates, ``LOAD`` and ``SERVICE`` (:func:`alignkg.query.refuse_unsafe`)."""
    query.refuse_unsafe(text)


# --- the on-disk store ---------------------------------------------------------------


def _looks_like_store(folder: Path) -> bool:
    """An empty folder, or one holding an Oxigraph (RocksDB) database."""
    return not any(folder.iterdir()) or (folder / "CURRENT").is_file()


def _nquads(kg: KnowledgeGraph) -> bytes:
    if isinstance(kg.store, OxigraphStore):
        return kg.store.store.dump(format=ox.RdfFormat.N_QUADS) or b""
    if isinstance(kg.store, RemoteStore):
        return kg.store.nquads()
    assert isinstance(kg.store, RdflibStore)
    data: str | bytes = kg.store.dataset.serialize(format="nquads")
    return data.encode("utf-8") if isinstance(data, str) else data


def write_store(kg: KnowledgeGraph, store_dir: Path) -> int:
    """Write every named graph of ``kg`` to a fresh Oxigraph database at ``store_dir``.

    The database is built in a temporary sibling folder and renamed into place, so
    that a crash leaves the previous store or the new one, never half of one. Returns
    the number of quads written.
    """
    if store_dir.exists() and not (store_dir.is_dir() and _looks_like_store(store_dir)):
        raise UsageError(
            f"--store {store_dir}: exists and is not an Oxigraph store; alignkg serve "
            "replaces the folder it is given, so choose a new or empty one"
        )
    store_dir.parent.mkdir(parents=True, exist_ok=True)
    building = Path(
        tempfile.mkdtemp(prefix=f".{store_dir.name}.", suffix=".building", dir=store_dir.parent)
    )
    try:
        database = ox.Store(str(building))
        database.bulk_load(_nquads(kg), format=ox.RdfFormat.N_QUADS)
        database.flush()
        count = len(database)
        del database  # closes the database before it is renamed and served
        if isinstance(kg.store, OxigraphStore) and count != len(kg.store):
            raise ServeError(f"{store_dir}: wrote {count} quads but the graph has {len(kg.store)}")
        old = None
        if store_dir.exists():
            old = Path(
                tempfile.mkdtemp(prefix=f".{store_dir.name}.", suffix=".old", dir=store_dir.parent)
            )
            try:
                os.replace(store_dir, old / "store")
                os.replace(building, store_dir)
            except BaseException:
                # Put the previous store back where it was (if it was moved away).
                if (old / "store").exists() and not store_dir.exists():
                    os.replace(old / "store", store_dir)
                shutil.rmtree(old, ignore_errors=True)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(building, store_dir)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    return count


# --- the Oxigraph child --------------------------------------------------------------


def oxigraph_executable() -> Path:
    """The ``oxigraph`` command: next to the running Python first, then on PATH."""
    here = Path(sys.executable).parent
    for name in ("oxigraph", "oxigraph.exe"):
        candidate = here / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("oxigraph")
    if found:
        return Path(found)
    raise ServeError(
        f"the oxigraph command was not found next to {sys.executable} or on PATH; it comes "
        "with the 'oxigraph' package from PyPI (pip install oxigraph)"
    )


class Child:
    """The Oxigraph server process: started, watched, restarted and stopped.

    Restarts run in a worker thread; ``close()`` (at shutdown) stops the process and
    makes any later ``start()`` fail, so that no server outlives ``alignkg serve``.
    """

    def __init__(self, executable: Path, location: Path, timeout: float) -> None:
        self.executable = executable
        self.location = location
        self.timeout = timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.log: IO[bytes] | None = None
        self.url = ""
        self.generation = 0
        self.closed = False
        self._lock = threading.Lock()

    def command(self, port: int) -> list[str]:
        return [
            str(self.executable),
            "serve-read-only",
            "--location",
            str(self.location),
            "--bind",
            f"127.0.0.1:{port}",
            "--union-default-graph",
            # Oxigraph's own limit is only a backstop, later than the front's: when it
            # cancels a query it answers 200 with the body cut off ("The SPARQL operation
            # has been cancelled"), which must never be relayed as an answer.
            "--timeout-s",
            str(math.ceil(self.timeout + GRACE_SECONDS) + 2),
        ]

    @staticmethod
    def _output(log: IO[bytes]) -> str:
        log.seek(0)
        text = log.read().decode("utf-8", "replace").split("Stack backtrace:")[0].strip()
        return "\n".join(text.splitlines()[-20:]) or "no message"

    def start(self) -> None:
        """Start the server on a free loopback port and wait until it answers."""
        problem = ""
        for _attempt in range(3):  # a free port can be taken before the child binds it
            port = _free_port()
            with self._lock:
                if self.closed:
                    raise ServeError("the Oxigraph server is not started: shutting down")
                self.log = log = tempfile.TemporaryFile()  # noqa: SIM115 (closed by stop())
                self.process = process = subprocess.Popen(
                    self.command(port),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    start_new_session=True,
                )
                self.url = f"http://127.0.0.1:{port}"
            problem = self._wait_until_ready(process, log, self.url)
            if not problem:
                self.generation += 1
                return
            self.stop()
            if "in use" not in problem:
                break
        raise ServeError(f"the Oxigraph server did not start: {problem}")

    @classmethod
    def _wait_until_ready(cls, process: subprocess.Popen[bytes], log: IO[bytes], url: str) -> str:
        deadline = time.monotonic() + STARTUP_SECONDS
        with httpx.Client(timeout=1.0) as client:
            while time.monotonic() < deadline:
                code = process.poll()
                if code is not None:
                    return f"it exited with code {code}: {cls._output(log)}"
                try:
                    answer = client.get(f"{url}/query", params={"query": "ASK {}"})
                    if answer.status_code == 200:
                        return ""
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
        return f"no answer within {STARTUP_SECONDS:.0f} s: {cls._output(log)}"

    def stop(self) -> None:
        """Terminate the server and wait for it (kill it if it does not stop)."""
        with self._lock:
            process, self.process = self.process, None
            log, self.log = self.log, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if log is not None:
            log.close()

    def close(self) -> None:
        """Stop the server for good."""
        with self._lock:
            self.closed = True
        self.stop()

    def alive(self) -> bool:
        process = self.process
        return process is not None and process.poll() is None


class Upstream:
    """Forwards protocol requests to the child, under the time limit."""

    def __init__(self, child: Child, timeout: float) -> None:
        self.child = child
        self.timeout = timeout
        self.client: httpx.AsyncClient | None = None
        self._restarting: asyncio.Lock | None = None
        self._running: asyncio.Semaphore | None = None
        self._tasks: set[asyncio.Task[str]] = set()

    async def open(self) -> None:
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(self.timeout + GRACE_SECONDS))
        self._restarting = asyncio.Lock()
        self._running = asyncio.Semaphore(RUNNING)

    async def close(self) -> None:
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        if self.client is not None:
            await self.client.aclose()

    async def restart(self, generation: int) -> str:
        """Replace the child (unless it was replaced since ``generation``); return why
        it could not be, or an empty string."""
        assert self._restarting is not None
        async with self._restarting:
            if self.child.generation != generation:
                return ""
            await asyncio.to_thread(self.child.stop)
            try:
                await asyncio.to_thread(self.child.start)
            except ServeError as error:
                return str(error)
        return ""

    def _restart_later(self, generation: int) -> None:
        task = asyncio.create_task(self.restart(generation))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, form: list[tuple[str, str]], accept: str) -> Response:
        assert self.client is not None
        headers = {"Content-Type": FORM}
        if accept:
            headers["Accept"] = accept
        request = self.client.build_request(
            "POST", f"{self.child.url}/query", content=urlencode(form), headers=headers
        )
        response = await self.client.send(request, stream=True)
        try:
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body.extend(chunk)
                if len(body) > MAX_RESULT_BYTES:
                    return PlainTextResponse(
                        f"the result is larger than {MAX_RESULT_BYTES >> 20} MB; "
                        "narrow the query (LIMIT, fewer variables)",
                        status_code=507,
                    )
        finally:
            await response.aclose()
        media = response.headers.get("content-type", "application/octet-stream")
        return Response(bytes(body), status_code=response.status_code, media_type=media)

    async def forward(self, form: list[tuple[str, str]], accept: str) -> Response:
        """Run a query (already checked) on the child, in its turn, and relay its answer."""
        assert self._running is not None
        try:
            async with asyncio.timeout(QUEUE_SECONDS):
                await self._running.acquire()
        except TimeoutError:
            return PlainTextResponse(
                f"the endpoint is busy: the query waited {QUEUE_SECONDS:g} s for its turn; "
                "try again later",
                status_code=503,
            )
        try:
            return await self._forward(form, accept)
        finally:
            self._running.release()

    async def _forward(self, form: list[tuple[str, str]], accept: str) -> Response:
        assert self._restarting is not None
        # One deadline for the request: a retry on a replaced child gets what remains.
        deadline = asyncio.get_running_loop().time() + self.timeout + GRACE_SECONDS
        for attempt in range(2):
            generation = self.child.generation
            try:
                async with asyncio.timeout_at(deadline):
                    async with self._restarting:  # wait while the child is being replaced
                        generation = self.child.generation
                    return await self._send(form, accept)
            except TimeoutError:
                self._restart_later(generation)
                return PlainTextResponse(
                    f"query timed out: it ran past the limit of {self.timeout:g} s "
                    "(alignkg serve --timeout); narrow it or raise the limit",
                    status_code=504,
                )
            except httpx.TransportError as error:
                # The child was replaced under this request, or it died: retry once.
                if attempt == 0:
                    if self.child.generation == generation and not self.child.alive():
                        problem = await self.restart(generation)
                        if problem:
                            return PlainTextResponse(problem, status_code=502)
                    continue
                return PlainTextResponse(
                    f"the SPARQL engine did not answer: {error}", status_code=502
                )
        return PlainTextResponse("the SPARQL engine did not answer", status_code=502)


# --- the front application -----------------------------------------------------------


def _web_root() -> Traversable:
    return resources.files("alignkg.web")


def _web_file(path: str) -> Traversable | None:
    """A file under ``alignkg.web``, or None (also for any path that tries to escape)."""
    parts = path.split("/")
    if not path or "\\" in path or "\x00" in path:
        return None
    if any(part in {"", ".", ".."} for part in parts):
        return None
    node = _web_root()
    for part in parts:
        node = node.joinpath(part)
    return node if node.is_file() else None


def _file_response(node: Traversable | None) -> Response:
    if node is None:
        return PlainTextResponse("not found", status_code=404)
    media, _encoding = mimetypes.guess_type(node.name)
    if node.name.endswith(".js") or node.name.endswith(".mjs"):
        media = "text/javascript"
    return Response(node.read_bytes(), media_type=media or "application/octet-stream")


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _json(produce: Callable[[], object]) -> Response:
    try:
        return JSONResponse(produce())
    except UsageError as error:
        return _error(400, str(error))
    except api.NotFound as error:
        return _error(404, str(error))


class _LoopbackHosts:
    """Answers only requests addressed to a loopback name (against DNS rebinding)."""

    ALLOWED = frozenset({"127.0.0.1", "localhost", "::1"})

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = ""
            for key, value in scope.get("headers", []):
                if key == b"host":
                    host = value.decode("latin-1")
            name = host[1:].partition("]")[0] if host.startswith("[") else host.partition(":")[0]
            if name and name.lower() not in self.ALLOWED and not name.startswith("127."):
                response = PlainTextResponse(f"host {host!r} is not served", status_code=421)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _protocol_error(message: str, status: int = 400) -> Response:
    return PlainTextResponse(message, status_code=status)


def _content_type(request: Request) -> tuple[str, str]:
    raw = request.headers.get("content-type", "")
    media, _sep, rest = raw.partition(";")
    charset = "utf-8"
    for parameter in rest.split(";"):
        key, _eq, value = parameter.strip().partition("=")
        if key.lower() == "charset" and value:
            charset = value.strip('"').lower()
    return media.strip().lower(), charset


async def _body(request: Request) -> bytes | None:
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_REQUEST_BYTES:
            return None
    return bytes(body)


def create_app(kg: KnowledgeGraph, report: Report, upstream: Upstream) -> Starlette:
    """The front application: the endpoint, the web files and the JSON API."""

    async def sparql(request: Request) -> Response:
        fields = list(request.query_params.multi_items())
        if request.method == "POST":
            body = await _body(request)
            if body is None:
                return _protocol_error(
                    f"the request is larger than {MAX_REQUEST_BYTES >> 10} KB", 413
                )
            media, charset = _content_type(request)
            try:
                text = body.decode(charset)
            except (LookupError, UnicodeDecodeError):
                return _protocol_error(f"the request body is not valid {charset}")
            if media == SPARQL_UPDATE:
                return _protocol_error(READ_ONLY)
            if media == SPARQL_QUERY:
                fields.append(("query", text))
            elif media == FORM:
                fields += parse_qsl(text, keep_blank_values=True)
            else:
                return _protocol_error(
                    f"unsupported content type {media or '(none)'}: send the query as "
                    f"{FORM} (query=...) or as {SPARQL_QUERY}",
                    415,
                )
        if any(
            name in {"update", "using-graph-uri", "using-named-graph-uri"} for name, _ in fields
        ):
            return _protocol_error(READ_ONLY)
        queries = [value for name, value in fields if name == "query"]
        if len(queries) != 1 or not queries[0].strip():
            return _protocol_error(
                "give exactly one query: GET /sparql?query=..., or POST query=... "
                f"({FORM}) or the query itself ({SPARQL_QUERY})"
            )
        try:
            refuse(queries[0])
        except QueryError as error:
            return _protocol_error(str(error))
        form = [("query", queries[0])]
        form += [(name, value) for name, value in fields if name in DATASET_PARAMETERS]
        return await upstream.forward(form, request.headers.get("accept", ""))

    def index(_request: Request) -> Response:
        return _file_response(_web_file("index.html"))

    def static(request: Request) -> Response:
        return _file_response(_web_file(str(request.path_params["path"])))

    def api_prefixes(_request: Request) -> Response:
        return _json(lambda: {"prefixes": api.prefixes()})

    def api_queries(_request: Request) -> Response:
        return _json(lambda: {"queries": api.named_queries()})

    def api_dyads(_request: Request) -> Response:
        return _json(lambda: {"dyads": api.dyads(kg)})

    def api_grid(request: Request) -> Response:
        dyad = request.query_params.get("dyad", "")
        return _json(lambda: api.grid(kg, report, dyad))

    def api_cell(request: Request) -> Response:
        params = request.query_params
        return _json(
            lambda: api.cell(
                kg,
                report,
                params.get("dyad", ""),
                api.parse_int("year", params.get("year")),
                api.parse_int("rung", params.get("rung")),
            )
        )

    def api_findings(_request: Request) -> Response:
        return _json(lambda: api.findings(report))

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await upstream.open()
        try:
            yield
        finally:
            await upstream.close()

    routes = [
        Route("/sparql", sparql, methods=["GET", "POST"]),
        Route("/", index, methods=["GET"]),
        Route("/static/{path:path}", static, methods=["GET"]),
        Route("/api/prefixes", api_prefixes, methods=["GET"]),
        Route("/api/queries", api_queries, methods=["GET"]),
        Route("/api/dyads", api_dyads, methods=["GET"]),
        Route("/api/grid", api_grid, methods=["GET"]),
        Route("/api/cell", api_cell, methods=["GET"]),
        Route("/api/findings", api_findings, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


# --- serve ---------------------------------------------------------------------------


class _Signals:
    """SIGINT and SIGTERM stop start-up (as KeyboardInterrupt) and, once the server
    runs, only make uvicorn shut down (it re-raises them afterwards: ignored here)."""

    def __init__(self) -> None:
        self.running = False
        self.previous: dict[int, Any] = {}

    def handle(self, signum: int, _frame: FrameType | None) -> None:
        if not self.running:
            raise KeyboardInterrupt

    def __enter__(self) -> _Signals:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self.previous[sig] = signal.signal(sig, self.handle)
        return self

    def __exit__(self, *_exc: object) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)


def serve(kg: KnowledgeGraph, *, host: str, port: int, timeout: float, store_dir: Path) -> int:
    """Serve ``kg`` until SIGINT or SIGTERM; return 0 once everything is shut down."""
    address = bind_address(host)
    if not (math.isfinite(timeout) and timeout > 0):
        raise UsageError(f"--timeout {timeout:g}: the time limit must be a positive number")
    executable = oxigraph_executable()
    with _Signals() as signals:
        sock = _listen(address, port)
        child = Child(executable, store_dir, timeout)
        try:
            report = validate(kg)
            write_store(kg, store_dir)
            child.start()
            upstream = Upstream(child, timeout)
            app = _LoopbackHosts(create_app(kg, report, upstream))
            config = uvicorn.Config(
                app,
                log_level="warning",
                access_log=False,
                lifespan="on",
                timeout_graceful_shutdown=2,
            )
            bound = sock.getsockname()[1]
            base = f"http://{_url_host(address)}:{bound}/"
            print(f"alignkg: serving {base} (SPARQL endpoint {base}sparql)", flush=True)
            signals.running = True
            uvicorn.Server(config).run(sockets=[sock])
        finally:
            signals.running = True  # a second signal must not interrupt the clean-up
            sock.close()
            child.close()
    return 0
