"""Reading coded-event files strictly, with line numbers.

Files are parsed by pyoxigraph, which rejects what rdflib silently accepts (a literal
as subject, IRIs with spaces, a language tag on a typed literal) and reports line and
column. Before the parser, the bytes are checked (UTF-8, no control characters, no
DTD in RDF/XML, no remote context in JSON-LD); after it, every typed literal's lexical
form, every language tag and every literal's length, and across all the files the
precedence graph (no cycle). Problems raise :class:`~alignkg.errors.InputError` naming
the file, line and column; nothing is kept from a file that fails. Nothing is ever
fetched: an ``owl:imports`` in a data file is kept as a triple and reported as a
warning (:attr:`ParsedFile.warnings`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cache, cached_property
from pathlib import Path

import networkx as nx
import pyoxigraph as ox

from alignkg.errors import InputError, InputWarning, Location, display_path
from alignkg.literals import canonical_language, language_problem, lexical_problem

#: Formats alignkg reads, by file extension.
FORMATS: dict[str, ox.RdfFormat] = {
    ".ttl": ox.RdfFormat.TURTLE,
    ".nt": ox.RdfFormat.N_TRIPLES,
    ".nq": ox.RdfFormat.N_QUADS,
    ".trig": ox.RdfFormat.TRIG,
    ".rdf": ox.RdfFormat.RDF_XML,
    ".owl": ox.RdfFormat.RDF_XML,
    ".jsonld": ox.RdfFormat.JSON_LD,
}

#: Largest file read, in bytes (a clear message beats running out of memory); the
#: environment variable ``ALIGNKG_MAX_FILE_BYTES`` sets another limit.
MAX_FILE_BYTES = 256 * 1024 * 1024
#: Longest literal accepted, in characters (a quote is at most 40 words; a literal of
#: megabytes is a mangled file); ``ALIGNKG_MAX_LITERAL_CHARS`` sets another limit.
MAX_LITERAL_CHARS = 100_000

AK_NS = "https://w3id.org/alignkg/ns#"
_DCTERMS_LANGUAGE = "http://purl.org/dc/terms/language"
_OWL_IMPORTS = "http://www.w3.org/2002/07/owl#imports"
#: The predicates whose triples order the ladder (no cycle allowed across the files).
PRECEDENCE = (AK_NS + "requires", AK_NS + "precedes")
#: Control characters no coded text has (tab, line feed and carriage return are allowed).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: A language value the completeness shape accepts (it reports the others, e.g. "English").
_SHAPED_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
_DTD = re.compile(r"<!(DOCTYPE|ENTITY)\b", re.IGNORECASE)

_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_STATEMENT_START = re.compile(r"^(<[^>\s]*>|[A-Za-z][\w.\-]*:[\w.\-%]*|:[\w.\-%]*)(?=[\s;,])")


@dataclass(frozen=True)
class ParsedFile:
    """One input file: its triples and where each subject is written."""

    path: str
    triples: list[ox.Triple]
    subject_lines: dict[str, int] = field(default_factory=dict)
    #: What was accepted but deserves a word (an ``owl:imports`` that is not followed).
    warnings: list[InputWarning] = field(default_factory=list)

    @property
    def triple_count(self) -> int:
        return len(self.triples)


@dataclass
class IndexedFile:
    """An input file known without its statements: its triple count, subject lines and
    warnings (kept from when it was parsed); its triples are parsed again if asked for."""

    source: Path
    path: str
    triple_count: int
    subject_lines: dict[str, int]
    warnings: list[InputWarning]

    @cached_property
    def triples(self) -> list[ox.Triple]:
        return read_file(self.source).triples


def discover(paths: Iterable[Path]) -> list[Path]:
    """The RDF files named by ``paths``: files as given, folders searched recursively."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in FORMATS)
            if not inside:
                known = ", ".join(sorted(FORMATS))
                raise InputError(
                    Location(display_path(path)), "AK108", f"folder holds no RDF files ({known})"
                )
            found.extend(inside)
        elif path.exists():
            found.append(path)
        else:
            raise InputError(Location(display_path(path)), "AK100", "no such file or folder")
    return found


