"""One base exception; every error says where to look.

Library code raises these; only the CLI turns them into messages and exit codes
(0 clean or warnings only, 2 bad input, validation violations included, or a runtime
error).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class AlignkgError(Exception):
    """Base class of every error alignkg raises on purpose."""

    exit_code = 2


@dataclass(frozen=True)
class Location:
    """A place in an input file (1-based line and column; 0 when unknown)."""

    path: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line and self.column:
            return f"{self.path}:{self.line}:{self.column}"
        if self.line:
            return f"{self.path}:{self.line}"
        return self.path


class InputError(AlignkgError):
    """Bad input: a file that cannot be read, parsed or accepted.

    ``code`` is a stable identifier (e.g. ``AK101``) so that tests and users can match
    the kind of problem without parsing the text.
    """

    def __init__(self, location: Location, code: str, message: str) -> None:
        self.location = location
        self.code = code
        self.message = message
        super().__init__(f"{location}: {code}: {message}")


@dataclass(frozen=True)
class InputWarning:
    """Input accepted with a remark (e.g. an ``owl:imports`` that alignkg does not follow),
    in the same ``path:line:column: CODE: warning: text`` form as an error."""

    location: Location
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.code}: warning: {self.message}"


class QueryError(AlignkgError):
    """A named query or query file that does not exist, does not parse or is refused."""


class UsageError(AlignkgError):
    """A command-line value that makes no sense (unknown dyad format, year range...)."""


class LadderError(AlignkgError):
    """The ontology's precedence graph is malformed (a cycle, a missing rung...)."""


def display_path(path: Path) -> str:
    """A path as users typed it: relative to the working directory when possible."""
    return path_from(path, Path.cwd())


def path_from(path: Path, root: Path) -> str:
    """``path`` relative to the folder ``root`` when it lies inside it, else as given."""
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)
