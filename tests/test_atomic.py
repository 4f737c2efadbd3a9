"""Nothing half-written: every command that writes files leaves the old file or the new one.

Each writer is run once to see what it writes, then again over files holding old
content, with the rename that would put the k-th file in place failing (the temporary
file is checked to be complete at that moment: the failure comes after the data is
written). The command fails cleanly (exit code 2, one message), every file holds either
its old content or the complete new content, the files after the failure are untouched,
and no temporary file is left. The served store (``alignkg serve --store``) is checked
the same way: a failed swap leaves the previous store in place.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest

from alignkg import cli, output, server
from alignkg.build import assemble

ROOT = Path(__file__).resolve().parent.parent
MINI = ROOT / "tests" / "cases" / "example" / "mini.ttl"
SHEETS = ROOT / "tests" / "cases" / "sheets"
OLD = b"old content\n"


@dataclass(frozen=True)
class Writer:
    name: str
    argv: Callable[[Path], list[str]]
    cwd: Path = ROOT


K = ["--kg", str(MINI)]
WRITERS = [
    Writer("build", lambda out: ["build", "--no-cache", "--out", str(out), *K]),
    Writer("export-events", lambda out: ["export", "events", "--output", str(out / "events.csv"), *K]),
    Writer("export-xlsx", lambda out: ["export", "events", "--format", "xlsx", "--output", str(out / "events.xlsx"), *K]),
    Writer("export-graph", lambda out: ["export", "graph", "--format", "trig", "--output", str(out / "graph.trig"), *K]),
    Writer("template-csv", lambda out: ["template", "--output", str(out / "sheet.csv")]),
    Writer("template-xlsx", lambda out: ["template", "--format", "xlsx", "--output", str(out / "sheet.xlsx")]),
    Writer("import", lambda out: ["import", "clean.csv", "--coder", "alice", "--output", str(out / "clean.ttl")], SHEETS),
    Writer("report", lambda out: ["report", "--output", str(out / "report.html"), *K]),
    Writer("figure-dyad", lambda out: ["figure", "dyad", "--dyad", "CHN-RUS", "--output", str(out), *K]),
    Writer("figure-ladder", lambda out: ["figure", "ladder", "--format", "svg", "--output", str(out), *K]),
]  # fmt: skip


class Replaces:
    """Wraps os.replace: counts the renames of alignkg's temporary files, checks that
    each temporary file is complete, and fails the ``fail_at``-th one."""

    def __init__(
        self, real: Callable[..., None], folder: Path, expected: dict[str, bytes], fail_at: int
    ) -> None:
        self.real = real
        self.folder = folder
        self.expected = expected
        self.fail_at = fail_at
        self.count = 0
        self.order: list[str] = []
        self.written: dict[str, bytes] = {}

    def __call__(self, src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        source, target = Path(src), Path(dst)
        if source.name.endswith(".tmp") and target.parent == self.folder:
            self.count += 1
            self.order.append(target.name)
            data = self.written[target.name] = source.read_bytes()
            if target.name in self.expected:
                assert _complete(data, self.expected[target.name]), target.name
            if self.count == self.fail_at:
                raise OSError(errno.EIO, "simulated failure while renaming", str(target))
        self.real(src, dst)


def _complete(data: bytes, reference: bytes) -> bool:
    """``data`` is the whole of what the reference run wrote (blank node labels, the
    order of TriG statements may differ; XLSX files carry no time of writing)."""
    return (
        data == reference
        or len(data) == len(reference)
        or (data.count(b"\n") == reference.count(b"\n") and data.endswith(reference[-2:]))
    )


def _run(
    writer: Writer, out: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    monkeypatch.chdir(writer.cwd)
    code = cli.main([*writer.argv(out), "-q"])
    _out, err = capsys.readouterr()
    return code, err


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.mark.parametrize("where", ["first", "last"])
@pytest.mark.parametrize("writer", WRITERS, ids=lambda w: w.name)
def test_a_failed_write_leaves_old_or_new_never_half(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    writer: Writer,
    where: str,
) -> None:
    reference = tmp_path / "reference"
    counting = Replaces(os.replace, reference, {}, fail_at=0)
    monkeypatch.setattr(output.os, "replace", counting)
    code, err = _run(writer, reference, monkeypatch, capsys)
    assert code in {0, 1}, err  # build: 1 when the example graph has violations
    new = _files(reference)
    assert new and counting.count == len(new), (counting.order, sorted(new))

    target = tmp_path / "target"
    target.mkdir()
    for name in new:
        (target / name).write_bytes(OLD)
    fail_at = 1 if where == "first" else counting.count
    failing = Replaces(os.replace, target, new, fail_at=fail_at)
    monkeypatch.setattr(output.os, "replace", failing)
    code, err = _run(writer, target, monkeypatch, capsys)

    assert code == 2
    assert "Traceback" not in err
    assert err.startswith("alignkg: error: ") and "simulated failure while renaming" in err
    after = _files(target)
    assert sorted(after) == sorted(new)  # no temporary file left, nothing else written
    replaced = failing.order[: fail_at - 1]
    for name, content in after.items():
        assert content == (failing.written[name] if name in replaced else OLD), name


# --- the served store ----------------------------------------------------------------------


def _marked(store_dir: Path) -> bool:
    database = ox.Store.read_only(str(store_dir))
    try:
        return any(
            database.quads_for_pattern(ox.NamedNode("http://example.org/marker"), None, None)
        )
    finally:
        del database


@pytest.mark.parametrize("fail_at", [1, 2])
def test_a_failed_swap_keeps_the_served_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail_at: int
) -> None:
    kg = assemble([MINI])
    store_dir = tmp_path / "store"
    server.write_store(kg, store_dir)
    database = ox.Store(str(store_dir))
    marker = ox.NamedNode("http://example.org/marker")
    database.add(ox.Quad(marker, marker, marker))
    database.flush()
    del database
    assert _marked(store_dir)

    real = os.replace
    calls: list[str] = []

    def failing(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        calls.append(Path(src).name)
        if len(calls) == fail_at:
            raise OSError(errno.EIO, "simulated failure while renaming", str(dst))
        real(src, dst)

    monkeypatch.setattr(server.os, "replace", failing)
    with pytest.raises(OSError, match="simulated failure"):
        server.write_store(kg, store_dir)
    monkeypatch.setattr(server.os, "replace", real)

    assert _marked(store_dir)  # the previous store, whole
    assert [p.name for p in tmp_path.iterdir()] == ["store"]  # no building or old folder
    server.write_store(kg, store_dir)
    assert not _marked(store_dir)
    assert len(ox.Store.read_only(str(store_dir))) == len(kg.store)
