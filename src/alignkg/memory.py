"""Freed memory given back to the operating system between the steps of a large build.

A step that parses or derives millions of statements frees them when it ends, but the
C heap keeps the freed pages: Python's larger objects and pyoxigraph's stores are
allocated there, and glibc returns free pages to the system only from the top of the
heap. The next step's memory then comes on top of the last one's, and the process's
resident size only grows. ``malloc_trim`` hands every free page back: at 100,000
events, the partitioned build's resident size after its parse falls from 902 to 409 MB.
"""

from __future__ import annotations

import ctypes
import gc
from collections.abc import Callable
from functools import cache


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none (macOS, musl)."""
    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


def give_back() -> bool:
    """Collect Python's garbage and hand the C heap's free pages back to the operating
    system; whether the C library could (glibc can)."""
    gc.collect()
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
