"""One partitioned build from scratch, with its progress, time and peak memory.

    python bench/partitioned.py build/bench/large-seed1 [--store DIR] [--json OUT] [--jobs N]
                                [--held-floor [memory|disk]]

Runs ``rebuild.build(..., partitioned=True)`` (what ``alignkg build`` does above 512 MB
of input) on the given files or folders into a fresh store (a temporary folder unless
``--store`` is given, which then keeps the build and its findings for
``bench/onedyad.py``), printing each progress message with the seconds since the start
and the peak resident memory so far. With ``--jobs N`` the groups run N at a time in
forked workers: the peak is then also given for the whole process tree, as the largest
sum of proportional set sizes (a page the workers share with the parent counted once). It is the partitioned build alone, without the
persistent-build steps ``bench/run.py`` measures after it (a stage query on the on-disk
store, then unchanged, added and changed rebuilds), which take hours at a million events.

With ``--held-floor`` the store is then written out as N-Quads and bulk-loaded into an
in-memory pyoxigraph store by a process of its own: the least any build that holds the
same statements (the input, what it entails, what it derives) can take to write them,
against which the build's own time is set. ``--held-floor disk`` loads them into a fresh
on-disk store instead, where memory cannot hold them (a million events need more than
21 GB in memory).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import psutil

if TYPE_CHECKING:
    import pyoxigraph as ox


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _tree_mb(me: psutil.Process) -> float:
    """The proportional set size of ``me`` and its workers (resident size where the
    system gives no proportional one); a process that ends meanwhile counts nothing."""
    total = 0
    for process in [me, *me.children(recursive=True)]:
        try:
            info = process.memory_full_info()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        total += getattr(info, "pss", info.rss)
    return total / 1024 / 1024


class TreeMemory:
    """The largest proportional set size of this process and its workers, sampled."""

    def __init__(self, every: float = 0.5) -> None:
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every,), daemon=True)
        self._thread.start()

    def _run(self, every: float) -> None:
        me = psutil.Process()
        while not self._stop.wait(every):
            self.peak = max(self.peak, _tree_mb(me))

    def stop(self) -> float:
        """The peak, with one last sample (a run shorter than one period has no other)."""
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _tree_mb(psutil.Process()))
        return self.peak


def bulk_load(path: Path, into: Path | None = None) -> dict[str, float]:
    """Bulk-load N-Quads into a fresh store, in memory or on disk in the folder ``into``:
    seconds, quads and peak memory (sampled: the peak resident size the system reports
    would include the process that started this one, which Linux carries across ``exec``)."""
    import pyoxigraph as ox

    memory = TreeMemory(every=0.1)
    started = time.perf_counter()
    store = ox.Store() if into is None else ox.Store(path=str(into))
    store.bulk_load(path=str(path), format=ox.RdfFormat.N_QUADS)
    seconds = time.perf_counter() - started
    return {
        "held_bulk_load_s": seconds,
        "held_quads": len(store),
        "held_bulk_load_peak_mb": memory.stop(),
    }


def held_floor(store: ox.Store, beside: Path, *, on_disk: bool = False) -> dict[str, float]:
    """Write ``store`` (an on-disk pyoxigraph store) out as N-Quads and time bulk-loading
    them in a process of its own, so that its memory is its own, into memory or (``on_disk``)
    into a fresh on-disk store; the file and that store are removed."""
    import pyoxigraph as ox

    work = Path(tempfile.mkdtemp(prefix="alignkg-held-", dir=beside))
    try:
        dump = work / "held.nq"
        started = time.perf_counter()
        store.dump(output=str(dump), format=ox.RdfFormat.N_QUADS)
        written = time.perf_counter() - started
        loaded = subprocess.run(
            [
                sys.executable,
                __file__,
                "--bulk-load",
                str(dump),
                *(["--into", str(work / "store")] if on_disk else []),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        return {
            "held_write_s": written,
            "held_bytes": dump.stat().st_size,
            **json.loads(loaded.stdout),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _report(summary: dict[str, object], out: Path | None, say: Callable[[str], None]) -> None:
    say(f"done: {json.dumps(summary)}")
    if out is not None:
        out.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", type=Path, help="input files or folders")
    parser.add_argument("--store", type=Path, help="the store's folder (emptied first)")
    parser.add_argument("--json", type=Path, help="write the timings and peak memory here")
    parser.add_argument("--jobs", type=int, default=1, help="groups at once (default: 1)")
    parser.add_argument(
        "--held-floor",
        nargs="?",
        const="memory",
        choices=["memory", "disk"],
        help="then time writing out what the store holds and bulk-loading it into memory "
        "(the default) or into a fresh on-disk store",
    )
    parser.add_argument("--bulk-load", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--into", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.bulk_load is not None:
        print(json.dumps(bulk_load(args.bulk_load, args.into)))
        return 0
    if not args.paths:
        parser.error("give the input files or folders")

    from alignkg import rebuild

    folder = args.store or Path(tempfile.mkdtemp(prefix="alignkg-partitioned-"))
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()

    def say(message: str) -> None:
        elapsed = time.perf_counter() - started
        print(f"{elapsed:8.1f} s {_peak_mb():7.0f} MB  {message}", flush=True)

    tree = TreeMemory()
    try:
        kg, report = rebuild.build(
            args.paths, folder=folder, partitioned=True, progress=say, jobs=args.jobs
        )
        seconds = time.perf_counter() - started
        findings = 0 if report.partition is None else len(report.partition.previous)
        summary = {
            "seconds": seconds,
            "jobs": args.jobs,
            "timings": dict(kg.timings),
            "maxrss_mb": _peak_mb(),
            "largest_worker_maxrss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            / 1024,
            "tree_pss_peak_mb": tree.stop(),
            "quads": len(kg.store),
            "findings": findings,
        }
        if args.store is not None and report.partition is not None:
            # its findings kept with it, as `alignkg build` keeps them: the store can be
            # rebuilt after a change (bench/onedyad.py) without validating it all again
            rebuild.accept(folder, list(report.partition.previous))
        # the build's figures are written first: a floor that fails loses none of them
        _report(summary, args.json, say)
        if args.held_floor:
            say(f"writing the store out and bulk-loading it ({args.held_floor}: --held-floor)")
            try:
                summary["held_floor"] = args.held_floor
                summary.update(
                    held_floor(kg.store.store, folder.parent, on_disk=args.held_floor == "disk")
                )
            except subprocess.CalledProcessError as error:
                killed = " (killed: out of memory?)" if error.returncode < 0 else ""
                summary["held_floor_error"] = f"exit code {error.returncode}{killed}"
                print(f"partitioned.py: the held floor failed: {summary['held_floor_error']}; "
                      f"{(error.stderr or '').strip()[-500:]}", file=sys.stderr)
                _report(summary, args.json, say)
                return 1
            _report(summary, args.json, say)
    finally:
        if args.store is None:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