def _limit(variable: str, default: int) -> int:
    """The limit set by the environment ``variable`` (a positive integer), else ``default``."""
    text = os.environ.get(variable, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) <= 0:
        raise InputError(Location(variable), "AK100", f"{text!r} is not a positive integer")
    return int(text)


def max_file_bytes() -> int:
    """The file size limit: ``ALIGNKG_MAX_FILE_BYTES`` or :data:`MAX_FILE_BYTES`."""
    return _limit("ALIGNKG_MAX_FILE_BYTES", MAX_FILE_BYTES)


def max_literal_chars() -> int:
    """The literal length limit: ``ALIGNKG_MAX_LITERAL_CHARS`` or :data:`MAX_LITERAL_CHARS`."""
    return _limit("ALIGNKG_MAX_LITERAL_CHARS", MAX_LITERAL_CHARS)


def read_file(
    path: Path, *, max_bytes: int | None = None, name: str | None = None
) -> ParsedFile:
    """Parse one file strictly; raise :class:`InputError` with file, line and column.

    Problems of the whole file (its type, its size, no triples in it) are reported at
    line 1, column 1, and name the file as the user sees it (:func:`display_path`); the
    parsed file, and its warnings, carry ``name`` when given (the name a persistent store
    knows the file by).
    """
    shown = display_path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(FORMATS))
        raise InputError(
            Location(shown, 1, 1),
            "AK106",
            f"unsupported file type {path.suffix!r} (read: {known})",
        )
    limit = max_file_bytes() if max_bytes is None else max_bytes
    try:
        size = path.stat().st_size
        if size > limit:
            raise InputError(
                Location(shown, 1, 1),
                "AK102",
                f"file is {size} bytes, over the limit of {limit} bytes "
                "(ALIGNKG_MAX_FILE_BYTES sets another)",
            )
        data = path.read_bytes()
    except OSError as error:
        raise InputError(Location(shown), "AK100", f"cannot read: {error.strerror}") from None
    parsed = parse_bytes(data, path=shown, fmt=fmt)
    return parsed if name is None else renamed(parsed, name)


def renamed(parsed: ParsedFile, name: str) -> ParsedFile:
    """``parsed`` known by another name (its statements are shared, not copied)."""
    warnings = [replace(w, location=replace(w.location, path=name)) for w in parsed.warnings]
    return replace(parsed, path=name, warnings=warnings)


def parse_bytes(data: bytes, *, path: str, fmt: ox.RdfFormat = ox.RdfFormat.TURTLE) -> ParsedFile:
    """Parse ``data`` (the bytes of the file ``path``) strictly."""
    text = _decode(data, path)
    _check_controls(text, path)
    if fmt == ox.RdfFormat.RDF_XML:
        _refuse_dtd(text, path)
    if fmt == ox.RdfFormat.JSON_LD:
        _refuse_remote_context(text, path)
    if not text.strip():
        raise InputError(Location(path, 1, 1), "AK107", "file is empty")
    try:
        parser = ox.parse(input=text.encode("utf-8"), format=fmt)
        quads = list(parser)
    except SyntaxError as error:
        line, column = _syntax_position(error)
        message = str(error.args[0]) if error.args else str(error)
        message = re.sub(r"^Parser error at line \d+ between columns \d+ and \d+: ", "", message)
        message = re.sub(r"^Parser error at line \d+ column \d+: ", "", message)
        message = re.sub(
            r"^Parser error between line \d+ column \d+ and line \d+ column \d+: ", "", message
        )
        raise InputError(Location(path, line, column), "AK101", message) from None
    triples = _scoped(quads, blank_scope(path, data))
    if not triples and not _statements(text):
        raise InputError(
            Location(path, 1, 1), "AK107", "file holds no triples (only whitespace and comments)"
        )
    _check_literals(triples, text, path)
    prefixes = getattr(parser, "prefixes", {}) or {}
    return ParsedFile(
        path=path,
        triples=triples,
        subject_lines=_subject_lines(text, prefixes),
        warnings=_imports(triples, text, path),
    )


