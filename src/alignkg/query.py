"""Named queries and query files, run with values bound at call time.

``alignkg query NAME --bind var=value`` binds ``?var``; the value is read as an IRI
(``<...>`` or a known ``prefix:local``), an integer, a dyad code (for ``dyad``), or a
plain string. Updates, ``LOAD`` and ``SERVICE`` are refused before anything runs.
"""

from __future__ import annotations

import csv
import io
import json
import math
import multiprocessing
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Literal

import pyoxigraph as ox
from rdflib import Literal as RdfLiteral
from rdflib import URIRef
from rdflib.namespace import XSD
from rdflib.term import Node

from alignkg.errors import AlignkgError, QueryError, UsageError
from alignkg.namespace import PREFIXES
from alignkg.resources import query_files, query_text
from alignkg.stages import dyad_iri
from alignkg.store import Row, Store

Format = Literal["table", "csv", "tsv", "json"]
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# A SPARQL tokenizer, to read keywords where SPARQL reads them: after ``<`` used as
# less-than (``FILTER(?a<?b)SERVICE<...>``), after a prefixed name ending in an escaped
# quote or ``#`` (``ex:a\\'``), or spelt with ``\\u`` escapes (decoded before parsing).
# Keywords are compared after str.upper(), as rdflib's parser compares them: it reads
# ``ſERVICE`` (a long s) as SERVICE. Names, language tags (``"x"@en-drop``) and
# variables (``?a·drop``) are read whole, as SPARQL reads them, so that the keywords
# inside them are not refused.
_PN_ESCAPE = r"\\[_~.\-!$&'()*+,;=/?#@%]"
_TOKEN = re.compile(
    r"""
    (?P<space>\s+|\#[^\r\n]*)
    | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
                 |'(?:[^'\\\r\n]|\\.)*'|"(?:[^"\\\r\n]|\\.)*")
    | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    | (?P<variable>[?$][\w\u00b7\u0300-\u036f\u203f\u2040]+)
    | (?P<language>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
    | (?P<blank>_:[\w.\-]+)
    | (?P<name>(?:[^\W\d_][\w.\-]*)?:(?:(?:[\w:]|%[0-9A-Fa-f]{2}|ESC)(?:[\w.:\-]|%[0-9A-Fa-f]{2}|ESC)*)?)
    | (?P<word>[^\W\d]\w*)
    | (?P<other>.)
    """.replace("ESC", _PN_ESCAPE),
    re.VERBOSE | re.DOTALL,
)
_FORBIDDEN_WORDS = frozenset(
    {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "SERVICE"}
)
_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def _keywords(text: str) -> Iterator[str]:
    for token in _TOKEN.finditer(text):
        if token.lastgroup == "word" and token.group().upper() in _FORBIDDEN_WORDS:
            yield token.group().upper()


def _unescape(text: str) -> str:
    def decode(match: re.Match[str]) -> str:
        try:
            return chr(int(match.group(1) or match.group(2), 16))
        except ValueError:
            return match.group()

    return _CODEPOINT.sub(decode, text)


def named_queries() -> list[str]:
    """The names of the queries shipped in ``queries/``."""
    return [f.name[: -len(".rq")] for f in query_files()]


def load(name_or_path: str) -> str:
    """The text of a named query, or of a ``.rq`` file."""
    path = Path(name_or_path)
    if path.suffix == ".rq" and path.exists():
        return path.read_text(encoding="utf-8")
    if path.suffix == ".rq" or "/" in name_or_path:
        raise QueryError(f"{name_or_path}: no such query file")
    return query_text(name_or_path)


def refuse_unsafe(text: str) -> None:
    """Refuse updates, LOAD and SERVICE (outside comments, strings and IRIs), wherever a
    SPARQL parser would read them as keywords, ``\\u`` escapes included."""
    keywords: list[str] = []
    for variant in (text, _unescape(text)):
        keywords.extend(_keywords(variant))
    if keywords:
        raise QueryError(
            f"refused: {keywords[0]} is not allowed; alignkg runs read-only queries only"
        )


