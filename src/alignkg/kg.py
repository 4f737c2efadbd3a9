"""Reading coded-event files strictly, with line numbers.

Files are parsed by pyoxigraph, which rejects what rdflib silently accepts (a literal
as subject, IRIs with spaces, a language tag on a typed literal) and reports line and
column. On top of the parser, every typed literal's lexical form and every language
tag is checked. Problems raise :class:`~alignkg.errors.InputError` naming the file,
line and column; nothing is kept from a file that fails.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from alignkg.errors import InputError, Location, display_path
from alignkg.literals import language_problem, lexical_problem

#: Formats alignkg reads, by file extension.
FORMATS: dict[str, ox.RdfFormat] = {
    ".ttl": ox.RdfFormat.TURTLE,
    ".nt": ox.RdfFormat.N_TRIPLES,
    ".nq": ox.RdfFormat.N_QUADS,
    ".trig": ox.RdfFormat.TRIG,
}

#: Largest file read, in bytes (a clear message beats running out of memory).
MAX_FILE_BYTES = 256 * 1024 * 1024

_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_STATEMENT_START = re.compile(r"^(<[^>\s]*>|[A-Za-z][\w.\-]*:[\w.\-%]*|:[\w.\-%]*)(?=[\s;,])")


@dataclass(frozen=True)
class ParsedFile:
    """One input file: its triples and where each subject is written."""

    path: str
    triples: list[ox.Triple]
    subject_lines: dict[str, int] = field(default_factory=dict)

    @property
    def triple_count(self) -> int:
        return len(self.triples)


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


def read_file(path: Path, *, max_bytes: int = MAX_FILE_BYTES) -> ParsedFile:
    """Parse one file strictly; raise :class:`InputError` with file, line and column."""
    shown = display_path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(FORMATS))
        raise InputError(
            Location(shown), "AK106", f"unsupported file type {path.suffix!r} (read: {known})"
        )
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(
                Location(shown),
                "AK102",
                f"file is {size} bytes, over the limit of {max_bytes} bytes",
            )
        data = path.read_bytes()
    except OSError as error:
        raise InputError(Location(shown), "AK100", f"cannot read: {error.strerror}") from None
    return parse_bytes(data, path=shown, fmt=fmt)


def parse_bytes(data: bytes, *, path: str, fmt: ox.RdfFormat = ox.RdfFormat.TURTLE) -> ParsedFile:
    """Parse ``data`` (the bytes of the file ``path``) strictly."""
    text = _decode(data, path)
    if not text.strip():
        raise InputError(Location(path), "AK107", "file is empty")
    try:
        parser = ox.parse(input=text.encode("utf-8"), format=fmt)
        quads = list(parser)
    except SyntaxError as error:
        line, column = _syntax_position(error)
        message = str(error.args[0]) if error.args else str(error)
        message = re.sub(r"^Parser error at line \d+ between columns \d+ and \d+: ", "", message)
        message = re.sub(r"^Parser error at line \d+ column \d+: ", "", message)
        raise InputError(Location(path, line, column), "AK101", message) from None
    triples = [ox.Triple(q.subject, q.predicate, q.object) for q in quads]
    _check_literals(triples, text, path)
    return ParsedFile(
        path=path, triples=triples, subject_lines=_subject_lines(text, parser.prefixes)
    )


def read_all(paths: Sequence[Path], *, max_bytes: int = MAX_FILE_BYTES) -> list[ParsedFile]:
    """Parse every RDF file under ``paths``; the first bad file stops the load."""
    return [read_file(p, max_bytes=max_bytes) for p in discover(paths)]


def _decode(data: bytes, path: str) -> str:
    if data.startswith(_UTF16_BOMS):
        raise InputError(Location(path, 1, 1), "AK103", "file is UTF-16; save it as UTF-8")
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


def _syntax_position(error: SyntaxError) -> tuple[int, int]:
    details = error.args[1] if len(error.args) > 1 else None
    if isinstance(details, tuple) and len(details) >= 3:
        return int(details[1] or 0), int(details[2] or 0)
    return int(error.lineno or 0), int(error.offset or 0)


def _check_literals(triples: Sequence[ox.Triple], text: str, path: str) -> None:
    for triple in triples:
        literal = triple.object
        if not isinstance(literal, ox.Literal):
            continue
        if literal.language:
            problem = language_problem(literal.language)
        else:
            problem = lexical_problem(literal.value, literal.datatype.value)
        if problem:
            line, column = _find(text, f'"{literal.value}"', f"'{literal.value}'", literal.value)
            raise InputError(Location(path, line, column), "AK104", problem)


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