def blank_scope(path: str, data: bytes) -> str:
    """The prefix of the blank node labels of the file ``path`` holding ``data``: the same
    file gives the same labels on every run (so a build's output is reproducible), two
    files never share one (a label names a node within its file only)."""
    digest = hashlib.sha256(path.encode("utf-8") + b"\0" + data).hexdigest()
    return f"f{digest[:16]}n"


def _scoped(quads: Iterable[ox.Quad], scope: str) -> list[ox.Triple]:
    """The triples of ``quads`` with each blank node labelled ``scope`` and its number in
    order of first appearance (the parser's own labels are random for ``[]`` and lists)."""
    labels: dict[ox.BlankNode, ox.BlankNode] = {}
    blank, triple = ox.BlankNode, ox.Triple
    triples = []
    for quad in quads:
        subject, obj = quad.subject, quad.object
        if type(subject) is blank:
            subject = labels.get(subject) or labels.setdefault(
                subject, blank(f"{scope}{len(labels)}")
            )
        if type(obj) is blank:
            obj = labels.get(obj) or labels.setdefault(obj, blank(f"{scope}{len(labels)}"))
        triples.append(triple(subject, quad.predicate, obj))
    return triples


def read_all(paths: Sequence[Path], *, max_bytes: int | None = None) -> list[ParsedFile]:
    """Parse every RDF file under ``paths``; the first bad file stops the load. Across the
    files (and the ontology), the precedence graph must have no cycle."""
    found = discover(paths)
    files = [read_file(p, max_bytes=max_bytes) for p in found]
    check_precedence(files, found)
    return files


# --- Before the parser: bytes and text ----------------------------------------------------


def _looks_utf16(data: bytes) -> bool:
    """UTF-16 without a byte-order mark: NUL bytes in most even or most odd positions."""
    sample = data[:4096]
    if len(sample) < 4:
        return False
    even, odd = sample[0::2], sample[1::2]
    return even.count(0) > len(even) * 0.4 or odd.count(0) > len(odd) * 0.4


def _decode(data: bytes, path: str) -> str:
    if data.startswith(_UTF16_BOMS):
        raise InputError(Location(path, 1, 1), "AK103", "file is UTF-16; save it as UTF-8")
    if _looks_utf16(data):
        raise InputError(
            Location(path, 1, 1),
            "AK103",
            "file is UTF-16 (without a byte-order mark); save it as UTF-8",
        )
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        before = data[: error.start]
        line = before.count(b"\n") + 1
        column = len(before) - (before.rfind(b"\n") + 1) + 1
        raise InputError(
            Location(path, line, column),
            "AK103",
            f"invalid UTF-8 byte 0x{data[error.start]:02x}; save the file as UTF-8",
        ) from None


def _statements(text: str) -> bool:
    """Whether ``text`` holds anything but whitespace and ``#`` comment lines (a file of
    prefix declarations only is accepted: a split file may leave one)."""
    return any(line.strip() and not line.lstrip().startswith("#") for line in text.splitlines())


def _position(text: str, index: int) -> tuple[int, int]:
    before = text[:index]
    return before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1


def _refuse_first(
    pattern: re.Pattern[str], text: str, path: str, code: str, why: Callable[[str], str]
) -> None:
    """Stop at the first match of ``pattern`` in ``text``, at its line and column."""
    match = pattern.search(text)
    if match:
        line, column = _position(text, match.start())
        raise InputError(Location(path, line, column), code, why(match.group()))


def _check_controls(text: str, path: str) -> None:
    _refuse_first(
        _CONTROL,
        text,
        path,
        "AK105",
        lambda found: (
            f"control character U+{ord(found):04X} in the file "
            "(a file mangled by an editor or a spreadsheet?)"
        ),
    )