def _iri(binding: str, iri: str) -> URIRef:
    """``iri`` as an IRI, checked as RDF checks it (no spaces, no ``<>"{}|^`\\``)."""
    try:
        ox.NamedNode(iri)
    except ValueError as error:
        raise UsageError(f"--bind {binding!r}: {iri!r} is not a valid IRI ({error})") from None
    return URIRef(iri)


def parse_binding(text: str) -> tuple[str, Node]:
    """``var=value`` as a variable name and an RDF term."""
    name, sep, value = text.partition("=")
    name = name.strip().lstrip("?$")
    if not sep or not _VARIABLE.match(name):
        raise UsageError(f"--bind {text!r}: expected var=value, e.g. --bind dyad=CHN-RUS")
    value = value.strip()
    if value.startswith("<") and value.endswith(">"):
        return name, _iri(text, value[1:-1])
    prefix, colon, local = value.partition(":")
    if colon and prefix in PREFIXES and not local.startswith("//"):
        return name, _iri(text, PREFIXES[prefix] + local)
    if re.fullmatch(r"[+-]?\d+", value):
        return name, RdfLiteral(value, datatype=XSD.integer)
    if name == "dyad":
        return name, dyad_iri(value)
    return name, RdfLiteral(value)


def run(
    store: Store, text: str, bindings: Mapping[str, Node] | None = None
) -> tuple[list[str], list[Row]]:
    """Run a SELECT query; return its variable names (in SELECT order) and rows."""
    refuse_unsafe(text)
    return store.select_table(text, bindings)


def run_limited(
    store: Store, text: str, bindings: Mapping[str, Node] | None, timeout: float
) -> tuple[list[str], list[Row]]:
    """:func:`run` under a time limit, in a worker process (forked, so it shares the
    store as it is): a query past ``timeout`` seconds is stopped (the worker killed) and
    refused with an error. The same mechanism as ``alignkg serve``: the engine cannot be
    interrupted from inside, so the process that runs it is ended."""
    if not (math.isfinite(timeout) and timeout > 0):
        raise UsageError(f"--timeout {timeout:g}: the time limit must be a positive number")
    refuse_unsafe(text)
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)

    def work() -> None:
        try:
            send.send(("rows", run(store, text, bindings)))
        except AlignkgError as error:
            send.send(("error", str(error)))
        except Exception as error:  # any other failure: reported to the parent as an error
            send.send(("error", f"query failed: {error}"))

    worker = context.Process(target=work, name="alignkg-query", daemon=True)
    worker.start()
    send.close()
    try:
        if not receive.poll(timeout):
            raise QueryError(
                f"query timed out: it ran past the limit of {timeout:g} s (--timeout); "
                "narrow it or raise the limit"
            )
        try:
            kind, value = receive.recv()
        except EOFError:
            raise QueryError(f"the query worker ended with code {worker.exitcode}") from None
    finally:
        receive.close()
        if worker.is_alive():
            worker.kill()
        worker.join()
    if kind == "error":
        raise QueryError(value)
    names, rows = value
    return names, rows


def _cell(value: Node | None) -> str:
    return "" if value is None else str(value)


def render(names: Sequence[str], rows: Sequence[Row], *, fmt: Format = "table") -> str:
    """Rows as an aligned table, CSV, TSV or JSON (a list of objects)."""
    if fmt in {"csv", "tsv"}:
        out = io.StringIO()
        writer = csv.writer(out, delimiter="," if fmt == "csv" else "\t", lineterminator="\n")
        writer.writerow(names)
        for row in rows:
            writer.writerow([_cell(row.get(n)) for n in names])
        return out.getvalue()
    if fmt == "json":
        return (
            json.dumps(
                [{n: _cell(r.get(n)) for n in names} for r in rows], indent=2, ensure_ascii=False
            )
            + "\n"
        )
    table = [[_cell(r.get(n)) for n in names] for r in rows]
    widths = [max([len(n)] + [len(t[i]) for t in table]) for i, n in enumerate(names)]
    lines = ["  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(t, widths, strict=True)).rstrip() for t in table]
    return "\n".join(lines) + "\n"
