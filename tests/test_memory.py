"""Freed memory is handed back to the operating system between the steps of a build
(``alignkg.memory.give_back``), so that a step's peak is not added to the last one's."""

from __future__ import annotations

import platform
from pathlib import Path

import pytest

from alignkg import memory

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


def _resident_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text(encoding="ascii").split()[1])
    return pages * 4096 / 2**20


def test_give_back_says_whether_the_c_library_could() -> None:
    assert memory.give_back() is GLIBC


@pytest.mark.skipif(not GLIBC, reason="malloc_trim is glibc's; elsewhere nothing is handed back")
def test_freed_pages_in_the_middle_of_the_heap_are_handed_back() -> None:
    # 200 MB of blocks glibc allocates (over Python's small-object limit); every
    # thousandth is kept, so the freed pages are not at the top of the heap
    blocks = [bytes(2000) + n.to_bytes(4, "little") for n in range(100_000)]
    kept = blocks[::1000]
    allocated = _resident_mb()
    del blocks
    freed = _resident_mb()
    assert memory.give_back()
    given_back = _resident_mb()
    assert len(kept) == 100
    assert freed - given_back > 100, (allocated, freed, given_back)
