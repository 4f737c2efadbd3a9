"""One partitioned build from scratch, with its progress, time and peak memory.

    python bench/partitioned.py build/bench/large-seed1 [--store DIR] [--json OUT]

Runs ``rebuild.build(..., partitioned=True)`` (what ``alignkg build`` does above 512 MB
of input) on the given files or folders into a fresh store (a temporary folder unless
``--store`` is given, which then keeps the build and its findings for
``bench/onedyad.py``), printing each progress message with the seconds since the start
and the peak resident memory so far. It is the partitioned build alone, without the
persistent-build steps ``bench/run.py`` measures after it (a stage query on the on-disk
store, then unchanged, added and changed rebuilds), which take hours at a million events.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", type=Path, help="input files or folders")
    parser.add_argument("--store", type=Path, help="the store's folder (emptied first)")
    parser.add_argument("--json", type=Path, help="write the timings and peak memory here")
    args = parser.parse_args(argv)

    from alignkg import rebuild

    folder = args.store or Path(tempfile.mkdtemp(prefix="alignkg-partitioned-"))
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()

    def say(message: str) -> None:
        elapsed = time.perf_counter() - started
        print(f"{elapsed:8.1f} s {_peak_mb():7.0f} MB  {message}", flush=True)

    try:
        kg, report = rebuild.build(args.paths, folder=folder, partitioned=True, progress=say)
        seconds = time.perf_counter() - started
        findings = 0 if report.partition is None else len(report.partition.previous)
        summary = {
            "seconds": seconds,
            "timings": dict(kg.timings),
            "maxrss_mb": _peak_mb(),
            "quads": len(kg.store),
            "findings": findings,
        }
        if args.store is not None and report.partition is not None:
            # its findings kept with it, as `alignkg build` keeps them: the store can be
            # rebuilt after a change (bench/onedyad.py) without validating it all again
            rebuild.accept(folder, list(report.partition.previous))
        say(f"done: {json.dumps(summary)}")
        if args.json:
            args.json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    finally:
        if args.store is None:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
