"""Real SPARQL servers for the integration tests, started on free loopback ports.

- the Oxigraph server: the ``oxigraph`` command of the PyPI package ``oxigraph`` (a
  dependency of alignkg), ``oxigraph serve --location DIR --bind 127.0.0.1:PORT``;
- Virtuoso Open Source 7: Debian's ``virtuoso-opensource`` (``.ci/run`` installs it),
  ``virtuoso-t +configfile FILE +foreground`` with a copy of the packaged
  ``virtuoso.ini`` whose ports are moved to loopback and whose database lives in a
  temporary folder. Writes go through its digest-authenticated endpoints as ``dba``.

A missing program fails the test with the package to install; nothing is skipped.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

VIRTUOSO_INI = Path("/etc/virtuoso-opensource-7/virtuoso.ini")
VIRTUOSO_USER = "dba"
VIRTUOSO_PASSWORD = "dba"  # the password of a freshly created Virtuoso database
START_SECONDS = 120.0


@dataclass
class Server:
    """A running SPARQL server and how alignkg reaches it."""

    name: str
    query: str
    gsp: str | None
    update: str | None
    environ: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    def cli_options(self) -> list[str]:
        options = ["--endpoint", self.query]
        if self.gsp:
            options += ["--gsp-endpoint", self.gsp]
        if self.update:
            options += ["--update-endpoint", self.update]
        return options


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _program(name: str, install: str) -> str:
    beside_python = Path(sys.executable).parent / name
    found = shutil.which(name) or (str(beside_python) if beside_python.exists() else None)
    if found is None:
        pytest.fail(f"{name} is not installed: {install}", pytrace=False)
    return found


def _log_tail(log: Path | None) -> str:
    if log is None or not log.exists():
        return ""
    return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-20:])


def _wait_ready(server: Server, probe: str) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        assert server.process is not None
        if server.process.poll() is not None:
            pytest.fail(
                f"{server.name} exited with code {server.process.returncode} while starting:\n"
                f"{_log_tail(server.log)}",
                pytrace=False,
            )
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(probe, params={"query": "ASK {}"}, timeout=2.0).status_code == 200:
                return
        time.sleep(0.2)
    stop(server)
    pytest.fail(f"{server.name} did not answer within {START_SECONDS:g} s", pytrace=False)


def stop(server: Server) -> None:
    """Stop the server's process (politely, then by force)."""
    process = server.process
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def start_oxigraph(folder: Path) -> Server:
    """An Oxigraph server with its database in ``folder`` (no union default graph)."""
    program = _program("oxigraph", "pip install oxigraph (a dependency of alignkg)")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = folder / "oxigraph.log"
    server = Server(
        name="oxigraph",
        query=f"{base}/query",
        gsp=None,  # by convention: /store
        update=None,  # by convention: /update
        log=log,
    )
    with log.open("wb") as out:
        server.process = subprocess.Popen(
            [program, "serve", "--location", str(folder / "db"), "--bind", f"127.0.0.1:{port}"],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    _wait_ready(server, server.query)
    return server


def virtuoso_ini(template: str, folder: Path, sql_port: int, http_port: int) -> str:
    """The packaged ``virtuoso.ini`` with its files in ``folder`` and its ports on loopback."""
    replace = {
        ("Database", "DatabaseFile"): folder / "virtuoso.db",
        ("Database", "ErrorLogFile"): folder / "virtuoso.log",
        ("Database", "LockFile"): folder / "virtuoso.lck",
        ("Database", "TransactionFile"): folder / "virtuoso.trx",
        ("Database", "xa_persistent_file"): folder / "virtuoso.pxa",
        ("TempDatabase", "DatabaseFile"): folder / "virtuoso-temp.db",
        ("TempDatabase", "TransactionFile"): folder / "virtuoso-temp.trx",
        ("Parameters", "ServerPort"): f"127.0.0.1:{sql_port}",
        ("Parameters", "DirsAllowed"): f"., {folder}, /usr/share/virtuoso-opensource-7/vad",
        ("HTTPServer", "ServerPort"): f"127.0.0.1:{http_port}",
        ("URIQA", "DefaultHost"): f"127.0.0.1:{http_port}",
        # The packaged limit (10000) cuts CONSTRUCT results; alignkg refuses a cut result.
        ("SPARQL", "ResultSetMaxRows"): "1000000",
        # Its cost estimate refuses queries it would answer at once (dyad-years, bound).
        ("SPARQL", "MaxQueryCostEstimationTime"): "0",
    }
    seen: set[tuple[str, str]] = set()
    lines = []
    section = ""
    for line in template.splitlines():
        header = re.match(r"\s*\[([^\]]+)\]", line)
        if header:
            section = header.group(1).strip()
        key = re.match(r"\s*([A-Za-z_]\w*)\s*=", line)
        if key and (section, key.group(1)) in replace:
            seen.add((section, key.group(1)))
            line = f"{key.group(1)} = {replace[(section, key.group(1))]}"
        lines.append(line)
    missing = set(replace) - seen
    assert not missing, f"the packaged virtuoso.ini has no {sorted(missing)}"
    return "\n".join(lines) + "\n"


def start_virtuoso(folder: Path) -> Server:
    """A Virtuoso server with a fresh database in ``folder``."""
    install = (
        "install the Debian package virtuoso-opensource "
        "(DEBIAN_FRONTEND=noninteractive apt-get install -y virtuoso-opensource; .ci/run does)"
    )
    program = _program("virtuoso-t", install)
    if not VIRTUOSO_INI.exists():
        pytest.fail(f"{VIRTUOSO_INI} is missing: {install}", pytrace=False)
    sql_port, http_port = free_port(), free_port()
    ini = folder / "virtuoso.ini"
    ini.write_text(
        virtuoso_ini(VIRTUOSO_INI.read_text(encoding="utf-8"), folder, sql_port, http_port),
        encoding="utf-8",
    )
    base = f"http://127.0.0.1:{http_port}"
    log = folder / "virtuoso.log"
    server = Server(
        name="virtuoso",
        query=f"{base}/sparql-auth",  # digest-authenticated; by convention the Graph Store
        gsp=None,  # is /sparql-graph-crud-auth and updates go to /sparql-auth
        update=None,
        environ={
            "ALIGNKG_ENDPOINT_USER": VIRTUOSO_USER,
            "ALIGNKG_ENDPOINT_PASSWORD": VIRTUOSO_PASSWORD,
        },
        log=log,
    )
    with (folder / "virtuoso.out").open("wb") as out:
        server.process = subprocess.Popen(
            [program, "+configfile", str(ini), "+foreground"],
            cwd=folder,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    _wait_ready(server, f"{base}/sparql")
    return server


@contextlib.contextmanager
def running(kind: str, folder: Path) -> Iterator[Server]:
    """Start a server of ``kind`` (oxigraph or virtuoso) in ``folder``; stop it after."""
    server = start_oxigraph(folder) if kind == "oxigraph" else start_virtuoso(folder)
    try:
        yield server
    finally:
        stop(server)


@dataclass
class Listener:
    """A local endpoint that records every connection made to it (the first bytes of
    each): a refused SERVICE or LOAD must leave ``seen`` empty."""

    url: str
    seen: list[bytes]


@contextlib.contextmanager
def recording_listener() -> Iterator[Listener]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    seen: list[bytes] = []

    def accept() -> None:
        while True:
            try:
                connection, _address = sock.accept()
            except OSError:
                return
            with connection:
                connection.settimeout(2)
                try:
                    seen.append(connection.recv(200) or b"(connected)")
                except OSError:
                    seen.append(b"(connected)")

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield Listener(f"http://127.0.0.1:{sock.getsockname()[1]}/sparql", seen)
    finally:
        sock.close()