def _refuse_dtd(text: str, path: str) -> None:
    """RDF/XML may declare a DTD whose entities expand without bound ("billion laughs")
    or name other files: alignkg refuses any DTD before the XML parser sees it."""
    _refuse_first(
        _DTD,
        text,
        path,
        "AK110",
        lambda found: (
            f"RDF/XML with a DTD ({found.upper()}) is refused: entity declarations "
            "can expand without bound or read other files; write the IRIs out in full"
        ),
    )


def _contexts(node: object) -> Iterator[str]:
    """Every remote context a JSON-LD document names (``@context`` IRIs, ``@import``)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "@context":
                contexts = value if isinstance(value, list) else [value]
                for context in contexts:
                    if isinstance(context, str):
                        yield context
                    elif isinstance(context, dict) and isinstance(context.get("@import"), str):
                        yield context["@import"]
            yield from _contexts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _contexts(item)


def _refuse_remote_context(text: str, path: str) -> None:
    """A JSON-LD document whose context is a URL would be fetched: refused, nothing is."""
    try:
        document = json.loads(text)
    except ValueError:
        return  # not JSON: the parser reports where
    except RecursionError:
        raise InputError(Location(path, 1, 1), "AK101", "JSON nested too deeply") from None
    for iri in _contexts(document):
        line, column = _find(text, json.dumps(iri), iri)
        raise InputError(
            Location(path, line, column),
            "AK111",
            f"JSON-LD with a remote context <{iri}> is refused: alignkg fetches nothing; "
            "put the context inline",
        )


def _syntax_position(error: SyntaxError) -> tuple[int, int]:
    details = error.args[1] if len(error.args) > 1 else None
    if isinstance(details, tuple) and len(details) >= 3:
        return int(details[1] or 0), int(details[2] or 0)
    return int(error.lineno or 0), int(error.offset or 0)


def _check_literals(triples: Sequence[ox.Triple], text: str, path: str) -> None:
    longest = max_literal_chars()
    for triple in triples:
        literal = triple.object
        if not isinstance(literal, ox.Literal):
            continue
        value = literal.value
        if len(value) > longest:
            line, column = _find(text, f'"{value[:200]}', f"'{value[:200]}", value[:200])
            raise InputError(
                Location(path, line, column),
                "AK109",
                f"literal of {len(value)} characters, over the limit of {longest} "
                "(ALIGNKG_MAX_LITERAL_CHARS sets another)",
            )
        control = _CONTROL.search(value)
        if control:
            code = ord(control.group())
            line, column = _find_escape(text, code, value)
            raise InputError(
                Location(path, line, column),
                "AK105",
                f"control character U+{code:04X} in a literal (written as an escape)",
            )
        if literal.language:
            problem = language_problem(literal.language)
        else:
            problem = lexical_problem(value, literal.datatype.value)
        if not problem and triple.predicate.value == _DCTERMS_LANGUAGE:
            problem = language_problem(value)
            canonical = canonical_language(value)
            if not problem and _SHAPED_LANGUAGE.match(value) and canonical != value:
                line, column = _find(text, f'"{value}"', f"'{value}'", value)
                raise InputError(
                    Location(path, line, column),
                    "AK112",
                    f'language "{value}" is not in the canonical case of BCP 47: write '
                    f'"{canonical}" (tags are case-insensitive, but '
                    "dcterms:language values are compared as strings: two spellings "
                    "would count as two languages)",
                )
        if problem:
            line, column = _find(text, f'"{value}"', f"'{value}'", value)
            raise InputError(Location(path, line, column), "AK104", problem)


def _find_escape(text: str, code: int, value: str) -> tuple[int, int]:
    """Where the escape of the control character ``code`` (or the literal) is written."""
    match = re.search(rf"\\(u{code:04x}|U{code:08x})", text, re.IGNORECASE)
    echar = _ECHAR.get(code)
    if match is None and echar:
        match = re.search(re.escape(echar), text)
    if match:
        return _position(text, match.start())
    return _find(text, value)


#: Control characters Turtle lets a literal write as a two-character escape.
_ECHAR = {0x08: "\\b", 0x0C: "\\f"}


def _value(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> str:
    """The IRI, blank node id or lexical form of ``term`` (a quoted triple as text)."""
    return str(term) if isinstance(term, ox.Triple) else term.value


def _imports(triples: Sequence[ox.Triple], text: str, path: str) -> list[InputWarning]:
    """An ``owl:imports`` in a data file: kept as a triple, never followed."""
    found = []
    for triple in triples:
        if triple.predicate.value == _OWL_IMPORTS:
            target = _value(triple.object)
            line, column = _find(text, f"<{target}>", "owl:imports", "imports")
            found.append(
                InputWarning(
                    Location(path, line, column),
                    "AK113",
                    f"owl:imports <{target}> ignored: alignkg fetches nothing; the "
                    "vocabularies it reads are the local copies of ontology/vocab/",
                )
            )
    return found


# --- Across files: the precedence graph ------------------------------------------------


@cache
def _ontology_precedence() -> tuple[tuple[str, str], ...]:
    from alignkg.resources import ontology_files

    edges = []
    for file in ontology_files():
        for quad in ox.parse(input=file.read_bytes(), format=ox.RdfFormat.TURTLE):
            if quad.predicate.value in PRECEDENCE:
                edges.append((quad.subject.value, quad.object.value))
    return tuple(edges)


def _find_statement(text: str, predicate: str, target: str) -> tuple[int, int]:
    """Line and column of the first line naming both ``predicate`` and ``target`` (local
    names), at the predicate."""
    pattern = re.compile(rf"(ak:)?\b{re.escape(predicate)}\b[^\n]*\b{re.escape(target)}\b")
    for number, line in enumerate(text.splitlines(), start=1):
        match = pattern.search(line)
        if match:
            return number, match.start() + 1
    return 0, 0


def _short(iri: str) -> str:
    return "ak:" + iri[len(AK_NS) :] if iri.startswith(AK_NS) else f"<{iri}>"


def check_precedence(files: Sequence[ParsedFile], paths: Sequence[Path]) -> None:
    """Refuse data whose ``ak:requires`` / ``ak:precedes`` triples, with the ontology's,
    make a cycle: the ladder is an order. The error names the cycle and points at the
    data triple that closes it."""
    written: dict[tuple[str, str], tuple[str, Path]] = {}
    for parsed, path in zip(files, paths, strict=True):
        for triple in parsed.triples:
            if triple.predicate.value in PRECEDENCE:
                edge = (_value(triple.subject), _value(triple.object))
                written.setdefault(edge, (triple.predicate.value, path))
    if not written:
        return
    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_edges_from(_ontology_precedence())
    graph.add_edges_from(written)
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return
    nodes = [edge[0] for edge in cycle] + [cycle[0][0]]
    named = " -> ".join(_short(n) for n in nodes)
    closing = next((e for e in ((a, b) for a, b, *_ in cycle) if e in written), None)
    location = Location("ontology")
    if closing is not None:
        predicate, path = written[closing]
        text = path.read_text(encoding="utf-8-sig")
        line, column = _find_statement(text, predicate[len(AK_NS) :], closing[1][len(AK_NS) :])
        location = Location(display_path(path), line, column)
    raise InputError(
        location,
        "AK114",
        f"precedence cycle {named}: ak:requires and ak:precedes must form a ladder",
    )


def _find(text: str, *needles: str) -> tuple[int, int]:
    """Line and column of the first needle found in ``text`` (0, 0 when none is)."""
    index = -1
    for needle in needles:
        index = text.find(needle)
        if index >= 0:
            break
    if index < 0:
        return 0, 0
    before = text[:index]
    return before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1


def _subject_lines(text: str, prefixes: dict[str, str]) -> dict[str, int]:
    """Map each subject IRI written at the start of a statement to its first line."""
    lines: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        match = _STATEMENT_START.match(line)
        if not match:
            continue
        token = match.group(1)
        if token.startswith("<"):
            iri = token[1:-1]
        else:
            prefix, _, local = token.partition(":")
            if prefix.lower() in {"prefix", "base"} or prefix not in prefixes:
                continue
            iri = prefixes[prefix] + local.replace("\\", "")
        lines.setdefault(iri, number)
    return lines
