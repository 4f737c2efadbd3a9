"""Rebuilds of a persistent store after a change to one dyad, with their validation.

    python bench/partitioned.py build/bench/large-seed1 --store build/bench/large-store
    python bench/onedyad.py build/bench/large-seed1 --store build/bench/large-store [--json OUT]

The store must hold a build of the same files that kept its findings (``alignkg build``,
or ``bench/partitioned.py --store``). Three rebuilds follow, each validated as
``alignkg build`` validates it and accepted: nothing changed; a file with one more event
of one dyad added (a copy of the data's first event); that event's level changed. These
are the persistent-build steps of ``bench/run.py`` after its build from scratch, which at
a million events is worth running once and reusing. The added file is kept in
``STORE-added/`` beside the store (an input of the build the store then holds), so that
a second run's first rebuild finds nothing changed too.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import rebuilds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="the input file or folder the store was built from")
    parser.add_argument("--store", type=Path, required=True, help="the store's folder")
    parser.add_argument("--event", help="the IRI of the event to copy (default: the data's "
                        "first), to choose the dyad: its size sets the rebuild's cost")
    parser.add_argument("--json", type=Path, help="write the timings here")
    args = parser.parse_args(argv)

    from alignkg.namespace import AK
    from alignkg.rebuild import previous_findings, read_manifest, static_key

    if previous_findings(args.store) is None:
        print(f"{args.store}: holds no build with its findings kept "
              "(build it with bench/partitioned.py --store)", file=sys.stderr)
        return 2
    manifest = read_manifest(args.store)
    if manifest is None or manifest.key != static_key(AK.DefaultRules, None):
        print(f"{args.store}: built with other rules or another version of alignkg, "
              "so a rebuild would start from scratch", file=sys.stderr)
        return 2
    # the added file stays beside the store, as an input of the build the store holds
    added = args.store.parent / f"{args.store.name}-added"
    added.mkdir(exist_ok=True)
    result = rebuilds(args.data, args.store, added, ["unchanged", "added", "changed"],
                      event=args.event)
    for name in ("unchanged", "added", "changed"):
        step = result[name]
        print(f"{name:9} {step['seconds']:8.2f} s build ({step['mode']}, dyads {step['dyads']}) "
              f"+ {step['validate']:6.2f} s validation ({step['validated']}), "
              f"{step['findings']} findings", flush=True)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
