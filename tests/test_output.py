"""Files are written atomically, and with the mode a plain open() would give them."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

import pytest

from alignkg.output import write_atomic, write_atomic_with


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_mode_follows_the_umask(tmp_path: Path, umask: int, mode: int) -> None:
    previous = os.umask(umask)
    try:
        write_atomic(tmp_path / "out.txt", "x")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "out.txt").stat().st_mode) == mode


def test_replaces_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "out.csv"
    write_atomic(target, "old\n")
    write_atomic(target, b"new\n")
    assert target.read_bytes() == b"new\n"
    assert [p.name for p in target.parent.iterdir()] == ["out.csv"]


def test_a_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    write_atomic(target, "old")
    with pytest.raises(TypeError):
        write_atomic(target, 42)  # type: ignore[arg-type]
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_a_writer_that_fails_halfway_keeps_the_old_file(tmp_path: Path) -> None:
    # the streamed form (alignkg.nq is dumped straight into the temporary file)
    target = tmp_path / "out.nq"
    write_atomic(target, "old\n")

    def halfway(handle: BinaryIO) -> None:
        handle.write(b"first half\n")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError, match="No space left on device") as caught:
        write_atomic_with(target, halfway)
    assert caught.value.filename == str(target)  # the error says which file
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.nq"]
    write_atomic_with(target, lambda handle: handle.write(b"new\n"))
    assert target.read_bytes() == b"new\n"
